//! `cron-framework --master host:port [--http_port 4400] [--state_file F]`: a Chronos-like
//! scheduler with Chronos's REST API (see `mesos_examples::chronos`).

use std::path::PathBuf;

use clap::Parser;
use mesos_examples::chronos::{start, CronConfig};
use mesos_local::flags;

/// Flags of the cron framework.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "cron-framework",
    about = "A Chronos-like scheduler: ISO 8601 repeating schedules, dependent jobs, retries, Chronos's REST API."
)]
struct Flags {
    /// The master: host:port or zk://host:port/path.
    #[arg(long, env = "MESOS_MASTER")]
    master: String,
    /// The address the REST API listens on.
    #[arg(long, env = "CRON_HTTP_ADDRESS", default_value = "127.0.0.1")]
    http_address: String,
    /// The REST API's port (0: any).
    #[arg(long, env = "CRON_HTTP_PORT", default_value_t = 4400)]
    http_port: u16,
    /// Where jobs, their progress and the framework id are saved.
    #[arg(long, env = "CRON_STATE_FILE", default_value = "cron-framework.json")]
    state_file: PathBuf,
    /// The framework's name.
    #[arg(long, default_value = "chronos")]
    name: String,
    /// The framework's role.
    #[arg(long, env = "MESOS_ROLE", default_value = "*")]
    role: String,
    /// Seconds the master keeps the tasks while the scheduler is away.
    #[arg(long, default_value_t = 604_800.0)]
    failover_timeout: f64,
}

fn main() {
    flags::init_logging();
    let flags: Flags = flags::parse_or_exit();
    let config = CronConfig {
        master: flags.master,
        http_address: format!("{}:{}", flags.http_address, flags.http_port),
        state_file: flags.state_file,
        name: flags.name,
        role: flags.role,
        failover_timeout: flags.failover_timeout,
    };
    let cron = match start(&config) {
        Ok(cron) => cron,
        Err(err) => {
            eprintln!("cron-framework: {err}");
            std::process::exit(1);
        }
    };
    println!("cron-framework listening on http://{}", cron.http);
    let status = cron.driver.join();
    eprintln!("cron-framework: driver ended: {status:?}");
    std::process::exit(1);
}
