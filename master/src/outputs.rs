//! What the pure core asks its driver to do: messages to send to pids, and pids to watch.

use mesos::protocol::*;

/// One action for the driver (the master actor, or a simulation) to perform.
// Outputs live only until the driver drains them; boxing each message would cost an allocation
// per send for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send `message` to the process `to` (a `id@ip:port` pid string).
    Send {
        /// The receiver's pid.
        to: String,
        /// The message.
        message: Outgoing,
    },
    /// Watch `pid`: call [`MasterCore::exited`](crate::MasterCore::exited) when it terminates or
    /// its connection breaks.
    Link {
        /// The pid to watch.
        pid: String,
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
}
