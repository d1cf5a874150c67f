//! Test hooks on message delivery, like libprocess's `FUTURE_MESSAGE` / `DROP_MESSAGE(S)`.
//!
//! A rule matches a message type (and optionally its sender and receiver). It can wait for the next
//! such message and let it through ([`Filters::await_message`]), swallow the next one
//! ([`Filters::drop_message`]), or swallow all of them until removed ([`Filters::drop_messages`]): lost
//! pongs and network partitions in tests.
//!
//! Where rules apply: to every message a process of this runtime sends (local or remote, before it
//! leaves) and to every remote message this runtime receives (before it reaches the process). So a
//! message between two runtimes passes the sender's rules, then the receiver's. When no rule is
//! installed, the cost on the send path is one relaxed atomic load.

use std::any::{Any, TypeId};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::message::{self, Message};
use crate::pid::Destination;
use crate::reply::{self, Promise, Reply};
use crate::upid::Upid;

/// Which messages a rule applies to, besides their type: optionally only from one sender and/or to one
/// receiver.
#[derive(Clone, Debug, Default)]
pub struct MessageMatch {
    from: Option<Upid>,
    to: Option<Upid>,
}

impl MessageMatch {
    /// Every message of the rule's type.
    pub fn any() -> MessageMatch {
        MessageMatch::default()
    }

    /// Only messages sent by `from`.
    pub fn from<D: Destination + ?Sized>(mut self, from: &D) -> MessageMatch {
        self.from = Some(from.target().upid.clone());
        self
    }

    /// Only messages sent to `to`.
    pub fn to<D: Destination + ?Sized>(mut self, to: &D) -> MessageMatch {
        self.to = Some(to.target().upid.clone());
        self
    }

    fn matches(&self, from: &Upid, to: &Upid) -> bool {
        self.from.as_ref().is_none_or(|f| f == from) && self.to.as_ref().is_none_or(|t| t == to)
    }
}

/// A message a filter caught, with its addresses.
#[derive(Debug, Clone, PartialEq)]
pub struct Intercepted<M> {
    /// The sender.
    pub from: Upid,
    /// The receiver.
    pub to: Upid,
    /// A copy of the message (made through its wire encoding, so `M` need not be `Clone`).
    pub message: M,
}

/// Completes an observing rule's reply; run after the message was delivered, so a test that wakes on
/// the reply and then settles sees the message handled.
pub(crate) struct Observed(Box<dyn FnOnce() + Send>);

impl Observed {
    pub(crate) fn complete(self) {
        (self.0)()
    }
}

/// What the rules decided about one message.
pub(crate) enum Verdict {
    /// Deliver it; then complete the observer, if a rule observed it.
    Deliver(Option<Observed>),
    /// A rule swallowed it.
    Drop,
}

trait Sink: Send {
    /// Copies the local message now; the returned closure resolves the reply.
    fn local(self: Box<Self>, from: &Upid, to: &Upid, message: &dyn Any) -> Option<Observed>;
    /// Decodes the remote body now; the returned closure resolves the reply.
    fn remote(self: Box<Self>, from: &Upid, to: &Upid, body: &[u8]) -> Option<Observed>;
}

struct PromiseSink<M> {
    promise: Promise<Intercepted<M>>,
}

impl<M: Message> PromiseSink<M> {
    fn resolve(self, from: &Upid, to: &Upid, message: Result<M, String>) -> Option<Observed> {
        match message {
            Ok(message) => {
                let intercepted = Intercepted {
                    from: from.clone(),
                    to: to.clone(),
                    message,
                };
                let promise = self.promise;
                Some(Observed(Box::new(move || promise.fulfil(intercepted))))
            }
            Err(error) => {
                tracing::warn!(message = M::NAME, %error, "filter cannot copy the message");
                None
            }
        }
    }
}

impl<M: Message> Sink for PromiseSink<M> {
    fn local(self: Box<Self>, from: &Upid, to: &Upid, message: &dyn Any) -> Option<Observed> {
        let copy = match message.downcast_ref::<M>() {
            Some(message) => message::copy_via_wire(message),
            None => Err("message of another type".to_string()),
        };
        self.resolve(from, to, copy)
    }

    fn remote(self: Box<Self>, from: &Upid, to: &Upid, body: &[u8]) -> Option<Observed> {
        self.resolve(from, to, message::decode::<M>(body))
    }
}

fn decodes<M: Message>(body: &[u8]) -> bool {
    message::decode::<M>(body).is_ok()
}

enum Action {
    /// Resolve the sink with the next match and let it through.
    Observe(Box<dyn Sink>),
    /// Resolve the sink with the next match and drop it.
    DropOne(Box<dyn Sink>),
    /// Drop every match, counting them.
    DropAll(Arc<AtomicUsize>),
}

struct Rule {
    id: u64,
    type_id: TypeId,
    name: &'static str,
    /// Whether a remote body is an `M` (a rule for `M` ignores bodies that are not).
    decodes: fn(&[u8]) -> bool,
    matcher: MessageMatch,
    action: Action,
}

#[derive(Default)]
struct FiltersInner {
    installed: AtomicUsize,
    rules: Mutex<Vec<Rule>>,
    next_id: AtomicU64,
}

/// A runtime's message filters; get them with [`Handle::filters`](crate::Handle::filters).
#[derive(Default)]
pub struct Filters {
    inner: Arc<FiltersInner>,
}

/// Keeps a [`Filters::drop_messages`] rule installed; dropping it (or [`DropRule::remove`]) removes
/// the rule.
#[must_use = "the rule is removed when this guard is dropped"]
pub struct DropRule {
    id: u64,
    dropped: Arc<AtomicUsize>,
    filters: Weak<FiltersInner>,
}

impl DropRule {
    /// How many messages the rule dropped so far.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Removes the rule (same as dropping the guard).
    pub fn remove(self) {}
}

impl Drop for DropRule {
    fn drop(&mut self) {
        if let Some(filters) = self.filters.upgrade() {
            filters.remove(self.id);
        }
    }
}

impl FiltersInner {
    fn add<M: Message>(&self, matcher: MessageMatch, action: Action) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut rules = self.rules.lock();
        rules.push(Rule {
            id,
            type_id: TypeId::of::<M>(),
            name: M::NAME,
            decodes: decodes::<M>,
            matcher,
            action,
        });
        self.installed.store(rules.len(), Ordering::SeqCst);
        id
    }

    fn remove(&self, id: u64) {
        let mut rules = self.rules.lock();
        rules.retain(|rule| rule.id != id);
        self.installed.store(rules.len(), Ordering::SeqCst);
    }

    /// Applies the first matching rule. `found` picks the rule; `resolve` hands the message to a
    /// one-shot sink outside the lock.
    fn apply(
        &self,
        found: impl Fn(&Rule) -> bool,
        resolve: impl FnOnce(Box<dyn Sink>) -> Option<Observed>,
    ) -> Verdict {
        let mut rules = self.rules.lock();
        let Some(index) = rules.iter().position(found) else {
            return Verdict::Deliver(None);
        };
        if let Action::DropAll(count) = &rules[index].action {
            count.fetch_add(1, Ordering::SeqCst);
            return Verdict::Drop;
        }
        let rule = rules.remove(index);
        self.installed.store(rules.len(), Ordering::SeqCst);
        drop(rules);
        match rule.action {
            Action::Observe(sink) => Verdict::Deliver(resolve(sink)),
            Action::DropOne(sink) => {
                // Nothing is delivered: resolve at once.
                if let Some(observed) = resolve(sink) {
                    observed.complete();
                }
                Verdict::Drop
            }
            Action::DropAll(_) => Verdict::Drop,
        }
    }
}

impl Filters {
    /// A reply resolved with the next message of type `M` matching `matcher`; the message is still
    /// delivered.
    pub fn await_message<M: Message>(&self, matcher: MessageMatch) -> Reply<Intercepted<M>> {
        let (promise, reply) = reply::pair();
        self.inner
            .add::<M>(matcher, Action::Observe(Box::new(PromiseSink { promise })));
        reply
    }

    /// Drops the next message of type `M` matching `matcher`; the reply resolves with it.
    pub fn drop_message<M: Message>(&self, matcher: MessageMatch) -> Reply<Intercepted<M>> {
        let (promise, reply) = reply::pair();
        self.inner
            .add::<M>(matcher, Action::DropOne(Box::new(PromiseSink { promise })));
        reply
    }

    /// Drops every message of type `M` matching `matcher` until the returned guard is dropped.
    pub fn drop_messages<M: Message>(&self, matcher: MessageMatch) -> DropRule {
        let dropped = Arc::new(AtomicUsize::new(0));
        let id = self
            .inner
            .add::<M>(matcher, Action::DropAll(dropped.clone()));
        DropRule {
            id,
            dropped,
            filters: Arc::downgrade(&self.inner),
        }
    }

    /// Removes every rule (pending replies resolve as abandoned).
    pub fn clear(&self) {
        let rules = {
            let mut rules = self.inner.rules.lock();
            self.inner.installed.store(0, Ordering::SeqCst);
            std::mem::take(&mut *rules)
        };
        drop(rules);
    }

    /// Whether any rule is installed (the send path's fast check).
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.inner.installed.load(Ordering::Relaxed) > 0
    }

    /// Runs the rules on a typed message.
    pub(crate) fn intercept_local<M: Message>(
        &self,
        from: &Upid,
        to: &Upid,
        message: &M,
    ) -> Verdict {
        let type_id = TypeId::of::<M>();
        self.inner.apply(
            |rule| rule.type_id == type_id && rule.matcher.matches(from, to),
            |sink| sink.local(from, to, message),
        )
    }

    /// Runs the rules on a remote message, matched by name (and only if the body decodes as the
    /// rule's type).
    pub(crate) fn intercept_remote(
        &self,
        from: &Upid,
        to: &Upid,
        name: &str,
        body: &[u8],
    ) -> Verdict {
        self.inner.apply(
            |rule| rule.name == name && rule.matcher.matches(from, to) && (rule.decodes)(body),
            |sink| sink.remote(from, to, body),
        )
    }
}

impl std::fmt::Debug for Filters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filters")
            .field("rules", &self.inner.installed.load(Ordering::Relaxed))
            .finish()
    }
}
