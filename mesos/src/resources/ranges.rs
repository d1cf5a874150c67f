//! Sets of integers stored as sorted, coalesced inclusive ranges (ports).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of `u64` values stored as sorted, non-overlapping, non-adjacent
/// inclusive ranges, e.g. `[31000-32000, 33000-33001]`.
///
/// The representation is canonical (adjacent ranges are merged), so two equal
/// sets always have equal vectors and comparisons are a single linear walk.
///
/// ```
/// use mesos::resources::Ranges;
/// let mut ports: Ranges = "[31000-32000]".parse().unwrap();
/// ports -= &Ranges::from_range(31500, 31999);
/// assert_eq!(ports.to_string(), "[31000-31499, 32000-32000]");
/// assert_eq!(ports.len(), 501);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug)]
pub struct Ranges(Vec<(u64, u64)>);

impl Ranges {
    /// The empty set.
    pub const fn new() -> Ranges {
        Ranges(Vec::new())
    }

    /// The single range `begin..=end` (empty if `begin > end`).
    pub fn from_range(begin: u64, end: u64) -> Ranges {
        if begin > end {
            Ranges::new()
        } else {
            Ranges(vec![(begin, end)])
        }
    }

    /// Builds a canonical set from arbitrary inclusive ranges (any order,
    /// overlapping allowed). Pairs with `begin > end` are ignored.
    pub fn from_pairs<I: IntoIterator<Item = (u64, u64)>>(pairs: I) -> Ranges {
        let mut v: Vec<(u64, u64)> = pairs.into_iter().filter(|(b, e)| b <= e).collect();
        v.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
        for (b, e) in v {
            push_coalesced(&mut out, b, e);
        }
        Ranges(out)
    }

    /// Whether the set holds no value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of values in the set (saturating at `u64::MAX`).
    pub fn len(&self) -> u64 {
        self.0.iter().fold(0u64, |n, (b, e)| {
            n.saturating_add((e - b).saturating_add(1))
        })
    }

    /// The number of disjoint ranges.
    pub fn range_count(&self) -> usize {
        self.0.len()
    }

    /// The ranges, ascending, as inclusive `(begin, end)` pairs.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (u64, u64)> + '_ {
        self.0.iter().copied()
    }

    /// Every value of the set, ascending.
    pub fn values(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().flat_map(|&(b, e)| b..=e)
    }

    /// Whether `value` is in the set (binary search).
    pub fn contains_value(&self, value: u64) -> bool {
        let i = self.0.partition_point(|&(_, e)| e < value);
        self.0.get(i).is_some_and(|&(b, _)| b <= value)
    }

    /// Whether every value of `other` is in `self`. Linear, no allocation.
    pub fn contains(&self, other: &Ranges) -> bool {
        let mut mine = self.0.iter();
        let mut cur = mine.next();
        for &(b, e) in &other.0 {
            // Skip our ranges that end before this one begins.
            while let Some(&(_, ce)) = cur {
                if ce < b {
                    cur = mine.next();
                } else {
                    break;
                }
            }
            match cur {
                // Canonical form: a contained range lies within one of ours.
                Some(&(cb, ce)) if cb <= b && e <= ce => {}
                _ => return false,
            }
        }
        true
    }

    /// Adds the values of `other` (set union). In place (no allocation
    /// beyond growth) when `other` holds few ranges, the common case.
    pub fn add(&mut self, other: &Ranges) {
        if other.0.is_empty() {
            return;
        }
        if self.0.is_empty() {
            self.0.clone_from(&other.0);
            return;
        }
        if other.0.len() <= SMALL {
            for &(b, e) in &other.0 {
                self.add_one(b, e);
            }
            return;
        }
        let mut out = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() || j < other.0.len() {
            let take_mine = j >= other.0.len() || (i < self.0.len() && self.0[i] <= other.0[j]);
            let (b, e) = if take_mine {
                i += 1;
                self.0[i - 1]
            } else {
                j += 1;
                other.0[j - 1]
            };
            push_coalesced(&mut out, b, e);
        }
        self.0 = out;
    }

    /// Removes the values of `other` (set difference); values of `other`
    /// that are not in `self` are ignored. In place when `other` holds few
    /// ranges.
    pub fn sub(&mut self, other: &Ranges) {
        if other.0.is_empty() || self.0.is_empty() {
            return;
        }
        if other.0.len() <= SMALL {
            for &(b, e) in &other.0 {
                self.sub_one(b, e);
            }
            return;
        }
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut j = 0;
        for &(b, e) in &self.0 {
            let mut start = b;
            let mut alive = true;
            // Skip removals that end before this range.
            while j < other.0.len() && other.0[j].1 < start {
                j += 1;
            }
            let mut k = j;
            while alive && k < other.0.len() && other.0[k].0 <= e {
                let (rb, re) = other.0[k];
                if rb > start {
                    out.push((start, rb - 1));
                }
                if re >= e {
                    alive = false;
                } else {
                    start = re + 1;
                    k += 1;
                }
            }
            if alive {
                out.push((start, e));
            }
            // A removal that spans past `e` may still cut the next range.
            j = k;
        }
        self.0 = out;
    }

    /// Unions `b..=e` (`b <= e`) into the canonical vector in place.
    fn add_one(&mut self, b: u64, e: u64) {
        // First range that touches or follows `b` (ends at or after b - 1).
        let lo = self.0.partition_point(|&(_, re)| re.saturating_add(1) < b);
        // Ranges from `lo` that touch `b..=e` (begin at or before e + 1).
        let hi = lo + self.0[lo..].partition_point(|&(rb, _)| rb <= e.saturating_add(1));
        if lo == hi {
            self.0.insert(lo, (b, e));
        } else {
            let merged = (b.min(self.0[lo].0), e.max(self.0[hi - 1].1));
            self.0[lo] = merged;
            self.0.drain(lo + 1..hi);
        }
    }

    /// Removes `b..=e` (`b <= e`) from the canonical vector in place.
    fn sub_one(&mut self, b: u64, e: u64) {
        // First range that ends at or after `b`.
        let lo = self.0.partition_point(|&(_, re)| re < b);
        // Ranges from `lo` that begin at or before `e`: these overlap.
        let hi = lo + self.0[lo..].partition_point(|&(rb, _)| rb <= e);
        if lo == hi {
            return;
        }
        let (first_b, last_e) = (self.0[lo].0, self.0[hi - 1].1);
        let left = (first_b < b).then(|| (first_b, b - 1));
        let right = (last_e > e).then(|| (e + 1, last_e));
        match (left, right) {
            (Some(l), Some(r)) if lo + 1 == hi => {
                // A hole inside one range: the only case that grows the vector.
                self.0[lo] = l;
                self.0.insert(lo + 1, r);
            }
            _ => {
                let keep: [Option<(u64, u64)>; 2] = [left, right];
                self.0.splice(lo..hi, keep.into_iter().flatten());
            }
        }
    }

    /// Inserts the single range `begin..=end` (ignored if `begin > end`).
    pub fn insert(&mut self, begin: u64, end: u64) {
        if begin <= end {
            self.add(&Ranges(vec![(begin, end)]));
        }
    }
}

/// Up to this many ranges in the right-hand side, add and sub work in place
/// one range at a time; beyond it a linear merge is cheaper.
const SMALL: usize = 4;

/// Appends `(b, e)` to a sorted canonical vector whose last range begins at
/// or before `b`, merging overlapping or adjacent ranges.
fn push_coalesced(out: &mut Vec<(u64, u64)>, b: u64, e: u64) {
    if let Some(last) = out.last_mut() {
        // `last.1 + 1` would overflow at u64::MAX: then everything overlaps.
        if last.1 == u64::MAX || b <= last.1 + 1 {
            last.1 = last.1.max(e);
            return;
        }
    }
    out.push((b, e));
}

impl std::ops::AddAssign<&Ranges> for Ranges {
    fn add_assign(&mut self, rhs: &Ranges) {
        self.add(rhs);
    }
}

impl std::ops::SubAssign<&Ranges> for Ranges {
    fn sub_assign(&mut self, rhs: &Ranges) {
        self.sub(rhs);
    }
}

impl FromIterator<(u64, u64)> for Ranges {
    fn from_iter<I: IntoIterator<Item = (u64, u64)>>(iter: I) -> Ranges {
        Ranges::from_pairs(iter)
    }
}

impl fmt::Display for Ranges {
    /// Mesos's form: `[31000-32000, 33000-33001]`; empty is `[]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, (b, e)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{b}-{e}")?;
        }
        f.write_str("]")
    }
}

/// Mesos's JSON `Value.Range`.
#[derive(Serialize, Deserialize)]
struct RangeJson {
    begin: u64,
    end: u64,
}

/// Mesos's JSON `Value.Ranges`: `{"range": [{"begin": 1, "end": 2}]}`.
#[derive(Serialize, Deserialize)]
struct RangesJson {
    #[serde(default)]
    range: Vec<RangeJson>,
}

impl Serialize for Ranges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            let range = self
                .0
                .iter()
                .map(|&(begin, end)| RangeJson { begin, end })
                .collect();
            RangesJson { range }.serialize(s)
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Ranges {
    /// Accepts any order and overlap, and canonicalizes; a range whose begin
    /// exceeds its end is an error (Mesos rejects it too).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ranges, D::Error> {
        let pairs: Vec<(u64, u64)> = if d.is_human_readable() {
            RangesJson::deserialize(d)?
                .range
                .into_iter()
                .map(|r| (r.begin, r.end))
                .collect()
        } else {
            Vec::deserialize(d)?
        };
        if let Some((b, e)) = pairs.iter().find(|(b, e)| b > e) {
            return Err(serde::de::Error::custom(format!(
                "range {b}-{e} begins after it ends"
            )));
        }
        Ok(Ranges::from_pairs(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pairs: &[(u64, u64)]) -> Ranges {
        Ranges::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn coalesces_overlapping_and_adjacent() {
        assert_eq!(
            r(&[(5, 9), (1, 2), (3, 4), (8, 12)])
                .iter()
                .collect::<Vec<_>>(),
            vec![(1, 12)]
        );
        assert_eq!(r(&[(1, 2), (4, 5)]).range_count(), 2);
        assert_eq!(
            r(&[(0, u64::MAX), (7, 9)]).iter().collect::<Vec<_>>(),
            vec![(0, u64::MAX)]
        );
        assert_eq!(r(&[(0, u64::MAX)]).len(), u64::MAX);
    }

    #[test]
    fn add_merges() {
        let mut a = r(&[(1, 3), (10, 12)]);
        a.add(&r(&[(4, 9), (20, 20)]));
        assert_eq!(a, r(&[(1, 12), (20, 20)]));
        let mut b = r(&[(1, 3)]);
        b.add(&r(&[(3, 5)]));
        assert_eq!(b, r(&[(1, 5)]));
        let mut c = r(&[(10, 20)]);
        c.add(&r(&[(1, 2)]));
        assert_eq!(c, r(&[(1, 2), (10, 20)]));
    }

    #[test]
    fn sub_cuts_holes_and_ignores_missing() {
        let mut a = r(&[(1, 10), (20, 30)]);
        a.sub(&r(&[(0, 1), (5, 6), (9, 21), (30, 40)]));
        assert_eq!(a, r(&[(2, 4), (7, 8), (22, 29)]));
        let mut b = r(&[(1, 10)]);
        b.sub(&r(&[(1, 10)]));
        assert!(b.is_empty());
        let mut c = r(&[(1, 1), (3, 3), (5, 5)]);
        c.sub(&r(&[(0, 4)]));
        assert_eq!(c, r(&[(5, 5)]));
    }

    #[test]
    fn contains_is_subset() {
        let a = r(&[(1, 10), (20, 30)]);
        assert!(a.contains(&r(&[(2, 3), (20, 30)])));
        assert!(a.contains(&Ranges::new()));
        assert!(!a.contains(&r(&[(9, 11)])));
        assert!(!a.contains(&r(&[(15, 15)])));
        assert!(!a.contains(&r(&[(25, 31)])));
        assert!(a.contains_value(20) && a.contains_value(10) && !a.contains_value(11));
    }

    #[test]
    fn display_and_json() {
        let a = r(&[(31000, 32000), (33000, 33001)]);
        assert_eq!(a.to_string(), "[31000-32000, 33000-33001]");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(
            json,
            r#"{"range":[{"begin":31000,"end":32000},{"begin":33000,"end":33001}]}"#
        );
        assert_eq!(serde_json::from_str::<Ranges>(&json).unwrap(), a);
        assert!(serde_json::from_str::<Ranges>(r#"{"range":[{"begin":5,"end":4}]}"#).is_err());
    }
}
