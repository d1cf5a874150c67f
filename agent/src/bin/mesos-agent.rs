//! `mesos-agent`: runs one agent on its own runtime at --ip:--port.

use std::net::SocketAddr;

use agent::flags::Flags;
use agent::Agent;
use clap::Parser;
use process::{Config, Runtime};

fn main() {
    let flags = match Flags::try_parse() {
        Ok(flags) => flags,
        Err(err) => {
            let code = if err.use_stderr() { 1 } else { 0 };
            let _ = err.print();
            std::process::exit(code);
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let runtime = match Runtime::new(Config {
        listen: SocketAddr::new(flags.ip, flags.port),
        ..Config::default()
    }) {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!(
                "mesos-agent: cannot listen on --ip {} --port {}: {err}",
                flags.ip, flags.port
            );
            std::process::exit(1);
        }
    };
    match Agent::spawn(&runtime, flags.config()) {
        Ok(agent) => {
            tracing::info!(pid = %agent.pid(), "agent started");
            agent.wait();
        }
        Err(err) => {
            eprintln!("mesos-agent: {err}");
            std::process::exit(1);
        }
    }
}
