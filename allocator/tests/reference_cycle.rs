//! The allocator's grants against a straightforward reference implementation of the same cycle,
//! over seeded random event sequences (1,000 seeds).
//!
//! The reference is written from MESOS-SEMANTICS.md §1-2 with no caching at all: for every agent
//! (in the order added, the shuffle off) it sorts the roles by (DRF share, allocation count,
//! name), then each role's active frameworks the same way, and grants everything available to
//! the first framework that no live refusal filter blocks. Every optimisation of the real
//! allocator (incremental sorter, saturation counts, skipped unchanged runs, agent indexes) must
//! give exactly the same grants, in the same order.

use allocator::{Allocator, AllocatorConfig, FrameworkOptions, HierarchicalDrfAllocator};
use mesos::resources::{Resources, Scalar};
use std::cmp::Ordering;
use std::time::{Duration, Instant};

/// `(cpus, mem)` in thousandths.
type Q = (i64, i64);

const ROLES: [&str; 3] = ["r0", "r1", "r2"];

struct RefAgent {
    id: String,
    total: Q,
    available: Q,
    active: bool,
    /// (framework, role, expires, refused; `None` = the whole agent).
    filters: Vec<(usize, usize, Instant, Option<Q>)>,
}

struct RefFramework {
    id: String,
    role: usize,
    active: bool,
    suppressed: bool,
    allocation: Q,
    count: u64,
}

#[derive(Default)]
struct Reference {
    agents: Vec<RefAgent>,
    frameworks: Vec<RefFramework>,
    role_allocation: [Q; 3],
    role_count: [u64; 3],
    /// Whether a framework ever subscribed to the role (a role exists from then on).
    role_exists: [bool; 3],
}

fn share(a: Q, total: Q) -> f64 {
    let mut s = 0.0f64;
    if a.0 > 0 && total.0 > 0 {
        s = s.max(a.0 as f64 / total.0 as f64);
    }
    if a.1 > 0 && total.1 > 0 {
        s = s.max(a.1 as f64 / total.1 as f64);
    }
    s
}

fn drf_cmp(a: (f64, u64, &str), b: (f64, u64, &str)) -> Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2))
}

fn contains(big: Q, small: Q) -> bool {
    small.0 <= big.0 && small.1 <= big.1
}

fn add(a: &mut Q, b: Q) {
    a.0 += b.0;
    a.1 += b.1;
}

fn sub(a: &mut Q, b: Q) {
    a.0 -= b.0;
    a.1 -= b.1;
}

impl Reference {
    fn total(&self) -> Q {
        let mut t = (0, 0);
        for a in &self.agents {
            add(&mut t, a.total);
        }
        t
    }

    /// One run: `(framework, role, agent, resources)` per grant.
    fn allocate(&mut self, now: Instant) -> Vec<(usize, usize, usize, Q)> {
        let total = self.total();
        let mut grants = Vec::new();
        for ai in 0..self.agents.len() {
            let avail = self.agents[ai].available;
            // min_allocatable_resources: cpus:0.01 | mem:32.
            let allocatable = avail.0 >= 10 || avail.1 >= 32_000;
            if !self.agents[ai].active || !allocatable {
                continue;
            }
            let mut roles: Vec<usize> = (0..3).filter(|&r| self.role_exists[r]).collect();
            roles.sort_by(|&x, &y| {
                drf_cmp(
                    (
                        share(self.role_allocation[x], total),
                        self.role_count[x],
                        ROLES[x],
                    ),
                    (
                        share(self.role_allocation[y], total),
                        self.role_count[y],
                        ROLES[y],
                    ),
                )
            });
            'roles: for role in roles {
                let mut fws: Vec<usize> = (0..self.frameworks.len())
                    .filter(|&f| {
                        let fw = &self.frameworks[f];
                        fw.role == role && fw.active && !fw.suppressed
                    })
                    .collect();
                fws.sort_by(|&x, &y| {
                    let (fx, fy) = (&self.frameworks[x], &self.frameworks[y]);
                    drf_cmp(
                        (share(fx.allocation, total), fx.count, &fx.id),
                        (share(fy.allocation, total), fy.count, &fy.id),
                    )
                });
                for f in fws {
                    let blocked = self.agents[ai]
                        .filters
                        .iter()
                        .any(|&(ff, fr, exp, refused)| {
                            ff == f
                                && fr == role
                                && exp > now
                                && refused.is_none_or(|r| contains(r, avail))
                        });
                    if blocked {
                        continue;
                    }
                    self.agents[ai].available = (0, 0);
                    let fw = &mut self.frameworks[f];
                    add(&mut fw.allocation, avail);
                    fw.count += 1;
                    add(&mut self.role_allocation[role], avail);
                    self.role_count[role] += 1;
                    grants.push((f, role, ai, avail));
                    break 'roles;
                }
            }
        }
        grants
    }

    /// Returns `q` of framework `f` on agent `ai`, with a refusal filter when `refuse` is given.
    fn recover(&mut self, f: usize, ai: usize, q: Q, refuse: Option<Duration>, now: Instant) {
        let role = self.frameworks[f].role;
        add(&mut self.agents[ai].available, q);
        sub(&mut self.frameworks[f].allocation, q);
        sub(&mut self.role_allocation[role], q);
        if let Some(d) = refuse {
            let a = &mut self.agents[ai];
            let refused = (!contains(q, a.total)).then_some(q);
            a.filters
                .push((f, role, now + d.max(Duration::from_secs(1)), refused));
        }
    }

    fn clear_filters(&mut self, f: usize) {
        for a in &mut self.agents {
            a.filters.retain(|x| x.0 != f);
        }
    }
}

/// SplitMix64: a seeded event stream, independent of any crate's RNG.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn resources(q: Q) -> Resources {
    let mut parts = Vec::new();
    if q.0 > 0 {
        parts.push(format!("cpus:{}", Scalar::from_millis(q.0)));
    }
    if q.1 > 0 {
        parts.push(format!("mem:{}", Scalar::from_millis(q.1)));
    }
    parts.join(";").parse().expect("valid resources")
}

fn quantities(r: &Resources) -> Q {
    (r.scalar("cpus").millis(), r.scalar("mem").millis())
}

/// Plays one seeded sequence on both and compares every run's grants.
fn play(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let mut real = HierarchicalDrfAllocator::new(AllocatorConfig {
        shuffle_agents: false,
        ..AllocatorConfig::default()
    });
    let mut model = Reference::default();
    let mut now = Instant::now();
    // Outstanding offers and accepted (in use) grants: (framework, agent, resources).
    let mut offers: Vec<(usize, usize, Q)> = Vec::new();
    let mut used: Vec<(usize, usize, Q)> = Vec::new();
    let refusals = [None, Some(0.0), Some(0.5), Some(2.0), Some(5.0)];

    let add_agent = |real: &mut HierarchicalDrfAllocator, model: &mut Reference, rng: &mut Rng| {
        let q = (
            (1 + rng.below(8) as i64) * 1000,
            (256 << rng.below(5)) as i64 * 1000,
        );
        let id = format!("agent-{:03}", model.agents.len());
        real.add_agent(&id, resources(q)).expect("fresh agent");
        model.agents.push(RefAgent {
            id,
            total: q,
            available: q,
            active: true,
            filters: Vec::new(),
        });
    };
    let add_framework =
        |real: &mut HierarchicalDrfAllocator, model: &mut Reference, rng: &mut Rng| {
            let role = rng.below(3);
            // Ids in a different order from creation, so the name tie-break matters.
            let id = format!("fw-{:02}-{}", rng.below(100), model.frameworks.len());
            real.add_framework(&id, FrameworkOptions::role(ROLES[role]))
                .expect("fresh framework");
            model.role_exists[role] = true;
            model.frameworks.push(RefFramework {
                id,
                role,
                active: true,
                suppressed: false,
                allocation: (0, 0),
                count: 0,
            });
        };

    for _ in 0..1 + rng.below(6) {
        add_agent(&mut real, &mut model, &mut rng);
    }
    for _ in 0..1 + rng.below(6) {
        add_framework(&mut real, &mut model, &mut rng);
    }
    for step in 0..steps {
        match rng.below(16) {
            0..=4 => {
                let got: Vec<(String, String, String, Q)> = real
                    .allocate(now)
                    .into_iter()
                    .map(|g| {
                        (
                            g.framework.to_string(),
                            g.role.to_string(),
                            g.agent.to_string(),
                            quantities(&g.resources),
                        )
                    })
                    .collect();
                let expected = model.allocate(now);
                let want: Vec<(String, String, String, Q)> = expected
                    .iter()
                    .map(|&(f, r, a, q)| {
                        (
                            model.frameworks[f].id.clone(),
                            ROLES[r].to_string(),
                            model.agents[a].id.clone(),
                            q,
                        )
                    })
                    .collect();
                assert_eq!(got, want, "seed {seed} step {step}");
                offers.extend(expected.iter().map(|&(f, _, a, q)| (f, a, q)));
            }
            5..=7 if !offers.is_empty() => {
                // Decline an offer, with or without a filter.
                let (f, a, q) = offers.swap_remove(rng.below(offers.len()));
                let refuse = refusals[rng.below(refusals.len())];
                let fw = &model.frameworks[f];
                real.recover_resources(
                    &fw.id,
                    ROLES[fw.role],
                    &model.agents[a].id,
                    &resources(q),
                    refuse,
                    now,
                )
                .expect("decline");
                let d = refuse.and_then(allocator::refuse_duration);
                model.recover(f, a, q, d, now);
            }
            8 if !offers.is_empty() => {
                let o = offers.swap_remove(rng.below(offers.len()));
                used.push(o);
            }
            9 if !used.is_empty() => {
                // A task ends: half its cpus (or all of it) come back, sometimes with a filter.
                let i = rng.below(used.len());
                let (f, a, q) = used[i];
                let back = if rng.below(2) == 0 { q } else { (q.0 / 2, 0) };
                if back == q {
                    used.swap_remove(i);
                } else {
                    used[i].2 = (q.0 - back.0, q.1);
                }
                if back.0 > 0 || back.1 > 0 {
                    let refuse = refusals[rng.below(refusals.len())];
                    let fw = &model.frameworks[f];
                    real.recover_resources(
                        &fw.id,
                        ROLES[fw.role],
                        &model.agents[a].id,
                        &resources(back),
                        refuse,
                        now,
                    )
                    .expect("recover");
                    model.recover(f, a, back, refuse.and_then(allocator::refuse_duration), now);
                }
            }
            10 => now += Duration::from_millis([300, 1000, 2500][rng.below(3)]),
            11 => {
                let f = rng.below(model.frameworks.len());
                let id = model.frameworks[f].id.clone();
                if rng.below(2) == 0 {
                    real.suppress_offers(&id, &[]).expect("suppress");
                    model.frameworks[f].suppressed = true;
                } else {
                    real.revive_offers(&id, &[]).expect("revive");
                    model.frameworks[f].suppressed = false;
                    model.clear_filters(f);
                }
            }
            12 => {
                let f = rng.below(model.frameworks.len());
                let id = model.frameworks[f].id.clone();
                if model.frameworks[f].active {
                    real.deactivate_framework(&id).expect("deactivate");
                    model.frameworks[f].active = false;
                    model.clear_filters(f);
                } else {
                    real.activate_framework(&id).expect("activate");
                    model.frameworks[f].active = true;
                }
            }
            13 => {
                let a = rng.below(model.agents.len());
                let id = model.agents[a].id.clone();
                if model.agents[a].active {
                    real.deactivate_agent(&id).expect("deactivate agent");
                } else {
                    real.activate_agent(&id).expect("activate agent");
                }
                model.agents[a].active = !model.agents[a].active;
            }
            14 if model.agents.len() < 12 => add_agent(&mut real, &mut model, &mut rng),
            15 if model.frameworks.len() < 10 => add_framework(&mut real, &mut model, &mut rng),
            _ => {}
        }
    }
}

#[test]
fn grants_match_the_reference_cycle_over_1000_seeded_sequences() {
    for seed in 0..1000 {
        play(seed, 200);
    }
}

/// A larger grid (hundreds of agents, dozens of frameworks): long runs with many grants each.
#[test]
fn grants_match_the_reference_cycle_on_larger_grids() {
    for seed in 0..5 {
        let mut rng = Rng(seed ^ 0xabcd);
        let mut real = HierarchicalDrfAllocator::new(AllocatorConfig {
            shuffle_agents: false,
            ..AllocatorConfig::default()
        });
        let mut model = Reference::default();
        let now = Instant::now();
        for j in 0..40 {
            let role = rng.below(3);
            let id = format!("fw-{:02}-{j}", rng.below(100));
            real.add_framework(&id, FrameworkOptions::role(ROLES[role]))
                .expect("fresh framework");
            model.role_exists[role] = true;
            model.frameworks.push(RefFramework {
                id,
                role,
                active: true,
                suppressed: false,
                allocation: (0, 0),
                count: 0,
            });
        }
        for i in 0..500 {
            let q = (
                (1 + rng.below(16) as i64) * 1000,
                (1024 << rng.below(4)) as i64 * 1000,
            );
            let id = format!("agent-{i:03}");
            real.add_agent(&id, resources(q)).expect("fresh agent");
            model.agents.push(RefAgent {
                id,
                total: q,
                available: q,
                active: true,
                filters: Vec::new(),
            });
        }
        let mut now = now;
        for cycle in 0..8 {
            let got: Vec<(String, String, Q)> = real
                .allocate(now)
                .into_iter()
                .map(|g| {
                    (
                        g.framework.to_string(),
                        g.agent.to_string(),
                        quantities(&g.resources),
                    )
                })
                .collect();
            let expected = model.allocate(now);
            let want: Vec<(String, String, Q)> = expected
                .iter()
                .map(|&(f, _, a, q)| {
                    (
                        model.frameworks[f].id.clone(),
                        model.agents[a].id.clone(),
                        q,
                    )
                })
                .collect();
            assert_eq!(got, want, "seed {seed} cycle {cycle}");
            assert!(
                !got.is_empty(),
                "every cycle offers the declined agents again"
            );
            // Decline everything with the benchmark's 5 s filter.
            for (f, _, a, q) in expected {
                let fw = &model.frameworks[f];
                real.recover_resources(
                    &fw.id,
                    ROLES[fw.role],
                    &model.agents[a].id,
                    &resources(q),
                    Some(5.0),
                    now,
                )
                .expect("decline");
                model.recover(f, a, q, Some(Duration::from_secs(5)), now);
            }
            now += Duration::from_secs(1);
        }
    }
}
