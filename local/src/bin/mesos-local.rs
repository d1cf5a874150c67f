//! `mesos-local --num_agents 3 [--port 5050] [--ip 127.0.0.1] [--work_dir DIR] [--resources R]`:
//! a master and N agents in this process, until SIGINT or SIGTERM.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mesos_local::{flags, LocalCluster, LocalConfig, LocalZk};
use nix::sys::signal::{SigSet, Signal};

/// Flags of `mesos-local`.
#[derive(Debug, Parser)]
#[command(
    rename_all = "snake_case",
    name = "mesos-local",
    about = "Runs a Mesos master and N agents in one process."
)]
struct Flags {
    /// How many agents to run.
    #[arg(long, env = "MESOS_NUM_AGENTS", default_value_t = 1)]
    num_agents: usize,
    /// The IP every node listens on.
    #[arg(long, env = "MESOS_IP", default_value = "127.0.0.1")]
    ip: IpAddr,
    /// The master's port.
    #[arg(long, env = "MESOS_PORT", default_value_t = 5050)]
    port: u16,
    /// Where agents keep their sandboxes (default: a temporary directory, removed at exit).
    #[arg(long, env = "MESOS_WORK_DIR")]
    work_dir: Option<PathBuf>,
    /// Each agent's resources, e.g. 'cpus:2;mem:2048' (default: detected).
    #[arg(long, env = "MESOS_RESOURCES", value_parser = flags::resources)]
    resources: Option<mesos::Resources>,
    /// The batch allocation period, e.g. 1secs or 100ms.
    #[arg(long, env = "MESOS_ALLOCATION_INTERVAL", value_parser = flags::duration)]
    allocation_interval: Option<Duration>,
    /// Time between HEARTBEAT events on v1 HTTP scheduler streams (default 15secs).
    #[arg(long, env = "MESOS_SCHEDULER_HEARTBEAT_INTERVAL", value_parser = flags::duration)]
    scheduler_heartbeat_interval: Option<Duration>,
    /// ZooKeeper URL, e.g. zk://host1:2181,host2:2181/mesos: the local master contends with the
    /// other masters there and the local agents follow whichever leads (default: standalone).
    #[arg(long, env = "MESOS_ZK", value_parser = zk_url, requires = "quorum")]
    zk: Option<mesos_zookeeper::ZkUrl>,
    /// Size of the masters' quorum (required with --zk, as for mesos-master).
    #[arg(long, env = "MESOS_QUORUM", value_parser = clap::value_parser!(u32).range(1..))]
    quorum: Option<u32>,
    /// ZooKeeper session timeout: a crashed leader is replaced after about this long.
    #[arg(long, env = "MESOS_ZK_SESSION_TIMEOUT", default_value = "10secs", value_parser = flags::duration)]
    zk_session_timeout: Duration,
    /// Where to write the log (mesos-master.INFO; mesos-agent.INFO links to it) besides stderr;
    /// the web UI and the files API serve it as /master/log and /slave/log.
    #[arg(long, env = "MESOS_LOG_DIR")]
    log_dir: Option<PathBuf>,
}

/// One process, one log: the master's file, with the agents' name linked to it.
fn init_file_logging(dir: &std::path::Path) -> std::io::Result<()> {
    files::logging::init_logging("info", Some(dir), master::MASTER_LOG_FILE)?;
    let agent_log = dir.join(agent::AGENT_LOG_FILE);
    if std::fs::symlink_metadata(&agent_log).is_err() {
        std::os::unix::fs::symlink(master::MASTER_LOG_FILE, &agent_log)?;
    }
    Ok(())
}

fn zk_url(text: &str) -> Result<mesos_zookeeper::ZkUrl, String> {
    text.parse()
        .map_err(|e| format!("{e} (expected zk://host1:2181,host2:2181/path)"))
}

fn main() {
    let flags: Flags = flags::parse_or_exit();
    match &flags.log_dir {
        None => flags::init_logging(),
        Some(dir) => {
            if let Err(error) = init_file_logging(dir) {
                eprintln!("error: --log_dir={}: {error}", dir.display());
                std::process::exit(1);
            }
        }
    }
    // Block the stop signals before any runtime thread exists, so every thread inherits the mask and
    // this thread alone receives them in `wait`.
    let mut stop_signals = SigSet::empty();
    stop_signals.add(Signal::SIGINT);
    stop_signals.add(Signal::SIGTERM);
    if let Err(error) = stop_signals.thread_block() {
        eprintln!("error: cannot block signals: {error}");
        std::process::exit(1);
    }
    let mut config = LocalConfig::new(flags.num_agents);
    config.ip = flags.ip;
    config.port = flags.port;
    config.work_dir = flags.work_dir.clone();
    config.agent_resources = flags.resources.as_ref().map(ToString::to_string);
    if let Some(interval) = flags.allocation_interval {
        config.master.allocation_interval = interval;
    }
    if let Some(interval) = flags.scheduler_heartbeat_interval {
        if interval.is_zero() {
            eprintln!(
                "error: invalid value for '--scheduler_heartbeat_interval': must be more than 0"
            );
            std::process::exit(1);
        }
        config.master.scheduler_heartbeat_interval = interval;
    }
    config.master.log_dir = flags.log_dir.clone();
    config.agent.log_dir = flags.log_dir.clone();
    config.zk = flags.zk.clone().map(|url| LocalZk {
        url,
        session_timeout: flags.zk_session_timeout,
    });
    let mut cluster = match LocalCluster::start(config) {
        Ok(cluster) => cluster,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    println!(
        "Master running at {} ({})",
        cluster.master_address(),
        cluster.master_pid()
    );
    println!("  state: {}", cluster.state_url());
    println!(
        "  web UI: {}://{}/",
        cluster.http_scheme(),
        cluster.master_address()
    );
    for index in 0..cluster.agent_count() {
        if let Some(agent) = cluster.agent(index) {
            println!("Agent {index} running at {}", agent.pid());
        }
    }
    println!("  work dir: {}", cluster.work_dir().display());
    if let Some(zk) = &flags.zk {
        let leader = cluster.leading_master();
        println!(
            "  contending under {zk}; leading master: {}",
            leader.map_or_else(|| "none yet".to_string(), |l| l.to_string())
        );
    }
    println!(
        "Try: mesos-execute --master {} --name hello --command 'echo hello'",
        cluster.master_address()
    );
    println!("Press Ctrl-C to stop.");
    match stop_signals.wait() {
        Ok(signal) => println!("Received {signal}, shutting down"),
        Err(error) => eprintln!("error waiting for signals: {error}"),
    }
    cluster.shutdown();
}
