//! `mesos-execute`: run one command task on the cluster and report its fate, as Mesos's tool.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use mesos::scheduler::{DriverHandle, Scheduler};
use mesos::{
    AgentId, CommandInfo, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, Resources,
    TaskId, TaskInfo, TaskState, TaskStatus,
};

/// Flags of `mesos-execute`.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "mesos-execute",
    about = "Runs one command task on a Mesos cluster and exits 0 if it finishes."
)]
pub struct ExecuteFlags {
    /// The master, as host:port, master@host:port or zk://host1:2181,host2:2181/mesos.
    #[arg(long, env = "MESOS_MASTER")]
    pub master: String,
    /// The task's name (also its id).
    #[arg(long, env = "MESOS_NAME")]
    pub name: String,
    /// The shell command to run.
    #[arg(long, env = "MESOS_COMMAND")]
    pub command: String,
    /// The task's resources.
    #[arg(long, env = "MESOS_RESOURCES", default_value = "cpus:0.1;mem:32", value_parser = crate::flags::resources)]
    pub resources: Resources,
    /// The framework's role.
    #[arg(long, env = "MESOS_ROLE", default_value = "*")]
    pub role: String,
    /// The user to run as (empty: the agent's).
    #[arg(long, env = "MESOS_USER", default_value = "")]
    pub user: String,
    /// Checkpoint the task on its agent, so it keeps running across an agent restart.
    #[arg(long, env = "MESOS_CHECKPOINT", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub checkpoint: bool,
    /// The principal to authenticate as (and the framework's principal); default:
    /// `DEFAULT_PRINCIPAL` from the environment, else none.
    #[arg(long, env = "MESOS_PRINCIPAL")]
    pub principal: Option<String>,
    /// The secret to authenticate with (with --principal; default: `DEFAULT_SECRET`).
    #[arg(long, env = "MESOS_SECRET", requires = "principal")]
    pub secret: Option<String>,
}

impl ExecuteFlags {
    /// The credential to authenticate with: `--principal`/`--secret`, else `DEFAULT_PRINCIPAL`/
    /// `DEFAULT_SECRET`.
    pub fn credential(&self) -> Option<mesos::auth::Credential> {
        match &self.principal {
            Some(principal) => Some(mesos::auth::Credential::new(
                principal.clone(),
                self.secret
                    .clone()
                    .or_else(|| std::env::var("DEFAULT_SECRET").ok())
                    .unwrap_or_default(),
            )),
            None => mesos::auth::Credential::from_env(),
        }
    }
}

/// What happened to the task, filled in by [`ExecuteScheduler`].
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The task's last (terminal) state, once known.
    pub state: Option<TaskState>,
}

/// Launches the task on the first offer that fits, prints each state change, stops the driver on a
/// terminal state.
pub struct ExecuteScheduler {
    name: String,
    command: String,
    resources: Resources,
    launched: bool,
    outcome: Arc<Mutex<Outcome>>,
}

impl ExecuteScheduler {
    /// A scheduler for `flags`, reporting into `outcome`.
    pub fn new(flags: &ExecuteFlags, outcome: Arc<Mutex<Outcome>>) -> ExecuteScheduler {
        ExecuteScheduler {
            name: flags.name.clone(),
            command: flags.command.clone(),
            resources: flags.resources.clone(),
            launched: false,
            outcome,
        }
    }

    /// The framework `mesos-execute` registers.
    pub fn framework(flags: &ExecuteFlags) -> FrameworkInfo {
        let mut framework = FrameworkInfo::new(flags.user.clone(), "mesos-execute instance")
            .with_checkpoint(flags.checkpoint);
        if flags.role != "*" {
            framework = framework.with_role(flags.role.clone());
        }
        framework
    }
}

impl Scheduler for ExecuteScheduler {
    fn registered(&mut self, _driver: &DriverHandle, id: &FrameworkId, _master: &MasterInfo) {
        println!("Subscribed with ID {id}");
    }

    fn resource_offers(&mut self, driver: &DriverHandle, offers: Vec<Offer>) {
        for offer in offers {
            let fits = offer.resources.contains(&self.resources);
            if self.launched || !fits {
                driver.decline_offer(offer.id, Filters::refuse(Duration::from_secs(60)));
                continue;
            }
            let task = TaskInfo::new(
                self.name.clone(),
                self.name.clone(),
                offer.agent_id.clone(),
                self.resources.clone(),
            )
            .with_command(CommandInfo::shell(self.command.clone()));
            println!(
                "Submitted task '{}' to agent '{}'",
                self.name, offer.agent_id
            );
            driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
            self.launched = true;
        }
    }

    fn status_update(&mut self, driver: &DriverHandle, status: &TaskStatus) {
        println!("{}", describe(status));
        if status.state.is_terminal() {
            if let Ok(mut outcome) = self.outcome.lock() {
                outcome.state = Some(status.state);
            }
            driver.stop(false);
        }
    }

    fn agent_lost(&mut self, _driver: &DriverHandle, agent_id: &AgentId) {
        println!("Agent '{agent_id}' lost");
    }

    fn error(&mut self, _driver: &DriverHandle, message: &str) {
        eprintln!("Framework error: {message}");
    }
}

/// One line per update, as Mesos's tool prints it.
pub fn describe(status: &TaskStatus) -> String {
    let mut line = format!(
        "Received status update {} for task '{}'",
        status.state, status.task_id
    );
    if let Some(message) = &status.message {
        line.push_str(&format!("\n  message: '{message}'"));
    }
    if let Some(source) = status.source {
        line.push_str(&format!("\n  source: {source}"));
    }
    if let Some(reason) = status.reason {
        line.push_str(&format!("\n  reason: {reason}"));
    }
    line
}

/// The id `mesos-execute` gives its task.
pub fn task_id(flags: &ExecuteFlags) -> TaskId {
    TaskId::new(flags.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_is_opt_in() {
        let parse = |extra: &[&str]| {
            let mut args = vec![
                "mesos-execute",
                "--master=m:5050",
                "--name=n",
                "--command=c",
            ];
            args.extend_from_slice(extra);
            ExecuteScheduler::framework(&ExecuteFlags::try_parse_from(args).unwrap())
        };
        assert!(!parse(&[]).checkpoint);
        assert!(parse(&["--checkpoint"]).checkpoint);
        assert!(parse(&["--checkpoint=true"]).checkpoint);
        assert!(!parse(&["--checkpoint=false"]).checkpoint);
    }
}
