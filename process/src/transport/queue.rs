//! The per-peer send queue: senders encode into it, the event loop swaps it out whole.

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::frame::FrameEncoder;
#[cfg(test)]
use super::Envelope;
use super::{Parts, TransportConfig};

/// Bytes waiting for one peer, plus the encoder whose pid cache matches them.
pub(crate) struct PeerQueue {
    state: Mutex<QueueState>,
    /// Signalled when the loop takes or drops the bytes, for senders blocked on `max_pending_bytes`.
    drained: Condvar,
}

struct QueueState {
    bytes: Vec<u8>,
    encoder: FrameEncoder,
    /// Set at shutdown: later pushes are dropped and never block.
    closed: bool,
    blocked_senders: usize,
}

/// What [`PeerQueue::push`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// The queue was empty: the caller must tell the loop to flush this peer.
    First,
    /// The loop already knows the queue is non-empty.
    Appended,
    /// Dropped (too large, or the transport is shut down).
    Dropped,
}

/// A drained buffer above this capacity is released rather than kept for reuse.
const KEEP_CAPACITY: usize = 16 << 20;

impl PeerQueue {
    pub(crate) fn new() -> PeerQueue {
        PeerQueue {
            state: Mutex::new(QueueState {
                bytes: Vec::new(),
                encoder: FrameEncoder::new(),
                closed: false,
                blocked_senders: 0,
            }),
            drained: Condvar::new(),
        }
    }

    /// Encodes `envelope` at the end of the queue. With `may_block`, waits while the queue is over
    /// `max_pending_bytes` (the event loop never passes `may_block`, so it cannot deadlock on itself).
    #[cfg(test)]
    pub(crate) fn push(
        &self,
        envelope: &Envelope,
        config: &TransportConfig,
        may_block: bool,
    ) -> Pushed {
        self.push_parts(envelope.parts(), config, may_block)
    }

    /// The queue's state once it has room (with `may_block`, waits while it holds
    /// `max_pending_bytes` or more); `None` when it is closed.
    fn lock_with_room(
        &self,
        config: &TransportConfig,
        may_block: bool,
    ) -> Option<MutexGuard<'_, QueueState>> {
        let mut state = self.state.lock();
        while may_block && !state.closed && state.bytes.len() >= config.max_pending_bytes {
            state.blocked_senders += 1;
            self.drained.wait(&mut state);
            state.blocked_senders -= 1;
        }
        (!state.closed).then_some(state)
    }

    pub(crate) fn push_parts(
        &self,
        envelope: Parts<'_>,
        config: &TransportConfig,
        may_block: bool,
    ) -> Pushed {
        let Some(mut state) = self.lock_with_room(config, may_block) else {
            return Pushed::Dropped;
        };
        let was_empty = state.bytes.is_empty();
        let QueueState { bytes, encoder, .. } = &mut *state;
        match encoder.encode_parts(envelope, config.max_frame_bytes, bytes) {
            Ok(_) if was_empty => Pushed::First,
            Ok(_) => Pushed::Appended,
            Err(e) => {
                tracing::warn!(to = %envelope.to, name = %envelope.name, "message dropped: {e}");
                Pushed::Dropped
            }
        }
    }

    /// Appends already encoded frames (a worker's buffered sends, see `send_buffer`); waits like
    /// [`PeerQueue::push_parts`] with `may_block`.
    pub(crate) fn push_encoded(
        &self,
        frames: &[u8],
        config: &TransportConfig,
        may_block: bool,
    ) -> Pushed {
        let Some(mut state) = self.lock_with_room(config, may_block) else {
            return Pushed::Dropped;
        };
        let was_empty = state.bytes.is_empty();
        state.bytes.extend_from_slice(frames);
        if was_empty {
            Pushed::First
        } else {
            Pushed::Appended
        }
    }

    /// Swaps the queued bytes into `out` (which the caller has emptied); false if nothing was queued.
    pub(crate) fn take_into(&self, out: &mut Vec<u8>) -> bool {
        debug_assert!(out.is_empty());
        if out.capacity() > KEEP_CAPACITY {
            *out = Vec::new();
        }
        let mut state = self.state.lock();
        if state.bytes.is_empty() {
            return false;
        }
        std::mem::swap(&mut state.bytes, out);
        if state.blocked_senders > 0 {
            self.drained.notify_all();
        }
        true
    }

    /// Drops everything queued (the connection failed); the next push reports [`Pushed::First`].
    pub(crate) fn clear(&self) {
        let mut state = self.state.lock();
        state.bytes = Vec::new();
        self.drained.notify_all();
    }

    /// Drops everything queued and refuses further pushes (the transport is shutting down).
    pub(crate) fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        state.bytes = Vec::new();
        self.drained.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upid::Upid;
    use std::sync::Arc;

    fn envelope(body: usize) -> Envelope {
        let pid: Upid = "p@127.0.0.1:1".parse().unwrap();
        Envelope {
            from: pid.clone(),
            to: pid,
            name: "m".into(),
            body: vec![0; body],
        }
    }

    #[test]
    fn reports_first_push_after_each_drain() {
        let q = PeerQueue::new();
        let cfg = TransportConfig::default();
        assert_eq!(q.push(&envelope(1), &cfg, true), Pushed::First);
        assert_eq!(q.push(&envelope(1), &cfg, true), Pushed::Appended);
        let mut out = Vec::new();
        assert!(q.take_into(&mut out));
        assert!(!out.is_empty());
        out.clear();
        assert!(!q.take_into(&mut out));
        assert_eq!(q.push(&envelope(1), &cfg, true), Pushed::First);
        q.clear();
        assert_eq!(q.push(&envelope(1), &cfg, true), Pushed::First);
        q.close();
        assert_eq!(q.push(&envelope(1), &cfg, true), Pushed::Dropped);
    }

    #[test]
    fn drops_oversized_envelopes() {
        let q = PeerQueue::new();
        let cfg = TransportConfig {
            max_frame_bytes: 100,
            ..TransportConfig::default()
        };
        assert_eq!(q.push(&envelope(200), &cfg, true), Pushed::Dropped);
        assert_eq!(q.push(&envelope(10), &cfg, true), Pushed::First);
    }

    #[test]
    fn a_full_queue_blocks_the_sender_until_taken() {
        let q = Arc::new(PeerQueue::new());
        let cfg = TransportConfig {
            max_pending_bytes: 10,
            ..TransportConfig::default()
        };
        assert_eq!(q.push(&envelope(20), &cfg, true), Pushed::First);
        // Not blocking (the loop thread's own sends) still appends.
        assert_eq!(q.push(&envelope(1), &cfg, false), Pushed::Appended);
        let (tx, rx) = std::sync::mpsc::channel();
        let sender = {
            let q = Arc::clone(&q);
            let cfg = cfg.clone();
            std::thread::spawn(move || tx.send(q.push(&envelope(1), &cfg, true)).unwrap())
        };
        // The sender is blocked: wait until it has registered as such, then drain.
        while q.state.lock().blocked_senders == 0 {
            std::thread::yield_now();
        }
        assert!(rx.try_recv().is_err());
        let mut out = Vec::new();
        assert!(q.take_into(&mut out));
        assert_eq!(rx.recv().unwrap(), Pushed::First);
        sender.join().unwrap();
    }
}
