//! The five DRF sorter worked examples of MESOS-SEMANTICS §1, reproduced exactly, plus
//! tree-shape edge cases (virtual leaves, removal, inactive clients).

use allocator::{ClientId, DrfSorter, ResourceNames, ScalarQuantities, Sorter};

/// A sorter with one agent of `cpus:100;mem:100`, and a quantity builder.
struct Fixture {
    names: ResourceNames,
    sorter: DrfSorter,
}

impl Fixture {
    fn new(cpus: f64, mem: f64) -> Self {
        let mut names = ResourceNames::new();
        let mut sorter = DrfSorter::new();
        sorter.add_total(&names.quantities(&[("cpus", cpus), ("mem", mem)]));
        Self { names, sorter }
    }

    fn q(&mut self, cpus: f64, mem: f64) -> ScalarQuantities {
        self.names.quantities(&[("cpus", cpus), ("mem", mem)])
    }

    fn add(&mut self, path: &str) -> ClientId {
        let c = self.sorter.add_client(path);
        self.sorter.activate(c);
        c
    }

    fn alloc(&mut self, path: &str, cpus: f64, mem: f64) {
        let q = self.q(cpus, mem);
        let c = self.sorter.client(path).expect("client");
        self.sorter.allocated(c, &q);
    }

    fn unalloc(&mut self, path: &str, cpus: f64, mem: f64) {
        let q = self.q(cpus, mem);
        let c = self.sorter.client(path).expect("client");
        self.sorter.unallocated(c, &q);
    }

    fn order(&mut self) -> Vec<String> {
        let ids = self.sorter.sort();
        ids.into_iter()
            .map(|c| self.sorter.path(c).to_string())
            .collect()
    }

    fn share(&self, path: &str) -> f64 {
        self.sorter.share(self.sorter.client(path).expect("client"))
    }
}

#[test]
fn example_1_drf_shares_and_removal() {
    let mut f = Fixture::new(100.0, 100.0);
    f.add("a");
    f.alloc("a", 5.0, 5.0);
    f.add("b");
    f.alloc("b", 6.0, 6.0);
    assert_eq!(f.share("a"), 0.05);
    assert_eq!(f.share("b"), 0.06);
    assert_eq!(f.order(), ["a", "b"]);

    f.add("c");
    f.alloc("c", 1.0, 1.0);
    f.add("d");
    f.alloc("d", 3.0, 1.0);
    assert_eq!(f.order(), ["c", "d", "a", "b"]);

    let a = f.sorter.client("a").unwrap();
    f.sorter.remove_client(a);
    f.unalloc("b", 4.0, 4.0);
    assert_eq!(f.order(), ["c", "b", "d"]);
}

#[test]
fn example_2_weighted_drf() {
    let mut f = Fixture::new(100.0, 100.0);
    f.sorter.update_weight("b", 2.0);
    f.add("a");
    f.alloc("a", 5.0, 5.0);
    f.add("b");
    f.alloc("b", 6.0, 6.0);
    assert_eq!(f.share("b"), 0.06 / 2.0);
    assert_eq!(f.order(), ["b", "a"]);

    f.sorter.update_weight("d", 10.0);
    f.add("d");
    f.alloc("d", 10.0, 20.0);
    assert_eq!(f.share("d"), 0.2 / 10.0);
    assert_eq!(f.order(), ["d", "b", "a"]);

    f.sorter.update_weight("e", 0.1);
    f.add("e");
    f.alloc("e", 1.0, 1.0);
    assert!((f.share("e") - 0.1).abs() < 1e-12);
    assert_eq!(f.order(), ["d", "b", "a", "e"]);
}

#[test]
fn example_3_allocation_count_tie_break() {
    let mut f = Fixture::new(100.0, 100.0);
    for c in ["a", "b", "c", "d", "e"] {
        f.add(c);
    }
    f.alloc("a", 3.0, 3.0);
    f.alloc("b", 3.0, 3.0);
    f.alloc("c", 1.0, 1.0);
    f.alloc("c", 1.0, 1.0);
    f.alloc("c", 1.0, 1.0);
    f.alloc("d", 2.0, 2.0);
    f.alloc("d", 1.0, 1.0);
    f.alloc("e", 3.0, 3.0);
    assert_eq!(f.order(), ["a", "b", "e", "d", "c"]);

    f.unalloc("c", 3.0, 3.0);
    assert_eq!(f.order(), ["c", "a", "b", "e", "d"]);

    f.alloc("c", 3.0, 3.0);
    let c = f.sorter.client("c").unwrap();
    assert_eq!(f.sorter.allocation_count(c), 4);
    assert_eq!(f.order(), ["a", "b", "e", "d", "c"]);
}

#[test]
fn example_4_hierarchical_subtrees() {
    let mut f = Fixture::new(100.0, 100.0);
    f.add("a");
    f.add("b/c");
    f.add("b/d");
    f.alloc("a", 6.0, 6.0);
    f.alloc("b/c", 4.0, 4.0);
    f.alloc("b/d", 3.0, 3.0);
    assert_eq!(f.order(), ["a", "b/d", "b/c"]);
}

#[test]
fn example_5_dominant_resource_changes_with_total() {
    let mut f = Fixture::new(10.0, 100.0);
    f.add("a");
    f.add("b");
    f.alloc("a", 2.0, 1.0);
    f.alloc("b", 1.0, 2.0);
    assert_eq!(f.share("a"), 0.2);
    assert_eq!(f.share("b"), 0.1);
    assert_eq!(f.order(), ["b", "a"]);

    // Changing an agent's total is removing it and adding it back.
    let old = f.q(10.0, 100.0);
    let new = f.q(100.0, 10.0);
    f.sorter.remove_total(&old);
    f.sorter.add_total(&new);
    assert_eq!(f.share("a"), 0.1);
    assert_eq!(f.share("b"), 0.2);
    assert_eq!(f.order(), ["a", "b"]);
}

#[test]
fn weight_on_internal_node_applies_to_subtree_but_not_virtual_leaf() {
    // ChangeWeightOnSubtree: a weight on `b` scales the subtree `b`; `b/.` keeps weight 1.
    let mut f = Fixture::new(100.0, 100.0);
    f.add("a");
    f.add("b");
    f.add("b/z");
    f.alloc("a", 10.0, 10.0);
    f.alloc("b", 6.0, 6.0);
    f.alloc("b/z", 8.0, 8.0);
    // Subtree b holds 14: .14 > .10, so a first; inside b, b/. (.06) before b/z (.08).
    assert_eq!(f.order(), ["a", "b", "b/z"]);
    f.sorter.update_weight("b", 2.0);
    // Subtree b now .07 < .10.
    assert_eq!(f.order(), ["b", "b/z", "a"]);
    f.sorter.update_weight("b/z", 4.0);
    // b/z .02 beats b/. .06.
    assert_eq!(f.order(), ["b/z", "b", "a"]);
}

#[test]
fn leaf_becomes_internal_and_back() {
    let mut f = Fixture::new(100.0, 100.0);
    f.add("a");
    f.alloc("a", 5.0, 5.0);
    f.add("a/b");
    f.alloc("a/b", 1.0, 1.0);
    f.add("c");
    f.alloc("c", 7.0, 7.0);
    // Subtree a holds 6 (< c's 7); inside a, a/b (.01) before a/. (.05).
    assert_eq!(f.order(), ["a/b", "a", "c"]);
    assert_eq!(f.share("a"), 0.05);
    let ab = f.sorter.client("a/b").unwrap();
    f.sorter.remove_client(ab);
    // `a` is a plain leaf again with its own allocation only.
    assert_eq!(f.order(), ["a", "c"]);
    assert_eq!(f.share("a"), 0.05);
    f.add("a/x");
    f.alloc("a/x", 3.0, 3.0);
    // Subtree a now holds 8 > 7; inside a, a/x (.03) before a/. (.05).
    assert_eq!(f.order(), ["c", "a/x", "a"]);
}

#[test]
fn inactive_clients_keep_allocation_but_are_not_sorted() {
    let mut f = Fixture::new(100.0, 100.0);
    f.add("a");
    f.add("b");
    f.alloc("a", 1.0, 1.0);
    let a = f.sorter.client("a").unwrap();
    f.sorter.deactivate(a);
    assert_eq!(f.order(), ["b"]);
    // Allocations to an inactive client still count.
    f.alloc("a", 1.0, 1.0);
    assert_eq!(f.sorter.allocation_count(a), 2);
    f.sorter.activate(a);
    assert_eq!(f.order(), ["b", "a"]);
    // Internal nodes with only inactive leaves contribute nothing.
    f.add("x/y");
    let xy = f.sorter.client("x/y").unwrap();
    f.sorter.deactivate(xy);
    assert_eq!(f.order(), ["b", "a"]);
}

#[test]
fn added_clients_start_inactive_and_ids_are_reused() {
    let mut s = DrfSorter::new();
    let a = s.add_client("a");
    assert!(!s.is_active(a));
    assert_eq!(s.sort(), Vec::<ClientId>::new());
    assert_eq!(s.add_client("a"), a);
    s.remove_client(a);
    assert!(s.is_empty());
    let b = s.add_client("b");
    assert_eq!(b, a);
    assert_eq!(s.path(b), "b");
}
