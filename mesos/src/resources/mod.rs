//! Resources: what agents offer and tasks consume.
//!
//! A [`Resources`] is a small vector of [`Resource`] entries kept canonical:
//! one entry per (name, reservation, kind), and never an empty entry (a zero
//! scalar, empty ranges or empty set). Arithmetic is exact (fixed-point
//! [`Scalar`]s, coalesced [`Ranges`]), so the allocator can add and subtract
//! the same resources millions of times without drift.
//!
//! ```
//! use mesos::resources::Resources;
//!
//! let agent: Resources = "cpus:4;mem:1024;ports:[31000-32000]".parse()?;
//! let task: Resources = "cpus:0.5;mem:128;ports:[31000-31000]".parse()?;
//! assert!(agent.contains(&task));
//! let left = &agent - &task;
//! assert_eq!(left.to_string(), "cpus:3.5;mem:896;ports:[31001-32000]");
//! assert_eq!(&left + &task, agent);
//! # Ok::<(), mesos::resources::ResourcesError>(())
//! ```

mod json;
mod parse;
mod ranges;
mod resource;
mod scalar;

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::str::FromStr;

pub(crate) use parse::{is_valid_name, parse_value};
pub use parse::{is_valid_role, ResourcesError};
pub use ranges::Ranges;
pub(crate) use resource::fmt_set;
pub use resource::{Resource, Value, ValueKind};
pub use scalar::Scalar;

/// A bag of resources in canonical form (see the [module docs](self)).
///
/// Entries keep their first-insertion order (so the text form reads as
/// written); equality ignores order.
///
/// Subtraction saturates: subtracting more than is present, or something not
/// present at all, empties the affected entries and ignores the excess, as
/// Mesos does. Check [`contains`](Resources::contains) first when the excess
/// matters.
#[derive(Clone, Default, Debug)]
pub struct Resources(Vec<Resource>);

impl Resources {
    /// No resources.
    pub const fn new() -> Resources {
        Resources(Vec::new())
    }

    /// Parses Mesos's text form `name(role):value;...` or, if the text starts
    /// with `[`, the JSON array form (as Mesos's `--resources` flag does).
    /// Entries with the same name and reservation are summed.
    ///
    /// # Errors
    /// A [`ResourcesError`] naming the offending token.
    pub fn parse(text: &str) -> Result<Resources, ResourcesError> {
        if text.trim_start().starts_with('[') {
            Resources::from_json(text)
        } else {
            parse::parse_text(text)
        }
    }

    /// Parses Mesos's JSON array form:
    /// `[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}, ...]`.
    ///
    /// # Errors
    /// [`ResourcesError::Json`] for malformed JSON or an invalid resource.
    pub fn from_json(json: &str) -> Result<Resources, ResourcesError> {
        serde_json::from_str(json).map_err(|e| ResourcesError::Json {
            message: e.to_string(),
        })
    }

    /// The JSON array form (see [`from_json`](Resources::from_json)).
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether there are no resources.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of canonical entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The entries.
    pub fn iter(&self) -> std::slice::Iter<'_, Resource> {
        self.0.iter()
    }

    /// Adds one resource, merging it into the entry with the same name,
    /// reservation and kind. Empty values are ignored.
    pub fn push(&mut self, r: Resource) {
        if r.value.is_empty() {
            return;
        }
        match self.find(&r, self.0.len()) {
            Some(i) => {
                self.0[i].value.add_same_kind(&r.value);
            }
            None => self.0.push(r),
        }
    }

    /// Like [`push`](Resources::push) for a borrowed resource: clones only
    /// when a new entry is needed.
    fn add_one(&mut self, r: &Resource, hint: usize) {
        if r.value.is_empty() {
            return;
        }
        match self.find(r, hint) {
            Some(i) => {
                self.0[i].value.add_same_kind(&r.value);
            }
            None => self.0.push(r.clone()),
        }
    }

    /// Subtracts one resource, saturating; drops the entry if it empties.
    fn sub_one(&mut self, r: &Resource, hint: usize) {
        if let Some(i) = self.find(r, hint) {
            let entry = &mut self.0[i];
            entry.value.sub_same_kind(&r.value);
            if entry.value.is_empty() {
                // `remove`, not `swap_remove`: keep the written order.
                self.0.remove(i);
            }
        }
    }

    /// The index of the entry with `r`'s key. Resources built from the same
    /// text list their entries in the same order, so position `hint` is
    /// tried first: on the allocator's hot paths that saves most compares.
    #[inline]
    fn find(&self, r: &Resource, hint: usize) -> Option<usize> {
        match self.0.get(hint) {
            Some(e) if e.same_key(r) => Some(hint),
            _ => self.0.iter().position(|e| e.same_key(r)),
        }
    }

    /// Whether every resource of `other` is present here (same name,
    /// reservation and kind, at least as much). No allocation.
    pub fn contains(&self, other: &Resources) -> bool {
        other
            .0
            .iter()
            .enumerate()
            .all(|(i, r)| match self.find(r, i) {
                Some(j) => self.0[j].value.contains(&r.value),
                None => false,
            })
    }

    /// Whether this single resource is present here.
    pub fn contains_resource(&self, r: &Resource) -> bool {
        r.value.is_empty()
            || self
                .0
                .iter()
                .any(|e| e.same_key(r) && e.value.contains(&r.value))
    }

    /// Every scalar entry as `(name, amount)`; a name repeats once per reservation.
    pub fn scalars(&self) -> impl Iterator<Item = (&str, Scalar)> + '_ {
        self.0.iter().filter_map(|r| match r.value {
            Value::Scalar(s) => Some((r.name.as_str(), s)),
            _ => None,
        })
    }

    /// The total of scalar resource `name` over all reservations (zero if absent).
    pub fn scalar(&self, name: &str) -> Scalar {
        self.scalars()
            .filter(|(n, _)| *n == name)
            .map(|(_, s)| s)
            .sum()
    }

    fn scalar_opt(&self, name: &str) -> Option<f64> {
        let mut found = false;
        let mut total = Scalar::ZERO;
        for (n, s) in self.scalars() {
            if n == name {
                found = true;
                total += s;
            }
        }
        found.then(|| total.as_f64())
    }

    /// Total cpus, if any.
    pub fn cpus(&self) -> Option<f64> {
        self.scalar_opt("cpus")
    }

    /// Total memory in MB, if any.
    pub fn mem(&self) -> Option<f64> {
        self.scalar_opt("mem")
    }

    /// Total disk in MB, if any.
    pub fn disk(&self) -> Option<f64> {
        self.scalar_opt("disk")
    }

    /// Total gpus, if any.
    pub fn gpus(&self) -> Option<f64> {
        self.scalar_opt("gpus")
    }

    /// All ports over all reservations, if any.
    pub fn ports(&self) -> Option<Ranges> {
        let mut out: Option<Ranges> = None;
        for r in &self.0 {
            if let (true, Value::Ranges(ranges)) = (r.name == "ports", &r.value) {
                out.get_or_insert_with(Ranges::new).add(ranges);
            }
        }
        out
    }

    /// The entries for which `keep` is true.
    pub fn filter(&self, mut keep: impl FnMut(&Resource) -> bool) -> Resources {
        Resources(self.0.iter().filter(|r| keep(r)).cloned().collect())
    }

    /// Resources reserved for exactly `role`.
    pub fn reserved(&self, role: &str) -> Resources {
        self.filter(|r| r.reservation.as_deref() == Some(role))
    }

    /// Resources reserved for any role.
    pub fn reserved_any(&self) -> Resources {
        self.filter(|r| r.reservation.is_some())
    }

    /// Unreserved resources.
    pub fn unreserved(&self) -> Resources {
        self.filter(|r| r.reservation.is_none())
    }

    /// What a framework in `role` may be offered: unreserved resources plus
    /// those reserved for `role` or one of its ancestors.
    pub fn allocatable_to(&self, role: &str) -> Resources {
        self.filter(|r| r.is_allocatable_to(role))
    }

    /// The same resources with every reservation dropped (all unreserved),
    /// merging entries that then share a name and kind.
    pub fn flatten(&self) -> Resources {
        let mut out = Resources(Vec::with_capacity(self.0.len()));
        for r in &self.0 {
            if r.reservation.is_none() {
                out.add_one(r, usize::MAX);
            } else {
                out.push(Resource {
                    name: r.name.clone(),
                    value: r.value.clone(),
                    reservation: None,
                });
            }
        }
        out
    }

    /// These resources reserved for `role` (`"*"` unreserves them).
    pub fn reserve(&self, role: &str) -> Resources {
        let mut out = Resources::new();
        for r in &self.0 {
            out.push(r.clone().reserved_for(role));
        }
        out
    }

    /// Whether every scalar here is at least as large as the matching total in
    /// `other`, ignoring reservations and non-scalars; handy for checking a
    /// minimum such as `cpus:0.01`.
    pub fn contains_scalars_flat(&self, other: &Resources) -> bool {
        other
            .scalars()
            .all(|(name, _)| self.scalar(name) >= other.scalar(name))
    }
}

impl PartialEq for Resources {
    /// Order-insensitive; relies on the canonical form (one entry per key).
    fn eq(&self, other: &Resources) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().enumerate().all(|(i, r)| {
                other
                    .find(r, i)
                    .is_some_and(|j| other.0[j].value == r.value)
            })
    }
}

impl Eq for Resources {}

impl fmt::Display for Resources {
    /// Mesos's text form `cpus:4;mem:1024;ports:[31000-32000]`; empty prints
    /// as the empty string (which parses back to empty resources).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            r.fmt(f)?;
        }
        Ok(())
    }
}

impl FromStr for Resources {
    type Err = ResourcesError;
    fn from_str(s: &str) -> Result<Resources, ResourcesError> {
        Resources::parse(s)
    }
}

impl From<Resource> for Resources {
    fn from(r: Resource) -> Resources {
        let mut out = Resources::new();
        out.push(r);
        out
    }
}

impl FromIterator<Resource> for Resources {
    fn from_iter<I: IntoIterator<Item = Resource>>(iter: I) -> Resources {
        let mut out = Resources::new();
        out.extend(iter);
        out
    }
}

impl Extend<Resource> for Resources {
    fn extend<I: IntoIterator<Item = Resource>>(&mut self, iter: I) {
        for r in iter {
            self.push(r);
        }
    }
}

impl<'a> IntoIterator for &'a Resources {
    type Item = &'a Resource;
    type IntoIter = std::slice::Iter<'a, Resource>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Resources {
    type Item = Resource;
    type IntoIter = std::vec::IntoIter<Resource>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl AddAssign<&Resources> for Resources {
    fn add_assign(&mut self, rhs: &Resources) {
        for (i, r) in rhs.0.iter().enumerate() {
            self.add_one(r, i);
        }
    }
}

impl AddAssign for Resources {
    fn add_assign(&mut self, rhs: Resources) {
        for r in rhs.0 {
            self.push(r);
        }
    }
}

impl AddAssign<&Resource> for Resources {
    fn add_assign(&mut self, rhs: &Resource) {
        self.add_one(rhs, 0);
    }
}

impl SubAssign<&Resources> for Resources {
    /// Saturating: see the [type docs](Resources).
    fn sub_assign(&mut self, rhs: &Resources) {
        for (i, r) in rhs.0.iter().enumerate() {
            if self.0.is_empty() {
                return;
            }
            self.sub_one(r, i);
        }
    }
}

impl SubAssign for Resources {
    fn sub_assign(&mut self, rhs: Resources) {
        *self -= &rhs;
    }
}

impl SubAssign<&Resource> for Resources {
    fn sub_assign(&mut self, rhs: &Resource) {
        self.sub_one(rhs, 0);
    }
}

impl Add<&Resources> for Resources {
    type Output = Resources;
    fn add(mut self, rhs: &Resources) -> Resources {
        self += rhs;
        self
    }
}

impl Add for Resources {
    type Output = Resources;
    fn add(mut self, rhs: Resources) -> Resources {
        self += rhs;
        self
    }
}

impl Add<&Resources> for &Resources {
    type Output = Resources;
    fn add(self, rhs: &Resources) -> Resources {
        self.clone() + rhs
    }
}

impl Sub<&Resources> for Resources {
    type Output = Resources;
    fn sub(mut self, rhs: &Resources) -> Resources {
        self -= rhs;
        self
    }
}

impl Sub for Resources {
    type Output = Resources;
    fn sub(mut self, rhs: Resources) -> Resources {
        self -= &rhs;
        self
    }
}

impl Sub<&Resources> for &Resources {
    type Output = Resources;
    fn sub(self, rhs: &Resources) -> Resources {
        self.clone() - rhs
    }
}

impl std::iter::Sum for Resources {
    fn sum<I: Iterator<Item = Resources>>(iter: I) -> Resources {
        iter.fold(Resources::new(), Add::add)
    }
}

impl<'a> std::iter::Sum<&'a Resources> for Resources {
    fn sum<I: Iterator<Item = &'a Resources>>(iter: I) -> Resources {
        iter.fold(Resources::new(), |acc, r| acc + r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(text: &str) -> Resources {
        text.parse().unwrap()
    }

    #[test]
    fn add_merges_by_name_and_reservation() {
        let a = res("cpus:1;mem:512;cpus(web):2");
        let b = res("cpus:0.5;cpus(web):1;disk:10");
        assert_eq!(
            (&a + &b).to_string(),
            "cpus:1.5;mem:512;cpus(web):3;disk:10"
        );
        assert_eq!(a.scalar("cpus"), Scalar::from_f64(3.0));
        assert_eq!(a.cpus(), Some(3.0));
        assert_eq!(a.disk(), None);
    }

    #[test]
    fn sub_saturates_and_drops_empty_entries() {
        let a = res("cpus:1;mem:512;ports:[1-10]");
        let left = &a - &res("cpus:2;mem:12;ports:[5-20];disk:7");
        assert_eq!(left, res("mem:500;ports:[1-4]"));
        assert!((&a - &a).is_empty());
    }

    #[test]
    fn contains_respects_reservations() {
        let a = res("cpus:1;cpus(web):2");
        assert!(a.contains(&res("cpus(web):2")));
        assert!(!a.contains(&res("cpus(web):2.5")));
        assert!(!a.contains(&res("cpus:2")));
        assert!(!a.contains(&res("cpus(db):1")));
        assert!(a.contains(&Resources::new()));
    }

    #[test]
    fn role_filters() {
        let a = res("cpus:1;cpus(a):2;mem(a/b):64;disk(c):5");
        assert_eq!(a.reserved("a"), res("cpus(a):2"));
        assert_eq!(a.unreserved(), res("cpus:1"));
        assert_eq!(a.allocatable_to("a/b"), res("cpus:1;cpus(a):2;mem(a/b):64"));
        assert_eq!(a.allocatable_to("a"), res("cpus:1;cpus(a):2"));
        assert_eq!(a.flatten(), res("cpus:3;mem:64;disk:5"));
        assert_eq!(a.reserved_any(), res("cpus(a):2;mem(a/b):64;disk(c):5"));
        assert_eq!(res("cpus:1").reserve("x"), res("cpus(x):1"));
    }

    #[test]
    fn equality_ignores_order() {
        assert_eq!(res("cpus:1;mem:2"), res("mem:2;cpus:1"));
        assert_ne!(res("cpus:1;mem:2"), res("cpus:1"));
        assert_ne!(res("cpus:1"), res("cpus(a):1"));
    }

    #[test]
    fn ports_union_over_reservations() {
        let a = res("ports:[1-2];ports(a):[3-4]");
        assert_eq!(a.ports(), Some(Ranges::from_range(1, 4)));
        assert_eq!(res("cpus:1").ports(), None);
    }
}
