//! `mesos-agent`: runs one agent on its own runtime at --ip:--port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mesos::scheduler::MasterDetector;

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
    if let Err(err) =
        files::logging::init_logging("info", flags.log_dir.as_deref(), agent::AGENT_LOG_FILE)
    {
        eprintln!("mesos-agent: --log_dir: cannot open the log file: {err}");
        std::process::exit(1);
    }
    let runtime = match Runtime::new(Config {
        listen: SocketAddr::new(flags.ip, flags.port),
        ..Config::default()
    }) {
        Ok(runtime) => runtime,
        Err(err @ process::Error::Tls(_)) => {
            eprintln!("mesos-agent: {err}");
            std::process::exit(1);
        }
        Err(err) => {
            eprintln!(
                "mesos-agent: cannot listen on --ip {} --port {}: {err}",
                flags.ip, flags.port
            );
            std::process::exit(1);
        }
    };
    let mut config = flags.config();
    // --master=zk://...: follow the leading master through ZooKeeper.
    let detector = if flags.master.starts_with("zk://") {
        match mesos_zookeeper::ZooKeeperDetector::from_url(&flags.master) {
            Ok(detector) => {
                tracing::info!(zk = %flags.master, "waiting for a leading master");
                config.master = loop {
                    if let Some(leader) = detector.wait_for_leader(Duration::from_secs(60)) {
                        break Some(leader);
                    }
                };
                Some(detector)
            }
            Err(err) => {
                eprintln!("mesos-agent: --master={}: {err}", flags.master);
                std::process::exit(1);
            }
        }
    } else {
        None
    };
    match Agent::spawn(&runtime, config) {
        Ok(agent) => {
            tracing::info!(pid = %agent.pid(), "agent started");
            // Where it listens, also with --port=0; output errors (a closed pipe) are ignored.
            {
                use std::io::Write;
                let mut out = std::io::stdout();
                let _ = writeln!(
                    out,
                    "mesos-agent {} running as {}; state at {}://{}/slave(1)/state",
                    mesos::VERSION,
                    agent.pid(),
                    runtime.http_scheme(),
                    runtime.addr()
                );
                let _ = out.flush();
            }
            if let Some(detector) = &detector {
                let follower = agent.clone();
                detector.watch(Arc::new(move |leader| {
                    if let Some(leader) = leader {
                        let _ = follower.set_master(leader);
                    }
                }));
                // A change between the first answer and the watch is not missed.
                if let Some(leader) = detector.leader() {
                    let _ = agent.set_master(leader);
                }
            }
            agent.wait();
            if let Some(failure) = agent.failure() {
                eprintln!("mesos-agent: {failure}");
                std::process::exit(1);
            }
        }
        Err(err) => {
            eprintln!("mesos-agent: {err}");
            std::process::exit(1);
        }
    }
}
