//! [`Reply`]: the answer to a `dispatch` (or a test filter), waited on blocking or awaited.
//!
//! A one-shot slot shared by a [`Promise`] (held by whoever will answer) and a [`Reply`] (held by the
//! caller). This is the Rust form of libprocess's `Future`, named `Reply` so it does not shadow
//! [`std::future::Future`], which it implements. It needs no executor: `wait` blocks on a condvar, and
//! `.await` registers a [`Waker`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::Error;

struct Slot<R> {
    state: Mutex<SlotState<R>>,
    ready: Condvar,
}

struct SlotState<R> {
    value: Option<Result<R, Error>>,
    waker: Option<Waker>,
}

/// The caller's side of a one-shot answer: resolves to `Ok(value)`, or `Err(Error::Abandoned)` when
/// the answering side (e.g. a process that terminated first) dropped its promise.
#[must_use = "a Reply does nothing unless waited on or awaited"]
pub struct Reply<R> {
    slot: Arc<Slot<R>>,
}

/// The answering side of a [`Reply`]; dropping it unanswered resolves the reply with
/// [`Error::Abandoned`].
pub(crate) struct Promise<R> {
    slot: Option<Arc<Slot<R>>>,
}

/// A connected promise/reply pair.
pub(crate) fn pair<R>() -> (Promise<R>, Reply<R>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(SlotState {
            value: None,
            waker: None,
        }),
        ready: Condvar::new(),
    });
    (
        Promise {
            slot: Some(slot.clone()),
        },
        Reply { slot },
    )
}

impl<R> Promise<R> {
    /// Resolves the reply with `value`.
    pub(crate) fn fulfil(mut self, value: R) {
        if let Some(slot) = self.slot.take() {
            resolve(&slot, Ok(value));
        }
    }
}

impl<R> Drop for Promise<R> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            resolve(&slot, Err(Error::Abandoned));
        }
    }
}

fn resolve<R>(slot: &Slot<R>, value: Result<R, Error>) {
    let waker = {
        let mut state = slot.state.lock();
        state.value = Some(value);
        state.waker.take()
    };
    slot.ready.notify_all();
    // Wake outside the lock: the waker may poll (and lock) right away.
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl<R> Reply<R> {
    /// A reply that is already resolved with `value`.
    pub fn ready(value: R) -> Reply<R> {
        let (promise, reply) = pair();
        promise.fulfil(value);
        reply
    }

    /// Blocks the calling thread until the answer arrives.
    ///
    /// Do not call this from inside a process handler for an answer that needs a process of the same
    /// runtime to run: the handler holds a worker, which may be the one that would run it.
    ///
    /// # Errors
    /// [`Error::Abandoned`] if the answering side went away without answering.
    pub fn wait(self) -> Result<R, Error> {
        let mut state = self.slot.state.lock();
        loop {
            if let Some(value) = state.value.take() {
                return value;
            }
            self.slot.ready.wait(&mut state);
        }
    }

    /// Blocks for at most `timeout` of real (wall-clock) time; the runtime's paused clock does not apply,
    /// since this guards the calling test thread, not process logic.
    ///
    /// # Errors
    /// [`Error::Timeout`] if no answer came in time; [`Error::Abandoned`] as for [`Reply::wait`].
    pub fn wait_timeout(self, timeout: Duration) -> Result<R, Error> {
        let deadline = Instant::now() + timeout;
        let mut state = self.slot.state.lock();
        loop {
            if let Some(value) = state.value.take() {
                return value;
            }
            if self.slot.ready.wait_until(&mut state, deadline).timed_out() {
                return state.value.take().unwrap_or(Err(Error::Timeout));
            }
        }
    }

    /// Whether the answer (or the abandonment) has arrived.
    pub fn is_ready(&self) -> bool {
        self.slot.state.lock().value.is_some()
    }
}

impl<R> Future for Reply<R> {
    type Output = Result<R, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.state.lock();
        match state.value.take() {
            Some(value) => Poll::Ready(value),
            None => {
                match &state.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => state.waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

impl<R> std::fmt::Debug for Reply<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("ready", &self.is_ready())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fulfilled_and_abandoned() {
        let (promise, reply) = pair::<u32>();
        promise.fulfil(7);
        assert_eq!(reply.wait().unwrap(), 7);

        let (promise, reply) = pair::<u32>();
        drop(promise);
        assert!(matches!(reply.wait(), Err(Error::Abandoned)));

        let (_promise, reply) = pair::<u32>();
        assert!(matches!(
            reply.wait_timeout(Duration::from_millis(1)),
            Err(Error::Timeout)
        ));
    }

    #[test]
    fn answered_from_another_thread() {
        let (promise, reply) = pair::<String>();
        let thread = std::thread::spawn(move || promise.fulfil("done".into()));
        assert_eq!(reply.wait().unwrap(), "done");
        thread.join().unwrap();
    }
}
