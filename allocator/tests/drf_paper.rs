//! The example of the DRF paper (Ghodsi et al., NSDI 2011, §4): 9 CPUs and 18 GB; framework A runs
//! tasks of <1 CPU, 4 GB>, B tasks of <3 CPUs, 1 GB>. DRF gives A three tasks and B two, both
//! ending with a dominant share of 2/3.
//!
//! The test drives the allocator like real schedulers: each offer goes to whichever framework the
//! allocator picks; that framework launches one task if it fits and returns the rest (declining
//! with a filter when nothing fits). The outcome follows only from the allocator's order.

mod util;

use allocator::{DrfSorter, OfferGrant};
use mesos::resources::Resources;
use std::collections::BTreeMap;
use std::time::Duration;
use util::{res, Harness};

#[test]
fn drf_paper_example_gives_a_three_tasks_and_b_two() {
    let mut h = Harness::<DrfSorter>::new();
    h.add_agent("agent", "cpus:9;mem:18432");
    h.add_framework("A", "a");
    h.add_framework("B", "b");
    let task: BTreeMap<&str, Resources> =
        [("A", res("cpus:1;mem:4096")), ("B", res("cpus:3;mem:1024"))]
            .into_iter()
            .collect();
    let mut launched: BTreeMap<String, u32> = BTreeMap::new();
    let mut order = Vec::new();

    for _cycle in 0..50 {
        let grants: Vec<OfferGrant> = h.allocate();
        if grants.is_empty() {
            break;
        }
        for g in grants {
            let need = &task[&*g.framework];
            if g.resources.contains(need) {
                // Launch one task and return the rest at once, without a filter.
                *launched.entry(g.framework.to_string()).or_default() += 1;
                order.push(g.framework.to_string());
                let rest = &g.resources - need;
                let unused = allocator::OfferGrant {
                    resources: rest,
                    ..g
                };
                h.decline(&unused, Some(0.0));
            } else {
                // Nothing fits: decline for a long time.
                h.decline(&g, Some(3600.0));
            }
        }
        h.advance(Duration::from_secs(1));
    }

    assert_eq!(launched.get("A"), Some(&3));
    assert_eq!(launched.get("B"), Some(&2));
    // The exact progressive-filling order: A, B, A, B, A.
    assert_eq!(order, ["A", "B", "A", "B", "A"]);
    // Both dominant shares are 2/3 (A: 12 of 18 GB; B: 6 of 9 CPUs).
    let share_a = h.allocator.role_share("a").unwrap();
    let share_b = h.allocator.role_share("b").unwrap();
    assert!((share_a - 2.0 / 3.0).abs() < 1e-9, "{share_a}");
    assert!((share_b - 2.0 / 3.0).abs() < 1e-9, "{share_b}");
    // What is left (0 CPUs, 4 GB) fits neither framework.
    assert_eq!(h.allocator.available("agent"), Some(&res("mem:4096")));
}
