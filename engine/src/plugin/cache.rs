//! A small least-recently-used cache bounded by count and by a cost (bytes): compiled wasm
//! modules and rhai scripts are kept in one, so that loading a rubric again is cheap and
//! loading many distinct plugins does not grow the process for good.

use std::collections::HashMap;
use std::hash::Hash;

/// Values by key, the least recently used evicted first when a bound is passed.
#[derive(Debug)]
pub(crate) struct Lru<K, V> {
    entries: HashMap<K, Entry<V>>,
    max_items: usize,
    max_cost: u64,
    cost: u64,
    tick: u64,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    cost: u64,
    used: u64,
}

impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
    /// At most `max_items` entries costing at most `max_cost` together.
    pub(crate) fn new(max_items: usize, max_cost: u64) -> Self {
        Self {
            entries: HashMap::new(),
            max_items,
            max_cost,
            cost: 0,
            tick: 0,
        }
    }

    /// The value at `key`, marked as just used.
    pub(crate) fn get(&mut self, key: &K) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|e| {
            e.used = tick;
            e.value.clone()
        })
    }

    /// Keeps `value` at `key`; evicts the least recently used entries until both bounds hold.
    /// A value costing more than the whole budget is not kept.
    pub(crate) fn insert(&mut self, key: K, value: V, cost: u64) {
        if cost > self.max_cost {
            return;
        }
        self.tick += 1;
        if let Some(old) = self.entries.insert(
            key,
            Entry {
                value,
                cost,
                used: self.tick,
            },
        ) {
            self.cost -= old.cost;
        }
        self.cost += cost;
        while self.entries.len() > self.max_items || self.cost > self.max_cost {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                self.cost -= e.cost;
            }
        }
    }

    /// How many entries and what they cost.
    #[cfg(test)]
    pub(crate) fn size(&self) -> (usize, u64) {
        (self.entries.len(), self.cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_by_count_and_by_cost() {
        let mut lru = Lru::new(2, 100);
        lru.insert("a", 1, 10);
        lru.insert("b", 2, 10);
        assert_eq!(lru.get(&"a"), Some(1));
        lru.insert("c", 3, 10);
        assert_eq!(lru.get(&"b"), None, "b was the least recently used");
        assert_eq!(lru.size(), (2, 20));
        lru.insert("d", 4, 95);
        assert_eq!(lru.size(), (1, 95));
        lru.insert("huge", 5, 1_000);
        assert_eq!(lru.get(&"huge"), None);
    }
}
