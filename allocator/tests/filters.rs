//! Refusal filters: what a decline blocks, for whom, and for how long.

mod util;

use allocator::{Allocator, DrfSorter};
use std::time::Duration;
use util::{pairs, res, Harness};

fn one_agent_two_frameworks() -> Harness<DrfSorter> {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:4;mem:4096;ports:[31000-32000]");
    h.add_framework("f1", "r");
    h.add_framework("f2", "r");
    h
}

fn p(f: &str, a: &str) -> (String, String) {
    (f.to_string(), a.to_string())
}

#[test]
fn declined_offer_goes_to_others_at_once_and_back_only_after_refuse_seconds() {
    let mut h = one_agent_two_frameworks();
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("f1", "agent")]);
    h.decline(&g[0], Some(5.0));

    // Offered to the other framework in the very next run.
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("f2", "agent")]);
    h.decline(&g[0], Some(0.0));

    // f1's filter holds for 5 s even though f1 now has the lower allocation count.
    h.advance(Duration::from_millis(4999));
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("f2", "agent")]);
    h.decline(&g[0], Some(0.0));

    h.advance(Duration::from_millis(1));
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("f1", "agent")]);
}

#[test]
fn short_filters_last_at_least_one_allocation_interval() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:1;mem:1024");
    h.add_framework("f1", "r");
    let g = h.allocate();
    h.decline(&g[0], Some(0.1));
    h.advance(Duration::from_millis(500));
    assert!(h.allocate().is_empty());
    h.advance(Duration::from_millis(500));
    assert_eq!(pairs(&h.allocate()), [p("f1", "agent")]);
}

#[test]
fn zero_refuse_seconds_creates_no_filter_and_negative_means_five_seconds() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:1;mem:1024");
    h.add_framework("f1", "r");
    let g = h.allocate();
    h.decline(&g[0], Some(0.0));
    assert_eq!(h.allocator.filter_count("agent"), 0);
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("f1", "agent")]);
    h.decline(&g[0], Some(-3.0));
    h.advance(Duration::from_millis(4999));
    assert!(h.allocate().is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(h.allocate().len(), 1);
}

#[test]
fn filter_blocks_only_subsets_of_the_refused_resources() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:4;mem:4096");
    h.add_framework("f1", "r");
    let g = h.allocate().remove(0);
    // Launch a task on half and refuse the other half for a minute.
    let task = res("cpus:2;mem:2048");
    let rest = &g.resources - &task;
    h.allocator
        .recover_resources("f1", "r", "agent", &rest, Some(60.0), h.now)
        .unwrap();
    h.advance(Duration::from_secs(1));
    assert!(h.allocate().is_empty(), "the refused half is filtered");

    // The task finishes: now more is free than was refused, so the offer goes through.
    h.allocator
        .recover_resources("f1", "r", "agent", &task, None, h.now)
        .unwrap();
    h.advance(Duration::from_secs(1));
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("f1", "agent")]);
    assert_eq!(g[0].resources, res("cpus:4;mem:4096"));
}

#[test]
fn revive_clears_filters_and_triggers_an_allocation() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:1;mem:1024");
    h.add_framework("f1", "r");
    let g = h.allocate();
    h.decline(&g[0], Some(3600.0));
    assert!(
        !h.allocator.has_pending_trigger(),
        "recover does not trigger"
    );
    assert!(h.allocator.allocate_triggered(h.now).is_empty());
    h.allocator.revive_offers("f1", &[]).unwrap();
    assert!(h.allocator.has_pending_trigger());
    assert_eq!(h.allocator.poll_timeout(h.now), Duration::ZERO);
    let g = h.allocator.poll(h.now);
    assert_eq!(pairs(&g), [p("f1", "agent")]);
}

#[test]
fn deactivation_clears_all_filters_of_the_framework() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:1;mem:1024");
    h.add_framework("f1", "r");
    let g = h.allocate();
    h.decline(&g[0], Some(3600.0));
    assert_eq!(h.allocator.filter_count("agent"), 1);
    h.allocator.deactivate_framework("f1").unwrap();
    assert_eq!(h.allocator.filter_count("agent"), 0);
    assert!(h.allocate().is_empty(), "inactive frameworks get nothing");
    h.allocator.activate_framework("f1").unwrap();
    assert_eq!(
        pairs(&h.allocator.allocate_triggered(h.now)),
        [p("f1", "agent")]
    );
}

#[test]
fn recovering_what_was_not_allocated_is_an_error() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:1;mem:1024");
    h.add_framework("f1", "r");
    let g = h.allocate().remove(0);
    h.decline(&g, None);
    let err = h
        .allocator
        .recover_resources("f1", "r", "agent", &g.resources, None, h.now)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot recover cpus:1;mem:1024 on agent agent for framework f1: not allocated"
    );
    // Recovering on an agent that is gone is a no-op.
    assert!(h
        .allocator
        .recover_resources("f1", "r", "gone", &g.resources, None, h.now)
        .is_ok());
}

#[test]
fn role_whose_frameworks_all_refused_the_agent_is_skipped_until_someone_new_joins() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:4;mem:4096");
    h.add_framework("a1", "a");
    h.add_framework("a2", "a");
    h.add_framework("b1", "b");
    h.allocator.suppress_offers("b1", &[]).unwrap();
    for expected in ["a1", "a2"] {
        let g = h.allocate();
        assert_eq!(pairs(&g), [p(expected, "agent")]);
        h.decline(&g[0], Some(60.0));
    }
    // Both frameworks of role a refused the whole agent; b1 is suppressed.
    assert!(h.allocate().is_empty());
    h.allocator.revive_offers("b1", &[]).unwrap();
    let g = h.allocator.poll(h.now);
    assert_eq!(pairs(&g), [p("b1", "agent")]);
    h.decline(&g[0], Some(60.0));
    assert!(h.allocate().is_empty());
    // A newcomer in role a has refused nothing.
    h.add_framework("a3", "a");
    assert_eq!(pairs(&h.allocator.poll(h.now)), [p("a3", "agent")]);
}

#[test]
fn filters_survive_a_total_change_and_still_block_only_subsets_of_the_old_total() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:4;mem:4096");
    h.add_framework("f1", "r");
    let g = h.allocate();
    h.decline(&g[0], Some(60.0));
    // Shrinking keeps every possible offer inside what was refused.
    h.allocator
        .update_agent("agent", res("cpus:2;mem:4096"))
        .unwrap();
    assert!(h.allocator.poll(h.now).is_empty());
    assert_eq!(h.allocator.filter_count("agent"), 1);
    // Growing beyond the refused resources lets the offer through at once (update triggers).
    h.allocator
        .update_agent("agent", res("cpus:8;mem:4096"))
        .unwrap();
    let g = h.allocator.poll(h.now);
    assert_eq!(pairs(&g), [p("f1", "agent")]);
    assert_eq!(g[0].resources, res("cpus:8;mem:4096"));
}

#[test]
fn a_run_with_nothing_changed_offers_nothing_until_a_filter_expires_or_an_event() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("a1", "cpus:4;mem:4096");
    h.add_framework("f1", "r");
    let g = h.allocate();
    assert_eq!(pairs(&g), [p("f1", "a1")]);
    h.decline(&g[0], Some(5.0));
    // Refused by the only framework: nothing to offer, run after run (these runs are skipped).
    for _ in 0..4 {
        h.advance(Duration::from_secs(1));
        assert!(h.allocate().is_empty());
    }
    // The filter expires at 5 s, with no event in between: the run must see it.
    h.advance(Duration::from_secs(1));
    assert_eq!(pairs(&h.allocate()), [p("f1", "a1")]);
    // The offer is outstanding and nothing changed: nothing more, however late.
    h.advance(Duration::from_secs(3600));
    assert!(h.allocate().is_empty());
    // An event (a new agent) is seen by the next run.
    h.add_agent("a2", "cpus:4;mem:4096");
    assert_eq!(pairs(&h.allocate()), [p("f1", "a2")]);
}
