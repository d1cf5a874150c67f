//! Suppress and revive, agent removal and updates, reservations, and when allocation runs.

mod util;

use allocator::{Allocator, AllocatorError, DrfSorter, FrameworkOptions, UsedResources};
use std::time::Duration;
use util::{pairs, res, Harness};

fn p(f: &str, a: &str) -> (String, String) {
    (f.to_string(), a.to_string())
}

#[test]
fn suppressed_framework_receives_nothing_until_revived() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus:1;mem:1024");
    h.add_agent("a2", "cpus:1;mem:1024");
    h.add_framework("quiet", "r");
    h.add_framework("busy", "r");
    h.allocator.suppress_offers("quiet", &[]).unwrap();
    for _ in 0..3 {
        let g = h.allocate();
        assert!(g.iter().all(|g| &*g.framework == "busy"));
        assert_eq!(g.len(), 2);
        for grant in &g {
            h.decline(grant, Some(0.0));
        }
        h.advance(Duration::from_secs(1));
    }
    h.allocator.revive_offers("quiet", &["r"]).unwrap();
    let g = h.allocator.poll(h.now);
    assert_eq!(pairs(&g), [p("quiet", "a1"), p("busy", "a2")]);
}

#[test]
fn suppression_is_per_role_and_can_start_at_subscribe() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus:1;mem:1024");
    h.allocator
        .add_framework(
            "multi",
            FrameworkOptions {
                roles: vec!["x".into(), "y".into()],
                suppressed_roles: vec!["x".into()],
                active: true,
            },
        )
        .unwrap();
    let g = h.allocate();
    assert_eq!(g.len(), 1);
    assert_eq!(&*g[0].role, "y");
    let err = h.allocator.suppress_offers("multi", &["z"]).unwrap_err();
    assert_eq!(
        err,
        AllocatorError::NotSubscribed {
            framework: "multi".into(),
            role: "z".into()
        }
    );
}

#[test]
fn removed_agent_resources_disappear_from_allocation() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus:2;mem:2048");
    h.add_agent("a2", "cpus:8;mem:8192");
    h.add_framework("f1", "r");
    let g = h.allocate();
    assert_eq!(g.len(), 2);
    // With a2 holding 8 of the 10 cpus, role r's share is 1.
    assert_eq!(h.allocator.role_share("r"), Some(1.0));
    h.allocator.remove_agent("a2").unwrap();
    assert_eq!(h.allocator.available("a2"), None);
    // Only a1 counts now: f1 holds all of it.
    assert_eq!(h.allocator.role_share("r"), Some(1.0));
    for grant in &g {
        h.decline(grant, None);
    }
    assert_eq!(h.allocator.role_share("r"), Some(0.0));
    h.advance(Duration::from_secs(1));
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("f1", "a1")]);
    assert_eq!(g[0].resources, res("cpus:2;mem:2048"));
    assert!(matches!(
        h.allocator.remove_agent("a2"),
        Err(AllocatorError::UnknownAgent(_))
    ));
}

#[test]
fn new_agent_triggers_an_allocation_on_that_agent_only() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_framework("f1", "r");
    assert_eq!(h.allocator.poll_timeout(h.now), Duration::ZERO);
    assert!(h.allocator.poll(h.now).is_empty());
    h.add_agent("a1", "cpus:1;mem:1024");
    let g = h.allocator.poll(h.now);
    assert_eq!(pairs(&g), [p("f1", "a1")]);
    h.decline(&g[0], None);

    // The declined a1 waits for the batch; a new agent is allocated at once, alone.
    h.advance(Duration::from_millis(300));
    assert_eq!(h.allocator.poll_timeout(h.now), Duration::from_millis(700));
    h.add_agent("a2", "cpus:1;mem:1024");
    h.add_agent("a3", "cpus:1;mem:1024");
    assert_eq!(h.allocator.poll_timeout(h.now), Duration::ZERO);
    let g = h.allocator.poll(h.now);
    assert_eq!(pairs(&g), [p("f1", "a2"), p("f1", "a3")]);

    h.advance(Duration::from_millis(700));
    let g = h.allocator.poll(h.now);
    assert_eq!(pairs(&g), [p("f1", "a1")]);
    assert_eq!(h.allocator.poll_timeout(h.now), Duration::from_secs(1));
}

#[test]
fn reserved_resources_go_only_to_their_role_and_its_children() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus(eng):2;cpus:2;mem:1024");
    h.add_framework("ops-fw", "ops");
    h.add_framework("eng-fw", "eng/ci");
    h.allocator.suppress_offers("eng-fw", &[]).unwrap();
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("ops-fw", "a1")]);
    assert_eq!(g[0].resources, res("cpus:2;mem:1024"));
    assert_eq!(h.allocator.available("a1"), Some(&res("cpus(eng):2")));

    // The reservation of `eng` is usable by the sub-role `eng/ci`.
    h.allocator.revive_offers("eng-fw", &[]).unwrap();
    let g = h.allocator.poll(h.now);
    assert_eq!(pairs(&g), [p("eng-fw", "a1")]);
    assert_eq!(g[0].resources, res("cpus(eng):2"));
    assert_eq!(&*g[0].role, "eng/ci");
}

#[test]
fn update_agent_changes_totals_and_triggers() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus:1;mem:1024");
    h.add_framework("f1", "r");
    let g = h.allocate();
    assert_eq!(h.allocator.role_share("r"), Some(1.0));
    let err = h
        .allocator
        .update_agent("a1", res("cpus:0.5;mem:1024"))
        .unwrap_err();
    assert!(matches!(err, AllocatorError::TotalBelowAllocation { .. }));
    h.allocator
        .update_agent("a1", res("cpus:4;mem:4096"))
        .unwrap();
    assert_eq!(h.allocator.role_share("r"), Some(0.25));
    let g2 = h.allocator.poll(h.now + Duration::from_millis(1));
    assert_eq!(g2.len(), 1);
    assert_eq!(g2[0].resources, res("cpus:3;mem:3072"));
    h.decline(&g[0], None);
    h.decline(&g2[0], None);
    assert_eq!(h.allocator.available("a1"), Some(&res("cpus:4;mem:4096")));
}

#[test]
fn min_allocatable_resources_hold_back_crumbs() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus:0.005;mem:16;disk:100");
    h.add_framework("f1", "r");
    assert!(h.allocate().is_empty());
}

#[test]
fn agents_re_added_with_used_resources_charge_known_frameworks() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_framework("f1", "r");
    h.allocator
        .add_agent_with_used(
            "a1",
            res("cpus:4;mem:4096"),
            &[
                UsedResources {
                    framework: "f1".into(),
                    role: "r".into(),
                    resources: res("cpus:1;mem:1024"),
                },
                UsedResources {
                    framework: "not-yet-back".into(),
                    role: "r".into(),
                    resources: res("cpus:1;mem:1024"),
                },
            ],
        )
        .unwrap();
    assert_eq!(h.allocator.role_share("r"), Some(0.25));
    assert_eq!(h.allocator.available("a1"), Some(&res("cpus:2;mem:2048")));
    // The unknown framework's resources come back when the master recovers them.
    h.allocator
        .recover_resources(
            "not-yet-back",
            "r",
            "a1",
            &res("cpus:1;mem:1024"),
            None,
            h.now,
        )
        .unwrap();
    assert_eq!(h.allocator.available("a1"), Some(&res("cpus:3;mem:3072")));
}

#[test]
fn removed_framework_stops_counting_and_its_resources_are_recovered_later() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus:1;mem:1024");
    h.add_framework("f1", "r");
    h.add_framework("f2", "s");
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("f1", "a1")]);
    h.allocator.remove_framework("f1").unwrap();
    assert_eq!(
        h.allocator.role_share("r"),
        None,
        "role r has no framework left"
    );
    h.allocator
        .recover_resources("f1", "r", "a1", &g[0].resources, None, h.now)
        .unwrap();
    h.advance(Duration::from_secs(1));
    assert_eq!(pairs(&h.allocate()), [p("f2", "a1")]);
}

#[test]
fn requests_are_recorded_as_hints() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_framework("f1", "r");
    h.allocator
        .request_resources("f1", vec![res("cpus:8")])
        .unwrap();
    assert_eq!(h.allocator.requests("f1"), Some(&[res("cpus:8")][..]));
    assert!(h.allocator.request_resources("nope", vec![]).is_err());
}

fn shuffled_run(seed: u64) -> Vec<(String, String)> {
    let mut h = Harness::<DrfSorter>::with_config(allocator::AllocatorConfig {
        seed,
        ..allocator::AllocatorConfig::default()
    });
    for i in 0..20 {
        h.add_agent(&format!("a{i:02}"), "cpus:1;mem:1024");
    }
    h.add_framework("f1", "r1");
    h.add_framework("f2", "r2");
    pairs(&h.allocate())
}

#[test]
fn the_agent_shuffle_is_seeded_and_deterministic() {
    let a = shuffled_run(7);
    assert_eq!(a, shuffled_run(7), "same seed, same offers");
    assert_ne!(
        a,
        shuffled_run(8),
        "another seed visits agents in another order"
    );
    let mut agents: Vec<&str> = a.iter().map(|(_, agent)| agent.as_str()).collect();
    agents.sort_unstable();
    agents.dedup();
    assert_eq!(agents.len(), 20, "every agent offered exactly once");
}

#[test]
fn deactivated_agents_are_skipped_until_reactivated() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus:1;mem:1024");
    h.add_agent("a2", "cpus:1;mem:1024");
    h.add_framework("f1", "r");
    h.allocator.deactivate_agent("a1").unwrap();
    assert_eq!(pairs(&h.allocate()), [p("f1", "a2")]);
    h.allocator.activate_agent("a1").unwrap();
    h.advance(Duration::from_secs(1));
    assert_eq!(pairs(&h.allocate()), [p("f1", "a1")]);
}

#[test]
fn default_role_frameworks_get_unreserved_resources_only() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus(eng):2;cpus:2;mem:1024");
    h.add_framework("default-fw", "*");
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("default-fw", "a1")]);
    assert_eq!(g[0].resources, res("cpus:2;mem:1024"));
    assert_eq!(&*g[0].role, "*");
    // "*" is a framework role, not a role that can hold a weight.
    assert!(h.allocator.update_weights(&[("*", 2.0)]).is_err());
}

#[test]
fn recovered_resources_wait_for_the_batch_unless_a_run_is_triggered_on_their_agent() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_framework("f1", "r");
    h.add_agent("a1", "cpus:1;mem:1024");
    h.add_agent("a2", "cpus:1;mem:1024");
    let g = h.allocator.poll(h.now);
    assert_eq!(g.len(), 2);

    // A finished task's resources come back on both agents: no run until the batch...
    h.advance(Duration::from_millis(100));
    for grant in &g {
        h.decline(grant, None);
    }
    assert_eq!(h.allocator.poll_timeout(h.now), Duration::from_millis(900));
    // ...unless the caller triggers one on an agent: then that agent alone is offered at once.
    h.allocator.trigger_allocation("a2");
    h.allocator.trigger_allocation("no-such-agent");
    assert_eq!(h.allocator.poll_timeout(h.now), Duration::ZERO);
    let g = h.allocator.poll(h.now);
    assert_eq!(pairs(&g), [p("f1", "a2")]);
    assert_eq!(h.allocator.poll_timeout(h.now), Duration::from_millis(900));
    // An unknown agent triggers nothing.
    h.allocator.trigger_allocation("no-such-agent");
    assert!(!h.allocator.has_pending_trigger());
}
