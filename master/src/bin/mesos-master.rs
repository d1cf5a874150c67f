//! `mesos-master`: parses the flags, starts a runtime on `--ip:--port`, runs the master until
//! SIGINT or SIGTERM.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use master::flags::Flags;
use master::Master;
use nix::sys::signal::{SigSet, Signal};
use process::{Config, Runtime};

fn main() -> ExitCode {
    let flags = match Flags::try_parse() {
        Ok(flags) => flags,
        Err(error) => {
            let code = if error.use_stderr() { 1 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    // Block SIGINT and SIGTERM before any thread starts (threads inherit the mask), so they are
    // only ever taken by the `wait` below: the master always stops cleanly, even on a signal that
    // arrives the moment the banner is out.
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGTERM);
    if let Err(error) = signals.thread_block() {
        eprintln!("mesos-master: cannot block SIGINT/SIGTERM: {error}");
        return ExitCode::from(1);
    }
    if let Err(error) =
        files::logging::init_logging("info", flags.log_dir.as_deref(), master::MASTER_LOG_FILE)
    {
        eprintln!("mesos-master: --log_dir: cannot open the log file: {error}");
        return ExitCode::from(1);
    }
    let zk: Option<mesos_zookeeper::ZkUrl> = match flags.zk.as_deref().map(str::parse) {
        None => None,
        Some(Ok(url)) => Some(url),
        Some(Err(error)) => {
            eprintln!("mesos-master: --zk: {error}");
            return ExitCode::from(1);
        }
    };
    let config = flags.to_config();
    let runtime = match Runtime::new(Config {
        listen: (config.ip, config.port).into(),
        ..Config::default()
    }) {
        Ok(runtime) => runtime,
        Err(error @ process::Error::Tls(_)) => {
            eprintln!("mesos-master: {error}");
            return ExitCode::from(1);
        }
        Err(error) => {
            eprintln!(
                "mesos-master: cannot listen on {}:{}: {error}",
                config.ip, config.port
            );
            return ExitCode::from(1);
        }
    };
    let master = match Master::spawn(&runtime, config) {
        Ok(master) => master,
        Err(error) => {
            eprintln!("mesos-master: {error}");
            return ExitCode::from(1);
        }
    };
    // With --zk the master starts as a standby and leads only while elected.
    let contender = match &zk {
        None => None,
        // A leader that loses its session exits, as Mesos's does (a supervisor restarts it as
        // a fresh contender); a standby that loses it just rejoins.
        Some(url) => {
            match master::ha::join_election(url, &master, flags.zk_session_timeout, |reason| {
                eprintln!("mesos-master: lost leadership ({reason}): exiting");
                std::process::exit(1);
            }) {
                Ok(contender) => Some(contender),
                Err(error) => {
                    eprintln!("mesos-master: --zk={url}: cannot join the election: {error}");
                    master.stop();
                    runtime.shutdown();
                    return ExitCode::from(1);
                }
            }
        }
    };
    // Output errors (a closed pipe) must not panic the master: they are ignored.
    let _ = writeln!(
        std::io::stdout(),
        "mesos-master {} running as {}; state at {}://{}/master/state",
        mesos::VERSION,
        master.pid(),
        runtime.http_scheme(),
        runtime.addr()
    );
    let _ = std::io::stdout().flush();
    if let Err(error) = signals.wait() {
        eprintln!("mesos-master: waiting for a signal failed: {error}");
    }
    let _ = writeln!(std::io::stdout(), "mesos-master: stopping");
    // Leave the election first: a standby takes over now, not one session timeout later.
    if let Some(contender) = contender {
        contender.withdraw();
    }
    master.stop();
    runtime.shutdown();
    ExitCode::SUCCESS
}
