//! One named resource: its value (scalar, ranges or set) and reservation.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Ranges, Scalar};

/// The kind of a resource value, as Mesos's `Value.Type`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ValueKind {
    /// A quantity (`SCALAR`).
    Scalar,
    /// Integer ranges (`RANGES`).
    Ranges,
    /// A set of strings (`SET`).
    Set,
}

impl ValueKind {
    /// Mesos's JSON name: `SCALAR`, `RANGES` or `SET`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Scalar => "SCALAR",
            ValueKind::Ranges => "RANGES",
            ValueKind::Set => "SET",
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource value.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Value {
    /// A quantity such as `cpus:1.5`.
    Scalar(Scalar),
    /// Integer ranges such as `ports:[31000-32000]`.
    Ranges(Ranges),
    /// A set of strings such as `disks:{sda,sdb}`.
    Set(BTreeSet<String>),
}

impl Value {
    /// The kind of this value.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::Scalar(_) => ValueKind::Scalar,
            Value::Ranges(_) => ValueKind::Ranges,
            Value::Set(_) => ValueKind::Set,
        }
    }

    /// Whether the value holds nothing usable: a scalar that is not positive,
    /// or empty ranges or set. [`Resources`](super::Resources) never stores such values.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Scalar(s) => !s.is_positive(),
            Value::Ranges(r) => r.is_empty(),
            Value::Set(s) => s.is_empty(),
        }
    }

    /// Whether `other` is of the same kind and not larger than `self`.
    pub fn contains(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => a >= b,
            (Value::Ranges(a), Value::Ranges(b)) => a.contains(b),
            (Value::Set(a), Value::Set(b)) => b.is_subset(a),
            _ => false,
        }
    }

    /// Adds `other` if it has the same kind; returns whether it did.
    pub(crate) fn add_same_kind(&mut self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => *a += *b,
            (Value::Ranges(a), Value::Ranges(b)) => a.add(b),
            (Value::Set(a), Value::Set(b)) => {
                for item in b {
                    if !a.contains(item) {
                        a.insert(item.clone());
                    }
                }
            }
            _ => return false,
        }
        true
    }

    /// Subtracts `other` if it has the same kind, never going below empty;
    /// returns whether it did.
    pub(crate) fn sub_same_kind(&mut self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => *a = a.saturating_sub_to_zero(*b),
            (Value::Ranges(a), Value::Ranges(b)) => a.sub(b),
            (Value::Set(a), Value::Set(b)) => a.retain(|item| !b.contains(item)),
            _ => return false,
        }
        true
    }
}

impl fmt::Display for Value {
    /// Mesos's text form: `1.5`, `[1-2, 4-5]`, `{a, b}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Scalar(s) => s.fmt(f),
            Value::Ranges(r) => r.fmt(f),
            Value::Set(items) => fmt_set(items, f),
        }
    }
}

/// Mesos's text form of a set: `{a, b}`.
pub(crate) fn fmt_set(items: &BTreeSet<String>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("{")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(item)?;
    }
    f.write_str("}")
}

/// One named resource, optionally reserved for a role.
///
/// Mesos's `Resource` message, reduced to what the project uses: a static
/// reservation is just the role it is reserved for.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Resource {
    /// The resource name, e.g. `cpus`, `mem`, `disk`, `gpus`, `ports`.
    pub name: String,
    /// The amount.
    pub value: Value,
    /// The role this resource is reserved for; `None` is unreserved (`*`).
    pub reservation: Option<String>,
}

impl Resource {
    /// An unreserved scalar resource, rounded to three decimals.
    pub fn scalar(name: impl Into<String>, value: f64) -> Resource {
        Resource {
            name: name.into(),
            value: Value::Scalar(Scalar::from_f64(value)),
            reservation: None,
        }
    }

    /// An unreserved ranges resource.
    pub fn ranges(name: impl Into<String>, ranges: Ranges) -> Resource {
        Resource {
            name: name.into(),
            value: Value::Ranges(ranges),
            reservation: None,
        }
    }

    /// An unreserved set resource.
    pub fn set<I, S>(name: impl Into<String>, items: I) -> Resource
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let items = items.into_iter().map(Into::into).collect();
        Resource {
            name: name.into(),
            value: Value::Set(items),
            reservation: None,
        }
    }

    /// This resource reserved for `role` (`"*"` means unreserved).
    pub fn reserved_for(mut self, role: impl Into<String>) -> Resource {
        let role = role.into();
        self.reservation = if role == "*" { None } else { Some(role) };
        self
    }

    /// The role as Mesos prints it: the reservation, or `*` when unreserved.
    pub fn role(&self) -> &str {
        self.reservation.as_deref().unwrap_or("*")
    }

    /// Whether a framework in `role` may be offered this resource: it is
    /// unreserved, reserved for `role`, or reserved for an ancestor of `role`
    /// (a reservation for `a` is usable by `a/b`, as in Mesos).
    pub fn is_allocatable_to(&self, role: &str) -> bool {
        match &self.reservation {
            None => true,
            Some(r) => is_same_or_subrole(role, r),
        }
    }

    /// Whether `other` has the same name, reservation and kind, i.e. whether
    /// the two merge into one entry of [`Resources`](super::Resources).
    pub fn same_key(&self, other: &Resource) -> bool {
        self.name == other.name
            && self.reservation == other.reservation
            && self.value.kind() == other.value.kind()
    }
}

/// Whether `role` equals `ancestor` or lies below it in the role tree.
pub(crate) fn is_same_or_subrole(role: &str, ancestor: &str) -> bool {
    match role.strip_prefix(ancestor) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

impl fmt::Display for Resource {
    /// Mesos's text form: `cpus:2` or `cpus(analytics):2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reservation {
            None => write!(f, "{}:{}", self.name, self.value),
            Some(role) => write!(f, "{}({}):{}", self.name, role, self.value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subroles_use_ancestor_reservations() {
        let r = Resource::scalar("cpus", 1.0).reserved_for("a");
        assert!(r.is_allocatable_to("a"));
        assert!(r.is_allocatable_to("a/b"));
        assert!(!r.is_allocatable_to("ab"));
        assert!(!r.is_allocatable_to("b"));
        assert!(Resource::scalar("cpus", 1.0).is_allocatable_to("anything"));
        assert_eq!(
            Resource::scalar("cpus", 1.0).reserved_for("*").reservation,
            None
        );
    }

    #[test]
    fn display_text_form() {
        assert_eq!(
            Resource::scalar("cpus", 2.0)
                .reserved_for("analytics")
                .to_string(),
            "cpus(analytics):2"
        );
        assert_eq!(
            Resource::set("disks", ["b", "a"]).to_string(),
            "disks:{a, b}"
        );
        assert_eq!(
            Resource::ranges("ports", Ranges::from_range(1, 2)).to_string(),
            "ports:[1-2]"
        );
    }
}
