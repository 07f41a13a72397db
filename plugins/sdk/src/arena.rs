//! The SDK's allocator on wasm: an arena in linear memory that hands out the memory the module
//! starts with, then grows it. Each call runs in a fresh instance that is discarded afterwards,
//! so nothing needs to be given back to a free list: the arena frees only the latest block
//! (and grows it in place), which covers a growing `Vec` or `String`. Compared with the
//! standard allocator, whose first allocation always grows the memory, a call that fits in
//! the module's initial memory never grows it, and the host never has to shrink it back.
//!
//! A plugin that allocates and frees a great deal in one call (long loops building strings)
//! may prefer the standard allocator: build the SDK without its default `arena` feature.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

const PAGE: usize = 64 << 10;

unsafe extern "C" {
    /// Where the linker puts the first byte after the stack and the data.
    static __heap_base: u8;
}

/// The arena: `next` is the first free byte, `end` the end of linear memory, `last` the start
/// of the latest block (the only one that can be freed or grown in place).
pub struct Arena {
    next: Cell<usize>,
    end: Cell<usize>,
    last: Cell<usize>,
}

// SAFETY: wasm32-unknown-unknown plugins run on one thread; the host never shares an instance.
unsafe impl Sync for Arena {}

impl Arena {
    /// An arena that starts at the linker's heap base on its first allocation.
    pub const fn new() -> Self {
        Self {
            next: Cell::new(0),
            end: Cell::new(0),
            last: Cell::new(usize::MAX),
        }
    }

    /// Makes room up to `needed` (an address), growing the memory; false when it cannot.
    fn reach(&self, needed: usize) -> bool {
        if needed <= self.end.get() {
            return true;
        }
        let pages = (needed - self.end.get()).div_ceil(PAGE);
        if wasm32::memory_grow(0, pages) == usize::MAX {
            return false;
        }
        self.end.set(wasm32::memory_size(0) * PAGE);
        true
    }
}

impl Default for Arena {
    fn default() -> Self {
        Self::new()
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.end.get() == 0 {
            // SAFETY: only the symbol's address is taken.
            self.next.set(core::ptr::addr_of!(__heap_base) as usize);
            self.end.set(wasm32::memory_size(0) * PAGE);
        }
        let start = match self.next.get().checked_next_multiple_of(layout.align()) {
            Some(start) => start,
            None => return core::ptr::null_mut(),
        };
        let Some(end) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if !self.reach(end) {
            return core::ptr::null_mut();
        }
        self.next.set(end);
        self.last.set(start);
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        if ptr as usize == self.last.get() {
            self.next.set(ptr as usize);
            self.last.set(usize::MAX);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let at = ptr as usize;
        if at == self.last.get() {
            // The latest block grows or shrinks where it is.
            let Some(end) = at.checked_add(new_size) else {
                return core::ptr::null_mut();
            };
            if !self.reach(end) {
                return core::ptr::null_mut();
            }
            self.next.set(end);
            return ptr;
        }
        // SAFETY: as `GlobalAlloc::realloc` requires of its caller.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a valid layout; the copy stays within both blocks.
        unsafe {
            let moved = self.alloc(new_layout);
            if !moved.is_null() {
                core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
            }
            moved
        }
    }
}
