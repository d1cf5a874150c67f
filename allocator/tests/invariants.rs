//! Property test: 10,000 random event sequences never offer the same resource twice and never
//! offer more than an agent has.
//!
//! A model plays the master: it remembers every outstanding grant (offered or in use) and after
//! every step checks, per agent, that `available + outstanding == total` and that each new grant
//! fits in what is not outstanding (for ports, a set difference: no port is offered twice).

mod util;

use allocator::{Allocator, AllocatorConfig, DrfSorter, FrameworkOptions, HierarchicalAllocator};
use mesos::resources::Resources;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use util::res;

const AGENTS: usize = 4;
const FRAMEWORKS: usize = 4;
const ROLES: [&str; 3] = ["r0", "r1", "r1/sub"];

#[derive(Clone, Debug)]
enum Event {
    AddAgent(usize, usize),
    RemoveAgent(usize),
    UpdateAgent(usize, usize),
    AddFramework(usize, usize, bool),
    RemoveFramework(usize),
    Deactivate(usize),
    Activate(usize),
    Suppress(usize),
    Revive(usize),
    Allocate,
    Triggered,
    /// Return the grant at this index of the outstanding list, with a filter choice.
    Decline(usize, u8),
    /// Keep a small task out of the grant and return the rest.
    Launch(usize),
    Advance(u64),
    Weight(usize, u8),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        2 => (0..AGENTS, 0..3usize).prop_map(|(a, t)| Event::AddAgent(a, t)),
        1 => (0..AGENTS).prop_map(Event::RemoveAgent),
        1 => (0..AGENTS, 0..3usize).prop_map(|(a, t)| Event::UpdateAgent(a, t)),
        2 => (0..FRAMEWORKS, 0..ROLES.len(), any::<bool>())
            .prop_map(|(f, r, two)| Event::AddFramework(f, r, two)),
        1 => (0..FRAMEWORKS).prop_map(Event::RemoveFramework),
        1 => (0..FRAMEWORKS).prop_map(Event::Deactivate),
        1 => (0..FRAMEWORKS).prop_map(Event::Activate),
        1 => (0..FRAMEWORKS).prop_map(Event::Suppress),
        1 => (0..FRAMEWORKS).prop_map(Event::Revive),
        4 => Just(Event::Allocate),
        2 => Just(Event::Triggered),
        4 => (0..8usize, 0..4u8).prop_map(|(i, f)| Event::Decline(i, f)),
        3 => (0..8usize).prop_map(Event::Launch),
        2 => (0..3000u64).prop_map(Event::Advance),
        1 => (0..ROLES.len(), 1..5u8).prop_map(|(r, w)| Event::Weight(r, w)),
    ]
}

const TOTALS: [&str; 3] = [
    "cpus:4;mem:4096;ports:[31000-31009]",
    "cpus:2;mem:1024;cpus(r1):2;ports:[31000-31004]",
    "cpus:8;mem:512;disk:100;gpus:1",
];

/// Outstanding grant: (framework, role, agent, resources).
type Outstanding = Vec<(String, String, String, Resources)>;

struct Model {
    /// `TOTALS` parsed once.
    parsed_totals: Vec<Resources>,
    task: Resources,
    alloc: HierarchicalAllocator<DrfSorter>,
    now: Instant,
    totals: BTreeMap<String, Resources>,
    frameworks: BTreeMap<String, Vec<String>>,
    outstanding: Outstanding,
}

impl Model {
    fn check_grants(&mut self, grants: Vec<allocator::OfferGrant>) {
        for g in grants {
            let agent = g.agent.to_string();
            let total = &self.totals[&agent];
            let mut used = self.outstanding_on(&agent);
            // The grant must fit in what is not outstanding: for ports and sets, whose sum is a
            // union, this is what catches the same port offered twice.
            let free = total - &used;
            assert!(
                free.contains(&g.resources),
                "agent {agent}: {} offered while only {free} is free",
                g.resources
            );
            used += &g.resources;
            assert!(
                total.contains(&used),
                "agent {agent} over-offered: {used} > {total}"
            );
            assert!(!g.resources.is_empty());
            let roles = &self.frameworks[&*g.framework];
            assert!(
                roles.iter().any(|r| **r == *g.role),
                "offer in a foreign role"
            );
            for r in g.resources.iter() {
                if let Some(reserved) = &r.reservation {
                    assert!(
                        g.role.starts_with(reserved.as_str()),
                        "reservation {reserved} offered to {}",
                        g.role
                    );
                }
            }
            self.outstanding.push((
                g.framework.to_string(),
                g.role.to_string(),
                agent,
                g.resources,
            ));
        }
    }

    fn outstanding_on(&self, agent: &str) -> Resources {
        let mut used = Resources::new();
        for (_, _, a, r) in &self.outstanding {
            if a == agent {
                used += r;
            }
        }
        used
    }

    fn check_conservation(&self) {
        for (agent, total) in &self.totals {
            let available = self.alloc.available(agent).expect("known agent").clone();
            let sum = available + &self.outstanding_on(agent);
            assert_eq!(
                &sum, total,
                "agent {agent}: available + outstanding != total"
            );
        }
    }

    fn recover(&mut self, i: usize, refuse: Option<f64>) {
        let (f, role, a, r) = self.outstanding.remove(i);
        self.alloc
            .recover_resources(&f, &role, &a, &r, refuse, self.now)
            .expect("recover outstanding grant");
    }

    fn step(&mut self, e: Event) {
        match e {
            Event::AddAgent(a, t) => {
                let id = format!("a{a}");
                if !self.totals.contains_key(&id) {
                    let total = self.parsed_totals[t].clone();
                    self.alloc.add_agent(&id, total.clone()).unwrap();
                    self.totals.insert(id, total);
                }
            }
            Event::RemoveAgent(a) => {
                let id = format!("a{a}");
                if self.totals.remove(&id).is_some() {
                    self.alloc.remove_agent(&id).unwrap();
                    self.outstanding.retain(|(_, _, ag, _)| *ag != id);
                }
            }
            Event::UpdateAgent(a, t) => {
                let id = format!("a{a}");
                if self.totals.contains_key(&id) {
                    let new = self.parsed_totals[t].clone();
                    let fits = new.contains(&self.outstanding_on(&id));
                    let result = self.alloc.update_agent(&id, new.clone());
                    assert_eq!(result.is_ok(), fits, "{result:?}");
                    if fits {
                        self.totals.insert(id, new);
                    }
                }
            }
            Event::AddFramework(f, r, two) => {
                let id = format!("f{f}");
                if !self.frameworks.contains_key(&id) {
                    let mut roles = vec![ROLES[r].to_string()];
                    if two {
                        roles.push(ROLES[(r + 1) % ROLES.len()].to_string());
                    }
                    self.alloc
                        .add_framework(&id, FrameworkOptions::roles(roles.clone()))
                        .unwrap();
                    self.frameworks.insert(id, roles);
                }
            }
            Event::RemoveFramework(f) => {
                let id = format!("f{f}");
                if self.frameworks.remove(&id).is_some() {
                    self.alloc.remove_framework(&id).unwrap();
                    // The master recovers a removed framework's offers and tasks afterwards.
                    while let Some(i) = self.outstanding.iter().position(|o| o.0 == id) {
                        self.recover(i, None);
                    }
                }
            }
            Event::Deactivate(f) => {
                let _ = self.alloc.deactivate_framework(&format!("f{f}"));
            }
            Event::Activate(f) => {
                let _ = self.alloc.activate_framework(&format!("f{f}"));
            }
            Event::Suppress(f) => {
                let _ = self.alloc.suppress_offers(&format!("f{f}"), &[]);
            }
            Event::Revive(f) => {
                let _ = self.alloc.revive_offers(&format!("f{f}"), &[]);
            }
            Event::Allocate => {
                let grants = self.alloc.allocate(self.now);
                self.check_grants(grants);
            }
            Event::Triggered => {
                let grants = self.alloc.poll(self.now);
                self.check_grants(grants);
            }
            Event::Decline(i, f) => {
                if !self.outstanding.is_empty() {
                    let i = i % self.outstanding.len();
                    let refuse = [None, Some(0.0), Some(1.5), Some(3600.0)][usize::from(f)];
                    self.recover(i, refuse);
                }
            }
            Event::Launch(i) => {
                if !self.outstanding.is_empty() {
                    let i = i % self.outstanding.len();
                    let task = self.task.clone();
                    if self.outstanding[i].3.contains(&task) {
                        let (f, role, a, r) = self.outstanding.remove(i);
                        let rest = &r - &task;
                        self.alloc
                            .recover_resources(&f, &role, &a, &rest, Some(2.0), self.now)
                            .unwrap();
                        self.outstanding.push((f, role, a, task));
                    }
                }
            }
            Event::Advance(ms) => self.now += Duration::from_millis(ms),
            Event::Weight(r, w) => {
                self.alloc
                    .update_weights(&[(ROLES[r], f64::from(w))])
                    .unwrap();
            }
        }
        self.check_conservation();
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        // ChaCha dominates the run time in debug builds; XorShift is plenty for test inputs.
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    })]

    #[test]
    fn never_offers_a_resource_twice_or_more_than_an_agent_has(
        events in proptest::collection::vec(event(), 1..40),
        shuffle in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut model = Model {
            parsed_totals: TOTALS.iter().map(|t| res(t)).collect(),
            task: res("cpus:1;mem:128"),
            alloc: HierarchicalAllocator::new(AllocatorConfig {
                shuffle_agents: shuffle,
                seed,
                ..AllocatorConfig::default()
            }),
            now: Instant::now(),
            totals: BTreeMap::new(),
            frameworks: BTreeMap::new(),
            outstanding: Vec::new(),
        };
        for e in events {
            model.step(e);
        }
        // Everything comes back: return all grants and the agents are whole again.
        while !model.outstanding.is_empty() {
            model.recover(0, None);
        }
        for (agent, total) in &model.totals {
            prop_assert_eq!(model.alloc.available(agent), Some(total));
        }
    }
}
