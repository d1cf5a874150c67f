//! Launch validation: which offers a launch may use, and whether each task may run. Every refusal
//! carries a message that says exactly what is wrong.

use std::collections::{BTreeMap, BTreeSet};

use mesos::{AgentId, ExecutorId, ExecutorInfo, FrameworkId, OfferId, Resources, TaskId, TaskInfo};

use crate::core::{ExecutorEntry, OfferEntry};

/// Checks that `offer_ids` name outstanding offers of `framework`, each once, all on one agent;
/// returns that agent.
///
/// # Errors
/// A message naming the first bad offer.
pub fn validate_offers(
    offer_ids: &[OfferId],
    offers: &crate::core::SharedMap<OfferId, OfferEntry>,
    framework: &FrameworkId,
) -> Result<AgentId, String> {
    let mut agent: Option<(&OfferId, &AgentId)> = None;
    let mut seen = BTreeSet::new();
    for id in offer_ids {
        if !seen.insert(id) {
            return Err(format!("Offer {id} appears more than once"));
        }
        let Some(entry) = offers.get(id) else {
            return Err(format!("Offer {id} is no longer valid"));
        };
        if entry.offer.framework_id != *framework {
            return Err(format!("Offer {id} belongs to another framework"));
        }
        match agent {
            None => agent = Some((id, &entry.offer.agent_id)),
            Some((first, a)) if *a != entry.offer.agent_id => {
                return Err(format!(
                    "Offers {first} and {id} are on different agents ({a} and {}); one launch may only use offers of one agent",
                    entry.offer.agent_id
                ));
            }
            Some(_) => {}
        }
    }
    agent
        .map(|(_, a)| a.clone())
        .ok_or_else(|| "No offers given".to_string())
}

/// What a task is checked against.
pub struct TaskContext<'a> {
    /// The launching framework.
    pub framework_id: &'a FrameworkId,
    /// The agent of the offers.
    pub agent_id: &'a AgentId,
    /// Whether the framework already has a (non-terminal or unreachable) task with this id.
    pub task_exists: &'a dyn Fn(&TaskId) -> bool,
    /// Ids accepted earlier in the same launch.
    pub batch_task_ids: &'a BTreeSet<TaskId>,
    /// The framework's executors already on the agent.
    pub running_executors: Option<&'a BTreeMap<ExecutorId, ExecutorEntry>>,
    /// Executors started earlier in the same launch.
    pub batch_executors: &'a BTreeMap<ExecutorId, ExecutorInfo>,
    /// What is left of the offers, by allocation role.
    pub pools: &'a [(String, Resources)],
}

/// A task that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedTask {
    /// Which pool (role) pays for it.
    pub pool: usize,
    /// What it takes from the pool: the task's resources, plus the executor's if it starts one.
    pub resources: Resources,
    /// The executor it starts (a custom executor new on this agent), with `framework_id` set.
    pub new_executor: Option<ExecutorInfo>,
}

/// Validates one task of a launch.
///
/// # Errors
/// The reason the task is refused (it gets TASK_ERROR with `REASON_TASK_INVALID`).
pub fn validate_task(task: &TaskInfo, cx: &TaskContext<'_>) -> Result<AcceptedTask, String> {
    if let Err(error) = task.task_id.validate() {
        return Err(format!("Task ID '{}' is invalid: {error}", task.task_id));
    }
    if (cx.task_exists)(&task.task_id) || cx.batch_task_ids.contains(&task.task_id) {
        return Err(format!("Task has duplicate ID: {}", task.task_id));
    }
    if task.agent_id != *cx.agent_id {
        return Err(format!(
            "Task uses agent {} but its offers are on agent {}",
            task.agent_id, cx.agent_id
        ));
    }
    let executor = match (&task.command, &task.executor) {
        (Some(_), Some(_)) => {
            return Err(
                "Task has both a CommandInfo and an ExecutorInfo; set exactly one".to_string(),
            )
        }
        (None, None) => {
            return Err(
                "Task has neither a CommandInfo nor an ExecutorInfo; set exactly one".to_string(),
            )
        }
        (Some(_), None) => None,
        (None, Some(executor)) => Some(executor),
    };
    let mut new_executor = None;
    if let Some(executor) = executor {
        if let Err(error) = executor.executor_id.validate() {
            return Err(format!(
                "Executor ID '{}' is invalid: {error}",
                executor.executor_id
            ));
        }
        if let Some(id) = &executor.framework_id {
            if id != cx.framework_id {
                return Err(format!(
                    "ExecutorInfo has framework ID {id} but the task belongs to framework {}",
                    cx.framework_id
                ));
            }
        }
        let mut executor = executor.clone();
        executor.framework_id = Some(cx.framework_id.clone());
        let existing = cx
            .running_executors
            .and_then(|running| running.get(&executor.executor_id))
            .map(|e| &e.info)
            .or_else(|| cx.batch_executors.get(&executor.executor_id));
        match existing {
            Some(existing) if existing.resources != executor.resources => {
                return Err(format!(
                    "Executor '{}' on agent {} uses resources {}; the task's ExecutorInfo asks for {} (an executor's resources cannot change)",
                    executor.executor_id, cx.agent_id, existing.resources, executor.resources
                ));
            }
            Some(existing) if *existing != executor => {
                return Err(format!(
                    "Executor '{}' on agent {} was started with a different ExecutorInfo than the task's",
                    executor.executor_id, cx.agent_id
                ));
            }
            Some(_) => {}
            None => new_executor = Some(executor),
        }
    }
    if task.resources.is_empty() {
        return Err("Task uses no resources".to_string());
    }
    let mut needed = task.resources.clone();
    if let Some(executor) = &new_executor {
        needed += &executor.resources;
    }
    match cx.pools.iter().position(|(_, free)| free.contains(&needed)) {
        Some(pool) => Ok(AcceptedTask {
            pool,
            resources: needed,
            new_executor,
        }),
        None => {
            let mut free = Resources::new();
            for (_, r) in cx.pools {
                free += r;
            }
            let what = if new_executor.is_some() {
                "Task and its new executor use"
            } else {
                "Task uses"
            };
            Err(format!(
                "{what} more resources ({needed}) than are left in the offers ({free})"
            ))
        }
    }
}
