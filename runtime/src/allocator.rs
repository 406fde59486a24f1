//! The global allocator of the `sercompat` binary: mimalloc.
//!
//! A proxy allocates and frees a few hundred small blocks per call (parsed
//! headers, branch requests, timer entries), and glibc's bins cost several
//! times mimalloc's free lists for that pattern (issue 6,
//! `docs/benchmarks.md`). The `mimalloc` crate's allocator asks for every
//! block through `mi_malloc_aligned`; a block of alignment 8 or less takes
//! `mi_malloc` here, which skips the alignment checks: every mimalloc block
//! is aligned to at least 8 bytes.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// What every mimalloc block is aligned to, whatever its size.
const PLAIN_ALIGN: usize = 8;

/// mimalloc, through its plain entry points where the alignment allows.
pub struct Mimalloc;

// SAFETY: mimalloc returns blocks of at least the requested size, aligned
// to `PLAIN_ALIGN` by `mi_malloc`/`mi_zalloc`/`mi_realloc` and to the
// given alignment by the `_aligned` forms, or null on failure; `mi_free`
// takes any block either kind returned.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain FFI calls; the size and alignment come from `layout`.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                libmimalloc_sys::mi_malloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                libmimalloc_sys::mi_zalloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { libmimalloc_sys::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`'s alignment.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                libmimalloc_sys::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                libmimalloc_sys::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align())
                    .cast()
            }
        }
    }
}
