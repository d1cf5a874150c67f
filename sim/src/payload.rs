//! Every message the simulated nodes exchange, as one typed enum (the real protocol structs; no
//! encoding on the simulated wire), and the conversions from each core's outputs.

use ::agent as agent_crate;
use mesos::protocol::*;

macro_rules! payloads {
    ($($ty:ident),+ $(,)?) => {
        /// One protocol message in flight.
        #[derive(Debug, Clone)]
        #[allow(missing_docs, clippy::large_enum_variant, clippy::enum_variant_names)]
        pub enum Payload {
            $($ty($ty)),+
        }

        $(impl From<$ty> for Payload {
            fn from(m: $ty) -> Payload {
                Payload::$ty(m)
            }
        })+

        impl Payload {
            /// The message's type name (for traces).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Payload::$ty(_) => stringify!($ty)),+
                }
            }
        }
    };
}

payloads! {
    RegisterSlaveMessage,
    ReregisterSlaveMessage,
    SlaveRegisteredMessage,
    SlaveReregisteredMessage,
    UnregisterSlaveMessage,
    PingSlaveMessage,
    PongSlaveMessage,
    RunTaskMessage,
    ShutdownFrameworkMessage,
    UpdateFrameworkMessage,
    KillTasksOnReregistrationMessage,
    ShutdownMessage,
    ShutdownExecutorMessage,
    ReconnectExecutorMessage,
    RegisterExecutorMessage,
    ExecutorRegisteredMessage,
    ReregisterExecutorMessage,
    ExecutorReregisteredMessage,
    RegisterFrameworkMessage,
    ReregisterFrameworkMessage,
    FrameworkRegisteredMessage,
    FrameworkReregisteredMessage,
    UnregisterFrameworkMessage,
    DeactivateFrameworkMessage,
    ResourceOffersMessage,
    RescindResourceOfferMessage,
    LaunchTasksMessage,
    ReviveOffersMessage,
    SuppressOffersMessage,
    KillTaskMessage,
    StatusUpdateMessage,
    StatusUpdateAcknowledgementMessage,
    ReconcileTasksMessage,
    FrameworkToExecutorMessage,
    ExecutorToFrameworkMessage,
    FrameworkErrorMessage,
    LostSlaveMessage,
    ExitedExecutorMessage,
}

impl From<master::Outgoing> for Payload {
    fn from(m: master::Outgoing) -> Payload {
        use master::Outgoing as O;
        match m {
            O::FrameworkRegistered(m) => m.into(),
            O::FrameworkReregistered(m) => m.into(),
            O::FrameworkError(m) => m.into(),
            O::ResourceOffers(m) => m.into(),
            O::RescindResourceOffer(m) => m.into(),
            O::StatusUpdate(m) => m.into(),
            O::StatusUpdateAcknowledgement(m) => m.into(),
            O::LostSlave(m) => m.into(),
            O::ExitedExecutor(m) => m.into(),
            O::ExecutorToFramework(m) => m.into(),
            O::FrameworkToExecutor(m) => m.into(),
            O::SlaveRegistered(m) => m.into(),
            O::SlaveReregistered(m) => m.into(),
            O::PingSlave(m) => m.into(),
            O::RunTask(m) => m.into(),
            O::KillTask(m) => m.into(),
            O::ShutdownFramework(m) => m.into(),
            O::UpdateFramework(m) => m.into(),
            O::KillTasksOnReregistration(m) => m.into(),
            O::Shutdown(m) => m.into(),
            O::ShutdownExecutor(m) => m.into(),
        }
    }
}

impl From<agent_crate::core::ToMaster> for Payload {
    fn from(m: agent_crate::core::ToMaster) -> Payload {
        use agent_crate::core::ToMaster as T;
        match m {
            T::RegisterSlave(m) => m.into(),
            T::ReregisterSlave(m) => m.into(),
            T::StatusUpdate(m) => m.into(),
            T::ExitedExecutor(m) => m.into(),
            T::ExecutorToFramework(m) => m.into(),
            T::PongSlave(m) => m.into(),
        }
    }
}

impl From<agent_crate::core::ToExecutor> for Payload {
    fn from(m: agent_crate::core::ToExecutor) -> Payload {
        use agent_crate::core::ToExecutor as T;
        match m {
            T::ExecutorRegistered(m) => m.into(),
            T::ExecutorReregistered(m) => m.into(),
            T::RunTask(m) => m.into(),
            T::KillTask(m) => m.into(),
            T::StatusUpdateAcknowledgement(m) => m.into(),
            T::FrameworkToExecutor(m) => m.into(),
            T::ShutdownExecutor(m) => m.into(),
            T::ReconnectExecutor(m) => m.into(),
        }
    }
}

impl From<mesos::scheduler::ToMaster> for Payload {
    fn from(m: mesos::scheduler::ToMaster) -> Payload {
        use mesos::scheduler::ToMaster as T;
        match m {
            T::Register(m) => m.into(),
            T::Reregister(m) => m.into(),
            T::Unregister(m) => m.into(),
            T::Deactivate(m) => m.into(),
            T::Launch(m) => m.into(),
            T::Kill(m) => m.into(),
            T::Revive(m) => m.into(),
            T::Suppress(m) => m.into(),
            T::Acknowledge(m) => m.into(),
            T::Reconcile(m) => m.into(),
            T::FrameworkMessage(m) => m.into(),
        }
    }
}

impl From<mesos::executor::ToAgent> for Payload {
    fn from(m: mesos::executor::ToAgent) -> Payload {
        use mesos::executor::ToAgent as T;
        match m {
            T::Register(m) => m.into(),
            T::Reregister(m) => m.into(),
            T::StatusUpdate(m) => m.into(),
            T::FrameworkMessage(m) => m.into(),
        }
    }
}
