//! [`Containers`]: the isolator and what it isolates, shared by the agent (which launches and reaps
//! executors) and the `monitor` process (which reads their usage for `/monitor/statistics`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mesos::{ContainerId, ExecutorId, FrameworkId, Reason, TaskState, TaskStatus};
use serde_json::{json, Value};

use crate::isolator::{Isolator, Limitation, ResourceStatistics};

/// `status` as a failure for `limitation`: `TASK_FAILED`, `REASON_CONTAINER_LIMITATION_MEMORY` (or
/// the general limitation reason) and the isolator's message (limit and usage). A limit enforced on
/// the container fails its tasks, as in Mesos, even one whose main process then exited 0 before the
/// agent noticed (the kernel killed part of it).
pub fn apply_limitation(limitation: &Limitation, status: TaskStatus) -> TaskStatus {
    let reason = match limitation.resource {
        "mem" => Reason::ContainerLimitationMemory,
        _ => Reason::ContainerLimitation,
    };
    let mut status = status
        .with_reason(reason)
        .with_message(limitation.message.clone());
    status.state = TaskState::Failed;
    status
}

/// What `/monitor/statistics` says about an executor besides its usage.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoredExecutor {
    /// The executor.
    pub executor_id: ExecutorId,
    /// Its name.
    pub executor_name: String,
    /// Its framework.
    pub framework_id: FrameworkId,
    /// Its source tag.
    pub source: String,
}

impl MonitoredExecutor {
    /// What to show for `executor` of `framework_id`.
    pub fn of(framework_id: &FrameworkId, executor: &mesos::ExecutorInfo) -> MonitoredExecutor {
        MonitoredExecutor {
            executor_id: executor.executor_id.clone(),
            executor_name: executor.name.clone().unwrap_or_default(),
            framework_id: framework_id.clone(),
            source: executor.source.clone().unwrap_or_default(),
        }
    }
}

/// The isolator and the live containers.
pub struct Containers {
    /// The isolator.
    pub isolator: Box<dyn Isolator>,
    /// Live containers and their executors.
    pub executors: BTreeMap<ContainerId, MonitoredExecutor>,
}

impl std::fmt::Debug for SharedContainers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let containers = self.lock();
        f.debug_struct("SharedContainers")
            .field("isolator", &containers.isolator.name())
            .field("containers", &containers.executors.len())
            .finish()
    }
}

/// [`Containers`] behind a lock: both users only hold it for a call.
#[derive(Clone)]
pub struct SharedContainers(Arc<Mutex<Containers>>);

impl SharedContainers {
    /// Wraps `isolator` with no containers.
    pub fn new(isolator: Box<dyn Isolator>) -> SharedContainers {
        SharedContainers(Arc::new(Mutex::new(Containers {
            isolator,
            executors: BTreeMap::new(),
        })))
    }

    /// Locks (a panic elsewhere while holding it leaves consistent data: every update is one call).
    pub fn lock(&self) -> MutexGuard<'_, Containers> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `status` rewritten by [`apply_limitation`] if the isolator saw a limit enforced on the container.
    pub fn limited(&self, container_id: &ContainerId, status: TaskStatus) -> TaskStatus {
        match self.lock().isolator.limitation(container_id) {
            Some(limitation) => apply_limitation(&limitation, status),
            None => status,
        }
    }

    /// `/monitor/statistics`: Mesos's JSON array, one entry per live executor.
    pub fn statistics_json(&self) -> Value {
        let containers = self.lock();
        let entries: Vec<Value> = containers
            .executors
            .iter()
            .map(|(container_id, executor)| {
                let stats = containers
                    .isolator
                    .usage(container_id)
                    .unwrap_or_else(|_| ResourceStatistics::default());
                json!({
                    "executor_id": executor.executor_id.as_str(),
                    "executor_name": executor.executor_name,
                    "framework_id": executor.framework_id.as_str(),
                    "source": executor.source,
                    "statistics": stats,
                })
            })
            .collect();
        Value::Array(entries)
    }
}
