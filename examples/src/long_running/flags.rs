//! The flags both long-running schedulers take (flattened into each binary's own), and the end
//! of their `main`.

use std::path::PathBuf;

use clap::Args;

use super::{Config, Running, StartError, Store, StoreError};

/// Flags of `service-framework` and `cron-framework` alike.
#[derive(Debug, Clone, Args)]
#[command(rename_all = "snake_case")]
pub struct CommonFlags {
    /// The master: host:port or zk://host:port/path.
    #[arg(long, env = "MESOS_MASTER")]
    pub master: String,
    /// Save the state in this ZooKeeper node (zk://host:port[,host:port]/path) instead of
    /// --state_file.
    #[arg(long)]
    pub zk: Option<String>,
    /// The framework's role.
    #[arg(long, env = "MESOS_ROLE", default_value = "*")]
    pub role: String,
    /// Seconds the master keeps the tasks while the scheduler is away.
    #[arg(long, default_value_t = 604_800.0)]
    pub failover_timeout: f64,
}

impl CommonFlags {
    /// The scheduler's configuration, with the binary's own `name`, API address and state file
    /// (used when `--zk` is not given).
    ///
    /// # Errors
    /// [`StoreError`] for a bad `--zk` URL or an unreachable ZooKeeper.
    pub fn config(
        self,
        name: String,
        http_address: String,
        state_file: PathBuf,
    ) -> Result<Config, StoreError> {
        Ok(Config {
            store: Store::open(state_file, self.zk.as_deref())?,
            master: self.master,
            http_address,
            name,
            role: self.role,
            failover_timeout: self.failover_timeout,
        })
    }
}

/// Ends a scheduler binary: prints where its API listens (scripts and tests read the line)
/// and runs until the driver ends, then exits 1; or prints why it could not start (naming the
/// flag) and exits 1.
pub fn run_until_driver_ends<S>(binary: &str, started: Result<Running<S>, StartError>) -> ! {
    let running = match started {
        Ok(running) => running,
        Err(err) => {
            eprintln!("{binary}: {err}");
            std::process::exit(1);
        }
    };
    println!("{binary} listening on http://{}", running.http);
    let status = running.driver.join();
    eprintln!("{binary}: driver ended: {status:?}");
    std::process::exit(1);
}
