//! The cron scheduler's decisions, without I/O: when each job's next instance is due, which runs
//! wait for offers, retries, dependent jobs, and what survives a restart. Fed `(now, wall,
//! input)`; outputs go to an outbox.
//!
//! A scheduled instance is identified by its due time. The next due time of each job is advanced
//! (and saved) when an instance is queued, so no instance runs twice, across restarts too; an
//! instance found more than `epsilon` late (the scheduler was down) is skipped, not stacked.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use mesos::{CommandInfo, CommandUri, FrameworkId, Offer, TaskId, TaskInfo, TaskState, TaskStatus};
use serde::{Deserialize, Serialize};

use super::job::Job;
use super::schedule::{add_period, parse_period, Schedule};
use crate::marathon::time::iso8601;

/// How long after registering the scheduler waits for its runs' statuses before launching.
pub const RECONCILIATION_TIMEOUT: Duration = Duration::from_secs(5);

pub use crate::long_running::Output;

/// One run of a job: a scheduled instance (its due time), a dependent or manual run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The job.
    pub job: String,
    /// The instance's due time (seconds since the epoch).
    pub due: f64,
    /// 0 for the first try.
    pub attempt: u32,
    /// The task, once launched.
    pub task_id: Option<TaskId>,
    /// Killed on request: not retried.
    pub killed: bool,
}

/// A job with its schedule's progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobState {
    /// The definition and its counters.
    pub job: Job,
    /// The next instance not yet queued.
    pub next_due: Option<f64>,
    /// Instances left (None: forever).
    pub remaining: Option<u64>,
    /// Parents that succeeded since this (dependent) job last ran.
    pub parent_successes: BTreeSet<String>,
}

/// What survives a restart.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The framework id.
    pub framework_id: Option<FrameworkId>,
    /// Jobs by name.
    pub jobs: BTreeMap<String, JobState>,
    /// Runs waiting for offers.
    pub queued: VecDeque<Run>,
    /// Runs launched and not ended.
    pub running: BTreeMap<String, Run>,
}

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CronError {
    /// 400.
    #[error("{0}")]
    Invalid(String),
    /// 404.
    #[error("job '{0}' not found")]
    NoJob(String),
}

/// The cron scheduler.
pub struct CronCore {
    state: Snapshot,
    reconciling_until: Option<Instant>,
    unreconciled: BTreeSet<String>,
    last_revive: Option<Instant>,
    outbox: Vec<Output>,
}

fn task_id_of(run: &Run) -> TaskId {
    // Chronos's form: ct:<due millis>:<attempt>:<job>.
    TaskId::new(format!(
        "ct:{}:{}:{}",
        (run.due * 1000.0).round() as i64,
        run.attempt,
        run.job
    ))
}

impl CronCore {
    /// A scheduler resuming from `snapshot` (empty for a new one).
    pub fn new(snapshot: Snapshot) -> CronCore {
        CronCore {
            state: snapshot,
            reconciling_until: None,
            unreconciled: BTreeSet::new(),
            last_revive: None,
            outbox: Vec::new(),
        }
    }

    /// What to save.
    pub fn snapshot(&self) -> Snapshot {
        self.state.clone()
    }

    /// Takes the outputs.
    pub fn drain(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outbox)
    }

    /// The framework id, once registered.
    pub fn framework_id(&self) -> Option<&FrameworkId> {
        self.state.framework_id.as_ref()
    }

    /// Every job.
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.state.jobs.values().map(|j| &j.job)
    }

    /// Registered as `framework_id`: reconcile the runs that were launched.
    pub fn registered(&mut self, now: Instant, framework_id: FrameworkId) {
        self.state.framework_id = Some(framework_id);
        self.unreconciled = self.state.running.keys().cloned().collect();
        if !self.unreconciled.is_empty() {
            self.reconciling_until = Some(now + RECONCILIATION_TIMEOUT);
            let statuses = self
                .unreconciled
                .iter()
                .map(|id| TaskStatus::new(TaskId::new(id.clone()), TaskState::Running))
                .collect();
            self.outbox.push(Output::Reconcile(statuses));
        }
        self.outbox.push(Output::Persist);
    }

    /// Adds or replaces a job (`dependent`: it must have parents, else a schedule).
    ///
    /// # Errors
    /// [`CronError::Invalid`] naming the bad field.
    pub fn put_job(&mut self, wall: f64, mut job: Job, dependent: bool) -> Result<(), CronError> {
        let invalid = |m: String| Err(CronError::Invalid(m));
        if job.name.is_empty()
            || !job
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return invalid("name must be letters, digits, '-', '_' or '.'".into());
        }
        if job.command.trim().is_empty() {
            return invalid("command must not be empty".into());
        }
        parse_period(&job.epsilon).map_err(CronError::Invalid)?;
        let (next_due, remaining) = if dependent {
            if job.parents.is_empty() {
                return invalid("a dependent job needs parents".into());
            }
            for parent in &job.parents {
                if parent == &job.name || !self.state.jobs.contains_key(parent) {
                    return invalid(format!("parent '{parent}' is not a job"));
                }
            }
            job.schedule.clear();
            (None, None)
        } else {
            let schedule = Schedule::parse(&job.schedule).map_err(CronError::Invalid)?;
            job.parents.clear();
            (Some(schedule.start), schedule.repetitions)
        };
        // Counters stay with the job across updates.
        if let Some(old) = self.state.jobs.get(&job.name) {
            job.success_count = old.job.success_count;
            job.error_count = old.job.error_count;
            job.errors_since_last_success = old.job.errors_since_last_success;
            job.last_success = old.job.last_success.clone();
            job.last_error = old.job.last_error.clone();
        }
        tracing::info!(job = %job.name, schedule = %job.schedule, parents = ?job.parents, "job saved");
        self.state.jobs.insert(
            job.name.clone(),
            JobState {
                job,
                next_due,
                remaining,
                parent_successes: BTreeSet::new(),
            },
        );
        let _ = wall;
        self.outbox.push(Output::Persist);
        Ok(())
    }

    /// Runs a job now (`PUT /scheduler/job/{name}`).
    ///
    /// # Errors
    /// [`CronError::NoJob`].
    pub fn run_now(&mut self, wall: f64, name: &str) -> Result<(), CronError> {
        if !self.state.jobs.contains_key(name) {
            return Err(CronError::NoJob(name.into()));
        }
        self.queue(name, wall);
        self.last_revive = None;
        Ok(())
    }

    /// Deletes a job, its waiting runs, and kills its running ones.
    ///
    /// # Errors
    /// [`CronError::NoJob`].
    pub fn delete_job(&mut self, name: &str) -> Result<(), CronError> {
        if self.state.jobs.remove(name).is_none() {
            return Err(CronError::NoJob(name.into()));
        }
        self.kill_tasks(name)?;
        Ok(())
    }

    /// Kills a job's running tasks and drops its waiting runs.
    ///
    /// # Errors
    /// Never for a deleted job's leftovers; [`CronError::NoJob`] is not returned here.
    pub fn kill_tasks(&mut self, name: &str) -> Result<(), CronError> {
        self.state.queued.retain(|r| r.job != name);
        for (task_id, run) in self.state.running.iter_mut() {
            if run.job == name && !run.killed {
                run.killed = true;
                self.outbox.push(Output::Kill(TaskId::new(task_id.clone())));
            }
        }
        self.outbox.push(Output::Persist);
        Ok(())
    }

    fn queue(&mut self, job: &str, due: f64) {
        tracing::info!(job, due = %iso8601(due), "queued");
        self.state.queued.push_back(Run {
            job: job.to_string(),
            due,
            attempt: 0,
            task_id: None,
            killed: false,
        });
        self.outbox.push(Output::Persist);
    }

    /// Time passed: due instances are queued (or skipped when more than `epsilon` late),
    /// reconciliation may end, offers are revived while runs wait.
    pub fn tick(&mut self, now: Instant, wall: f64) {
        if self.reconciling_until.is_some_and(|until| now >= until) {
            // No word of them: they ended while nobody listened; count them as failed tries.
            for task_id in std::mem::take(&mut self.unreconciled) {
                if let Some(run) = self.state.running.remove(&task_id) {
                    self.failed(wall, run);
                }
            }
            self.reconciling_until = None;
        }
        let names: Vec<String> = self.state.jobs.keys().cloned().collect();
        for name in names {
            while let Some(state) = self.state.jobs.get_mut(&name) {
                let (Some(due), false) = (state.next_due, state.job.disabled) else {
                    break;
                };
                if due > wall || state.remaining == Some(0) {
                    break;
                }
                let Ok(schedule) = Schedule::parse(&state.job.schedule) else {
                    break;
                };
                let epsilon = parse_period(&state.job.epsilon).map_or(60.0, |p| p.seconds);
                state.next_due = Some(add_period(due, schedule.period));
                if let Some(left) = &mut state.remaining {
                    *left -= 1;
                }
                if wall - due > epsilon {
                    tracing::warn!(job = %name, due = %iso8601(due), "missed by more than epsilon; skipped");
                    self.outbox.push(Output::Persist);
                    continue;
                }
                self.queue(&name, due);
            }
        }
        let waiting = !self.state.queued.is_empty() && self.reconciling_until.is_none();
        if waiting
            && self
                .last_revive
                .is_none_or(|at| now >= at + Duration::from_secs(1))
        {
            self.last_revive = Some(now);
            self.outbox.push(Output::Revive);
        }
    }

    /// Offers: launch waiting runs that fit.
    pub fn offers(&mut self, offers: Vec<Offer>) {
        for offer in offers {
            let mut tasks = Vec::new();
            if self.reconciling_until.is_none() {
                let mut cpus = offer.resources.cpus().unwrap_or(0.0);
                let mut mem = offer.resources.mem().unwrap_or(0.0);
                let mut disk = offer.resources.disk().unwrap_or(0.0);
                let mut left = VecDeque::new();
                while let Some(mut run) = self.state.queued.pop_front() {
                    let Some(job) = self.state.jobs.get(&run.job).map(|j| j.job.clone()) else {
                        continue;
                    };
                    let fits =
                        cpus + 1e-9 >= job.cpus && mem + 1e-9 >= job.mem && disk + 1e-9 >= job.disk;
                    if !fits {
                        left.push_back(run);
                        continue;
                    }
                    cpus -= job.cpus;
                    mem -= job.mem;
                    disk -= job.disk;
                    let task_id = task_id_of(&run);
                    run.task_id = Some(task_id.clone());
                    tasks.push(task_info(&job, task_id.clone(), &offer));
                    tracing::info!(job = %run.job, task = %task_id, "launching");
                    self.state.running.insert(task_id.as_str().to_string(), run);
                }
                self.state.queued = left;
            }
            if tasks.is_empty() {
                self.outbox.push(Output::Decline(offer.id));
            } else {
                // Saved before the launch goes out.
                self.outbox.push(Output::Persist);
                self.outbox.push(Output::Launch {
                    offer_id: offer.id,
                    tasks,
                });
            }
        }
    }

    /// A status update of a run.
    pub fn status_update(&mut self, wall: f64, status: &TaskStatus) {
        let key = status.task_id.as_str().to_string();
        if self.unreconciled.remove(&key) && self.unreconciled.is_empty() {
            self.reconciling_until = None;
        }
        if !status.state.is_terminal() {
            return;
        }
        let Some(run) = self.state.running.remove(&key) else {
            return;
        };
        if status.state == TaskState::Finished {
            self.succeeded(wall, &run.job);
        } else {
            self.failed(wall, run);
        }
        self.outbox.push(Output::Persist);
    }

    fn succeeded(&mut self, wall: f64, name: &str) {
        if let Some(state) = self.state.jobs.get_mut(name) {
            state.job.success_count += 1;
            state.job.errors_since_last_success = 0;
            state.job.last_success = iso8601(wall);
        }
        // Dependent jobs run once all their parents have succeeded since they last ran.
        let children: Vec<String> = self
            .state
            .jobs
            .values_mut()
            .filter(|j| j.job.parents.iter().any(|p| p == name))
            .filter_map(|j| {
                j.parent_successes.insert(name.to_string());
                let ready = j.job.parents.iter().all(|p| j.parent_successes.contains(p));
                if ready {
                    j.parent_successes.clear();
                }
                (ready && !j.job.disabled).then(|| j.job.name.clone())
            })
            .collect();
        for child in children {
            self.queue(&child, wall);
        }
    }

    fn failed(&mut self, wall: f64, run: Run) {
        let Some(state) = self.state.jobs.get_mut(&run.job) else {
            return;
        };
        if !run.killed && run.attempt < state.job.retries {
            tracing::info!(job = %run.job, attempt = run.attempt + 1, "retrying");
            self.state.queued.push_back(Run {
                attempt: run.attempt + 1,
                task_id: None,
                ..run
            });
            return;
        }
        state.job.error_count += 1;
        state.job.errors_since_last_success += 1;
        state.job.last_error = iso8601(wall);
    }
}

/// The Mesos task of one run of `job` on `offer`.
pub fn task_info(job: &Job, task_id: TaskId, offer: &Offer) -> TaskInfo {
    let mut resources = format!("cpus:{};mem:{}", job.cpus, job.mem);
    if job.disk > 0.0 {
        resources.push_str(&format!(";disk:{}", job.disk));
    }
    let mut command = if job.shell {
        CommandInfo::shell(job.command.clone())
    } else {
        let mut argv = vec![job.command.clone()];
        argv.extend(job.arguments.iter().cloned());
        CommandInfo::argv(job.command.clone(), argv)
    };
    for var in &job.environment_variables {
        command = command.with_env(&var.name, &var.value);
    }
    command = command
        .with_env("CHRONOS_JOB_NAME", &job.name)
        .with_env("mesos_task_id", task_id.as_str());
    command.uris = job
        .uris
        .iter()
        .map(|uri| CommandUri {
            value: uri.clone(),
            ..CommandUri::default()
        })
        .collect();
    TaskInfo::new(
        task_id,
        format!("ChronosTask:{}", job.name),
        offer.agent_id.clone(),
        resources.parse().unwrap_or_default(),
    )
    .with_command(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos::{AgentId, Attributes, OfferId};

    fn offer() -> Offer {
        Offer {
            id: OfferId::new("o"),
            framework_id: FrameworkId::new("f"),
            agent_id: AgentId::new("a"),
            hostname: "a".into(),
            resources: "cpus:4;mem:4096;disk:4096".parse().unwrap(),
            attributes: Attributes::new(),
            executor_ids: Vec::new(),
        }
    }

    fn launched(core: &mut CronCore) -> Vec<TaskInfo> {
        core.offers(vec![offer()]);
        core.drain()
            .into_iter()
            .flat_map(|o| match o {
                Output::Launch { tasks, .. } => tasks,
                _ => Vec::new(),
            })
            .collect()
    }

    fn job(name: &str, schedule: &str) -> Job {
        Job {
            name: name.into(),
            command: "true".into(),
            schedule: schedule.into(),
            epsilon: "PT5S".into(),
            retries: 1,
            ..Job::default()
        }
    }

    const T0: f64 = 1_796_380_200.0; // 2026-12-04T10:30:00Z

    #[test]
    fn runs_each_instance_once_and_stops_after_its_repetitions() {
        let mut core = CronCore::new(Snapshot::default());
        let now = Instant::now();
        core.put_job(T0, job("tick", "R3/2026-12-04T10:30:00Z/PT2S"), false)
            .unwrap();
        core.tick(now, T0 - 1.0);
        assert!(launched(&mut core).is_empty(), "not yet due");
        let mut ids = Vec::new();
        for i in 0..5 {
            core.tick(now, T0 + 2.0 * i as f64 + 0.1);
            for task in launched(&mut core) {
                ids.push(task.task_id.clone());
                core.status_update(T0, &TaskStatus::new(task.task_id, TaskState::Finished));
            }
        }
        assert_eq!(ids.len(), 3, "R3");
        assert_eq!(
            ids[0].as_str(),
            format!("ct:{}:0:tick", (T0 * 1000.0) as i64)
        );
        assert_eq!(core.jobs().next().unwrap().success_count, 3);
        // The same tick again queues nothing.
        core.tick(now, T0 + 0.1);
        assert!(launched(&mut core).is_empty());
    }

    #[test]
    fn late_instances_are_skipped_not_stacked_also_after_a_restart() {
        let mut core = CronCore::new(Snapshot::default());
        let now = Instant::now();
        core.put_job(T0, job("tick", "R/2026-12-04T10:30:00Z/PT2S"), false)
            .unwrap();
        core.tick(now, T0 + 0.5);
        assert_eq!(launched(&mut core).len(), 1);
        // Restarted 20 s later: instances due more than 5 s ago are skipped.
        let mut restarted = CronCore::new(core.snapshot());
        restarted.tick(now, T0 + 20.5);
        let tasks = launched(&mut restarted);
        let dues: Vec<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
        assert_eq!(
            dues.len(),
            3,
            "16, 18 and 20 s are within epsilon: {dues:?}"
        );
        restarted.tick(now, T0 + 20.6);
        assert!(launched(&mut restarted).is_empty(), "never twice");
    }

    #[test]
    fn failures_retry_then_count_and_dependents_follow_successes() {
        let mut core = CronCore::new(Snapshot::default());
        let now = Instant::now();
        core.put_job(T0, job("parent", "R2/2026-12-04T10:30:00Z/PT10S"), false)
            .unwrap();
        let mut child = job("child", "");
        child.parents = vec!["parent".into()];
        core.put_job(T0, child.clone(), true).unwrap();
        child.parents = vec!["nope".into()];
        assert!(core.put_job(T0, child, true).is_err());
        core.tick(now, T0);
        let first = launched(&mut core).remove(0);
        core.status_update(T0, &TaskStatus::new(first.task_id, TaskState::Failed));
        let retry = launched(&mut core).remove(0);
        assert!(retry.task_id.as_str().contains(":1:parent"));
        core.status_update(T0, &TaskStatus::new(retry.task_id, TaskState::Failed));
        assert!(launched(&mut core).is_empty(), "retries: 1");
        let parent = core.jobs().find(|j| j.name == "parent").unwrap();
        assert_eq!((parent.error_count, parent.success_count), (1, 0));
        core.tick(now, T0 + 10.0);
        let second = launched(&mut core).remove(0);
        core.status_update(
            T0 + 10.0,
            &TaskStatus::new(second.task_id, TaskState::Finished),
        );
        let child_run = launched(&mut core);
        assert_eq!(child_run.len(), 1);
        assert!(child_run[0].task_id.as_str().ends_with(":child"));
    }
}
