//! `cron-framework --master host:port [--http_port 4400] [--state_file F | --zk zk://...]`: a
//! Chronos-like scheduler with Chronos's REST API (see `mesos_examples::chronos`).

use std::path::PathBuf;

use clap::Parser;
use mesos_examples::chronos::start;
use mesos_examples::long_running::flags::{run_until_driver_ends, CommonFlags};
use mesos_local::flags;

/// Flags of the cron framework.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "cron-framework",
    about = "A Chronos-like scheduler: ISO 8601 repeating schedules, dependent jobs, retries, Chronos's REST API."
)]
struct Flags {
    #[command(flatten)]
    common: CommonFlags,
    /// The address the REST API listens on.
    #[arg(long, env = "CRON_HTTP_ADDRESS", default_value = "127.0.0.1")]
    http_address: String,
    /// The REST API's port (0: any).
    #[arg(long, env = "CRON_HTTP_PORT", default_value_t = 4400)]
    http_port: u16,
    /// Where jobs, their progress and the framework id are saved (without --zk).
    #[arg(long, env = "CRON_STATE_FILE", default_value = "cron-framework.json")]
    state_file: PathBuf,
    /// The framework's name.
    #[arg(long, default_value = "chronos")]
    name: String,
}

fn main() {
    flags::init_logging();
    let flags: Flags = flags::parse_or_exit();
    let address = format!("{}:{}", flags.http_address, flags.http_port);
    let started = flags
        .common
        .config(flags.name, address, flags.state_file)
        .map_err(Into::into)
        .and_then(|config| start(&config));
    run_until_driver_ends("cron-framework", started);
}
