//! Maps JSON pointers to line and column in the source text.
//!
//! Runs only on text that `serde_json` has already parsed, but never panics on any input:
//! it stops recording where the text stops making sense.

use std::collections::HashMap;

/// Where each value (and each object member's key) of a JSON text starts.
#[derive(Debug, Default)]
pub struct SourceMap {
    offsets: HashMap<String, usize>,
    line_starts: Vec<usize>,
    text_len: usize,
    text: String,
}

impl SourceMap {
    /// Scans `text`.
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            pos: 0,
            offsets: HashMap::new(),
        };
        let mut path = String::new();
        let _ = scanner.value(&mut path, 0);
        Self {
            offsets: scanner.offsets,
            line_starts,
            text_len: text.len(),
            text: text.to_owned(),
        }
    }

    /// The 1-based line and column (in characters) of `pointer`, or of its nearest ancestor
    /// that exists (a missing property is reported at the object that lacks it).
    pub fn position(&self, pointer: &str) -> Option<(usize, usize)> {
        let mut p = pointer;
        loop {
            if let Some(&offset) = self.offsets.get(p) {
                return Some(self.line_column(offset));
            }
            if p.is_empty() {
                return None;
            }
            p = p.rfind('/').map_or("", |i| &p[..i]);
        }
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text_len);
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    offsets: HashMap<String, usize>,
}

const MAX_DEPTH: usize = 256;

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, path: &mut String, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        self.offsets.entry(path.clone()).or_insert(self.pos);
        match self.peek()? {
            b'{' => self.object(path, depth),
            b'[' => self.array(path, depth),
            b'"' => self.string().map(|_| ()),
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }

    fn object(&mut self, path: &mut String, depth: usize) -> Option<()> {
        self.pos += 1;
        loop {
            self.skip_ws();
            match self.peek()? {
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                b',' => self.pos += 1,
                b'"' => {
                    let key_start = self.pos;
                    let raw = self.string()?;
                    let key: String = serde_json::from_str(raw).ok()?;
                    let len = path.len();
                    path.push('/');
                    path.push_str(&escape_segment(&key));
                    self.offsets.insert(path.clone(), key_start);
                    self.skip_ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    self.value(path, depth + 1)?;
                    path.truncate(len);
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, path: &mut String, depth: usize) -> Option<()> {
        self.pos += 1;
        let mut index = 0usize;
        loop {
            self.skip_ws();
            match self.peek()? {
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                b',' => self.pos += 1,
                _ => {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&index.to_string());
                    self.value(path, depth + 1)?;
                    path.truncate(len);
                    index += 1;
                }
            }
        }
    }

    /// Skips a string and returns it with its quotes.
    fn string(&mut self) -> Option<&str> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    let raw = self.bytes.get(start..self.pos)?;
                    return std::str::from_utf8(raw).ok();
                }
                _ => self.pos += 1,
            }
        }
    }
}

/// Escapes one JSON pointer segment (`~` → `~0`, `/` → `~1`).
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_elements_and_falls_back_to_ancestors() {
        let text = "{\n  \"a\": [1,\n    {\"b/c\": true}],\n  \"é\": \"x\"\n}";
        let map = SourceMap::new(text);
        assert_eq!(map.position(""), Some((1, 1)));
        assert_eq!(map.position("/a"), Some((2, 3)));
        assert_eq!(map.position("/a/0"), Some((2, 9)));
        assert_eq!(map.position("/a/1"), Some((3, 5)));
        assert_eq!(map.position("/a/1/b~1c"), Some((3, 6)));
        assert_eq!(map.position("/a/1/missing"), Some((3, 5)));
        assert_eq!(map.position("/é"), Some((4, 3)));
    }

    #[test]
    fn never_panics_on_garbage() {
        for text in ["", "{", "[", "{\"a\"", "{\"a\":", "\"\\", "[1,{", "}"] {
            let map = SourceMap::new(text);
            let _ = map.position("/a/0");
        }
    }
}
