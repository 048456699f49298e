//! A global allocator for plugins that the host runs in a fresh instance for
//! every call.
//!
//! The host throws each instance away when its call returns, so memory the
//! guest frees is never reused anyway. This allocator takes that at its
//! word:
//! - allocation bumps a pointer through a fixed arena (in the module's
//!   zero-initialised data, so untouched arena pages cost nothing);
//! - freeing is a no-op, except that the most recent allocation is given
//!   back, and it can grow in place (the pattern of a `String` or `Vec`
//!   being built);
//! - when the arena is full, allocation falls back to the system allocator,
//!   which does free, so a large input still fits within the host's memory
//!   cap instead of failing sooner than it would have.
//!
//! A render of the seed template allocates about 320 times and 45 KB in all,
//! so the arena is never close to full on ordinary alerts.
//!
//! Use it from a plugin crate:
//!
//! ```ignore
//! #[cfg(target_arch = "wasm32")]
//! #[global_allocator]
//! static ALLOC: versus_plugin_arena::Arena = versus_plugin_arena::Arena::new();
//! ```
//!
//! Only for single-threaded guests (wasm32-wasip2 has no threads): the arena
//! state is not synchronised.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;

/// Arena size: twenty times what a typical alert's JSON and template work
/// allocates. Untouched pages are never faulted in, so the size costs
/// address space only, but it does count toward the instance's initial
/// memory and so toward the host's per-plugin memory cap (default 64 MiB):
/// keep it small.
const ARENA_BYTES: usize = 1 << 20;

/// A bump allocator over a fixed arena, falling back to [`System`].
pub struct Arena {
    memory: UnsafeCell<[u8; ARENA_BYTES]>,
    /// Offset of the first free byte.
    top: UnsafeCell<usize>,
}

// SAFETY: plugins run on wasm32-wasip2, which has a single thread; the arena
// is never touched from two threads at once. Elsewhere only this crate's own
// single-threaded test may share one, so a native program cannot make it its
// global allocator by mistake.
#[cfg(any(target_arch = "wasm32", test))]
unsafe impl Sync for Arena {}

impl Arena {
    /// An empty arena.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self {
            memory: UnsafeCell::new([0; ARENA_BYTES]),
            top: UnsafeCell::new(0),
        }
    }

    fn base(&self) -> usize {
        self.memory.get() as usize
    }

    fn owns(&self, ptr: *mut u8) -> bool {
        let p = ptr as usize;
        p >= self.base() && p < self.base() + ARENA_BYTES
    }

    /// Bump-allocates `layout`, or returns null when the arena is full.
    ///
    /// # Safety
    /// Single-threaded use only (see [`Arena`]).
    unsafe fn bump(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded; no other reference to `top` is live.
        let top = unsafe { &mut *self.top.get() };
        let start = (self.base() + *top).next_multiple_of(layout.align()) - self.base();
        match start.checked_add(layout.size()) {
            Some(end) if end <= ARENA_BYTES => {
                *top = end;
                // SAFETY: `start..end` lies inside the arena.
                unsafe { (self.memory.get() as *mut u8).add(start) }
            }
            _ => std::ptr::null_mut(),
        }
    }

    /// Whether `ptr..ptr+size` is the most recent allocation.
    fn is_last(&self, ptr: *mut u8, size: usize) -> bool {
        // SAFETY: single-threaded read.
        let top = unsafe { *self.top.get() };
        ptr as usize + size == self.base() + top
    }
}

// SAFETY: every pointer returned is either inside the arena, aligned as
// asked and not handed out twice while live, or comes from `System`, and is
// given back to whichever of the two it came from.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded (see `Arena`).
        let ptr = unsafe { self.bump(layout) };
        if ptr.is_null() {
            // SAFETY: forwarded with the caller's valid layout.
            unsafe { System.alloc(layout) }
        } else {
            ptr
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded (see `Arena`).
        let ptr = unsafe { self.bump(layout) };
        if ptr.is_null() {
            // SAFETY: forwarded with the caller's valid layout.
            return unsafe { System.alloc_zeroed(layout) };
        }
        // SAFETY: the caller owns `layout.size()` bytes at `ptr`. Arena bytes
        // may have been used by a popped allocation, so they are zeroed here,
        // not assumed zero.
        unsafe { ptr.write_bytes(0, layout.size()) };
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.owns(ptr) {
            // SAFETY: it came from `System` with this layout.
            unsafe { System.dealloc(ptr, layout) };
            return;
        }
        if self.is_last(ptr, layout.size()) {
            // SAFETY: single-threaded; give the last allocation back.
            unsafe { *self.top.get() = ptr as usize - self.base() };
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.owns(ptr) && self.is_last(ptr, layout.size()) {
            let start = ptr as usize - self.base();
            if let Some(end) = start.checked_add(new_size)
                && end <= ARENA_BYTES
            {
                // SAFETY: single-threaded; the block stays where it is.
                unsafe { *self.top.get() = end };
                return ptr;
            }
        }
        if !self.owns(ptr) {
            // SAFETY: it came from `System` with this layout.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // SAFETY: `new_size` with the old alignment is a valid layout, as
        // `GlobalAlloc::realloc` requires of its caller.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not
            // overlap (`new` was allocated while `ptr` was live).
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One arena for the one test: it is too big for a test thread's stack.
    static ARENA: Arena = Arena::new();

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).expect("valid layout")
    }

    #[test]
    fn bumps_pops_grows_in_place_and_falls_back_when_full() {
        let a = &ARENA;
        // SAFETY: this test is the only user of ARENA, on one thread; every
        // pointer is used within the size it was allocated with.
        unsafe {
            let p1 = a.alloc(layout(3, 1));
            let p2 = a.alloc(layout(8, 8));
            assert!(a.owns(p1) && a.owns(p2));
            assert_eq!(p2 as usize % 8, 0, "aligned");
            assert!(p2 as usize >= p1 as usize + 3, "no overlap");

            // The last block grows in place; an earlier one moves, keeping its bytes.
            p2.write_bytes(7, 8);
            let grown = a.realloc(p2, layout(8, 8), 64);
            assert_eq!(grown, p2);
            p1.copy_from_nonoverlapping(b"abc".as_ptr(), 3);
            let moved = a.realloc(p1, layout(3, 1), 100);
            assert_ne!(moved, p1);
            assert_eq!(std::slice::from_raw_parts(moved, 3), b"abc");

            // Freeing the last block gives it back; the next one reuses it, zeroed if asked.
            moved.write_bytes(9, 100);
            a.dealloc(moved, layout(100, 1));
            let zeroed = a.alloc_zeroed(layout(100, 1));
            assert_eq!(zeroed, moved);
            assert!(
                std::slice::from_raw_parts(zeroed, 100)
                    .iter()
                    .all(|&b| b == 0)
            );

            // Too big for what is left: the system allocator takes it, and takes it back.
            let big = a.alloc(layout(ARENA_BYTES, 16));
            assert!(!big.is_null() && !a.owns(big));
            big.write_bytes(1, ARENA_BYTES);
            let big = a.realloc(big, layout(ARENA_BYTES, 16), ARENA_BYTES + 1);
            assert!(!big.is_null() && !a.owns(big));
            a.dealloc(big, layout(ARENA_BYTES + 1, 16));

            // With the arena full, zeroed memory from the system allocator is
            // zeroed too, even when it hands back a block just freed dirty.
            let rest = ARENA_BYTES - *a.top.get();
            let fill = a.alloc(layout(rest, 1));
            assert!(a.owns(fill));
            let dirty = a.alloc(layout(64, 8));
            assert!(!a.owns(dirty));
            dirty.write_bytes(0xff, 64);
            a.dealloc(dirty, layout(64, 8));
            let clean = a.alloc_zeroed(layout(64, 8));
            assert!(!clean.is_null() && !a.owns(clean));
            assert!(
                std::slice::from_raw_parts(clean, 64)
                    .iter()
                    .all(|&b| b == 0)
            );
            a.dealloc(clean, layout(64, 8));
        }
    }
}
