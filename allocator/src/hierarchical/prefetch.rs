//! Software prefetching for the allocation run.
//!
//! A run visits every candidate agent once, in shuffled order: at 100,000 agents each visit starts
//! with cache misses on the agent's record and on the heap blocks it points to (its id, filters,
//! allocations), and the run spends most of its time waiting for memory rather than computing.
//! The candidate list says which agents come next, so the run asks for them ahead of time: the
//! record [`RECORD_DISTANCE`] agents ahead, and the blocks it points to [`HEAP_DISTANCE`] agents
//! ahead (by then the record itself is in cache, so reading its pointers is cheap). A prefetch is
//! only a hint: it never faults and changes no result.

use super::state::Agent;

/// How many candidates ahead an agent's record is prefetched.
pub(super) const RECORD_DISTANCE: usize = 16;

/// How many candidates ahead the heap blocks an agent's record points to are prefetched.
pub(super) const HEAP_DISTANCE: usize = 8;

const CACHE_LINE: usize = 64;

/// Hints the CPU to load the cache line holding `p` (no-op where there is no prefetch
/// instruction we use).
#[inline(always)]
fn line<T: ?Sized>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that reads nothing architecturally and never faults, whatever
    // the address; SSE (which has it) is part of the x86_64 baseline.
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            p.cast::<u8>().cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Prefetches every cache line of `value` (a record in a slab).
#[inline(always)]
pub(super) fn record<T>(value: &T) {
    let start = (value as *const T).cast::<u8>();
    let mut offset = 0;
    while offset < std::mem::size_of::<T>() {
        line(start.wrapping_add(offset));
        offset += CACHE_LINE;
    }
}

/// Prefetches the heap blocks the run reads or writes through `agent`: the id (a grant clones its
/// reference count), the filters, the allocation entries, and (only
/// with reservations, where offers are computed from them) the available resources: without
/// reservations the run moves `available` out without reading its heap block.
#[inline(always)]
pub(super) fn agent_heap(agent: &Agent) {
    // The reference counts sit just before the string in the same allocation.
    line(
        std::sync::Arc::as_ptr(&agent.id)
            .cast::<u8>()
            .wrapping_sub(16),
    );
    line(agent.filters.as_ptr());
    line(agent.allocations.as_ptr());
    if agent.has_reservations {
        line(agent.available.iter().as_slice().as_ptr());
    }
}
