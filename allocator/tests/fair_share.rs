//! Weighted fair sharing between roles and between the frameworks of a role, and the sorter seam.

mod util;

use allocator::{Allocator, DrfSorter, PrioritySorter};
use std::collections::BTreeMap;
use util::Harness;

fn grants_per_framework<S: allocator::Sorter>(h: &mut Harness<S>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for g in h.allocate() {
        *out.entry(g.framework.to_string()).or_default() += 1;
    }
    out
}

fn thirty_agents<S: allocator::Sorter>(h: &mut Harness<S>) {
    for i in 0..30 {
        h.add_agent(&format!("agent-{i:02}"), "cpus:1;mem:1024");
    }
}

#[test]
fn weights_two_to_one_give_a_two_to_one_split() {
    let mut h = Harness::<DrfSorter>::new();
    thirty_agents(&mut h);
    h.add_framework("f-heavy", "heavy");
    h.add_framework("f-light", "light");
    h.allocator
        .update_weights(&[("heavy", 2.0), ("light", 1.0)])
        .unwrap();
    let split = grants_per_framework(&mut h);
    assert_eq!(split["f-heavy"], 20);
    assert_eq!(split["f-light"], 10);
}

#[test]
fn equal_weights_split_evenly_and_frameworks_share_their_role() {
    let mut h = Harness::<DrfSorter>::new();
    thirty_agents(&mut h);
    h.add_framework("x1", "x");
    h.add_framework("x2", "x");
    h.add_framework("y1", "y");
    let split = grants_per_framework(&mut h);
    // Roles x and y get 15 agents each; inside x, DRF splits 15 as 8 and 7 (x1 wins ties by name).
    assert_eq!(split["y1"], 15);
    assert_eq!(split["x1"], 8);
    assert_eq!(split["x2"], 7);
}

#[test]
fn first_offers_follow_drf_order_with_name_tie_break() {
    let mut h = Harness::<DrfSorter>::new();
    for i in 0..4 {
        h.add_agent(&format!("a{i}"), "cpus:1;mem:1024");
    }
    h.add_framework("fb", "b");
    h.add_framework("fa", "a");
    let order: Vec<String> = h
        .allocate()
        .iter()
        .map(|g| g.framework.to_string())
        .collect();
    assert_eq!(order, ["fa", "fb", "fa", "fb"]);
}

#[test]
fn invalid_weights_are_rejected_without_effect() {
    let mut h = Harness::<DrfSorter>::new();
    let err = h
        .allocator
        .update_weights(&[("a", 2.0), ("b", 0.0)])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid weight 0 for role b: weights must be positive and finite"
    );
    assert!(h.allocator.update_weights(&[("a", f64::NAN)]).is_err());
    assert!(h.allocator.update_weights(&[("*", 1.0)]).is_err());
}

#[test]
fn priority_sorter_is_a_drop_in_replacement_with_a_different_order() {
    // Same cluster, same weights: DRF shares 2:1, strict priority gives everything to the
    // heavier role.
    let mut drf = Harness::<DrfSorter>::new();
    let mut prio = Harness::<PrioritySorter>::new();
    thirty_agents(&mut drf);
    thirty_agents(&mut prio);
    for h_frameworks in [("f-heavy", "heavy"), ("f-light", "light")] {
        drf.add_framework(h_frameworks.0, h_frameworks.1);
        prio.add_framework(h_frameworks.0, h_frameworks.1);
    }
    drf.allocator.update_weights(&[("heavy", 2.0)]).unwrap();
    prio.allocator.update_weights(&[("heavy", 2.0)]).unwrap();
    let drf_split = grants_per_framework(&mut drf);
    let prio_split = grants_per_framework(&mut prio);
    assert_eq!(drf_split["f-heavy"], 20);
    assert_eq!(prio_split["f-heavy"], 30);
    assert_eq!(prio_split.get("f-light"), None);
}
