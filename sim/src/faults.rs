//! The fault vocabulary and the plan a seed draws: what goes wrong, when, and for how long.

use std::fmt;

use crate::rng::Rng;

/// A machine of the simulated cluster (an agent's executors live on the agent's host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// Master candidate `i`.
    Master(usize),
    /// Agent `i`.
    Agent(usize),
    /// The scheduler of framework `i`.
    Scheduler(usize),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Master(i) => write!(f, "master{i}"),
            Host::Agent(i) => write!(f, "agent{i}"),
            Host::Scheduler(i) => write!(f, "scheduler{i}"),
        }
    }
}

/// Which way a partition cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Both ways.
    Both,
    /// Messages from the isolated hosts to the rest are lost; the other way works.
    Outbound,
    /// Messages from the rest to the isolated hosts are lost; the other way works.
    Inbound,
}

/// One fault.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// For `secs`, messages between hosts are dropped, duplicated and delayed (reordered) with
    /// these percentages.
    Lossy {
        /// How long.
        secs: u64,
        /// Percent dropped.
        drop_pct: u64,
        /// Percent delivered twice.
        dup_pct: u64,
        /// Percent held back (up to 5 s), so later messages overtake them.
        reorder_pct: u64,
    },
    /// `hosts` are cut off from the rest for `secs`, then the partition heals.
    Partition {
        /// The isolated side.
        hosts: Vec<Host>,
        /// Which way the cut goes.
        direction: Direction,
        /// How long.
        secs: u64,
    },
    /// Every connection of `host` breaks (both ends see `exited`); nothing else is lost.
    BreakLinks {
        /// The host.
        host: Host,
    },
    /// Agent `agent`'s process crashes; it restarts after `down_secs` and recovers from its
    /// checkpoints (its executors keep running meanwhile).
    AgentCrash {
        /// Which agent.
        agent: usize,
        /// Downtime.
        down_secs: u64,
    },
    /// Agent `agent`'s host reboots (its executors die and its resources with them); with `wipe`
    /// its work directory is lost too, so it comes back as a new agent.
    AgentReboot {
        /// Which agent.
        agent: usize,
        /// Downtime.
        down_secs: u64,
        /// The disk is wiped.
        wipe: bool,
    },
    /// Agent `agent` leaves the cluster for good (host decommissioned).
    AgentLeave {
        /// Which agent.
        agent: usize,
    },
    /// A new agent joins.
    AgentJoin,
    /// Framework `framework`'s scheduler crashes; a new instance fails over after `down_secs`.
    SchedulerFailover {
        /// Which framework.
        framework: usize,
        /// Downtime.
        down_secs: u64,
    },
    /// The leading master crashes; it restarts as a standby after `down_secs`, and another
    /// candidate is elected once ZooKeeper's session times out.
    MasterCrash {
        /// Downtime.
        down_secs: u64,
    },
    /// `host`'s monotonic clock jumps forward by `millis` (a stalled VM, a suspended process).
    ClockJump {
        /// The host.
        host: Host,
        /// How far.
        millis: u64,
    },
    /// One running executor (the `pick`-th, modulo their number) crashes.
    ExecutorCrash {
        /// Which one.
        pick: u64,
    },
}

/// A fault and when it strikes (milliseconds of simulated time).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFault {
    /// When.
    pub at_ms: u64,
    /// What.
    pub fault: Fault,
}

impl fmt::Display for PlannedFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={:.1}s {:?}", self.at_ms as f64 / 1e3, self.fault)
    }
}

/// Draws a fault plan for `chaos_ms` of simulated time over the given cluster shape.
pub fn plan(rng: &mut Rng, chaos_ms: u64, agents: usize, frameworks: usize) -> Vec<PlannedFault> {
    let count = match rng.below(10) {
        0 => 0,
        1..=3 => rng.between(1, 4),
        _ => rng.between(4, 14),
    };
    let mut faults: Vec<PlannedFault> = (0..count)
        .map(|_| PlannedFault {
            at_ms: rng.between(5_000, chaos_ms.max(5_000)),
            fault: fault(rng, agents, frameworks),
        })
        .collect();
    faults.sort_by_key(|f| f.at_ms);
    faults
}

fn host(rng: &mut Rng, agents: usize, frameworks: usize) -> Host {
    match rng.below(4) {
        0 => Host::Master(rng.below(3) as usize),
        1 => Host::Scheduler(rng.below(frameworks as u64) as usize),
        _ => Host::Agent(rng.below(agents as u64) as usize),
    }
}

fn fault(rng: &mut Rng, agents: usize, frameworks: usize) -> Fault {
    let agent = rng.below(agents as u64) as usize;
    match rng.below(100) {
        0..=14 => Fault::Lossy {
            secs: rng.between(2, 40),
            drop_pct: rng.between(0, 40),
            dup_pct: rng.between(0, 20),
            reorder_pct: rng.between(0, 30),
        },
        15..=34 => {
            let size = rng.between(1, 2);
            let mut hosts: Vec<Host> = (0..size).map(|_| host(rng, agents, frameworks)).collect();
            hosts.sort();
            hosts.dedup();
            let direction = match rng.below(3) {
                0 => Direction::Both,
                1 => Direction::Outbound,
                _ => Direction::Inbound,
            };
            Fault::Partition {
                hosts,
                direction,
                secs: rng.between(2, 90),
            }
        }
        35..=41 => Fault::BreakLinks {
            host: host(rng, agents, frameworks),
        },
        42..=53 => Fault::AgentCrash {
            agent,
            down_secs: rng.between(1, 40),
        },
        54..=58 => Fault::AgentReboot {
            agent,
            down_secs: rng.between(5, 60),
            wipe: rng.chance(0.5),
        },
        59..=61 => Fault::AgentLeave { agent },
        62..=65 => Fault::AgentJoin,
        66..=74 => Fault::SchedulerFailover {
            framework: rng.below(frameworks as u64) as usize,
            down_secs: rng.between(1, 30),
        },
        75..=82 => Fault::MasterCrash {
            down_secs: rng.between(5, 60),
        },
        83..=89 => Fault::ClockJump {
            host: host(rng, agents, frameworks),
            millis: rng.between(100, 20_000),
        },
        _ => Fault::ExecutorCrash {
            pick: rng.next_u64(),
        },
    }
}
