//! An agent that stops answering: after the ping timeouts its running tasks are TASK_LOST and the
//! scheduler hears agent_lost (short ping flags: 200 ms x 3).

mod util;

use mesos::{Filters, TaskState};
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
