//! `service-framework --master host:port [--http_port 8080] [--state_file F]`: a Marathon-like
//! scheduler for long-running services with Marathon's REST API (see
//! `mesos_examples::marathon`).

use std::path::PathBuf;

use clap::Parser;
use mesos_examples::marathon::{start, ServiceConfig};
use mesos_local::flags;

/// Flags of the service framework.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "service-framework",
    about = "A Marathon-like scheduler: keeps apps running, rolls out new versions, Marathon's REST API."
)]
struct Flags {
    /// The master: host:port or zk://host:port/path.
    #[arg(long, env = "MESOS_MASTER")]
    master: String,
    /// The address the REST API listens on.
    #[arg(long, env = "SERVICE_HTTP_ADDRESS", default_value = "127.0.0.1")]
    http_address: String,
    /// The REST API's port (0: any).
    #[arg(long, env = "SERVICE_HTTP_PORT", default_value_t = 8080)]
    http_port: u16,
    /// Where apps, tasks and the framework id are saved.
    #[arg(
        long,
        env = "SERVICE_STATE_FILE",
        default_value = "service-framework.json"
    )]
    state_file: PathBuf,
    /// The framework's name.
    #[arg(long, default_value = "marathon")]
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
    let config = ServiceConfig {
        master: flags.master,
        http_address: format!("{}:{}", flags.http_address, flags.http_port),
        state_file: flags.state_file,
        name: flags.name,
        role: flags.role,
        failover_timeout: flags.failover_timeout,
    };
    let service = match start(&config) {
        Ok(service) => service,
        Err(err) => {
            eprintln!("service-framework: {err}");
            std::process::exit(1);
        }
    };
    // For scripts and tests: where the API is.
    println!("service-framework listening on http://{}", service.http);
    let status = service.driver.join();
    eprintln!("service-framework: driver ended: {status:?}");
    std::process::exit(1);
}
