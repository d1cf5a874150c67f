//! The service scheduler's decisions, without I/O: apps and their tasks, what to launch on each
//! offer, what to kill, backoff, rolling deployments, reconciliation after a restart. Fed
//! `(now, wall, input)`; outputs go to an outbox the scheduler drains.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use mesos::{
    AgentId, CommandInfo, CommandUri, FrameworkId, HealthCheck, HealthCheckType, HttpCheckInfo,
    Offer, TaskId, TaskInfo, TaskState, TaskStatus, TcpCheckInfo,
};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::app::{AppDefinition, InvalidApp};
use super::constraints::{field_value, Constraint};
use super::time::iso8601;

/// How long after (re-)registering the scheduler waits for the statuses of the tasks it knew
/// before launching anything (no duplicates of tasks that still run).
pub const RECONCILIATION_TIMEOUT: Duration = Duration::from_secs(5);
/// Revive offers at most this often while an app needs tasks.
const REVIVE_INTERVAL: Duration = Duration::from_secs(1);

pub use crate::long_running::Output;

/// A task's health as Marathon reports it (`healthCheckResults[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthRecord {
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Wall seconds of the first success.
    pub first_success: Option<f64>,
    /// Wall seconds of the last success.
    pub last_success: Option<f64>,
    /// Wall seconds of the last failure.
    pub last_failure: Option<f64>,
    /// Why it last failed.
    pub last_failure_cause: Option<String>,
}

/// A task the scheduler launched (or adopted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Its id.
    pub id: TaskId,
    /// Its app.
    pub app_id: String,
    /// The app version it runs.
    pub version: String,
    /// Its agent.
    pub agent_id: AgentId,
    /// The agent's hostname.
    pub host: String,
    /// Its ports.
    pub ports: Vec<u64>,
    /// Its latest state.
    pub state: TaskState,
    /// What its health check last said.
    pub healthy: Option<bool>,
    /// Wall seconds it was launched.
    pub staged_at: f64,
    /// Wall seconds it started running.
    pub started_at: Option<f64>,
    /// A kill was sent.
    pub killing: bool,
    /// Field values of its agent, for constraints.
    pub placement: BTreeMap<String, String>,
    /// Health history.
    pub health: HealthRecord,
}

#[derive(Debug, Clone)]
struct App {
    def: AppDefinition,
    /// The next launch delay after a failure.
    delay: Duration,
    /// No launches before this (a task failed).
    launch_after: Option<Instant>,
    deployment: Option<Deployment>,
}

/// A deployment in progress (`/v2/deployments` item).
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Its id.
    pub id: String,
    /// The version being deployed.
    pub version: String,
    /// The app.
    pub app_id: String,
    /// `StartApplication`, `ScaleApplication`, `RestartApplication`, `StopApplication`.
    pub action: &'static str,
}

/// Saved state: apps, known tasks and the framework id (what survives a scheduler restart).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The framework id to re-register with.
    pub framework_id: Option<FrameworkId>,
    /// App definitions with their versions.
    pub apps: Vec<AppDefinition>,
    /// Tasks launched and not known to have ended.
    pub tasks: Vec<TaskRecord>,
}

/// Why an API call failed (mapped to Marathon's status codes by the API).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 404.
    #[error("App '{0}' does not exist")]
    NoApp(String),
    /// 404.
    #[error("Task '{0}' does not exist")]
    NoTask(String),
    /// 409.
    #[error("An app with id [{0}] already exists.")]
    Exists(String),
    /// 422.
    #[error("{0}")]
    Invalid(#[from] InvalidApp),
}

/// What a changing call returns: `{version, deploymentId}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The new version.
    pub version: String,
    /// The deployment that carries it out.
    pub deployment_id: String,
}

/// The service scheduler's state and decisions.
pub struct ServiceCore {
    apps: BTreeMap<String, App>,
    tasks: BTreeMap<TaskId, TaskRecord>,
    framework_id: Option<FrameworkId>,
    reconciling_until: Option<Instant>,
    unreconciled: BTreeSet<TaskId>,
    last_revive: Option<Instant>,
    rng: rand::rngs::StdRng,
    outbox: Vec<Output>,
}

impl ServiceCore {
    /// An empty scheduler; `seed` makes its task and deployment ids.
    pub fn new(seed: u64) -> ServiceCore {
        ServiceCore {
            apps: BTreeMap::new(),
            tasks: BTreeMap::new(),
            framework_id: None,
            reconciling_until: None,
            unreconciled: BTreeSet::new(),
            last_revive: None,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            outbox: Vec::new(),
        }
    }

    /// A scheduler that resumes from `snapshot` (it reconciles once registered).
    pub fn restore(seed: u64, snapshot: Snapshot) -> ServiceCore {
        let mut core = ServiceCore::new(seed);
        core.framework_id = snapshot.framework_id;
        for def in snapshot.apps {
            core.apps.insert(
                def.id.clone(),
                App {
                    delay: secs(def.backoff_seconds),
                    def,
                    launch_after: None,
                    deployment: None,
                },
            );
        }
        for task in snapshot.tasks {
            core.tasks.insert(task.id.clone(), task);
        }
        core
    }

    /// What to save.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            framework_id: self.framework_id.clone(),
            apps: self.apps.values().map(|a| a.def.clone()).collect(),
            tasks: self.tasks.values().cloned().collect(),
        }
    }

    /// Takes the outputs produced so far.
    pub fn drain(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outbox)
    }

    /// The framework id, once registered.
    pub fn framework_id(&self) -> Option<&FrameworkId> {
        self.framework_id.as_ref()
    }

    /// Whether launches wait for reconciliation.
    pub fn is_reconciling(&self) -> bool {
        self.reconciling_until.is_some()
    }

    fn new_id(&mut self) -> String {
        let a: u32 = self.rng.gen();
        let b: u16 = self.rng.gen();
        let c: u16 = self.rng.gen();
        let d: u64 = self.rng.gen::<u64>() & 0xffff_ffff_ffff;
        format!("{a:08x}-{b:04x}-{c:04x}-{d:012x}")
    }

    // ---- the driver's inputs ----

    /// Registered (or re-registered) as `framework_id`: reconcile every known task before
    /// launching anything.
    pub fn registered(&mut self, now: Instant, framework_id: FrameworkId) {
        self.framework_id = Some(framework_id);
        self.unreconciled = self.tasks.keys().cloned().collect();
        self.reconciling_until = Some(now + RECONCILIATION_TIMEOUT);
        let statuses = self
            .tasks
            .values()
            .map(|t| {
                let mut status = TaskStatus::new(t.id.clone(), t.state);
                status.agent_id = Some(t.agent_id.clone());
                status
            })
            .collect::<Vec<_>>();
        if !statuses.is_empty() {
            self.outbox.push(Output::Reconcile(statuses));
        }
        // And implicitly: tasks launched just before a crash, never saved.
        self.outbox.push(Output::Reconcile(Vec::new()));
        // Kills decided (and saved) before a crash may never have been sent.
        let killing: Vec<TaskId> = self
            .tasks
            .values()
            .filter(|t| t.killing)
            .map(|t| t.id.clone())
            .collect();
        for task_id in killing {
            self.outbox.push(Output::Kill(task_id));
        }
        self.outbox.push(Output::Persist);
        if self.unreconciled.is_empty() {
            self.reconciling_until = None;
        }
    }

    /// A status update.
    pub fn status_update(&mut self, now: Instant, wall: f64, status: &TaskStatus) {
        self.unreconciled.remove(&status.task_id);
        if self.unreconciled.is_empty() {
            self.reconciling_until = None;
        }
        let Some(task) = self.tasks.get_mut(&status.task_id) else {
            self.unknown_task(wall, status);
            return;
        };
        let was_running = task.state == TaskState::Running;
        task.state = status.state;
        if status.state == TaskState::Running && !was_running && task.started_at.is_none() {
            task.started_at = Some(wall);
        }
        if let Some(healthy) = status.healthy {
            task.healthy = Some(healthy);
            if healthy {
                task.health.consecutive_failures = 0;
                task.health.first_success.get_or_insert(wall);
                task.health.last_success = Some(wall);
            } else {
                task.health.consecutive_failures += 1;
                task.health.last_failure = Some(wall);
                task.health.last_failure_cause = status.message.clone();
            }
        }
        let app_id = task.app_id.clone();
        let became_healthy = status.healthy == Some(true)
            || (status.state == TaskState::Running
                && self
                    .apps
                    .get(&app_id)
                    .is_some_and(|a| a.def.health_checks.is_empty()));
        if status.state.is_terminal() {
            let task = self.tasks.remove(&status.task_id);
            let expected = task.is_some_and(|t| t.killing);
            if !expected {
                if let Some(app) = self.apps.get_mut(&app_id) {
                    // Marathon's backoff: each unexpected end delays the next launch more.
                    app.launch_after = Some(now + app.delay);
                    let grown = app.delay.as_secs_f64() * app.def.backoff_factor;
                    app.delay = secs(grown.min(app.def.max_launch_delay_seconds));
                    tracing::info!(app = %app_id, task = %status.task_id, state = %status.state, delay = ?app.delay, "task ended; replacing it after backoff");
                }
            }
            self.outbox.push(Output::Persist);
        } else if became_healthy {
            if let Some(app) = self.apps.get_mut(&app_id) {
                app.delay = secs(app.def.backoff_seconds);
            }
        }
        self.plan_all(now);
    }

    /// A status of a task this scheduler does not know (implicit reconciliation after a crash):
    /// adopted if its id names a live app, else killed.
    fn unknown_task(&mut self, wall: f64, status: &TaskStatus) {
        if status.state.is_terminal() {
            return;
        }
        let app_id = app_of_task(&status.task_id);
        let Some(app) = app_id.as_ref().and_then(|id| self.apps.get(id)) else {
            tracing::info!(task = %status.task_id, "killing a task of no known app");
            self.outbox.push(Output::Kill(status.task_id.clone()));
            return;
        };
        let record = TaskRecord {
            id: status.task_id.clone(),
            app_id: app.def.id.clone(),
            version: app.def.version.clone().unwrap_or_default(),
            agent_id: status.agent_id.clone().unwrap_or_default(),
            host: String::new(),
            ports: Vec::new(),
            state: status.state,
            healthy: status.healthy,
            staged_at: wall,
            started_at: Some(wall),
            killing: false,
            placement: BTreeMap::new(),
            health: HealthRecord::default(),
        };
        tracing::info!(task = %status.task_id, "adopted a running task");
        self.tasks.insert(record.id.clone(), record);
        self.outbox.push(Output::Persist);
    }

    /// Time passed: reconciliation may end, deployments progress, kills and revives go out.
    pub fn tick(&mut self, now: Instant) {
        if let Some(until) = self.reconciling_until {
            if now >= until {
                // Never heard of again: gone with an agent the master forgot.
                for task_id in std::mem::take(&mut self.unreconciled) {
                    tracing::info!(task = %task_id, "no status after reconciliation; forgetting it");
                    self.tasks.remove(&task_id);
                }
                self.reconciling_until = None;
                self.outbox.push(Output::Persist);
            }
        }
        self.plan_all(now);
        let needs =
            !self.is_reconciling() && self.apps.keys().any(|id| self.plan(id, now).launch > 0);
        if needs
            && self
                .last_revive
                .is_none_or(|at| now >= at + REVIVE_INTERVAL)
        {
            self.last_revive = Some(now);
            self.outbox.push(Output::Revive);
        }
    }

    /// Offers: launch what the apps need where their resources and constraints fit.
    pub fn offers(&mut self, now: Instant, wall: f64, offers: Vec<Offer>) {
        for offer in offers {
            let tasks = if self.is_reconciling() {
                Vec::new()
            } else {
                self.fill(now, wall, &offer)
            };
            if tasks.is_empty() {
                self.outbox.push(Output::Decline(offer.id));
            } else {
                self.outbox.push(Output::Launch {
                    offer_id: offer.id,
                    tasks,
                });
                self.outbox.push(Output::Persist);
            }
        }
    }

    fn fill(&mut self, now: Instant, wall: f64, offer: &Offer) -> Vec<TaskInfo> {
        let mut cpus = offer.resources.cpus().unwrap_or(0.0);
        let mut mem = offer.resources.mem().unwrap_or(0.0);
        let mut disk = offer.resources.disk().unwrap_or(0.0);
        let mut ports: Vec<u64> = offer
            .resources
            .ports()
            .map(|r| r.values().collect())
            .unwrap_or_default();
        let mut launched = Vec::new();
        let app_ids: Vec<String> = self.apps.keys().cloned().collect();
        for app_id in app_ids {
            let mut wanted = self.plan(&app_id, now).launch;
            while wanted > 0 {
                let def = self.apps[&app_id].def.clone();
                let fits = cpus + 1e-9 >= def.cpus
                    && mem + 1e-9 >= def.mem
                    && disk + 1e-9 >= def.disk
                    && ports.len() >= def.port_definitions.len();
                if !fits || !self.placeable(&def, offer) {
                    break;
                }
                let mut task_ports = Vec::new();
                for definition in &def.port_definitions {
                    let port = if definition.port == 0 {
                        ports.first().copied()
                    } else {
                        ports.iter().copied().find(|p| *p == definition.port)
                    };
                    let Some(port) = port else { break };
                    ports.retain(|p| *p != port);
                    task_ports.push(port);
                }
                if task_ports.len() < def.port_definitions.len() {
                    break;
                }
                cpus -= def.cpus;
                mem -= def.mem;
                disk -= def.disk;
                let task = self.launch_task(wall, &def, offer, task_ports);
                launched.push(task);
                wanted -= 1;
            }
        }
        launched
    }

    fn placeable(&self, def: &AppDefinition, offer: &Offer) -> bool {
        def.constraints.iter().all(|parts| {
            let Ok(constraint) = Constraint::parse(parts) else {
                return false;
            };
            let field = &parts[0];
            let placed: Vec<Option<String>> = self
                .live(&def.id)
                .map(|t| t.placement.get(field).cloned())
                .collect();
            constraint.allows(offer, &placed)
        })
    }

    fn launch_task(
        &mut self,
        wall: f64,
        def: &AppDefinition,
        offer: &Offer,
        ports: Vec<u64>,
    ) -> TaskInfo {
        let version = def.version.clone().unwrap_or_default();
        let task_id = TaskId::new(format!("{}.{}", task_prefix(&def.id), self.new_id()));
        let mut placement = BTreeMap::new();
        for parts in &def.constraints {
            if let Some(value) = field_value(&parts[0], &offer.hostname, &offer.attributes) {
                placement.insert(parts[0].clone(), value);
            }
        }
        self.tasks.insert(
            task_id.clone(),
            TaskRecord {
                id: task_id.clone(),
                app_id: def.id.clone(),
                version: version.clone(),
                agent_id: offer.agent_id.clone(),
                host: offer.hostname.clone(),
                ports: ports.clone(),
                state: TaskState::Staging,
                healthy: None,
                staged_at: wall,
                started_at: None,
                killing: false,
                placement,
                health: HealthRecord::default(),
            },
        );
        tracing::info!(app = %def.id, task = %task_id, agent = %offer.agent_id, "launching");
        task_info(def, &version, task_id, offer, &ports)
    }

    // ---- planning ----

    fn live<'a>(&'a self, app_id: &'a str) -> impl Iterator<Item = &'a TaskRecord> + 'a {
        self.tasks
            .values()
            .filter(move |t| t.app_id == app_id && !t.killing && !t.state.is_terminal())
    }

    fn healthy(&self, task: &TaskRecord) -> bool {
        let checked = self
            .apps
            .get(&task.app_id)
            .is_some_and(|a| !a.def.health_checks.is_empty());
        task.state == TaskState::Running && (!checked || task.healthy == Some(true))
    }

    /// What app `app_id` needs now: how many launches and which kills.
    fn plan(&self, app_id: &str, now: Instant) -> Plan {
        let Some(app) = self.apps.get(app_id) else {
            return Plan::default();
        };
        let target = app.def.instances as usize;
        let version = app.def.version.clone().unwrap_or_default();
        let live: Vec<&TaskRecord> = self.live(app_id).collect();
        let (new, old): (Vec<&TaskRecord>, Vec<&TaskRecord>) =
            live.iter().partition(|t| t.version == version);
        let mut kill = Vec::new();
        let mut launch;
        if old.is_empty() {
            if new.len() > target {
                // Scale down: the unhealthy and the youngest go first.
                let mut order = new.clone();
                order.sort_by(|a, b| {
                    self.healthy(a)
                        .cmp(&self.healthy(b))
                        .then(b.staged_at.total_cmp(&a.staged_at))
                });
                kill.extend(order.iter().take(new.len() - target).map(|t| t.id.clone()));
            }
            launch = target.saturating_sub(new.len());
        } else {
            let strategy = app.def.upgrade_strategy;
            let min_healthy = (target as f64 * strategy.minimum_health_capacity).ceil() as usize;
            let max_total =
                target + (target as f64 * strategy.maximum_over_capacity).floor() as usize;
            let healthy_total = live.iter().filter(|t| self.healthy(t)).count();
            // Unhealthy old tasks serve nobody; healthy ones go while enough stay healthy.
            let mut can_kill = healthy_total.saturating_sub(min_healthy);
            let mut old_sorted = old.clone();
            old_sorted.sort_by(|a, b| a.staged_at.total_cmp(&b.staged_at));
            for task in old_sorted {
                if !self.healthy(task) {
                    kill.push(task.id.clone());
                } else if can_kill > 0 {
                    can_kill -= 1;
                    kill.push(task.id.clone());
                }
            }
            let remaining = live.len() - kill.len();
            launch = target
                .saturating_sub(new.len())
                .min(max_total.saturating_sub(remaining));
        }
        if app.launch_after.is_some_and(|at| now < at) {
            launch = 0;
        }
        Plan { launch, kill }
    }

    /// Sends the kills every app's plan asks for and ends finished deployments.
    fn plan_all(&mut self, now: Instant) {
        let app_ids: Vec<String> = self.apps.keys().cloned().collect();
        for app_id in app_ids {
            let plan = self.plan(&app_id, now);
            for task_id in plan.kill {
                self.kill(&task_id);
            }
            let converged = self.converged(&app_id);
            if let Some(app) = self.apps.get_mut(&app_id) {
                if converged && app.deployment.is_some() {
                    tracing::info!(app = %app_id, "deployment finished");
                    app.deployment = None;
                }
            }
        }
        // Apps being deleted: gone once their tasks are.
    }

    fn kill(&mut self, task_id: &TaskId) {
        if let Some(task) = self.tasks.get_mut(task_id) {
            if !task.killing {
                task.killing = true;
                tracing::info!(task = %task_id, "killing");
                self.outbox.push(Output::Kill(task_id.clone()));
            }
        }
    }

    fn converged(&self, app_id: &str) -> bool {
        let Some(app) = self.apps.get(app_id) else {
            return true;
        };
        let version = app.def.version.clone().unwrap_or_default();
        let all: Vec<&TaskRecord> = self.tasks.values().filter(|t| t.app_id == app_id).collect();
        all.len() == app.def.instances as usize
            && all
                .iter()
                .all(|t| t.version == version && !t.killing && self.healthy(t))
    }

    // ---- the API's calls ----

    /// Creates (`create`: 409 if it exists) or updates an app; a changed definition is a new
    /// version rolled out by a deployment, a changed `instances` alone a scale.
    ///
    /// # Errors
    /// [`ApiError`]: invalid definition, or it exists and `create` was asked.
    pub fn put_app(
        &mut self,
        now: Instant,
        wall: f64,
        def: AppDefinition,
        create: bool,
    ) -> Result<(bool, Change), ApiError> {
        let mut def = def.normalized()?;
        let version = iso8601(wall);
        let deployment_id = self.new_id();
        let (created, action) = match self.apps.get_mut(&def.id) {
            Some(_) if create => return Err(ApiError::Exists(def.id)),
            Some(app) => {
                let action = if app.def.same_tasks(&def) {
                    // A scale keeps the tasks' version.
                    def.version = app.def.version.clone();
                    "ScaleApplication"
                } else {
                    def.version = Some(version.clone());
                    "RestartApplication"
                };
                app.delay = secs(def.backoff_seconds);
                app.launch_after = None;
                app.def = def.clone();
                (false, action)
            }
            None => {
                def.version = Some(version.clone());
                self.apps.insert(
                    def.id.clone(),
                    App {
                        delay: secs(def.backoff_seconds),
                        def: def.clone(),
                        launch_after: None,
                        deployment: None,
                    },
                );
                (true, "StartApplication")
            }
        };
        self.start_deployment(&def.id, &deployment_id, &version, action);
        self.outbox.push(Output::Persist);
        self.last_revive = None;
        self.tick(now);
        Ok((
            created,
            Change {
                version,
                deployment_id,
            },
        ))
    }

    fn start_deployment(&mut self, app_id: &str, id: &str, version: &str, action: &'static str) {
        if let Some(app) = self.apps.get_mut(app_id) {
            app.deployment = Some(Deployment {
                id: id.to_string(),
                version: version.to_string(),
                app_id: app_id.to_string(),
                action,
            });
        }
    }

    /// Deletes an app and kills its tasks.
    ///
    /// # Errors
    /// [`ApiError::NoApp`].
    pub fn delete_app(&mut self, wall: f64, app_id: &str) -> Result<Change, ApiError> {
        let app_id = normalize(app_id);
        if self.apps.remove(&app_id).is_none() {
            return Err(ApiError::NoApp(app_id));
        }
        let tasks: Vec<TaskId> = self.live(&app_id).map(|t| t.id.clone()).collect();
        for task_id in tasks {
            self.kill(&task_id);
        }
        self.outbox.push(Output::Persist);
        Ok(Change {
            version: iso8601(wall),
            deployment_id: self.new_id(),
        })
    }

    /// Restarts an app: a new version of the same definition, rolled out like any other.
    ///
    /// # Errors
    /// [`ApiError::NoApp`].
    pub fn restart_app(
        &mut self,
        now: Instant,
        wall: f64,
        app_id: &str,
    ) -> Result<Change, ApiError> {
        let app_id = normalize(app_id);
        let version = iso8601(wall);
        let deployment_id = self.new_id();
        let app = self
            .apps
            .get_mut(&app_id)
            .ok_or_else(|| ApiError::NoApp(app_id.clone()))?;
        app.def.version = Some(version.clone());
        app.launch_after = None;
        self.start_deployment(&app_id, &deployment_id, &version, "RestartApplication");
        self.outbox.push(Output::Persist);
        self.last_revive = None;
        self.tick(now);
        Ok(Change {
            version,
            deployment_id,
        })
    }

    /// Kills one task of an app; with `scale`, the app's `instances` goes down by one (else it
    /// is replaced). Returns the task, or the scale's change.
    ///
    /// # Errors
    /// [`ApiError::NoApp`], [`ApiError::NoTask`].
    pub fn kill_app_task(
        &mut self,
        now: Instant,
        wall: f64,
        app_id: &str,
        task_id: &str,
        scale: bool,
    ) -> Result<(TaskRecord, Option<Change>), ApiError> {
        let app_id = normalize(app_id);
        if !self.apps.contains_key(&app_id) {
            return Err(ApiError::NoApp(app_id));
        }
        let task = self
            .tasks
            .get(&TaskId::new(task_id))
            .filter(|t| t.app_id == app_id)
            .cloned()
            .ok_or_else(|| ApiError::NoTask(task_id.to_string()))?;
        let mut change = None;
        if scale {
            let version = iso8601(wall);
            let deployment_id = self.new_id();
            if let Some(app) = self.apps.get_mut(&app_id) {
                app.def.instances = app.def.instances.saturating_sub(1);
            }
            self.start_deployment(&app_id, &deployment_id, &version, "ScaleApplication");
            change = Some(Change {
                version,
                deployment_id,
            });
        }
        // Killed on purpose: replaced at once (a scale excepted), without backoff.
        self.kill(&task.id);
        self.outbox.push(Output::Persist);
        self.tick(now);
        Ok((task, change))
    }

    /// Every app, by id.
    pub fn apps(&self) -> impl Iterator<Item = &AppDefinition> {
        self.apps.values().map(|a| &a.def)
    }

    /// One app.
    pub fn app(&self, app_id: &str) -> Option<&AppDefinition> {
        self.apps.get(&normalize(app_id)).map(|a| &a.def)
    }

    /// The tasks of an app (all apps: None), launched and not ended.
    pub fn tasks(&self, app_id: Option<&str>) -> Vec<&TaskRecord> {
        let app_id = app_id.map(normalize);
        self.tasks
            .values()
            .filter(|t| app_id.as_ref().is_none_or(|id| *id == t.app_id))
            .collect()
    }

    /// Counts of an app's tasks: (staged, running, healthy, unhealthy).
    pub fn counts(&self, app_id: &str) -> (usize, usize, usize, usize) {
        let tasks = self.tasks(Some(app_id));
        let staged = tasks
            .iter()
            .filter(|t| matches!(t.state, TaskState::Staging | TaskState::Starting))
            .count();
        let running = tasks
            .iter()
            .filter(|t| t.state == TaskState::Running)
            .count();
        let healthy = tasks.iter().filter(|t| t.healthy == Some(true)).count();
        let unhealthy = tasks.iter().filter(|t| t.healthy == Some(false)).count();
        (staged, running, healthy, unhealthy)
    }

    /// Deployments in progress.
    pub fn deployments(&self) -> Vec<Deployment> {
        self.apps
            .values()
            .filter_map(|a| a.deployment.clone())
            .collect()
    }

    /// Whether the app has health checks.
    pub fn has_health_checks(&self, app_id: &str) -> bool {
        self.app(app_id)
            .is_some_and(|a| !a.health_checks.is_empty())
    }
}

#[derive(Debug, Default)]
struct Plan {
    launch: usize,
    kill: Vec<TaskId>,
}

fn secs(value: f64) -> Duration {
    Duration::from_secs_f64(if value.is_finite() && value > 0.0 {
        value
    } else {
        0.0
    })
}

fn normalize(app_id: &str) -> String {
    format!("/{}", app_id.trim_matches('/'))
}

/// The prefix of an app's task ids: `/group/name` → `group_name` (as Marathon).
pub fn task_prefix(app_id: &str) -> String {
    app_id.trim_matches('/').replace('/', "_")
}

/// The app a task id belongs to (`group_name.<uuid>` → `/group/name`).
pub fn app_of_task(task_id: &TaskId) -> Option<String> {
    let (prefix, _) = task_id.as_str().rsplit_once('.')?;
    Some(format!("/{}", prefix.replace('_', "/")))
}

/// The Mesos task for one instance of `def` on `offer` with `ports`.
pub fn task_info(
    def: &AppDefinition,
    version: &str,
    task_id: TaskId,
    offer: &Offer,
    ports: &[u64],
) -> TaskInfo {
    let mut resources = format!("cpus:{};mem:{}", def.cpus, def.mem);
    if def.disk > 0.0 {
        resources.push_str(&format!(";disk:{}", def.disk));
    }
    if !ports.is_empty() {
        let ranges: Vec<String> = ports.iter().map(|p| format!("{p}-{p}")).collect();
        resources.push_str(&format!(";ports:[{}]", ranges.join(",")));
    }
    let mut command = match (&def.cmd, &def.args) {
        (Some(cmd), _) => CommandInfo::shell(cmd.clone()),
        (None, Some(args)) => CommandInfo::argv(args[0].clone(), args.clone()),
        (None, None) => CommandInfo::shell("false"),
    };
    for (name, value) in &def.env {
        command = command.with_env(name, value);
    }
    command = command
        .with_env("MARATHON_APP_ID", &def.id)
        .with_env("MARATHON_APP_VERSION", version)
        .with_env("HOST", &offer.hostname)
        .with_env("MESOS_TASK_ID", task_id.as_str());
    command.uris = def
        .fetch
        .iter()
        .map(|f| CommandUri {
            value: f.uri.clone(),
            executable: f.executable,
            extract: f.extract,
            cache: f.cache,
            output_file: f.dest_path.clone(),
        })
        .collect();
    let name = task_prefix(&def.id);
    let mut task = TaskInfo::new(
        task_id,
        name,
        offer.agent_id.clone(),
        resources.parse().unwrap_or_default(),
    )
    .with_command(command);
    if let Some(check) = def.health_checks.first() {
        task.health_check = Some(mesos_health_check(check, ports));
    }
    task
}

fn mesos_health_check(check: &super::app::AppHealthCheck, ports: &[u64]) -> HealthCheck {
    let port = check
        .port
        .or_else(|| ports.get(check.port_index.unwrap_or(0)).copied())
        .unwrap_or(0) as u32;
    let protocol = check.protocol.trim_start_matches("MESOS_");
    let mut health = HealthCheck {
        delay_seconds: Some(check.delay_seconds),
        interval_seconds: Some(check.interval_seconds),
        timeout_seconds: Some(check.timeout_seconds),
        consecutive_failures: Some(check.max_consecutive_failures),
        grace_period_seconds: Some(check.grace_period_seconds),
        ..HealthCheck::default()
    };
    match protocol {
        "HTTP" | "HTTPS" => {
            health.kind = HealthCheckType::Http;
            health.http = Some(HttpCheckInfo {
                scheme: Some(protocol.to_ascii_lowercase()),
                port,
                path: Some(check.path.clone().unwrap_or_else(|| "/".into())),
            });
        }
        "TCP" => {
            health.kind = HealthCheckType::Tcp;
            health.tcp = Some(TcpCheckInfo { port });
        }
        _ => {
            health.kind = HealthCheckType::Command;
            health.command = check
                .command
                .as_ref()
                .map(|c| CommandInfo::shell(c.value.clone()));
        }
    }
    health
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
