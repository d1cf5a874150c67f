//! The public framework API of our Mesos: ids, resources, and the task, offer,
//! framework, agent and master descriptions every component and every
//! framework shares.
//!
//! Everything here is plain data: no I/O, no clock. Every type has serde
//! impls that read and write Mesos's JSON shapes (snake_case fields, ids as
//! `{"value": ...}`, enums as `TASK_RUNNING`, resources as Mesos's array
//! form, bytes as base64) and also work with binary formats such as bincode.
//!
//! # Resources
//!
//! [`Resources`] parse from and print as Mesos's text form, and do exact
//! arithmetic (fixed-point scalars, coalesced port ranges):
//!
//! ```
//! use mesos::Resources;
//!
//! let agent: Resources = "cpus:4;mem:1024;disk:20000;ports:[31000-32000];cpus(analytics):2".parse()?;
//! assert_eq!(agent.cpus(), Some(6.0));
//! assert_eq!(agent.allocatable_to("web").cpus(), Some(4.0)); // the analytics reservation is not for web
//!
//! let task: Resources = "cpus:0.1;mem:32".parse()?;
//! let mut free = agent.clone();
//! for _ in 0..3 {
//!     free -= &task;
//! }
//! assert_eq!(free.unreserved().cpus(), Some(3.7)); // exactly: no float drift
//!
//! // Parse errors name the bad token.
//! let err = "cpus:4;mem:lots".parse::<Resources>().unwrap_err();
//! assert_eq!(err.to_string(), "bad scalar value in 'mem:lots'");
//!
//! // The JSON array form Mesos accepts round-trips too.
//! assert_eq!(Resources::from_json(&agent.to_json())?, agent);
//! # Ok::<(), mesos::ResourcesError>(())
//! ```
//!
//! # Describing a framework and a task
//!
//! ```
//! use std::time::Duration;
//! use mesos::*;
//!
//! let framework = FrameworkInfo::new("alice", "sleepers")
//!     .with_role("batch")
//!     .with_failover_timeout(Duration::from_secs(600))
//!     .with_capability(FrameworkCapability::PartitionAware);
//!
//! // Given an offer from the master ...
//! let offer = Offer {
//!     id: OfferId::new("o-1"),
//!     framework_id: FrameworkId::new("f-1"),
//!     agent_id: AgentId::new("a-1"),
//!     hostname: "node-1".into(),
//!     resources: "cpus:2;mem:4096".parse()?,
//!     ..Offer::default()
//! };
//!
//! // ... build a task that fits in it.
//! let task = TaskInfo::new("sleep-1", "sleep one", offer.agent_id.clone(), "cpus:0.5;mem:128".parse()?)
//!     .with_command(CommandInfo::shell("sleep 1").with_env("GREETING", "hi"));
//! assert!(offer.resources.contains(&task.resources));
//!
//! // Decline the rest for 30 seconds.
//! let filters = Filters::refuse(Duration::from_secs(30));
//! assert_eq!(filters.refuse_duration(), Duration::from_secs(30));
//!
//! // What the executor later reports:
//! let status = TaskStatus::new(task.task_id.clone(), TaskState::Finished).with_source(Source::Executor);
//! assert!(status.state.is_terminal());
//! assert_eq!(mesos::json::to_mesos_json(&status)?["state"], "TASK_FINISHED");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

#[macro_use]
mod macros;

pub mod acl;
pub mod agent;
pub mod attributes;
pub mod auth;
pub mod command;
pub mod duration;
mod encoding;
pub mod executor;
pub mod filters;
pub mod framework;
pub mod health_check;
pub mod ids;
pub mod json;
pub mod labels;
pub mod master;
pub mod offer;
pub mod protocol;
pub mod resources;
pub mod scheduler;
pub mod task;
pub mod task_state;
pub mod task_status;
pub mod uuid;
pub mod v1;

pub use agent::AgentInfo;
pub use attributes::{Attribute, AttributeValue, Attributes};
pub use command::{CommandInfo, CommandUri, Environment, EnvironmentVariable};
pub use encoding::{base64_decode, base64_encode};
pub use executor::ExecutorInfo;
pub use filters::Filters;
pub use framework::{FrameworkCapability, FrameworkInfo};
pub use health_check::{HealthCheck, HealthCheckType, HttpCheckInfo, TcpCheckInfo};
pub use ids::{AgentId, ContainerId, ExecutorId, FrameworkId, IdError, OfferId, TaskId};
pub use labels::{Label, Labels};
pub use macros::UnknownName;
pub use master::{Address, MasterInfo};
pub use offer::Offer;
pub use resources::{Ranges, Resource, Resources, ResourcesError, Scalar, Value};
pub use task::{DurationInfo, KillPolicy, TaskInfo};
pub use task_state::TaskState;
pub use task_status::{Reason, Source, TaskStatus};
pub use uuid::Uuid;

/// The Mesos version this implementation speaks for (`MasterInfo.version`, `/version`, the
/// agents' versions): digits and dots only, at least 1.0, because clients parse it as integers
/// and treat anything older as a pre-1.0 master with another API.
pub const VERSION: &str = "1.11.0";
