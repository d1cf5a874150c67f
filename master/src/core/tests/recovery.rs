//! Recovery after an election: offers wait for the previous leader's agents, the hold ends when
//! they are all back or the window passes, and agents that never return are marked lost.

use super::*;

fn reregister(h: &mut Harness, pid: &str, id: &AgentId) {
    h.core.reregister_agent(
        h.now,
        &upid(pid),
        ReregisterSlaveMessage {
            agent: {
                let mut info =
                    AgentInfo::new("node").with_resources("cpus:2;mem:1024".parse().unwrap());
                info.id = Some(id.clone());
                info
            },
            executors: Vec::new(),
            tasks: Vec::new(),
            frameworks: Vec::new(),
            version: "1".into(),
        },
    );
}

fn registered(id: &str, pid: &str) -> RegisteredAgent {
    RegisteredAgent {
        id: AgentId::new(id),
        hostname: "node".into(),
        pid: Some(upid(pid)),
        disconnected: false,
        unreachable: false,
        lost_tasks: Default::default(),
    }
}

/// A freshly elected master with one framework registered.
fn elected() -> (Harness, FrameworkId) {
    let mut h = Harness::new();
    h.core.begin_recovery(h.now);
    let fw = h.framework(SCHED, FrameworkInfo::new("u", "f"));
    (h, fw)
}

#[test]
fn offers_wait_until_every_registry_agent_is_back() {
    let (mut h, _) = elected();
    h.core.recover_agents(
        h.now,
        Some(vec![registered("a1", AGENT), registered("a2", AGENT2)]),
    );
    reregister(&mut h, AGENT, &AgentId::new("a1"));
    assert!(h.core.holding_offers(h.now));
    assert!(h.allocate(SCHED).is_empty(), "held while a2 is missing");
    // While holding, the next tick is the end of the hold, not a busy allocation loop.
    assert_eq!(h.core.next_deadline(h.now), h.now + Duration::from_secs(5));
    h.now += Duration::from_millis(300);
    reregister(&mut h, AGENT2, &AgentId::new("a2"));
    assert!(!h.core.holding_offers(h.now));
    assert_eq!(h.core.agents_expected(), 0);
    assert_eq!(h.allocate(SCHED).len(), 2, "both agents offered at once");
}

#[test]
fn the_hold_ends_after_the_window_without_the_missing_agents() {
    let (mut h, _) = elected();
    h.core.recover_agents(
        h.now,
        Some(vec![registered("a1", AGENT), registered("gone", AGENT2)]),
    );
    reregister(&mut h, AGENT, &AgentId::new("a1"));
    let out = h.advance(Duration::from_millis(4_999));
    assert!(offers_in(&out, SCHED).is_empty());
    let out = h.advance(Duration::from_millis(1));
    assert_eq!(
        offers_in(&out, SCHED).len(),
        1,
        "offers resume at the window's end"
    );
    assert_eq!(
        h.core.agents_expected(),
        1,
        "still expected until the timeout"
    );
}

#[test]
fn without_the_registry_offers_wait_the_whole_window() {
    let (mut h, _) = elected();
    h.agent(AGENT, "cpus:2;mem:1024");
    assert!(
        h.core.holding_offers(h.now),
        "unknown registry: anyone may come back"
    );
    h.core.recover_agents(h.now, None);
    assert!(h.allocate(SCHED).is_empty());
    let out = h.advance(Duration::from_secs(5));
    assert_eq!(offers_in(&out, SCHED).len(), 1);
}

#[test]
fn an_empty_registry_holds_nothing() {
    let (mut h, _) = elected();
    h.core.recover_agents(h.now, Some(Vec::new()));
    h.agent(AGENT, "cpus:2;mem:1024");
    assert!(!h.core.holding_offers(h.now));
    assert_eq!(h.allocate(SCHED).len(), 1);
}

#[test]
fn a_standalone_master_never_holds_offers() {
    let mut h = Harness::new();
    h.framework(SCHED, FrameworkInfo::new("u", "f"));
    h.agent(AGENT, "cpus:2;mem:1024");
    assert!(!h.core.holding_offers(h.now));
    assert_eq!(h.allocate(SCHED).len(), 1);
}

#[test]
fn agents_that_never_return_are_lost_after_the_reregister_timeout() {
    let (mut h, fw) = elected();
    h.core.recover_agents(
        h.now,
        Some(vec![registered("a1", AGENT), registered("gone", AGENT2)]),
    );
    reregister(&mut h, AGENT, &AgentId::new("a1"));
    h.out();
    let (_, registry) = h.core.registry();
    assert_eq!(
        registry.len(),
        2,
        "the missing agent stays in the registry meanwhile"
    );
    let out = h.advance(Duration::from_secs(599));
    assert!(!sends(&out, SCHED)
        .iter()
        .any(|m| matches!(m, Outgoing::LostSlave(_))));
    let out = h.advance(Duration::from_secs(1));
    let lost: Vec<AgentId> = sends(&out, SCHED)
        .into_iter()
        .filter_map(|m| match m {
            Outgoing::LostSlave(l) => Some(l.agent_id),
            _ => None,
        })
        .collect();
    assert_eq!(lost, vec![AgentId::new("gone")]);
    assert!(h.core.removed_agents().contains_key(&AgentId::new("gone")));
    // The lost agent stays in the registry as unreachable: a later leader keeps it lost (and,
    // by its pid, knows it gone if a new agent registers there).
    let (_, registry) = h.core.registry();
    let mut gone = registered("gone", AGENT2);
    gone.hostname = String::new();
    gone.unreachable = true;
    assert_eq!(registry, vec![registered("a1", AGENT), gone]);
    // A task on the lost agent reconciles as LOST now (it was deferred until the timeout).
    h.core.reconcile_tasks(
        h.now,
        &ep(SCHED),
        ReconcileTasksMessage {
            framework_id: fw.clone(),
            statuses: vec![{
                let mut s = TaskStatus::new(TaskId::new("t1"), TaskState::Running);
                s.agent_id = Some(AgentId::new("gone"));
                s
            }],
        },
    );
    let states: Vec<TaskState> = updates(&h.out(), SCHED).iter().map(|s| s.state).collect();
    assert_eq!(states, vec![TaskState::Lost]);
    // If it does come back after all, it is readmitted.
    reregister(&mut h, AGENT2, &AgentId::new("gone"));
    assert!(h.core.agents().contains_key(&AgentId::new("gone")));
}

#[test]
fn the_registry_generation_changes_with_the_agent_set() {
    let mut h = Harness::new();
    let g0 = h.core.registry_generation();
    let id = h.agent(AGENT, "cpus:2;mem:1024");
    let g1 = h.core.registry_generation();
    assert_ne!(g0, g1);
    let (_, agents) = h.core.registry();
    assert_eq!(agents, vec![registered(id.as_str(), AGENT)]);
    h.core.pong(h.now, &upid(AGENT));
    assert_eq!(h.core.registry_generation(), g1, "pings do not change it");
}
