//! A global allocator for plugins: small blocks from a fixed arena, sorted
//! into power-of-two size classes, and the system allocator for the rest.
//!
//! The host reuses a plugin's instance for many calls (`calls_per_instance`)
//! and drops it after at most that many, so an instance is short-lived and
//! its working set is one call's worth of small strings, maps and vectors.
//! This allocator is built for exactly that:
//! - a block of up to [`MAX_CLASS`] bytes is rounded up to a power of two
//!   (its class) and taken from that class's free list, or else carved from
//!   the arena by bumping a pointer (the arena is the module's
//!   zero-initialised data, so untouched pages cost nothing);
//! - freeing pushes the block onto its class's free list, so the next call
//!   reuses the memory the last one gave back;
//! - a `realloc` within the block's class stays in place;
//! - bigger blocks, blocks aligned to more than 16 bytes, and everything
//!   once the arena is used up, go to the system allocator, so a large
//!   input still fits within the host's memory cap.
//!
//! A render of the seed template allocates about 320 times and 45 KB in all.
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

/// Arena size: five times what a typical alert's JSON and template work
/// allocates. A reused instance keeps the pages it has touched resident
/// while it waits for its next call, and the arena counts toward the host's
/// per-plugin memory cap (default 64 MiB): keep it small.
const ARENA_BYTES: usize = 256 << 10;

/// The smallest class: room for the free-list link. Also the alignment of
/// every arena block: a layout asking for more goes to the system
/// allocator (rare: Rust values are aligned to at most 8 or 16 bytes).
const MIN_CLASS: usize = 16;

/// The largest block served from the arena; bigger ones go to the system
/// allocator.
pub const MAX_CLASS: usize = 16 << 10;

/// Classes 16, 32, …, [`MAX_CLASS`] bytes.
const CLASSES: usize = (MAX_CLASS / MIN_CLASS).trailing_zeros() as usize + 1;

/// The arena's state.
struct State {
    /// Offset of the first byte never handed out.
    top: usize,
    /// Per class, the first free block (its first bytes hold the next one),
    /// or null.
    free: [*mut u8; CLASSES],
}

/// A size-class allocator over a fixed arena, falling back to [`System`].
pub struct Arena {
    memory: UnsafeCell<Memory>,
    state: UnsafeCell<State>,
}

/// Blocks are carved next to each other, at multiples of [`MIN_CLASS`], so
/// a fresh instance touches as few pages as it can.
#[repr(C, align(16))]
struct Memory([u8; ARENA_BYTES]);

const _: () = assert!(std::mem::align_of::<Memory>() == MIN_CLASS);

// SAFETY: plugins run on wasm32-wasip2, which has a single thread; the arena
// is never touched from two threads at once. Elsewhere only this crate's own
// single-threaded test may share one, so a native program cannot make it its
// global allocator by mistake.
#[cfg(any(target_arch = "wasm32", test))]
unsafe impl Sync for Arena {}

/// The class index and block size for `layout`, if the arena serves it:
/// at most [`MAX_CLASS`] bytes, aligned to at most [`MIN_CLASS`].
fn class_of(layout: Layout) -> Option<(usize, usize)> {
    let size = layout.size().max(MIN_CLASS);
    if size > MAX_CLASS || layout.align() > MIN_CLASS {
        return None;
    }
    let block = size.next_power_of_two();
    let index = (block / MIN_CLASS).trailing_zeros() as usize;
    Some((index, block))
}

impl Arena {
    /// An empty arena.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self {
            memory: UnsafeCell::new(Memory([0; ARENA_BYTES])),
            state: UnsafeCell::new(State {
                top: 0,
                free: [std::ptr::null_mut(); CLASSES],
            }),
        }
    }

    fn base(&self) -> usize {
        self.memory.get() as usize
    }

    fn owns(&self, ptr: *mut u8) -> bool {
        let p = ptr as usize;
        p >= self.base() && p < self.base() + ARENA_BYTES
    }

    /// A block of class `index` (`block` bytes): a freed one, or a new one
    /// from the arena; null when the arena is used up.
    ///
    /// # Safety
    /// Single-threaded use only (see [`Arena`]).
    unsafe fn take(&self, index: usize, block: usize) -> *mut u8 {
        // SAFETY: single-threaded; no other reference to the state is live.
        let state = unsafe { &mut *self.state.get() };
        let head = state.free[index];
        if !head.is_null() {
            // SAFETY: a free block's first bytes hold the next free block,
            // written by `give_back`; blocks are aligned for a pointer.
            state.free[index] = unsafe { (head as *mut *mut u8).read() };
            return head;
        }
        let start = state.top;
        match start.checked_add(block) {
            Some(end) if end <= ARENA_BYTES => {
                state.top = end;
                // SAFETY: `start..end` lies inside the arena.
                unsafe { (self.memory.get() as *mut u8).add(start) }
            }
            _ => std::ptr::null_mut(),
        }
    }

    /// Puts a block of class `index` on its free list.
    ///
    /// # Safety
    /// `ptr` is an arena block of that class that is no longer used;
    /// single-threaded use only.
    unsafe fn give_back(&self, ptr: *mut u8, index: usize) {
        // SAFETY: single-threaded; the block is ours to overwrite.
        unsafe {
            let state = &mut *self.state.get();
            (ptr as *mut *mut u8).write(state.free[index]);
            state.free[index] = ptr;
        }
    }
}

// SAFETY: every pointer returned is either an arena block of at least the
// size and alignment asked for, not handed out twice while live, or comes
// from `System`; each is given back to whichever of the two it came from
// (`owns` tells them apart, and the caller's layout gives the class back).
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some((index, block)) = class_of(layout) {
            // SAFETY: single-threaded (see `Arena`).
            let ptr = unsafe { self.take(index, block) };
            if !ptr.is_null() {
                return ptr;
            }
        }
        // SAFETY: forwarded with the caller's valid layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if let Some((index, block)) = class_of(layout) {
            // SAFETY: single-threaded (see `Arena`).
            let ptr = unsafe { self.take(index, block) };
            if !ptr.is_null() {
                // SAFETY: the caller owns `layout.size()` bytes at `ptr`; a
                // recycled block holds old bytes, so it is zeroed here.
                unsafe { ptr.write_bytes(0, layout.size()) };
                return ptr;
            }
        }
        // SAFETY: forwarded with the caller's valid layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class_of(layout) {
            Some((index, _)) if self.owns(ptr) => {
                // SAFETY: an arena block of this layout's class, now unused.
                unsafe { self.give_back(ptr, index) }
            }
            // SAFETY: it came from `System` with this layout.
            _ => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `new_size` with the old alignment is a valid layout, as
        // `GlobalAlloc::realloc` requires of its caller.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !self.owns(ptr) {
            // SAFETY: it came from `System` with this layout.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        if class_of(layout) == class_of(new_layout) {
            // Same class: the block already has room.
            return ptr;
        }
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
    fn classes_round_up_to_powers_of_two() {
        assert_eq!(class_of(layout(1, 1)), Some((0, 16)));
        assert_eq!(class_of(layout(16, 8)), Some((0, 16)));
        assert_eq!(class_of(layout(17, 1)), Some((1, 32)));
        assert_eq!(class_of(layout(3, 16)), Some((0, 16)));
        assert_eq!(class_of(layout(3, 64)), None, "over-aligned");
        assert_eq!(
            class_of(layout(MAX_CLASS, 1)),
            Some((CLASSES - 1, MAX_CLASS))
        );
        assert_eq!(class_of(layout(MAX_CLASS + 1, 1)), None);
    }

    #[test]
    fn blocks_are_reused_grown_in_place_and_fall_back_when_full() {
        let a = &ARENA;
        // SAFETY: this test is the only user of ARENA, on one thread; every
        // pointer is used within the size it was allocated with.
        unsafe {
            let p1 = a.alloc(layout(3, 1));
            let p2 = a.alloc(layout(8, 8));
            let p3 = a.alloc(layout(100, 64));
            assert!(a.owns(p1) && a.owns(p2) && !a.owns(p3));
            assert_eq!(p2 as usize % 8, 0, "aligned");
            assert_eq!(p3 as usize % 64, 0, "aligned by the system allocator");
            a.dealloc(p3, layout(100, 64));
            assert_eq!(p2 as usize, p1 as usize + 16, "packed, no overlap");

            // Growing within the class stays; beyond it moves, keeping the bytes.
            p1.copy_from_nonoverlapping(b"abc".as_ptr(), 3);
            assert_eq!(a.realloc(p1, layout(3, 1), 16), p1);
            let moved = a.realloc(p1, layout(16, 1), 100);
            assert_ne!(moved, p1);
            assert_eq!(std::slice::from_raw_parts(moved, 3), b"abc");

            // A freed block is the next one of its class, zeroed if asked.
            moved.write_bytes(9, 100);
            a.dealloc(moved, layout(100, 1));
            let zeroed = a.alloc_zeroed(layout(120, 1));
            assert_eq!(zeroed, moved);
            assert!(
                std::slice::from_raw_parts(zeroed, 120)
                    .iter()
                    .all(|&b| b == 0)
            );
            // The block p1 left when it moved serves the next 16-byte one.
            assert_eq!(a.alloc(layout(10, 2)), p1);

            // Too big for a class: the system allocator takes it, and takes it back.
            let big = a.alloc(layout(MAX_CLASS + 1, 16));
            assert!(!big.is_null() && !a.owns(big));
            big.write_bytes(1, MAX_CLASS + 1);
            let big = a.realloc(big, layout(MAX_CLASS + 1, 16), ARENA_BYTES);
            assert!(!big.is_null() && !a.owns(big));
            a.dealloc(big, layout(ARENA_BYTES, 16));

            // Use the arena up: then even small blocks come from the system
            // allocator, and zeroed ones are zeroed.
            let mut held = Vec::new();
            loop {
                let p = a.alloc(layout(MAX_CLASS, 1));
                if !a.owns(p) {
                    a.dealloc(p, layout(MAX_CLASS, 1));
                    break;
                }
                held.push(p);
            }
            let dirty = a.alloc(layout(64, 8));
            if a.owns(dirty) {
                // A smaller class still had room at the arena's end.
                a.dealloc(dirty, layout(64, 8));
            } else {
                dirty.write_bytes(0xff, 64);
                a.dealloc(dirty, layout(64, 8));
            }
            let clean = a.alloc_zeroed(layout(64, 8));
            assert!(!clean.is_null());
            assert!(
                std::slice::from_raw_parts(clean, 64)
                    .iter()
                    .all(|&b| b == 0)
            );
            a.dealloc(clean, layout(64, 8));
            // A block given back is used again before the system allocator.
            let last = held.pop().expect("some blocks");
            a.dealloc(last, layout(MAX_CLASS, 1));
            assert_eq!(a.alloc(layout(MAX_CLASS, 1)), last);
        }
    }
}
