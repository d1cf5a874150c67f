//! Static partitioning: how many of a cluster's agents each framework gets when the cluster is
//! split between them instead of shared (the paper's baseline).

use std::ops::Range;

/// Splits `agents` between frameworks in proportion to `weights` (largest remainder, ties to the
/// earlier framework), giving every framework with a positive weight at least one agent while
/// there are enough agents. The result has one count per weight and sums to `agents`.
pub fn split_agents(agents: usize, weights: &[u32]) -> Vec<usize> {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if weights.is_empty() || total == 0 {
        return vec![0; weights.len()];
    }
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|&w| (agents as u64 * u64::from(w) / total) as usize)
        .collect();
    // Hand the rest out by largest remainder.
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| {
        let remainder = (agents as u64 * u64::from(weights[i])) % total;
        (std::cmp::Reverse(remainder), i)
    });
    let left = agents - counts.iter().sum::<usize>();
    for &i in order.iter().cycle().take(left) {
        counts[i] += 1;
    }
    // A framework left with nothing takes one from the largest share (when that has two or more).
    for i in 0..counts.len() {
        if weights[i] > 0 && counts[i] == 0 {
            if let Some(donor) = (0..counts.len())
                .filter(|&j| counts[j] >= 2)
                .max_by_key(|&j| (counts[j], std::cmp::Reverse(j)))
            {
                counts[donor] -= 1;
                counts[i] += 1;
            }
        }
    }
    counts
}

/// The agent index ranges the counts of [`split_agents`] stand for, in order: framework `i` gets
/// agents `ranges[i]` of the shared cluster's numbering.
pub fn ranges(counts: &[usize]) -> Vec<Range<usize>> {
    let mut start = 0;
    counts
        .iter()
        .map(|&n| {
            let range = start..start + n;
            start += n;
            range
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_weights_give_the_remainder_to_the_first() {
        assert_eq!(split_agents(8, &[1, 1, 1]), vec![3, 3, 2]);
        assert_eq!(ranges(&[3, 3, 2]), vec![0..3, 3..6, 6..8]);
    }
}
