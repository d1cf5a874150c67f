//! An agent that stops answering: after the ping timeouts its running tasks are TASK_LOST and the
//! scheduler hears agent_lost (short ping flags: 200 ms x 3).

mod util;

use mesos::{Filters, TaskState};
use process::testing::BoundedChild;
use util::*;

#[test]
fn a_stopped_agent_loses_its_tasks() {
    let mut cluster = cluster(1, "cpus:1;mem:512");
    let (driver, mut events) = driver(&cluster, framework("lost"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("doomed", &offer, "sleep 60", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    events.state("doomed", TaskState::Running);

    cluster.stop_agent(0).expect("agent 0 runs");

    let mut lost_task = None;
    let mut lost_agent = None;
    while lost_task.is_none() || lost_agent.is_none() {
        events.wait("TASK_LOST and agent_lost", |e| match e {
            Event::Update(s) if s.task_id.as_str() == "doomed" => {
                lost_task = Some(s.clone());
                Some(())
            }
            Event::AgentLost(a) => {
                lost_agent = Some(a.clone());
                Some(())
            }
            _ => None,
        });
    }
    let status = lost_task.unwrap();
    assert_eq!(status.state, TaskState::Lost, "{status:?}");
    assert_eq!(lost_agent.unwrap(), offer.agent_id);
}

/// Kills (SIGKILL) every process whose MESOS_DIRECTORY is under `dir`: the executors an agent
/// killed with SIGKILL leaves behind. Only processes this test started live there.
fn kill_executors_under(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let needle = format!("MESOS_DIRECTORY={}", dir.display());
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let ours = environ
            .split(|b| *b == 0)
            .any(|var| String::from_utf8_lossy(var).starts_with(&needle));
        if ours {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

#[test]
fn a_killed_agent_process_loses_its_tasks() {
    let mut cluster = cluster(0, "cpus:1;mem:512");
    ensure_binary("agent", "mesos-agent");
    let work_dir = cluster.work_dir().join("killed-agent");
    let mut agent = std::process::Command::new(profile_dir().join("mesos-agent"))
        .args(["--master", &cluster.master_address(), "--port", "0"])
        .arg("--work_dir")
        .arg(&work_dir)
        .args(["--resources", "cpus:1;mem:512"])
        .arg("--launcher_dir")
        .arg(profile_dir())
        .args(["--registration_backoff_factor", "50ms"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mesos-agent starts");
    let (driver, mut events) = driver(&cluster, framework("killed"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("orphaned", &offer, "sleep 60", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    events.state("orphaned", TaskState::Running);

    agent.kill().expect("SIGKILL the agent");
    agent.wait_within("the SIGKILLed agent", WAIT);

    let mut lost_task = None;
    let mut lost_agent = None;
    while lost_task.is_none() || lost_agent.is_none() {
        events.wait("TASK_LOST and agent_lost", |e| match e {
            Event::Update(s) if s.task_id.as_str() == "orphaned" => {
                lost_task = Some(s.clone());
                Some(())
            }
            Event::AgentLost(a) => {
                lost_agent = Some(a.clone());
                Some(())
            }
            _ => None,
        });
    }
    kill_executors_under(&work_dir);
    assert_eq!(lost_task.unwrap().state, TaskState::Lost);
    assert_eq!(lost_agent.unwrap(), offer.agent_id);
    cluster.stop_master();
}
