//! The module's exports and imports on wasm: the ABI the host calls (see the crate's doc).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};

use serde_json::Value;

use crate::{Frame, GuestLimits, Script};

/// The most lines a script may print per call.
const LOG_LINES: usize = 100;

#[link(wasm_import_module = "laurel")]
unsafe extern "C" {
    /// One line the script printed.
    #[link_name = "log"]
    fn host_log(ptr: i32, len: i32);
}

#[link(wasm_import_module = "laurel_rhai")]
unsafe extern "C" {
    /// A panic's message, just before the module traps.
    #[link_name = "panicked"]
    fn host_panicked(ptr: i32, len: i32);
}

/// The guest's allocator: small blocks from free lists by size class (an interpreter allocates
/// many, briefly), larger ones from the system's; and a count of what is held, so that the
/// host can see a call that left memory behind.
struct Allocator;

/// Block sizes served from free lists; larger blocks (or stricter alignments) go to the system
/// allocator (dlmalloc on this target).
const CLASSES: [usize; 12] = [16, 32, 48, 64, 80, 96, 128, 160, 192, 256, 384, 512];
/// Free lists are refilled from chunks of this size.
const CHUNK: usize = 64 << 10;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static FREE: [Cell<usize>; CLASSES.len()] = const { [const { Cell::new(0) }; CLASSES.len()] };
    /// The unused part of the latest chunk: its start and end.
    static CARVE: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    static SCRIPT: RefCell<Option<Script>> = const { RefCell::new(None) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static PRINTED: Cell<usize> = const { Cell::new(0) };
}

/// The size class of a layout served from free lists.
fn class(layout: Layout) -> Option<usize> {
    if layout.align() > 16 {
        return None;
    }
    CLASSES.iter().position(|&c| c >= layout.size())
}

impl Allocator {
    /// A block of class `c`: from its free list, or carved from a chunk.
    unsafe fn small(&self, c: usize) -> *mut u8 {
        let head = FREE.with(|f| f[c].get());
        if head != 0 {
            // SAFETY: a free block holds the address of the next one in its first word.
            let next = unsafe { *(head as *const usize) };
            FREE.with(|f| f[c].set(next));
            return head as *mut u8;
        }
        let size = CLASSES[c];
        let (mut at, mut end) = CARVE.with(Cell::get);
        if end - at < size {
            // SAFETY: a valid, non-zero layout.
            let chunk = unsafe { System.alloc(Layout::from_size_align_unchecked(CHUNK, 16)) };
            if chunk.is_null() {
                return chunk;
            }
            at = chunk as usize;
            end = at + CHUNK;
        }
        CARVE.with(|c| c.set((at + size, end)));
        at as *mut u8
    }
}

// SAFETY: small blocks are handed out once until freed (free lists and the carved part of a
// chunk never overlap), 16-byte aligned (chunks are, and every class is a multiple of 16), at
// least as large as asked; everything else is the system allocator's, with the caller's
// arguments unchanged. The state is in `Cell`s in `const` thread locals (one thread).
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = match class(layout) {
            // SAFETY: see above.
            Some(c) => unsafe { self.small(c) },
            // SAFETY: the caller upholds `alloc`'s contract.
            None => unsafe { System.alloc(layout) },
        };
        if !p.is_null() {
            LIVE.with(|l| l.set(l.get() + layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class(layout) {
            Some(c) => FREE.with(|f| {
                // SAFETY: the block is ours again and at least a word long.
                unsafe { *(ptr as *mut usize) = f[c].get() };
                f[c].set(ptr as usize);
            }),
            // SAFETY: `ptr` came from `System.alloc` with `layout`.
            None => unsafe { System.dealloc(ptr, layout) },
        }
        LIVE.with(|l| l.set(l.get().saturating_sub(layout.size())));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract (a non-zero size, the same align).
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let (old_class, new_class) = (class(layout), class(new));
        if old_class.is_some() && old_class == new_class {
            LIVE.with(|l| l.set(l.get().saturating_sub(layout.size()) + new_size));
            return ptr;
        }
        if old_class.is_none() && new_class.is_none() {
            // SAFETY: as above; both are the system allocator's.
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                LIVE.with(|l| l.set(l.get().saturating_sub(layout.size()) + new_size));
            }
            return p;
        }
        // SAFETY: a fresh block of the new size, the old one's bytes copied, the old one freed.
        unsafe {
            let p = self.alloc(new);
            if !p.is_null() {
                std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            p
        }
    }
}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

fn log(line: &str) {
    // SAFETY: the host reads `len` bytes at `ptr`, which `line` owns for the call.
    unsafe { host_log(line.as_ptr() as i32, line.len() as i32) }
}

/// Hands `bytes` to the host as `ptr << 32 | len`; they stay until the next call.
fn hand_over(bytes: Vec<u8>) -> i64 {
    OUTPUT.with(|o| {
        let mut o = o.borrow_mut();
        *o = bytes;
        ((o.as_ptr() as i64) << 32) | o.len() as i64
    })
}

/// Takes back the request the host wrote at `ptr` (reserved by `laurel_alloc`).
fn request(ptr: i32, len: i32) -> Vec<u8> {
    let len = len.max(0) as usize;
    // SAFETY: the host passes back the buffer `laurel_alloc(len)` reserved, with `len` bytes
    // written; its capacity is `len`.
    unsafe { Vec::from_raw_parts(ptr as *mut u8, len, len) }
}

#[unsafe(no_mangle)]
pub extern "C" fn laurel_abi_version() -> i32 {
    crate::ABI_VERSION
}

#[unsafe(no_mangle)]
pub extern "C" fn laurel_alloc(len: i32) -> i32 {
    let mut buf: Vec<u8> = Vec::with_capacity(len.max(0) as usize);
    let ptr = buf.as_mut_ptr();
    std::mem::forget(buf);
    ptr as i32
}

#[unsafe(no_mangle)]
pub extern "C" fn laurel_rhai_live() -> i64 {
    LIVE.with(Cell::get) as i64
}

#[unsafe(no_mangle)]
pub extern "C" fn laurel_rhai_operations() -> i64 {
    crate::operations() as i64
}

#[unsafe(no_mangle)]
pub extern "C" fn laurel_rhai_load(ptr: i32, len: i32) -> i64 {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        // SAFETY: as for `log`.
        unsafe { host_panicked(message.as_ptr() as i32, message.len() as i32) }
    }));
    let bytes = request(ptr, len);
    let loaded = (|| {
        let request: Value = serde_json::from_slice(&bytes).map_err(|e| Frame {
            message: format!("unreadable load request: {e}"),
            ..Frame::default()
        })?;
        drop(bytes);
        let limits = GuestLimits::from_json(&request["limits"]).map_err(|message| Frame {
            message,
            ..Frame::default()
        })?;
        let source = request["source"].as_str().unwrap_or_default();
        let hooks: Vec<String> = request["hooks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str().map(str::to_owned))
            .collect();
        let message_bytes = limits.message_bytes as usize;
        Script::load(source, &hooks, limits, move |line| {
            PRINTED.with(|p| {
                if p.get() < LOG_LINES {
                    p.set(p.get() + 1);
                    let cut = line.len().min(message_bytes);
                    let cut = (0..=cut)
                        .rev()
                        .find(|&i| line.is_char_boundary(i))
                        .unwrap_or(0);
                    log(&line[..cut]);
                }
            });
        })
    })();
    match loaded {
        Ok(script) => {
            SCRIPT.with(|s| *s.borrow_mut() = Some(script));
            hand_over(br#"{"ok":null}"#.to_vec())
        }
        Err(frame) => hand_over(frame.to_bytes()),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn laurel_call(hook: i32, ptr: i32, len: i32) -> i64 {
    let input = request(ptr, len);
    PRINTED.with(|p| p.set(0));
    let out = SCRIPT.with(|s| match (s.borrow().as_ref(), crate::hook_name(hook)) {
        (Some(script), Some(name)) => script.call(name, &input),
        (None, _) => Frame {
            message: "no script is loaded".to_owned(),
            ..Frame::default()
        }
        .to_bytes(),
        (_, None) => Frame {
            message: format!("hook {hook} does not exist"),
            ..Frame::default()
        }
        .to_bytes(),
    });
    drop(input);
    hand_over(out)
}
