//! A process's data mailbox: an intrusive multi-producer, single-consumer queue.
//!
//! Why not crossbeam-channel: an unbounded crossbeam channel keeps a 31-slot block allocated per
//! channel even when empty (over 2 KiB with our letter size), blows the budget of an idle process, and
//! does atomic read-modify-writes on both ends. This is Dmitry Vyukov's node-based MPSC queue: a push
//! is one `swap` plus one store, a pop needs no read-modify-write, an empty queue owns one stub node,
//! and the one-consumer rule is already guaranteed by the process state machine (only the worker that
//! holds the process's slot lock pops).

use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::runtime::workers;

/// Freed nodes a worker keeps for its next allocations (at most this many).
const NODE_CACHE_MAX: usize = 16 * 1024;

/// Freed node blocks a parked worker keeps.
const NODE_CACHE_IDLE: usize = 256;

/// A worker's stack of freed node blocks, all of one layout (every process's node has the same size
/// in practice; other layouts bypass the cache). A request/response pair on one worker then allocates
/// nothing in steady state, and a worker draining a busy mailbox refills its cache for the sends it
/// makes next. Lives in the worker's `WorkerLocal` (no thread-local destructor on the hot path).
pub(crate) struct NodeCache {
    layout: Option<Layout>,
    free: Vec<*mut u8>,
}

impl NodeCache {
    pub(crate) const fn new() -> NodeCache {
        NodeCache {
            layout: None,
            free: Vec::new(),
        }
    }

    /// Returns all but a few blocks to the allocator (before the worker parks).
    pub(crate) fn trim(&mut self) {
        if let Some(layout) = self.layout {
            while self.free.len() > NODE_CACHE_IDLE {
                if let Some(block) = self.free.pop() {
                    // SAFETY: cached blocks were allocated with `layout` and hold no value.
                    unsafe { std::alloc::dealloc(block, layout) };
                }
            }
            self.free.shrink_to(NODE_CACHE_IDLE);
        }
    }
}

impl Drop for NodeCache {
    fn drop(&mut self) {
        if let Some(layout) = self.layout {
            for block in self.free.drain(..) {
                // SAFETY: every cached block was allocated by the global allocator with `layout`
                // and holds no live value.
                unsafe { std::alloc::dealloc(block, layout) };
            }
        }
    }
}

fn alloc_node<T>(node: Node<T>) -> *mut Node<T> {
    let layout = Layout::new::<Node<T>>();
    let cached = workers::with_node_cache(|cache| {
        if cache.layout == Some(layout) {
            cache.free.pop()
        } else {
            None
        }
    })
    .flatten();
    match cached {
        Some(block) => {
            let node_ptr = block.cast::<Node<T>>();
            // SAFETY: the block has `Node<T>`'s exact layout and holds no live value.
            unsafe { node_ptr.write(node) };
            node_ptr
        }
        None => Box::into_raw(Box::new(node)),
    }
}

/// Drops the node's value and frees (or caches) its block.
///
/// # Safety
/// `node_ptr` came from `alloc_node::<T>` and is no longer reachable by anyone else.
unsafe fn free_node<T>(node_ptr: *mut Node<T>) {
    ptr::drop_in_place(node_ptr);
    let layout = Layout::new::<Node<T>>();
    let block = node_ptr.cast::<u8>();
    let kept = workers::with_node_cache(|cache| {
        let layout_fits = *cache.layout.get_or_insert(layout) == layout;
        if layout_fits && cache.free.len() < NODE_CACHE_MAX {
            cache.free.push(block);
            true
        } else {
            false
        }
    })
    .unwrap_or(false);
    if !kept {
        // SAFETY: allocated by the global allocator with this layout (`Box::new` or the cache).
        std::alloc::dealloc(block, layout);
    }
}

struct Node<T> {
    next: AtomicPtr<Node<T>>,
    value: Option<T>,
}

/// The queue. Producers may push from any thread; [`Mailbox::pop`] and [`Mailbox::has_pending`] must
/// only be called by one consumer at a time.
pub(crate) struct Mailbox<T> {
    /// The most recently pushed node; producers swap themselves in here.
    head: AtomicPtr<Node<T>>,
    /// The last consumed node (the stub); owned by the consumer.
    tail: UnsafeCell<*mut Node<T>>,
}

// SAFETY: values are moved across threads (T: Send); the consumer-only `tail` is guarded by the
// single-consumer contract of `pop`/`has_pending`.
unsafe impl<T: Send> Send for Mailbox<T> {}
// SAFETY: as above; producers only touch `head` (atomic) and the `next` of nodes they own.
unsafe impl<T: Send> Sync for Mailbox<T> {}

impl<T> Mailbox<T> {
    /// An empty mailbox holding only the stub node.
    pub(crate) fn new() -> Mailbox<T> {
        let stub = alloc_node(Node {
            next: AtomicPtr::new(ptr::null_mut()),
            value: None,
        });
        Mailbox {
            head: AtomicPtr::new(stub),
            tail: UnsafeCell::new(stub),
        }
    }

    /// Appends `value`; wait-free apart from the allocation.
    pub(crate) fn push(&self, value: T) {
        let node = alloc_node(Node {
            next: AtomicPtr::new(ptr::null_mut()),
            value: Some(value),
        });
        // SeqCst: the consumer's emptiness check reads `head` (see `has_pending`).
        let previous = self.head.swap(node, Ordering::SeqCst);
        // SAFETY: `previous` stays allocated until the consumer has moved past it, which needs this
        // very `next` link to be set first.
        unsafe { (*previous).next.store(node, Ordering::Release) };
    }

    /// Allocates a node holding `value`, not yet in any queue (see [`Mailbox::push_chain`]).
    pub(crate) fn new_node(value: T) -> *mut u8 {
        alloc_node(Node {
            next: AtomicPtr::new(ptr::null_mut()),
            value: Some(value),
        })
        .cast()
    }

    /// The value slot of an unpublished node.
    ///
    /// # Safety
    /// `node` comes from `Mailbox::<T>::new_node`, is unpublished, and no other reference to its value
    /// exists.
    pub(crate) unsafe fn value_mut<'a>(node: *mut u8) -> &'a mut Option<T> {
        &mut (*node.cast::<Node<T>>()).value
    }

    /// Links unpublished node `next` after unpublished node `last`.
    ///
    /// # Safety
    /// Both come from `Mailbox::<T>::new_node` and are not published yet.
    #[cfg(test)]
    pub(crate) unsafe fn link(last: *mut u8, next: *mut u8) {
        (*last.cast::<Node<T>>())
            .next
            .store(next.cast(), Ordering::Relaxed);
    }

    /// Publishes a chain of nodes `first ..= last` (linked with [`Mailbox::link`]) with one `swap`:
    /// how a worker hands over a burst of sends to one process.
    ///
    /// # Safety
    /// The chain comes from `Mailbox::<T>::new_node`/`link`, is unpublished, and `last` ends it.
    pub(crate) unsafe fn push_chain(&self, first: *mut u8, last: *mut u8) {
        let previous = self.head.swap(last.cast(), Ordering::SeqCst);
        (*previous).next.store(first.cast(), Ordering::Release);
    }

    /// Puts `value` ahead of everything queued, in the stub node the consumer owns (whose value slot
    /// is otherwise unused): how a message reaches an idle process without a node of its own.
    /// Producers only touch the newest node's `next` link, never a value, so this races with none.
    ///
    /// # Safety
    /// As for [`Mailbox::pop`]; and no value was put first since the last `pop`.
    pub(crate) unsafe fn put_first(&self, value: T) {
        let stub = &mut (*(*self.tail.get())).value;
        debug_assert!(stub.is_none());
        *stub = Some(value);
    }

    /// Takes the oldest value, or `None` if the queue is empty (or a push is half-way: that producer
    /// notices the consumer went idle and reschedules it, see `cell.rs`).
    ///
    /// # Safety
    /// At most one thread may call `pop`/`has_pending` at a time.
    #[inline]
    pub(crate) unsafe fn pop(&self) -> Option<T> {
        let tail = *self.tail.get();
        if let Some(first) = (*tail).value.take() {
            return Some(first);
        }
        let next = (*tail).next.load(Ordering::Acquire);
        if next.is_null() {
            return None;
        }
        *self.tail.get() = next;
        let value = (*next).value.take();
        free_node(tail);
        value
    }

    /// Whether a push has started since the last value was taken: a completed one, or one that swapped
    /// itself in but has not linked its node yet (then `pop` still returns `None` for a moment). Reads
    /// `head` with `SeqCst`, pairing with the producers' `SeqCst` swap: a producer that then reads the
    /// consumer's state either sees it go idle or is seen here.
    ///
    /// # Safety
    /// As for [`Mailbox::pop`].
    pub(crate) unsafe fn has_pending(&self) -> bool {
        self.head.load(Ordering::SeqCst) != *self.tail.get()
    }
}

impl<T> Drop for Mailbox<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self` means no producer or consumer is active.
        unsafe {
            while self.pop().is_some() {}
            free_node(*self.tail.get());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn fifo_single_thread() {
        let mailbox = Mailbox::new();
        for i in 0..10 {
            mailbox.push(i);
        }
        unsafe {
            assert!(mailbox.has_pending());
            for i in 0..10 {
                assert_eq!(mailbox.pop(), Some(i));
            }
            assert_eq!(mailbox.pop(), None);
            assert!(!mailbox.has_pending());
        }
    }

    #[test]
    fn chains_publish_in_order() {
        let mailbox = Mailbox::new();
        mailbox.push(0);
        let first = Mailbox::new_node(1);
        let mut last = first;
        for i in 2..5 {
            let node = Mailbox::new_node(i);
            unsafe { Mailbox::<i32>::link(last, node) };
            last = node;
        }
        unsafe { mailbox.push_chain(first, last) };
        mailbox.push(5);
        let popped: Vec<i32> = std::iter::from_fn(|| unsafe { mailbox.pop() }).collect();
        assert_eq!(popped, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_value_put_first_comes_before_later_pushes_and_is_dropped_with_the_queue() {
        let mailbox = Mailbox::new();
        unsafe { mailbox.put_first(0) };
        mailbox.push(1);
        mailbox.push(2);
        let popped: Vec<i32> = std::iter::from_fn(|| unsafe { mailbox.pop() }).collect();
        assert_eq!(popped, [0, 1, 2]);
        // Once consumed, the (new) stub takes another.
        unsafe { mailbox.put_first(3) };
        assert_eq!(unsafe { mailbox.pop() }, Some(3));
        assert_eq!(unsafe { mailbox.pop() }, None);

        let counted = Arc::new(());
        let mailbox = Mailbox::new();
        unsafe { mailbox.put_first(counted.clone()) };
        mailbox.push(counted.clone());
        drop(mailbox);
        assert_eq!(Arc::strong_count(&counted), 1);
    }

    #[test]
    fn drops_unconsumed_values() {
        let counted = Arc::new(());
        let mailbox = Mailbox::new();
        for _ in 0..5 {
            mailbox.push(counted.clone());
        }
        drop(mailbox);
        assert_eq!(Arc::strong_count(&counted), 1);
    }

    #[test]
    fn many_producers_keep_per_producer_order() {
        let mailbox = Arc::new(Mailbox::new());
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let mailbox = mailbox.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000u64 {
                        mailbox.push((p, i));
                    }
                })
            })
            .collect();
        let mut next = [0u64; 4];
        let mut received = 0;
        while received < 40_000 {
            // SAFETY: this test thread is the only consumer.
            if let Some((p, i)) = unsafe { mailbox.pop() } {
                assert_eq!(next[p as usize], i);
                next[p as usize] += 1;
                received += 1;
            }
        }
        for producer in producers {
            producer.join().unwrap();
        }
    }
}
