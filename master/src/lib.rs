//! The Mesos master: registered frameworks and agents, offers from the allocator, task
//! validation, status updates, agent health checks, scheduler failover, and the HTTP state
//! endpoints, on the `process` runtime.
//!
//! # Shape
//! - [`MasterCore`] (module [`core`]) is the whole master as a pure state machine: inputs carry
//!   `now` and the sender's pid, outputs ([`Output`]) are messages to send and pids to watch, and
//!   [`MasterCore::next_deadline`] says when to call [`MasterCore::tick`]. It owns the allocator.
//! - The master actor (`process` module) only converts messages, links and timers into core calls.
//! - [`Master::spawn`] runs it on a runtime; the `mesos-master` binary parses flags ([`flags`]) and
//!   does just that.
//!
//! # HTTP
//! `/master/state` (also `/master/state.json`, `/state`, `/state.json`), `/master/frameworks`,
//! `/master/slaves`, `/metrics/snapshot`, `/master/health`, `/health` and `/version`, in Mesos's
//! JSON shapes ([`http`]). The top-level paths are served by small processes named after them
//! (`state`, `state.json`, `health`, `version`, and `metrics` for `/metrics/snapshot`), which read
//! the core through the lock it shares with the master process: no runtime support for aliases
//! is needed.
//!
//! # Running one
//! ```no_run
//! use master::{Master, MasterConfig};
//! use process::{Config, Runtime};
//!
//! let runtime = Runtime::new(Config { listen: "127.0.0.1:5050".parse()?, ..Config::default() })?;
//! let master = Master::spawn(&runtime, MasterConfig::default())?;
//! println!("state at http://{}/master/state", runtime.addr());
//! assert_eq!(master.pid().to_string(), "master@127.0.0.1:5050");
//! master.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Differences from Mesos, on purpose
//! - LOST means lost: a task of a framework without `PARTITION_AWARE` that was reported
//!   `TASK_LOST` is killed if its agent comes back, and is never reported running again.
//! - `DeactivateFrameworkMessage` starts the failover timeout at once (an embedded scheduler's
//!   connection may stay open after `stop(failover = true)`).
//! - Explicit reconciliation of a task the master saw finish answers its terminal state (Mesos
//!   forgets it and answers TASK_LOST / TASK_GONE).
#![deny(missing_docs)]

pub mod acl;
pub mod acl_view;
pub mod allocation_runs;
pub mod api;
pub mod auth;
mod config;
pub mod core;
mod early;
pub mod flags;
pub mod ha;
pub mod http;
mod leadership;
mod master;
mod outputs;
mod process;
mod snapshot;
pub mod validation;
pub mod webui;

pub use crate::config::MasterConfig;

/// The master's log file inside `--log_dir` (served as `/master/log` by the files API).
pub const MASTER_LOG_FILE: &str = "mesos-master.INFO";
pub use crate::core::{CoreConfig, MasterCore, RegisteredAgent};
pub use crate::master::{Master, MasterError, MasterHandle};
pub use crate::outputs::{Endpoint, Outgoing, Output, StreamId};
pub use crate::process::MasterProcess;
