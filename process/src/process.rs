//! The [`Process`] trait and its handler table, [`Handlers`].

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::context::Context;
use crate::letter::Bodies;
use crate::message::{self, Message};
use crate::payload::Payload;
use crate::upid::Upid;

/// An actor: plain state plus a table of handlers, run serially on the runtime's workers.
///
/// A process never runs on two workers at once, so handlers take `&mut self` and need no locks. The
/// lifecycle hooks run on the process itself, in this order:
///
/// 1. [`initialize`](Process::initialize): once, before any message, dispatch or timer is handled
///    (messages sent before it runs wait in the mailbox).
/// 2. message handlers, HTTP routes, dispatches and timers, in mailbox order, and
///    [`exited`](Process::exited) whenever a linked process terminates or its connection breaks; control
///    events (exited, terminate) overtake queued data.
/// 3. [`finalize`](Process::finalize): once, when the process terminates (by
///    [`Handle::terminate`](crate::Handle::terminate), [`Context::terminate`], a panicking handler, or
///    runtime shutdown). Messages still queued are dropped afterwards.
pub trait Process: Send + Sized + 'static {
    /// Installs this type's handlers, once per runtime (the table is shared by every instance).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use process::{Context, Handlers, Process, Upid};
    /// #[derive(Serialize, Deserialize)]
    /// struct Ping(u64);
    /// #[derive(Serialize, Deserialize)]
    /// struct Pong(u64);
    /// process::message!(Ping = "example.Ping", Pong = "example.Pong");
    ///
    /// struct Ponger { pings: u64 }
    /// impl Ponger {
    ///     fn ping(&mut self, ctx: &mut Context<Self>, _from: &Upid, ping: Ping) {
    ///         self.pings += 1;
    ///         ctx.reply(Pong(ping.0));
    ///     }
    /// }
    /// impl Process for Ponger {
    ///     fn handlers(handlers: &mut Handlers<Self>) {
    ///         handlers.on(Self::ping);
    ///     }
    /// }
    /// ```
    fn handlers(handlers: &mut Handlers<Self>) {
        let _ = handlers;
    }

    /// Runs once on the process before anything else it handles.
    fn initialize(&mut self, ctx: &mut Context<'_, Self>) {
        let _ = ctx;
    }

    /// Runs when a process this one [linked](Context::link) to terminates, or when the connection to
    /// the runtime hosting it breaks. Runs at most once per link.
    fn exited(&mut self, ctx: &mut Context<'_, Self>, pid: &Upid) {
        let _ = (ctx, pid);
    }

    /// Runs once when the process terminates; the process is dropped right after.
    fn finalize(&mut self, ctx: &mut Context<'_, Self>) {
        let _ = ctx;
    }
}

/// Calls a handler once per message of a run (all of the entry's type, checked when the run was
/// looked up, so the handler does not check again). One call handles a whole run: the loop is
/// compiled with the handler, per message type.
type MessageFn<P> =
    Box<dyn Fn(&mut P, &mut Context<'_, P>, &Upid, &mut MessageRun<'_>) + Send + Sync>;

/// Consecutive messages of one type from one sender for one handler call: a single message, or
/// messages from the front of a batch while they keep the first one's type, the turn's budget lasts
/// and no control event (terminate, exited) waits to overtake them.
pub(crate) struct MessageRun<'a> {
    one: Option<Payload>,
    batch: Option<&'a mut Bodies>,
    /// The type table of the run's messages.
    table: *const (),
    left: usize,
    taken: usize,
    control: Option<&'a AtomicBool>,
}

impl<'a> MessageRun<'a> {
    /// A run of one message.
    pub(crate) fn one(body: Payload) -> MessageRun<'a> {
        MessageRun {
            table: body.table(),
            one: Some(body),
            batch: None,
            left: 1,
            taken: 0,
            control: None,
        }
    }

    /// A run from the front of `batch`: at most `limit` messages, ending early when `control` is
    /// set.
    pub(crate) fn batch(
        batch: &'a mut Bodies,
        limit: usize,
        control: &'a AtomicBool,
    ) -> MessageRun<'a> {
        MessageRun {
            table: batch.peek().map_or(std::ptr::null(), Payload::table),
            one: None,
            batch: Some(batch),
            left: limit.max(1),
            taken: 0,
            control: Some(control),
        }
    }

    /// The first message's type table and type, without taking it.
    pub(crate) fn peek(&self) -> Option<(*const (), TypeId)> {
        let first = match &self.one {
            Some(body) => body,
            None => self.batch.as_ref()?.peek()?,
        };
        Some((first.table(), first.type_id()))
    }

    /// The next message of the run.
    #[inline]
    pub(crate) fn next(&mut self) -> Option<Payload> {
        if self.left == 0 {
            return None;
        }
        let body = match self.one.take() {
            Some(body) => body,
            None => {
                let batch = self.batch.as_deref_mut()?;
                let more = batch.peek()?.table() == self.table
                    && (self.taken == 0
                        || !self.control.is_some_and(|c| c.load(Ordering::Relaxed)));
                if !more {
                    return None;
                }
                batch.take()?
            }
        };
        self.left -= 1;
        self.taken += 1;
        Some(body)
    }

    /// How many messages the run yielded.
    pub(crate) fn taken(&self) -> usize {
        self.taken
    }
}
use crate::letter::DecodeFn;

/// One installed message handler.
pub(crate) struct MessageEntry<P: Process> {
    pub(crate) type_id: TypeId,
    pub(crate) name: &'static str,
    call: MessageFn<P>,
    pub(crate) decode: DecodeFn,
}

impl<P: Process> MessageEntry<P> {
    /// Runs the handler on the messages of `run` (until the run ends or the handler terminates the
    /// process).
    ///
    /// # Safety
    /// Every message `run` yields is of this entry's type (its `TypeId` is `self.type_id`).
    #[inline]
    pub(crate) unsafe fn call(
        &self,
        process: &mut P,
        ctx: &mut Context<'_, P>,
        from: &Upid,
        run: &mut MessageRun<'_>,
    ) {
        (self.call)(process, ctx, from, run)
    }
}

/// A process type's handler table: which function handles which message, and which HTTP endpoint.
pub struct Handlers<P: Process> {
    messages: Vec<MessageEntry<P>>,
    by_type: HashMap<TypeId, usize>,
    by_name: HashMap<&'static str, usize>,
    pub(crate) routes: crate::router::Routes<P>,
}

/// Tables this small are searched linearly: faster than hashing a `TypeId`.
const LINEAR_LOOKUP_MAX: usize = 8;

fn decode_payload<M: Message>(body: &[u8]) -> Result<Payload, String> {
    message::decode::<M>(body).map(Payload::new)
}

impl<P: Process> Handlers<P> {
    pub(crate) fn build() -> Handlers<P> {
        let mut handlers = Handlers {
            messages: Vec::new(),
            by_type: HashMap::new(),
            by_name: HashMap::new(),
            routes: crate::router::Routes::new(),
        };
        P::handlers(&mut handlers);
        handlers
    }

    /// Installs `handler` for messages of type `M`, replacing an earlier handler for `M`.
    ///
    /// The handler gets the process state, its context, the sender's pid and the message. Local
    /// senders hand over the value itself; remote ones are decoded from `M::NAME`-tagged bytes first
    /// (undecodable bodies are dropped with a warning).
    ///
    /// # Panics
    /// If another message type with the same [`Message::NAME`] is already installed: the receiver could
    /// not tell them apart on the wire.
    pub fn on<M: Message>(
        &mut self,
        handler: impl Fn(&mut P, &mut Context<'_, P>, &Upid, M) + Send + Sync + 'static,
    ) -> &mut Self {
        let type_id = TypeId::of::<M>();
        let entry = MessageEntry {
            type_id,
            name: M::NAME,
            call: Box::new(move |process, ctx, from, run| {
                while let Some(body) = run.next() {
                    // SAFETY: `MessageEntry::call`'s contract: the run's messages are `M`s.
                    let message = unsafe { body.take_unchecked::<M>() };
                    handler(process, ctx, from, message);
                    if ctx.terminate {
                        break;
                    }
                }
            }),
            decode: decode_payload::<M>,
        };
        if let Some(&index) = self.by_type.get(&type_id) {
            self.messages[index] = entry;
            return self;
        }
        if self.by_name.contains_key(M::NAME) {
            panic!(
                "two message types share the wire name '{}' in one process",
                M::NAME
            );
        }
        self.by_type.insert(type_id, self.messages.len());
        self.by_name.insert(M::NAME, self.messages.len());
        self.messages.push(entry);
        self
    }

    /// Installs `handler` for HTTP requests to `/{process id}{path}` (e.g. `route("/state", ..)` on
    /// process `master` serves `/master/state`), replacing an earlier handler for `path`. The handler
    /// runs on the process, serially with its messages; unknown endpoints get a 404 JSON error.
    pub fn route(
        &mut self,
        path: &str,
        handler: impl Fn(&mut P, &mut Context<'_, P>, &crate::http::Request) -> crate::http::Response
            + Send
            + Sync
            + 'static,
    ) -> &mut Self {
        self.routes.insert(path, Box::new(handler));
        self
    }

    /// As [`route`](Handlers::route), for an answer that comes later: the handler gets the
    /// request and its [`Responder`](crate::http::Responder), returns at once, and completes the
    /// responder from any thread (dropping it answers `500`). For answers that wait on something
    /// slow, such as another server, which must not hold up the process.
    pub fn route_deferred(
        &mut self,
        path: &str,
        handler: impl Fn(&mut P, &mut Context<'_, P>, crate::http::Request, crate::http::Responder)
            + Send
            + Sync
            + 'static,
    ) -> &mut Self {
        self.routes.insert_deferred(path, Box::new(handler));
        self
    }

    /// Whether a handler for HTTP `path` is installed.
    pub fn routes(&self, path: &str) -> bool {
        self.routes.contains(path)
    }

    /// Whether a handler for `M` is installed.
    pub fn handles<M: Message>(&self) -> bool {
        self.by_type.contains_key(&TypeId::of::<M>())
    }

    /// The handler for a local message of dynamic type `type_id`.
    #[inline]
    pub(crate) fn by_type(&self, type_id: TypeId) -> Option<&MessageEntry<P>> {
        if self.messages.len() <= LINEAR_LOOKUP_MAX {
            self.messages.iter().find(|entry| entry.type_id == type_id)
        } else {
            self.by_type
                .get(&type_id)
                .map(|&index| &self.messages[index])
        }
    }

    /// The handler for a remote message named `name`.
    pub(crate) fn by_name(&self, name: &str) -> Option<&MessageEntry<P>> {
        if self.messages.len() <= LINEAR_LOOKUP_MAX {
            return self.messages.iter().find(|entry| entry.name == name);
        }
        self.by_name.get(name).map(|&index| &self.messages[index])
    }
}
