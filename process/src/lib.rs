//! A libprocess-style actor runtime: processes with typed message handlers, dispatch, timers on a
//! pausable clock, links, and TCP/HTTP on one port.
//!
//! # Walkthrough
//!
//! A *process* is plain state plus a table of handlers. Messages are serde types with a wire name.
//! A [`Runtime`] runs processes on a small pool of worker threads; each process handles one thing at
//! a time, so handlers take `&mut self` and need no locks.
//!
//! ```
//! use process::{Config, Context, Handlers, Pid, Process, Runtime, Upid};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Ping(u32);
//! #[derive(Serialize, Deserialize)]
//! struct Pong(u32);
//! process::message!(Ping = "example.Ping", Pong = "example.Pong");
//!
//! /// Answers every ping.
//! struct Ponger;
//! impl Process for Ponger {
//!     fn handlers(handlers: &mut Handlers<Self>) {
//!         handlers.on(|_this: &mut Self, ctx, _from, ping: Ping| ctx.reply(Pong(ping.0)));
//!     }
//! }
//!
//! /// Pings until it has seen `rounds` pongs.
//! struct Pinger { ponger: Pid<Ponger>, rounds: u32, pongs: u32 }
//! impl Pinger {
//!     fn pong(&mut self, ctx: &mut Context<Self>, _from: &Upid, pong: Pong) {
//!         self.pongs += 1;
//!         if pong.0 + 1 < self.rounds {
//!             ctx.send(&self.ponger, Ping(pong.0 + 1));
//!         }
//!     }
//! }
//! impl Process for Pinger {
//!     fn handlers(handlers: &mut Handlers<Self>) {
//!         handlers.on(Self::pong);
//!     }
//!     fn initialize(&mut self, ctx: &mut Context<Self>) {
//!         ctx.send(&self.ponger, Ping(0)); // runs first, before any message
//!     }
//! }
//!
//! let runtime = Runtime::new(Config::default()).unwrap();
//! let ponger = runtime.spawn("ponger", Ponger).unwrap();
//! let pinger = runtime.spawn("pinger", Pinger { ponger, rounds: 100, pongs: 0 }).unwrap();
//! runtime.settle(); // every process idle, no timer due
//! // `dispatch` runs a closure on the process and hands back its result.
//! let pongs = runtime.dispatch(&pinger, |pinger, _ctx| pinger.pongs).wait().unwrap();
//! assert_eq!(pongs, 100);
//! ```
//!
//! # Concepts
//! - [`Upid`] (`id@ip:port`) addresses any process; [`Pid<P>`] is the typed handle `spawn` returns.
//!   `send` takes either ([`Destination`]) and works the same for local processes (the value moves, no
//!   serialisation) and remote ones (bincode over TCP).
//! - [`Process`] hooks: `initialize`, `exited`, `finalize` — see the trait for when each runs.
//! - [`Handle::dispatch`] returns a [`Reply`]: `.wait()` blocks, `.await` works in any executor.
//! - Time: [`Clock`] per runtime; [`Context::delay`] / [`Handle::delay`] for timers; tests `pause`,
//!   `advance` and `settle` instead of sleeping.
//! - [`Context::link`]: `exited` when the linked process terminates or its runtime's connection breaks.
//!   [`Context::link_with`]`(pid, `[`RemoteConnection::Reconnect`]`)` relinks over a fresh connection:
//!   the breakage of the connection it replaces is no longer reported (a peer that reconnected).
//! - [`Filters`]: tests await or drop messages by type (and sender/receiver).
//!
//! # Performance notes
//! A message to an idle local process skips its mailbox: the sender takes the process (`IDLE` ->
//! `BUSY`), leaves the message in the mailbox's stub node and schedules the process to run next on
//! the sending worker (a LIFO slot, as in tokio), so request/response pairs stay on one warm core with
//! no mailbox node per message; only work on the shared queue wakes a parked worker. A burst of sends
//! from one handler to one process travels as one batch (one mailbox entry per 64 messages, the
//! sender's reference taken once), appended to by a path compiled into the sending handler, and the
//! receiver hands each run of same-typed messages of a batch to its handler in one call. A process
//! fed by many others keeps its worker past its budget while another worker serves the queue, so
//! its backlog stays small and warm. Messages of up to two words are stored inline (no allocation),
//! and mailbox nodes are recycled per worker. A turn takes no lock: the atomic scheduling state alone
//! admits one worker per process. Remote messages are encoded straight into the peer's byte queue
//! (no per-message buffers), decoded on the transport thread, and handed to each process in batches
//! per socket read. An idle process costs about 400 bytes of heap (`tests/memory.rs`).
//! Handlers should not block: a blocked handler holds its worker.
#![deny(missing_docs)]

mod cell;
mod clock;
mod context;
mod error;
mod filters;
pub mod http;
mod letter;
mod mailbox;
mod message;
mod payload;
mod pid;
mod process;
mod remote;
mod reply;
mod router;
mod runtime;
pub mod testing;
mod timers;
pub mod transport;
pub mod upid;

pub use clock::{Clock, Timer};
pub use context::{Context, RemoteConnection};
pub use error::Error;
pub use filters::{DropRule, Filters, Intercepted, MessageMatch};
pub use message::{decode_message, Message};
pub use pid::{Destination, Pid, Target};
pub use process::{Handlers, Process};
pub use reply::Reply;
pub use runtime::{Config, Handle, Runtime, TlsMode};
pub use transport::tls::{TlsConfig, TlsError};
pub use upid::{Upid, UpidParseError};
