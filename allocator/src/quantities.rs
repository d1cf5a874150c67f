//! Scalar resource quantities keyed by interned resource names.
//!
//! The sorters and the allocator's inner loop only need "how much of each scalar resource", never
//! ranges, sets or reservations. Working on a tiny sorted vector of `(ResourceKind, millis)` instead
//! of full `Resources` keeps the hot path free of string comparisons and heap allocations.

use std::collections::HashMap;
use std::fmt;

/// An interned scalar resource name (`cpus`, `mem`, ...), cheap to copy and compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKind(u16);

impl ResourceKind {
    /// The dense index of this kind, usable to index per-kind vectors.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Interns resource names into [`ResourceKind`]s.
///
/// One interner is owned by each allocator; kinds from two interners must not be mixed.
#[derive(Clone, Debug, Default)]
pub struct ResourceNames {
    names: Vec<Box<str>>,
    index: HashMap<Box<str>, ResourceKind>,
}

impl ResourceNames {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// The kind for `name`, interning it on first use.
    ///
    /// # Panics
    /// Panics if more than 65,536 distinct names are interned (resource names are a small,
    /// operator-defined vocabulary, so this indicates a bug in the caller).
    pub fn intern(&mut self, name: &str) -> ResourceKind {
        if let Some(kind) = self.get(name) {
            return kind;
        }
        let kind = ResourceKind(u16::try_from(self.names.len()).expect("too many resource names"));
        self.names.push(name.into());
        self.index.insert(name.into(), kind);
        kind
    }

    /// The kind for `name` if it was interned before.
    pub fn get(&self, name: &str) -> Option<ResourceKind> {
        // The vocabulary is tiny (cpus, mem, disk, gpus, ...): comparing a few short strings is
        // cheaper than hashing, and this runs for every scalar of every recovered offer.
        if self.names.len() <= 16 {
            return self
                .names
                .iter()
                .position(|n| **n == *name)
                .map(|i| ResourceKind(i as u16));
        }
        self.index.get(name).copied()
    }

    /// The name of an interned kind.
    ///
    /// # Panics
    /// Panics if `kind` comes from another interner and is out of range.
    pub fn name(&self, kind: ResourceKind) -> &str {
        &self.names[kind.index()]
    }

    /// How many names are interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is interned yet.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Builds quantities from `(name, amount)` pairs, interning the names; amounts are in whole
    /// units (`("cpus", 1.5)`) and are rounded to thousandths like Mesos's fixed-point scalars.
    pub fn quantities(&mut self, pairs: &[(&str, f64)]) -> ScalarQuantities {
        let mut q = ScalarQuantities::new();
        for (name, amount) in pairs {
            let kind = self.intern(name);
            q.add_kind(kind, (amount * 1000.0).round() as i64);
        }
        q
    }
}

/// How many kinds fit without a heap allocation (cpus, mem, disk, gpus).
const INLINE: usize = 4;

/// Marks `len` when the entries live in `spill`.
const SPILLED: u8 = u8::MAX;

/// Non-negative scalar amounts per [`ResourceKind`], in thousandths (Mesos's fixed-point unit).
///
/// Kept sorted by kind with no zero entries, so equality is structural and `contains` is a merge.
/// Up to four kinds are stored inline: the allocator's inner loop copies and updates these on
/// every grant, and avoiding a heap allocation each time matters at 50,000 agents.
#[derive(Clone)]
pub struct ScalarQuantities {
    len: u8,
    inline: [(ResourceKind, i64); INLINE],
    spill: Vec<(ResourceKind, i64)>,
}

impl Default for ScalarQuantities {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for ScalarQuantities {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for ScalarQuantities {}

impl std::hash::Hash for ScalarQuantities {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for ScalarQuantities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl ScalarQuantities {
    /// No resources at all.
    pub const fn new() -> Self {
        Self {
            len: 0,
            inline: [(ResourceKind(0), 0); INLINE],
            spill: Vec::new(),
        }
    }

    fn as_slice(&self) -> &[(ResourceKind, i64)] {
        if self.len == SPILLED {
            &self.spill
        } else {
            &self.inline[..usize::from(self.len)]
        }
    }

    fn as_mut_slice(&mut self) -> &mut [(ResourceKind, i64)] {
        if self.len == SPILLED {
            &mut self.spill
        } else {
            &mut self.inline[..usize::from(self.len)]
        }
    }

    fn insert_at(&mut self, i: usize, entry: (ResourceKind, i64)) {
        if self.len == SPILLED {
            self.spill.insert(i, entry);
        } else if usize::from(self.len) < INLINE {
            let len = usize::from(self.len);
            self.inline.copy_within(i..len, i + 1);
            self.inline[i] = entry;
            self.len += 1;
        } else {
            let mut spill = self.inline.to_vec();
            spill.insert(i, entry);
            self.spill = spill;
            self.len = SPILLED;
        }
    }

    fn remove_at(&mut self, i: usize) {
        if self.len == SPILLED {
            self.spill.remove(i);
        } else {
            let len = usize::from(self.len);
            self.inline.copy_within(i + 1..len, i);
            self.len -= 1;
        }
    }

    /// Whether every amount is zero.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The amount of `kind` in thousandths (0 when absent).
    pub fn get(&self, kind: ResourceKind) -> i64 {
        let entries = self.as_slice();
        match entries.binary_search_by_key(&kind, |e| e.0) {
            Ok(i) => entries[i].1,
            Err(_) => 0,
        }
    }

    /// Iterates `(kind, thousandths)` in kind order, skipping zero amounts.
    pub fn iter(&self) -> impl Iterator<Item = (ResourceKind, i64)> + '_ {
        self.as_slice().iter().copied()
    }

    /// Adds `millis` thousandths of `kind`; the result is clamped at zero.
    pub fn add_kind(&mut self, kind: ResourceKind, millis: i64) {
        match self.as_slice().binary_search_by_key(&kind, |e| e.0) {
            Ok(i) => {
                let v = self.as_slice()[i].1.saturating_add(millis);
                if v <= 0 {
                    self.remove_at(i);
                } else {
                    self.as_mut_slice()[i].1 = v;
                }
            }
            Err(i) => {
                if millis > 0 {
                    self.insert_at(i, (kind, millis));
                }
            }
        }
    }

    /// Adds every amount of `other`.
    pub fn add(&mut self, other: &ScalarQuantities) {
        for &(kind, v) in other.as_slice() {
            self.add_kind(kind, v);
        }
    }

    /// Subtracts every amount of `other`, dropping kinds that reach zero (never negative, like
    /// Mesos's scalar subtraction).
    pub fn subtract(&mut self, other: &ScalarQuantities) {
        for &(kind, v) in other.as_slice() {
            self.add_kind(kind, -v);
        }
    }

    /// Whether every amount in `other` is at most the amount here.
    pub fn contains(&self, other: &ScalarQuantities) -> bool {
        let mine = self.as_slice();
        let mut j = 0;
        for &(kind, v) in other.as_slice() {
            while j < mine.len() && mine[j].0 < kind {
                j += 1;
            }
            if j == mine.len() || mine[j].0 != kind || mine[j].1 < v {
                return false;
            }
            j += 1;
        }
        true
    }
}

impl fmt::Display for ScalarQuantities {
    /// Shows kinds by index (`#0:1.5;#1:32`); use [`ResourceNames`] for names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (kind, v)) in self.as_slice().iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "#{}:{}", kind.0, *v as f64 / 1000.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_subtract_contains() {
        let mut names = ResourceNames::new();
        let a = names.quantities(&[("cpus", 1.5), ("mem", 32.0)]);
        let b = names.quantities(&[("mem", 16.0)]);
        let mut c = a.clone();
        c.add(&b);
        assert_eq!(c.get(names.get("mem").unwrap()), 48_000);
        assert!(c.contains(&a));
        assert!(!a.contains(&c));
        c.subtract(&a);
        assert_eq!(c, b);
        c.subtract(&a);
        assert!(c.is_empty());
        assert!(a.contains(&ScalarQuantities::new()));
        let disk = names.quantities(&[("disk", 1.0)]);
        assert!(!a.contains(&disk));
    }

    #[test]
    fn more_kinds_than_fit_inline_spill_to_the_heap() {
        let mut names = ResourceNames::new();
        let mut q = ScalarQuantities::new();
        for (i, name) in ["e", "d", "c", "b", "a", "f"].iter().enumerate() {
            q.add(&names.quantities(&[(name, (i + 1) as f64)]));
        }
        let kinds: Vec<i64> = q.iter().map(|(_, v)| v / 1000).collect();
        assert_eq!(kinds, [1, 2, 3, 4, 5, 6]);
        let a = names.get("a").unwrap();
        assert_eq!(q.get(a), 5000);
        q.add_kind(a, -5000);
        assert_eq!(q.get(a), 0);
        assert_eq!(q.iter().count(), 5);
        let mut small = names.quantities(&[("e", 1.0), ("d", 2.0), ("c", 3.0)]);
        assert!(q.contains(&small));
        small.add_kind(names.get("f").unwrap(), 7000);
        assert!(!q.contains(&small));
    }

    #[test]
    fn point_one_plus_point_two_is_point_three() {
        let mut names = ResourceNames::new();
        let mut q = names.quantities(&[("cpus", 0.1)]);
        q.add(&names.quantities(&[("cpus", 0.2)]));
        assert_eq!(q, names.quantities(&[("cpus", 0.3)]));
    }
}
