//! Two frameworks share one agent by DRF: the framework with the smaller dominant share is offered
//! the free resources first, so each ends up with half the agent even though either would take it all.

mod util;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use mesos::TaskState;
use util::*;

#[test]
fn two_frameworks_split_one_agent() {
    let cluster = cluster(1, "cpus:2;mem:1024");
    let (a, mut a_events) = driver(&cluster, framework("drf-a"), options());
    a_events.registered();
    let (b, mut b_events) = driver(&cluster, framework("drf-b"), options());
    b_events.registered();

    // Both are registered now. Each framework, whenever offered, launches one 1-cpu task (up to
    // two each: either would happily take the whole agent) and hands the rest straight back.
    // Offers are answered until the agent is full (two 1-cpu tasks), however long that takes: who
    // got the second cpu is the allocator's decision, not a matter of how much happened in a
    // time window. (A framework that got both would have launched two.)
    let mut launched: HashMap<&str, usize> = HashMap::new();
    let mut running: HashSet<String> = HashSet::new();
    let deadline = Instant::now() + 3 * WAIT;
    while launched.values().sum::<usize>() < 2 {
        assert!(
            Instant::now() < deadline,
            "the agent's two cpus were not both used within {:?}: launched {launched:?}",
            3 * WAIT
        );
        for (name, driver, events) in [("a", &a, &mut a_events), ("b", &b, &mut b_events)] {
            for event in events.drain_for(Duration::from_millis(20)) {
                let offers = match event {
                    Event::Offers(offers) => offers,
                    Event::Update(s) if s.state == TaskState::Running => {
                        running.insert(s.task_id.to_string());
                        continue;
                    }
                    _ => continue,
                };
                for offer in offers {
                    let count = launched.entry(name).or_default();
                    if *count < 2 && offer.resources.cpus().unwrap_or(0.0) >= 1.0 {
                        *count += 1;
                        let id = format!("{name}-{count}");
                        let task = command_task(&id, &offer, "sleep 30", "cpus:1;mem:128");
                        driver.launch_tasks(vec![offer.id], vec![task], no_filter());
                    } else {
                        driver.decline_offer(offer.id, no_filter());
                    }
                }
            }
        }
    }
    assert_eq!(launched.get("a"), Some(&1), "{launched:?}");
    assert_eq!(launched.get("b"), Some(&1), "{launched:?}");
    if !running.contains("a-1") {
        a_events.state("a-1", TaskState::Running);
    }
    if !running.contains("b-1") {
        b_events.state("b-1", TaskState::Running);
    }
}
