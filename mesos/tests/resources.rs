//! Property tests for the resource algebra (proptest).

use std::collections::BTreeSet;

use mesos::resources::{Ranges, Resource, Resources, Scalar, Value};
use proptest::prelude::*;

fn reservation() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some("a".to_string())),
        1 => Just(Some("a/b".to_string())),
        1 => Just(Some("web".to_string())),
    ]
}

fn ranges() -> impl Strategy<Value = Ranges> {
    ranges_up_to(4)
}

/// Up to `n` random ranges; more than 4 also exercises the merge (not in-place) paths.
fn ranges_up_to(n: usize) -> impl Strategy<Value = Ranges> {
    prop::collection::vec((0u64..200, 0u64..20), 0..n)
        .prop_map(|v| Ranges::from_pairs(v.into_iter().map(|(b, len)| (b, b + len))))
}

fn value_for(name: &'static str) -> BoxedStrategy<Value> {
    match name {
        "ports" => ranges().prop_map(Value::Ranges).boxed(),
        "disks" => prop::collection::btree_set("[a-e]", 0..4)
            .prop_map(Value::Set)
            .boxed(),
        _ => (0i64..100_000)
            .prop_map(|m| Value::Scalar(Scalar::from_millis(m)))
            .boxed(),
    }
}

fn resource() -> impl Strategy<Value = Resource> {
    prop::sample::select(vec![
        "cpus", "mem", "disk", "gpus", "ports", "disks", "custom",
    ])
    .prop_flat_map(|name| (Just(name), value_for(name), reservation()))
    .prop_map(|(name, value, reservation)| Resource {
        name: name.to_string(),
        value,
        reservation,
    })
}

fn resources() -> impl Strategy<Value = Resources> {
    prop::collection::vec(resource(), 0..8).prop_map(|v| v.into_iter().collect())
}

/// The non-scalar part: what is set-like (union, not sum) under `+`.
fn set_like(r: &Resources) -> Resources {
    r.filter(|e| !matches!(e.value, Value::Scalar(_)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn addition_commutes(a in resources(), b in resources()) {
        prop_assert_eq!(&a + &b, &b + &a);
    }

    #[test]
    fn addition_associates(a in resources(), b in resources(), c in resources()) {
        prop_assert_eq!(&(&a + &b) + &c, &a + &(&b + &c));
    }

    /// Ranges and sets are sets, so `(a + b) - b == a` needs b's ranges and
    /// set items disjoint from a's (as in Mesos); scalars always cancel.
    #[test]
    fn add_then_sub_cancels(a in resources(), b in resources()) {
        let b = &b - &set_like(&a);
        prop_assert_eq!(&(&a + &b) - &b, a);
    }

    #[test]
    fn sum_contains_its_parts(a in resources(), b in resources()) {
        let sum = &a + &b;
        prop_assert!(sum.contains(&a));
        prop_assert!(sum.contains(&b));
    }

    #[test]
    fn sub_of_contained_part_adds_back(a in resources(), x in resources()) {
        let b = &a - &x; // b ⊆ a
        prop_assert!(a.contains(&b));
        prop_assert!(a.contains(&(&a - &b)));
        prop_assert_eq!(&(&a - &b) + &b, a);
    }

    #[test]
    fn difference_is_contained(a in resources(), b in resources()) {
        prop_assert!(a.contains(&(&a - &b)));
    }

    #[test]
    fn contains_is_reflexive_and_antisymmetric(a in resources(), b in resources()) {
        prop_assert!(a.contains(&a));
        if a.contains(&b) && b.contains(&a) {
            prop_assert_eq!(&a, &b);
        }
        prop_assert!(a.contains(&Resources::new()));
    }

    #[test]
    fn contains_is_transitive(a in resources(), x in resources(), y in resources(), c in resources()) {
        let b = &a + &x;
        let c2 = &b + &y;
        prop_assert!(b.contains(&a) && c2.contains(&b) && c2.contains(&a));
        // Random triples, where the premise rarely holds, must not contradict it either.
        if a.contains(&b) && b.contains(&c) {
            prop_assert!(a.contains(&c));
        }
    }

    #[test]
    fn text_round_trip(a in resources()) {
        let text = a.to_string();
        let back: Resources = text.parse().unwrap();
        prop_assert_eq!(back.to_string(), text);
        prop_assert_eq!(back, a);
    }

    #[test]
    fn json_round_trip(a in resources()) {
        let back = Resources::from_json(&a.to_json()).unwrap();
        prop_assert_eq!(back, a);
    }

    #[test]
    fn bincode_round_trip(a in resources()) {
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&a, cfg).unwrap();
        let (back, _): (Resources, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        prop_assert_eq!(back, a);
    }

    #[test]
    fn canonical_form_has_no_empty_or_duplicate_entries(a in resources(), b in resources()) {
        for r in [&a + &b, &a - &b, a.flatten()] {
            let entries: Vec<&Resource> = r.iter().collect();
            for (i, e) in entries.iter().enumerate() {
                prop_assert!(!e.value.is_empty());
                prop_assert!(entries[i + 1..].iter().all(|o| !o.same_key(e)));
            }
        }
    }

    #[test]
    fn flatten_keeps_scalar_totals(a in resources()) {
        let flat = a.flatten();
        for name in ["cpus", "mem", "disk", "gpus", "custom"] {
            prop_assert_eq!(flat.scalar(name), a.scalar(name));
        }
        prop_assert!(flat.iter().all(|r| r.reservation.is_none()));
    }

    #[test]
    fn allocatable_splits_reserved_and_unreserved(a in resources()) {
        let web = a.allocatable_to("web");
        prop_assert_eq!(web, &a.unreserved() + &a.reserved("web"));
        let sub = a.allocatable_to("a/b");
        prop_assert_eq!(sub, &(&a.unreserved() + &a.reserved("a")) + &a.reserved("a/b"));
    }

    /// Ranges against a model: a BTreeSet of the values.
    #[test]
    fn ranges_match_a_set_model(a in ranges_up_to(12), b in ranges_up_to(12)) {
        let model = |r: &Ranges| r.values().collect::<BTreeSet<u64>>();
        let (ma, mb) = (model(&a), model(&b));
        let mut sum = a.clone();
        sum.add(&b);
        prop_assert_eq!(model(&sum), ma.union(&mb).copied().collect::<BTreeSet<_>>());
        let mut diff = a.clone();
        diff.sub(&b);
        prop_assert_eq!(model(&diff), ma.difference(&mb).copied().collect::<BTreeSet<_>>());
        prop_assert_eq!(a.contains(&b), mb.is_subset(&ma));
        prop_assert_eq!(a.len(), ma.len() as u64);
        // Canonical: sorted, disjoint, not adjacent.
        for r in [&sum, &diff] {
            let pairs: Vec<(u64, u64)> = r.iter().collect();
            prop_assert!(pairs.windows(2).all(|w| w[0].1 + 1 < w[1].0));
            prop_assert!(pairs.iter().all(|(b, e)| b <= e));
        }
        for v in 0..230 {
            prop_assert_eq!(a.contains_value(v), ma.contains(&v));
        }
    }

    #[test]
    fn scalar_sums_are_exact(millis in prop::collection::vec(0i64..10_000, 0..50)) {
        let total: Scalar = millis.iter().map(|&m| Scalar::from_f64(m as f64 / 1000.0)).sum();
        prop_assert_eq!(total.millis(), millis.iter().sum::<i64>());
    }
}

#[test]
fn tenths_do_not_drift() {
    let a: Resources = "cpus:0.1".parse().unwrap();
    let b: Resources = "cpus:0.2".parse().unwrap();
    assert_eq!(&a + &b, "cpus:0.3".parse().unwrap());
    let mut acc = Resources::new();
    for _ in 0..1000 {
        acc += &a;
    }
    for _ in 0..999 {
        acc -= &a;
    }
    assert_eq!(acc, a);
}

proptest! {
    /// Hostile text never panics the parsers (agents parse flags, masters parse
    /// JSON from the network); whatever parses prints back to an equal value.
    #[test]
    fn parsers_never_panic(text in "[a-z0-9():;,\\[\\]{}\\-. *]{0,40}|\\PC{0,40}") {
        if let Ok(r) = Resources::parse(&text) {
            prop_assert_eq!(Resources::parse(&r.to_string()).unwrap(), r);
        }
        if let Ok(a) = mesos::Attributes::parse(&text) {
            let _ = a.to_string();
        }
        let _ = Resources::from_json(&text);
        let _ = text.parse::<Ranges>();
    }
}
