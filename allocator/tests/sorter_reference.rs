//! The DRF sorter's incremental order against a from-scratch reference sort (flat clients), over
//! random operation sequences, including adversarial names that force sibling renumbering.

use allocator::{DrfSorter, ResourceNames, ScalarQuantities, Sorter};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    Add(String),
    Remove(usize),
    Allocate(usize, u8, u8),
    Unallocate(usize, u8, u8),
    Toggle(usize),
    Weight(usize, u8),
    Total(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => "[ab]{1,6}".prop_map(Op::Add),
        1 => any::<usize>().prop_map(Op::Remove),
        4 => (any::<usize>(), 0..5u8, 0..5u8).prop_map(|(i, c, m)| Op::Allocate(i, c, m)),
        2 => (any::<usize>(), 0..5u8, 0..5u8).prop_map(|(i, c, m)| Op::Unallocate(i, c, m)),
        1 => any::<usize>().prop_map(Op::Toggle),
        1 => (any::<usize>(), 1..4u8).prop_map(|(i, w)| Op::Weight(i, w)),
        1 => (1..50u8, 1..50u8).prop_map(|(c, m)| Op::Total(c, m)),
    ]
}

/// What the reference keeps per client.
#[derive(Default, Clone)]
struct RefClient {
    cpus: i64,
    mem: i64,
    count: u64,
    active: bool,
}

fn reference_order(
    clients: &BTreeMap<String, RefClient>,
    weights: &BTreeMap<String, f64>,
    total: (i64, i64),
) -> Vec<String> {
    let mut v: Vec<(f64, u64, String)> = clients
        .iter()
        .filter(|(_, c)| c.active)
        .map(|(name, c)| {
            let mut share = 0.0f64;
            if total.0 > 0 {
                share = share.max(c.cpus as f64 / total.0 as f64);
            }
            if total.1 > 0 {
                share = share.max(c.mem as f64 / total.1 as f64);
            }
            let w = weights.get(name).copied().unwrap_or(1.0);
            (share / w, c.count, name.clone())
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    v.into_iter().map(|x| x.2).collect()
}

fn q(names: &mut ResourceNames, cpus: u8, mem: u8) -> ScalarQuantities {
    names.quantities(&[("cpus", f64::from(cpus)), ("mem", f64::from(mem))])
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        failure_persistence: None,
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    })]

    #[test]
    fn incremental_order_matches_a_full_sort(ops in proptest::collection::vec(op(), 1..120)) {
        let mut names = ResourceNames::new();
        let mut sorter = DrfSorter::new();
        let mut clients: BTreeMap<String, RefClient> = BTreeMap::new();
        let mut weights: BTreeMap<String, f64> = BTreeMap::new();
        let mut total = (100i64, 100i64);
        sorter.add_total(&q(&mut names, 100, 100));
        for op in ops {
            let keys: Vec<String> = clients.keys().cloned().collect();
            let pick = |i: usize| keys.get(i % keys.len().max(1)).cloned();
            match op {
                Op::Add(name) => {
                    let c = sorter.add_client(&name);
                    sorter.activate(c);
                    clients.entry(name).or_default().active = true;
                }
                Op::Remove(i) => if let Some(name) = pick(i) {
                    sorter.remove_client(sorter.client(&name).unwrap());
                    clients.remove(&name);
                },
                Op::Allocate(i, c, m) => if let Some(name) = pick(i) {
                    sorter.allocated(sorter.client(&name).unwrap(), &q(&mut names, c, m));
                    let e = clients.get_mut(&name).unwrap();
                    e.cpus += i64::from(c);
                    e.mem += i64::from(m);
                    e.count += 1;
                },
                Op::Unallocate(i, c, m) => if let Some(name) = pick(i) {
                    let e = clients.get_mut(&name).unwrap();
                    let (c, m) = (i64::from(c).min(e.cpus), i64::from(m).min(e.mem));
                    e.cpus -= c;
                    e.mem -= m;
                    sorter.unallocated(
                        sorter.client(&name).unwrap(),
                        &q(&mut names, c as u8, m as u8),
                    );
                },
                Op::Toggle(i) => if let Some(name) = pick(i) {
                    let id = sorter.client(&name).unwrap();
                    let e = clients.get_mut(&name).unwrap();
                    e.active = !e.active;
                    if e.active { sorter.activate(id) } else { sorter.deactivate(id) }
                },
                Op::Weight(i, w) => if let Some(name) = pick(i) {
                    sorter.update_weight(&name, f64::from(w));
                    weights.insert(name, f64::from(w));
                },
                Op::Total(c, m) => {
                    sorter.remove_total(&q(&mut names, total.0 as u8, total.1 as u8));
                    total = (i64::from(c), i64::from(m));
                    sorter.add_total(&q(&mut names, c, m));
                }
            }
            let got: Vec<String> = sorter
                .sort()
                .into_iter()
                .map(|c| sorter.path(c).to_string())
                .collect();
            prop_assert_eq!(got, reference_order(&clients, &weights, total));
        }
    }
}

#[test]
fn names_that_squeeze_between_the_same_neighbours_keep_path_order() {
    // "a", "aa", "aaa", ... all sort between "a" and "b": each insert halves the same gap
    // until the siblings must be renumbered.
    let mut sorter = DrfSorter::new();
    let mut expected = vec!["b".to_string()];
    let b = sorter.add_client("b");
    sorter.activate(b);
    for k in 1..=100 {
        let name = "a".repeat(k);
        let c = sorter.add_client(&name);
        sorter.activate(c);
        expected.push(name);
    }
    expected.sort();
    let got: Vec<String> = sorter
        .sort()
        .into_iter()
        .map(|c| sorter.path(c).to_string())
        .collect();
    assert_eq!(got, expected);
}
