//! Fitting a gang into held offers: which agent each rank runs on and exactly which resources it
//! takes (reserved resources of the framework's role first, so statically reserved agents work
//! as well as unreserved ones). Pure functions; the port choice is injected.

use std::collections::BTreeMap;

use mesos::{AgentId, Offer, OfferId, Ranges, Resource, Resources, Scalar, Value};

/// What every rank needs (besides rank 0's port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankNeeds {
    /// CPUs per rank.
    pub cpus: Scalar,
    /// Memory per rank, in MB.
    pub mem: Scalar,
}

impl RankNeeds {
    /// Needs of `cpus` CPUs and `mem` MB.
    pub fn new(cpus: f64, mem: f64) -> RankNeeds {
        RankNeeds {
            cpus: Scalar::from_f64(cpus),
            mem: Scalar::from_f64(mem),
        }
    }
}

/// All held offers of one agent, merged.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentOffers {
    /// The agent.
    pub agent_id: AgentId,
    /// Its host name (rank 0's address is built from it).
    pub hostname: String,
    /// The offers; a launch on this agent uses all of them.
    pub offer_ids: Vec<OfferId>,
    /// The sum of the offers' resources.
    pub resources: Resources,
}

/// Where one rank runs and what it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct RankPlacement {
    /// The rank.
    pub rank: usize,
    /// The agent it runs on (index into the `agents` given to [`place_gang`]).
    pub agent: usize,
    /// The resources its task gets (cpus and mem; rank 0 also one port).
    pub resources: Resources,
    /// Rank 0's listening port.
    pub port: Option<u16>,
}

/// Groups offers by agent (ordered by agent id, so placement is deterministic).
pub fn group_by_agent<'a>(offers: impl IntoIterator<Item = &'a Offer>) -> Vec<AgentOffers> {
    let mut agents: BTreeMap<AgentId, AgentOffers> = BTreeMap::new();
    for offer in offers {
        let entry = agents
            .entry(offer.agent_id.clone())
            .or_insert_with(|| AgentOffers {
                agent_id: offer.agent_id.clone(),
                hostname: offer.hostname.clone(),
                offer_ids: Vec::new(),
                resources: Resources::new(),
            });
        entry.offer_ids.push(offer.id.clone());
        entry.resources += &offer.resources;
    }
    agents.into_values().collect()
}

/// Takes `amount` of scalar `name` out of `available`'s entries, reserved ones first; `None` if
/// there is not enough.
fn take_scalar(available: &Resources, name: &str, amount: Scalar, out: &mut Resources) -> bool {
    if !amount.is_positive() {
        return true;
    }
    let mut entries: Vec<&Resource> = available
        .iter()
        .filter(|r| r.name == name && matches!(r.value, Value::Scalar(_)))
        .collect();
    // Reserved (the role's own) before unreserved: keeps shared resources for others.
    entries.sort_by_key(|r| r.reservation.is_none());
    let mut left = amount;
    for entry in entries {
        let Value::Scalar(have) = entry.value else {
            continue;
        };
        let take = have.min(left);
        if take.is_positive() {
            out.push(Resource {
                name: name.to_string(),
                value: Value::Scalar(take),
                reservation: entry.reservation.clone(),
            });
            left -= take;
        }
        if !left.is_positive() {
            return true;
        }
    }
    false
}

/// The cpus and mem of one rank, taken from `available`; `None` if they do not fit.
pub fn take_rank(available: &Resources, needs: &RankNeeds) -> Option<Resources> {
    let mut out = Resources::new();
    (take_scalar(available, "cpus", needs.cpus, &mut out)
        && take_scalar(available, "mem", needs.mem, &mut out))
    .then_some(out)
}

/// One port out of `available`: `pick(n)` chooses an index in `0..n` over all offered ports.
pub fn take_port(available: &Resources, pick: impl FnOnce(u64) -> u64) -> Option<(u16, Resource)> {
    let entries: Vec<(&Resource, &Ranges)> = available
        .iter()
        .filter(|r| r.name == "ports")
        .filter_map(|r| match &r.value {
            Value::Ranges(ranges) => Some((r, ranges)),
            _ => None,
        })
        .collect();
    let total: u64 = entries.iter().map(|(_, ranges)| ranges.len()).sum();
    if total == 0 {
        return None;
    }
    let mut index = pick(total).min(total - 1);
    for (resource, ranges) in entries {
        for (begin, end) in ranges.iter() {
            let len = end - begin + 1;
            if index < len {
                let port = u16::try_from(begin + index).ok()?;
                let taken = Resource {
                    name: "ports".to_string(),
                    value: Value::Ranges(Ranges::from_range(u64::from(port), u64::from(port))),
                    reservation: resource.reservation.clone(),
                };
                return Some((port, taken));
            }
            index -= len;
        }
    }
    None
}

/// How many ranks fit in `available` (at most `limit`).
pub fn capacity(available: &Resources, needs: &RankNeeds, limit: usize) -> usize {
    let mut left = available.clone();
    let mut count = 0;
    while count < limit {
        match take_rank(&left, needs) {
            Some(taken) => {
                left -= &taken;
                count += 1;
            }
            None => break,
        }
    }
    count
}

/// Places all `ranks` ranks on `agents`, or `None` if the gang does not fit (a gang never
/// starts partly). Packs: agents with room for the most ranks first (fewer machines, less
/// network), rank 0 on the first of them that offers a port and the next ranks beside it.
/// `pick_port(n)` picks the port index.
pub fn place_gang(
    agents: &[AgentOffers],
    needs: &RankNeeds,
    ranks: usize,
    pick_port: impl FnOnce(u64) -> u64,
) -> Option<Vec<RankPlacement>> {
    if ranks == 0 {
        return None;
    }
    let capacities: Vec<usize> = agents
        .iter()
        .map(|a| capacity(&a.resources, needs, ranks))
        .collect();
    if capacities.iter().sum::<usize>() < ranks {
        return None;
    }
    let mut order: Vec<usize> = (0..agents.len()).filter(|&i| capacities[i] > 0).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(capacities[i]), i));
    let first = *order
        .iter()
        .find(|&&i| agents[i].resources.ports().is_some_and(|p| !p.is_empty()))?;

    let mut left: Vec<Resources> = agents.iter().map(|a| a.resources.clone()).collect();
    let mut placements = Vec::with_capacity(ranks);
    let mut rank0 = take_rank(&left[first], needs)?;
    left[first] -= &rank0;
    let (port, port_resource) = take_port(&left[first], pick_port)?;
    left[first] -= &Resources::from(port_resource.clone());
    rank0.push(port_resource);
    placements.push(RankPlacement {
        rank: 0,
        agent: first,
        resources: rank0,
        port: Some(port),
    });
    // Rank 0's agent first: ranks next to the root reduce over loopback.
    let rest = order.iter().copied().filter(|&i| i != first);
    for i in std::iter::once(first).chain(rest) {
        while placements.len() < ranks {
            let Some(taken) = take_rank(&left[i], needs) else {
                break;
            };
            left[i] -= &taken;
            placements.push(RankPlacement {
                rank: placements.len(),
                agent: i,
                resources: taken,
                port: None,
            });
        }
    }
    (placements.len() == ranks).then_some(placements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, resources: &str) -> AgentOffers {
        AgentOffers {
            agent_id: AgentId::new(id),
            hostname: "host".into(),
            offer_ids: vec![OfferId::new(format!("o-{id}"))],
            resources: resources.parse().unwrap(),
        }
    }

    #[test]
    fn offers_of_one_agent_merge() {
        let offer = |id: &str, agent: &str, r: &str| Offer {
            id: OfferId::new(id),
            agent_id: AgentId::new(agent),
            hostname: "h".into(),
            resources: r.parse().unwrap(),
            ..Offer::default()
        };
        let offers = [
            offer("o1", "a2", "cpus:1;mem:64"),
            offer("o2", "a1", "cpus:1"),
            offer("o3", "a2", "cpus:2;mem:64"),
        ];
        let agents = group_by_agent(&offers);
        assert_eq!(agents.len(), 2);
        assert_eq!(agents[0].agent_id, AgentId::new("a1"));
        assert_eq!(agents[1].offer_ids.len(), 2);
        assert_eq!(agents[1].resources, "cpus:3;mem:128".parse().unwrap());
    }

    #[test]
    fn capacity_counts_whole_ranks() {
        let needs = RankNeeds::new(1.0, 128.0);
        let r: Resources = "cpus:2.5;mem:1024".parse().unwrap();
        assert_eq!(capacity(&r, &needs, 10), 2);
        assert_eq!(capacity(&r, &needs, 1), 1);
        let r: Resources = "cpus:8;mem:300".parse().unwrap();
        assert_eq!(capacity(&r, &needs, 10), 2);
    }

    #[test]
    fn reserved_resources_are_taken_first_and_keep_their_role() {
        let needs = RankNeeds::new(1.5, 100.0);
        let r: Resources = "cpus:4;cpus(mpi):1;mem(mpi):512".parse().unwrap();
        let taken = take_rank(&r, &needs).unwrap();
        assert_eq!(taken, "cpus(mpi):1;cpus:0.5;mem(mpi):100".parse().unwrap());
        assert!(r.contains(&taken));
    }

    #[test]
    fn a_port_is_picked_by_index_across_ranges() {
        let r: Resources = "cpus:1;ports:[100-101,200-202]".parse().unwrap();
        assert_eq!(take_port(&r, |_| 0).unwrap().0, 100);
        assert_eq!(take_port(&r, |n| n - 1).unwrap().0, 202);
        assert_eq!(take_port(&r, |_| 3).unwrap().0, 201);
        let none: Resources = "cpus:1".parse().unwrap();
        assert!(take_port(&none, |_| 0).is_none());
    }

    #[test]
    fn the_gang_is_packed_with_rank_zero_on_a_port() {
        let needs = RankNeeds::new(1.0, 100.0);
        let agents = [
            agent("a1", "cpus:1;mem:512;ports:[31000-31000]"),
            agent("a2", "cpus:2;mem:512"),
            agent("a3", "cpus:2;mem:512;ports:[31000-32000]"),
        ];
        let placed = place_gang(&agents, &needs, 4, |_| 5).unwrap();
        assert_eq!(placed.len(), 4);
        assert_eq!(placed[0].agent, 2);
        assert_eq!(placed[0].port, Some(31005));
        assert!(placed[0]
            .resources
            .contains(&"ports:[31005-31005]".parse().unwrap()));
        let agents_used: Vec<usize> = placed.iter().map(|p| p.agent).collect();
        assert_eq!(agents_used, vec![2, 2, 1, 1]);
        for p in &placed {
            assert!(agents[p.agent].resources.contains(&p.resources));
        }
    }

    #[test]
    fn a_gang_that_does_not_fit_is_not_placed_at_all() {
        let needs = RankNeeds::new(1.0, 100.0);
        let agents = [
            agent("a1", "cpus:2;mem:512;ports:[31000-32000]"),
            agent("a2", "cpus:1;mem:512"),
        ];
        assert!(place_gang(&agents, &needs, 4, |_| 0).is_none());
        assert!(place_gang(&agents, &needs, 3, |_| 0).is_some());
        // No port anywhere: rank 0 has nowhere to listen.
        let agents = [agent("a1", "cpus:8;mem:4096")];
        assert!(place_gang(&agents, &needs, 2, |_| 0).is_none());
    }
}
