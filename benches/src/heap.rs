//! Live heap bytes, counted by a global allocator wrapper: a bench binary that wants to know what
//! a structure costs installs [`Counting`] and reads [`live_bytes`] before and after building it.
//! Unlike the resident set size, this cannot read zero because freed memory was reused.
//!
//! ```no_run
//! #[global_allocator]
//! static HEAP: mesos_benches::heap::Counting = mesos_benches::heap::Counting::system();
//!
//! let before = mesos_benches::heap::live_bytes();
//! let v = vec![0u8; 1 << 20];
//! assert!(mesos_benches::heap::live_bytes() - before >= 1 << 20);
//! # drop(v);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting the bytes it has handed out and not yet got back.
pub struct Counting {
    inner: System,
}

impl Counting {
    /// Wraps the system allocator.
    pub const fn system() -> Counting {
        Counting { inner: System }
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is only
// arithmetic on the layout sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.inner.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        new
    }
}

/// Bytes allocated through [`Counting`] and not yet freed (0 if it is not the global allocator).
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}
