//! `service-framework --master host:port [--http_port 8080] [--state_file F | --zk zk://...]`: a
//! Marathon-like scheduler for long-running services with Marathon's REST API (see
//! `mesos_examples::marathon`).

use std::path::PathBuf;

use clap::Parser;
use mesos_examples::long_running::flags::{run_until_driver_ends, CommonFlags};
use mesos_examples::marathon::start;
use mesos_local::flags;

/// Flags of the service framework.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "service-framework",
    about = "A Marathon-like scheduler: keeps apps running, rolls out new versions, Marathon's REST API."
)]
struct Flags {
    #[command(flatten)]
    common: CommonFlags,
    /// The address the REST API listens on.
    #[arg(long, env = "SERVICE_HTTP_ADDRESS", default_value = "127.0.0.1")]
    http_address: String,
    /// The REST API's port (0: any).
    #[arg(long, env = "SERVICE_HTTP_PORT", default_value_t = 8080)]
    http_port: u16,
    /// Where apps, tasks and the framework id are saved (without --zk).
    #[arg(
        long,
        env = "SERVICE_STATE_FILE",
        default_value = "service-framework.json"
    )]
    state_file: PathBuf,
    /// The framework's name.
    #[arg(long, default_value = "marathon")]
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
    run_until_driver_ends("service-framework", started);
}
