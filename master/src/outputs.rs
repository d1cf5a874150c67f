//! What the pure core asks its driver to do: messages to send to pids or to HTTP event streams,
//! pids to watch, streams to close.

use std::fmt;

use mesos::protocol::*;
use mesos::Uuid;
use process::{RemoteConnection, Upid};

/// An HTTP scheduler's event stream, named by its `Mesos-Stream-Id`. The driver owns the stream;
/// the core only addresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub Uuid);

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a framework's scheduler is reached: a driver's pid (our binary protocol) or an HTTP
/// event stream (the v1 scheduler API). Both are served by the same core.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A scheduler driver's process.
    Pid(Upid),
    /// A v1 HTTP subscription.
    Stream(StreamId),
}

impl Endpoint {
    /// The pid, for a driver-based scheduler.
    pub fn pid(&self) -> Option<&Upid> {
        match self {
            Endpoint::Pid(pid) => Some(pid),
            Endpoint::Stream(_) => None,
        }
    }

    /// The stream, for an HTTP scheduler.
    pub fn stream(&self) -> Option<StreamId> {
        match self {
            Endpoint::Pid(_) => None,
            Endpoint::Stream(id) => Some(*id),
        }
    }
}

impl From<Upid> for Endpoint {
    fn from(pid: Upid) -> Endpoint {
        Endpoint::Pid(pid)
    }
}

impl From<&Upid> for Endpoint {
    fn from(pid: &Upid) -> Endpoint {
        Endpoint::Pid(pid.clone())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Pid(pid) => pid.fmt(f),
            Endpoint::Stream(id) => write!(f, "stream {id}"),
        }
    }
}

/// One action for the driver (the master actor, or a simulation) to perform.
// Outputs live only until the driver drains them; boxing each message would cost an allocation
// per send for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send `message` to `to`: a process, or an HTTP scheduler's stream (as its v1 event).
    Send {
        /// The receiver.
        to: Endpoint,
        /// The message.
        message: Outgoing,
    },
    /// Watch `pid`: call [`MasterCore::exited`](crate::MasterCore::exited) when it terminates or
    /// its connection breaks.
    Link {
        /// The pid to watch.
        pid: Upid,
        /// [`RemoteConnection::Reconnect`] when `pid` has just re-registered (an agent, or a
        /// framework re-registering or failing over), as Mesos's master relinks then: a fresh
        /// connection, so the late breakage of the one it replaces is not taken for `pid`'s loss.
        connection: RemoteConnection,
    },
    /// End an HTTP scheduler's stream (after its framework failed over or was torn down).
    CloseStream {
        /// The stream.
        stream: StreamId,
    },
}

macro_rules! outgoing {
    ($($variant:ident($ty:ty)),+ $(,)?) => {
        /// Every message the master sends, as one enum so outputs are plain data that tests compare.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(missing_docs, clippy::large_enum_variant)]
        pub enum Outgoing {
            $($variant($ty)),+
        }

        $(impl From<$ty> for Outgoing {
            fn from(m: $ty) -> Outgoing {
                Outgoing::$variant(m)
            }
        })+

        impl Outgoing {
            /// Sends the message from the process behind `ctx` to `to`.
            pub fn send_from<P: process::Process>(self, ctx: &process::Context<'_, P>, to: &process::Upid) {
                match self {
                    $(Outgoing::$variant(m) => ctx.send(to, m)),+
                }
            }

            /// The message's wire name (for logs).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Outgoing::$variant(_) => <$ty as process::Message>::NAME),+
                }
            }
        }
    };
}

outgoing! {
    FrameworkRegistered(FrameworkRegisteredMessage),
    FrameworkReregistered(FrameworkReregisteredMessage),
    FrameworkError(FrameworkErrorMessage),
    ResourceOffers(ResourceOffersMessage),
    RescindResourceOffer(RescindResourceOfferMessage),
    StatusUpdate(StatusUpdateMessage),
    StatusUpdateAcknowledgement(StatusUpdateAcknowledgementMessage),
    LostSlave(LostSlaveMessage),
    ExitedExecutor(ExitedExecutorMessage),
    ExecutorToFramework(ExecutorToFrameworkMessage),
    FrameworkToExecutor(FrameworkToExecutorMessage),
    SlaveRegistered(SlaveRegisteredMessage),
    SlaveReregistered(SlaveReregisteredMessage),
    PingSlave(PingSlaveMessage),
    RunTask(RunTaskMessage),
    KillTask(KillTaskMessage),
    ShutdownFramework(ShutdownFrameworkMessage),
    UpdateFramework(UpdateFrameworkMessage),
    KillTasksOnReregistration(KillTasksOnReregistrationMessage),
    Shutdown(ShutdownMessage),
    ShutdownExecutor(ShutdownExecutorMessage),
}
