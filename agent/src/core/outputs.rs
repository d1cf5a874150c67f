//! What the pure [`AgentCore`](super::AgentCore) asks its driver to do: messages to the master and
//! to executors, pids to watch, containers to launch, resize and destroy, files to checkpoint.

use mesos::protocol::*;
use mesos::{ContainerId, Resources};
use process::Upid;

use std::path::PathBuf;

use super::recover::KeptContainer;
use crate::checkpoint::Checkpoint;
use crate::state::LaunchSpec;

/// How the agent reaches an executor. A driver-based (v0) executor is a libprocess pid; an HTTP
/// executor (`/api/v1/executor`) is a subscription stream the actor keeps, named by an opaque id
/// the actor chooses when the executor subscribes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExecutorEndpoint {
    /// A driver-based executor: messages go to this pid.
    Pid(Upid),
    /// An HTTP executor: events go down the subscription stream with this id.
    Http(u64),
}

impl ExecutorEndpoint {
    /// The pid of a driver-based executor.
    pub fn pid(&self) -> Option<&Upid> {
        match self {
            ExecutorEndpoint::Pid(pid) => Some(pid),
            ExecutorEndpoint::Http(_) => None,
        }
    }
}

impl std::fmt::Display for ExecutorEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecutorEndpoint::Pid(pid) => write!(f, "{pid}"),
            ExecutorEndpoint::Http(stream) => write!(f, "http-stream-{stream}"),
        }
    }
}

/// One action for the driver (the agent actor, or a test) to perform, in order.
// Outputs live only until drained; boxing each message would cost an allocation per send.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send `message` to the master at `to`.
    Master {
        /// The master's pid.
        to: Upid,
        /// The message.
        message: ToMaster,
    },
    /// Send `message` to an executor.
    Executor {
        /// Where the executor listens.
        to: ExecutorEndpoint,
        /// The message (a v1 event for an HTTP executor).
        message: ToExecutor,
    },
    /// Watch `pid`: call [`AgentCore::exited`](super::AgentCore::exited) when its connection breaks.
    Link(Upid),
    /// Prepare the container and its sandbox, then start the executor in it; answer with
    /// [`AgentCore::executor_launched`](super::AgentCore::executor_launched) or
    /// [`AgentCore::executor_exited`](super::AgentCore::executor_exited) (a failed launch).
    Launch(Box<LaunchSpec>),
    /// The container's resources changed: its limits follow.
    UpdateContainer {
        /// The container.
        container_id: ContainerId,
        /// Its executor's and live tasks' resources.
        resources: Resources,
    },
    /// Kill every process of the container now (its exit is reported as usual).
    DestroyContainer {
        /// The container.
        container_id: ContainerId,
    },
    /// Ask the isolator whether it enforced a limit on these live containers; report each with
    /// [`AgentCore::container_limited`](super::AgentCore::container_limited).
    CheckLimitations(Vec<ContainerId>),
    /// Write this durably before performing the outputs after it (they depend on it: e.g. an
    /// update is acknowledged to its executor only once it is in the task's log).
    Checkpoint(Checkpoint),
    /// After a restart: keep these containers (check each process is still the one started, keep
    /// its isolation, watch it; report one that is gone with
    /// [`AgentCore::executor_exited`](super::AgentCore::executor_exited)), and destroy every other
    /// container an earlier agent left (orphans).
    RecoverContainers(Vec<KeptContainer>),
    /// Remove this directory (garbage collection of a finished run after `--gc_delay`).
    RemoveDirectory(PathBuf),
    /// The agent is done (`--recover=cleanup` killed every old executor): stop.
    Terminate,
}

macro_rules! messages {
    ($(#[$doc:meta])* $name:ident { $($variant:ident($ty:ty)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        #[allow(missing_docs, clippy::large_enum_variant)]
        pub enum $name {
            $($variant($ty)),+
        }

        $(impl From<$ty> for $name {
            fn from(m: $ty) -> $name {
                $name::$variant(m)
            }
        })+

        impl $name {
            /// Sends the message from the process behind `ctx` to `to`.
            pub fn send_from<P: process::Process>(self, ctx: &process::Context<'_, P>, to: &Upid) {
                match self {
                    $($name::$variant(m) => ctx.send(to, m)),+
                }
            }

            /// The message's wire name (for logs).
            pub fn name(&self) -> &'static str {
                match self {
                    $($name::$variant(_) => <$ty as process::Message>::NAME),+
                }
            }
        }
    };
}

messages! {
    /// Every message the agent sends to its master.
    ToMaster {
        RegisterSlave(RegisterSlaveMessage),
        ReregisterSlave(ReregisterSlaveMessage),
        StatusUpdate(StatusUpdateMessage),
        ExitedExecutor(ExitedExecutorMessage),
        ExecutorToFramework(ExecutorToFrameworkMessage),
        PongSlave(PongSlaveMessage),
    }
}

messages! {
    /// Every message the agent sends to an executor (an HTTP executor gets the v1 event of the
    /// same meaning).
    ToExecutor {
        ExecutorRegistered(ExecutorRegisteredMessage),
        ExecutorReregistered(ExecutorReregisteredMessage),
        RunTask(RunTaskMessage),
        KillTask(KillTaskMessage),
        StatusUpdateAcknowledgement(StatusUpdateAcknowledgementMessage),
        FrameworkToExecutor(FrameworkToExecutorMessage),
        ShutdownExecutor(ShutdownExecutorMessage),
        ReconnectExecutor(ReconnectExecutorMessage),
    }
}
