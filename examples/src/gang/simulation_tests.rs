//! Two rigid frameworks on one simulated cluster, in simulated time: a tiny DRF-like allocator
//! (whole-agent offers every 50 ms to the framework holding the least, ties alternating so
//! both end up holding part of the cluster), refuse filters, suppress/revive, ranks that run
//! 300 ms. With the gang timeout they both finish; without it they deadlock, which is the
//! paper's argument for why a rigid framework must let go.

use std::collections::BTreeMap;

use super::*;
use mesos::{CommandInfo, Resources};

const STEP: Duration = Duration::from_millis(10);
const ALLOCATION_INTERVAL: Duration = Duration::from_millis(50);
const RANK_RUNTIME: Duration = Duration::from_millis(300);

fn config(name: &str, gang_timeout: Duration, seed: u64) -> GangConfig {
    GangConfig {
        name: name.into(),
        ranks: 5,
        needs: RankNeeds::new(1.0, 128.0),
        gang_timeout,
        jobs: 3,
        work_ms: 0,
        vector_len: 4,
        fail_rank: None,
        max_attempts: 3,
        rendezvous_timeout: Duration::from_secs(5),
        executor: ExecutorInfo::new("rank", CommandInfo::argv("x", Vec::<String>::new())),
        seed,
    }
}

struct Framework {
    core: GangCore,
    suppressed: bool,
    /// Agent index -> refused until.
    filters: BTreeMap<usize, Instant>,
}

struct Running {
    framework: usize,
    agent: usize,
    task: TaskInfo,
    ends: Instant,
}

struct Cluster {
    now: Instant,
    free: Vec<Resources>,
    /// Offer id -> (framework, agent).
    outstanding: BTreeMap<OfferId, (usize, usize)>,
    frameworks: Vec<Framework>,
    running: Vec<Running>,
    next_offer: u64,
    tie_break: usize,
    gang_timeouts: usize,
}

impl Cluster {
    fn new(agents: usize, frameworks: Vec<GangConfig>) -> Cluster {
        let now = Instant::now();
        let frameworks = frameworks
            .into_iter()
            .map(|cfg| {
                let mut core = GangCore::new(cfg);
                core.registered(now);
                Framework {
                    core,
                    suppressed: false,
                    filters: BTreeMap::new(),
                }
            })
            .collect();
        let mut cluster = Cluster {
            now,
            free: (0..agents)
                .map(|_| "cpus:2;mem:1024;ports:[31000-32000]".parse().unwrap())
                .collect(),
            outstanding: BTreeMap::new(),
            frameworks,
            running: Vec::new(),
            next_offer: 0,
            tie_break: 0,
            gang_timeouts: 0,
        };
        for f in 0..cluster.frameworks.len() {
            cluster.perform(f);
        }
        cluster
    }

    fn agent_index(agent_id: &AgentId) -> usize {
        agent_id.as_str()[1..].parse().unwrap()
    }

    /// Cpus a framework holds in offers or running ranks (its DRF share here).
    fn allocated(&self, f: usize) -> f64 {
        let offered: f64 = self
            .outstanding
            .values()
            .filter(|(fw, _)| *fw == f)
            .map(|(_, agent)| self.free[*agent].cpus().unwrap_or(0.0))
            .sum();
        let running: f64 = self
            .running
            .iter()
            .filter(|r| r.framework == f)
            .map(|r| r.task.resources.cpus().unwrap_or(0.0))
            .sum();
        offered + running
    }

    fn perform(&mut self, f: usize) {
        let actions = self.frameworks[f].core.take_actions();
        for action in actions {
            match action {
                GangAction::Launch {
                    agent_id,
                    offer_ids,
                    tasks,
                } => {
                    let agent = Cluster::agent_index(&agent_id);
                    for offer_id in &offer_ids {
                        assert_eq!(self.outstanding.remove(offer_id), Some((f, agent)));
                    }
                    for task in tasks {
                        assert!(self.free[agent].contains(&task.resources));
                        self.free[agent] -= &task.resources;
                        self.running.push(Running {
                            framework: f,
                            agent,
                            task,
                            ends: self.now + RANK_RUNTIME,
                        });
                    }
                }
                GangAction::Decline { offer_id, refuse } => {
                    let (fw, agent) = self.outstanding.remove(&offer_id).unwrap();
                    assert_eq!(fw, f);
                    self.frameworks[f].filters.insert(agent, self.now + refuse);
                }
                GangAction::Suppress => self.frameworks[f].suppressed = true,
                GangAction::Revive => {
                    self.frameworks[f].suppressed = false;
                    self.frameworks[f].filters.clear();
                }
                GangAction::Kill(_) => panic!("no rank fails in this simulation"),
                GangAction::JobFinished(report) => assert!(report.result_ok),
            }
        }
    }

    fn allocate(&mut self) {
        for agent in 0..self.free.len() {
            let offered = self.outstanding.values().any(|(_, a)| *a == agent);
            if offered || self.free[agent].cpus().unwrap_or(0.0) < 1.0 {
                continue;
            }
            let now = self.now;
            let eligible: Vec<usize> = (0..self.frameworks.len())
                .filter(|&f| {
                    let fw = &self.frameworks[f];
                    !fw.suppressed
                        && !fw.core.is_done()
                        && fw.filters.get(&agent).is_none_or(|until| *until <= now)
                })
                .collect();
            let Some(least) = eligible
                .iter()
                .map(|&f| self.allocated(f))
                .min_by(|a, b| a.total_cmp(b))
            else {
                continue;
            };
            let tied: Vec<usize> = eligible
                .into_iter()
                .filter(|&f| self.allocated(f) == least)
                .collect();
            let f = tied[self.tie_break % tied.len()];
            self.tie_break += 1;
            self.next_offer += 1;
            let offer_id = OfferId::new(format!("o{}", self.next_offer));
            self.outstanding.insert(offer_id.clone(), (f, agent));
            let offer = Offer {
                id: offer_id,
                agent_id: AgentId::new(format!("a{agent}")),
                hostname: "host".into(),
                resources: self.free[agent].clone(),
                ..Offer::default()
            };
            self.frameworks[f].core.offers(vec![offer]);
            self.perform(f);
        }
    }

    fn finish_ranks(&mut self) {
        let now = self.now;
        let (ended, still): (Vec<Running>, Vec<Running>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|r| r.ends <= now);
        self.running = still;
        for rank in ended {
            self.free[rank.agent] += &rank.task.resources;
            let data = RankTask::from_bytes(&rank.task.data).unwrap();
            let mut status = TaskStatus::new(rank.task.task_id.clone(), TaskState::Finished);
            status.data = RankResult {
                rank: data.rank,
                result_ok: true,
                checksum: 0,
            }
            .to_bytes();
            self.frameworks[rank.framework]
                .core
                .status_update(now, &status);
            self.perform(rank.framework);
        }
    }

    /// Runs until every framework is done or `limit` of simulated time passed.
    fn run(&mut self, limit: Duration) -> Duration {
        let start = self.now;
        let mut next_allocation = self.now;
        while self.now - start < limit && !self.frameworks.iter().all(|f| f.core.is_done()) {
            self.now += STEP;
            self.finish_ranks();
            for f in 0..self.frameworks.len() {
                let before = matches!(self.frameworks[f].core.phase(), Phase::Assembling { .. });
                self.frameworks[f].core.tick(self.now);
                if before && matches!(self.frameworks[f].core.phase(), Phase::BackingOff { .. }) {
                    self.gang_timeouts += 1;
                }
                self.perform(f);
            }
            if self.now >= next_allocation {
                self.allocate();
                next_allocation = self.now + ALLOCATION_INTERVAL;
            }
        }
        self.now - start
    }
}

#[test]
fn two_rigid_frameworks_that_each_hold_half_the_cluster_both_finish() {
    for seed in 0..20 {
        let mut cluster = Cluster::new(
            4,
            vec![
                config("a", Duration::from_secs(1), seed),
                config("b", Duration::from_secs(1), seed + 1000),
            ],
        );
        let took = cluster.run(Duration::from_secs(300));
        for fw in &cluster.frameworks {
            assert!(
                fw.core.is_done(),
                "seed {seed}: {} stuck after {took:?}",
                fw.core.config().name
            );
            assert_eq!(fw.core.reports().len(), 3);
            assert!(fw.core.all_ok());
        }
        assert!(
            cluster.gang_timeouts > 0,
            "seed {seed}: the alternating allocator should split the cluster at least once"
        );
    }
}

#[test]
fn without_releasing_held_offers_they_deadlock() {
    let forever = Duration::from_secs(1_000_000);
    let mut cluster = Cluster::new(4, vec![config("a", forever, 1), config("b", forever, 2)]);
    cluster.run(Duration::from_secs(60));
    for fw in &cluster.frameworks {
        assert!(!fw.core.is_done());
        assert!(fw.core.reports().is_empty());
        assert_eq!(fw.core.held_offers(), 2, "each holds half the cluster");
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let run = || {
        let mut cluster = Cluster::new(
            4,
            vec![
                config("a", Duration::from_secs(1), 7),
                config("b", Duration::from_secs(1), 8),
            ],
        );
        cluster.run(Duration::from_secs(300));
        cluster
            .frameworks
            .iter()
            .flat_map(|f| f.core.reports().to_vec())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}
