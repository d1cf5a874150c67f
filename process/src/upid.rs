//! Process ids: `id@ip:port`, as libprocess prints them.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The address of a process: its id, unique within one runtime, and the runtime's listening address.
///
/// Printed and parsed as `id@ip:port` (IPv6 as `id@[::1]:port`). Cloning is cheap: one shared,
/// immutable allocation. A pid is one pointer wide, so the letters that carry one (every remote
/// message, every reply address) stay small on the mailbox hot path.
///
/// ```
/// use process::Upid;
/// let pid: Upid = "master@127.0.0.1:5050".parse().unwrap();
/// assert_eq!(pid.id(), "master");
/// assert_eq!(pid.addr().port(), 5050);
/// assert_eq!(pid.to_string(), "master@127.0.0.1:5050");
/// ```
#[derive(Clone)]
pub struct Upid {
    inner: Arc<UpidInner>,
}

struct UpidInner {
    id: Box<str>,
    addr: SocketAddr,
}

impl PartialEq for Upid {
    fn eq(&self, other: &Upid) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            || (self.inner.addr == other.inner.addr && self.inner.id == other.inner.id)
    }
}

impl Eq for Upid {}

impl std::hash::Hash for Upid {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.id.hash(state);
        self.inner.addr.hash(state);
    }
}

impl PartialOrd for Upid {
    fn partial_cmp(&self, other: &Upid) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Upid {
    /// By id, then address.
    fn cmp(&self, other: &Upid) -> std::cmp::Ordering {
        (&*self.inner.id, self.inner.addr).cmp(&(&*other.inner.id, other.inner.addr))
    }
}

/// Why a string is not a valid [`Upid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpidParseError {
    /// There is no `@` between the id and the address.
    #[error("process id '{0}' has no '@': expected id@ip:port")]
    MissingAt(String),
    /// The part before `@` is empty.
    #[error("process id '{0}' has an empty id before '@'")]
    EmptyId(String),
    /// The id holds a character that cannot appear in a pid or an HTTP path segment.
    #[error("process id '{0}' has an invalid character in its id (no '/', '@', whitespace or control characters)")]
    InvalidId(String),
    /// The address after `@` is not `ip:port`.
    #[error("process id '{input}' has an invalid address '{address}': expected ip:port, e.g. 127.0.0.1:5050")]
    InvalidAddress {
        /// The whole input.
        input: String,
        /// The part after `@`.
        address: String,
    },
}

impl Upid {
    /// A pid for process `id` on the runtime listening at `addr`.
    ///
    /// # Errors
    /// [`UpidParseError::EmptyId`] or [`UpidParseError::InvalidId`] if `id` is empty or holds `/`, `@`,
    /// whitespace or control characters (it must be usable as an HTTP path segment).
    pub fn new(id: &str, addr: SocketAddr) -> Result<Upid, UpidParseError> {
        validate_id(id, &format!("{id}@{addr}"))?;
        Ok(Upid::from_parts(id, addr))
    }

    fn from_parts(id: &str, addr: SocketAddr) -> Upid {
        Upid {
            inner: Arc::new(UpidInner {
                id: Box::from(id),
                addr,
            }),
        }
    }

    /// The process id, unique within its runtime (e.g. `master`, `scheduler-1`).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The listening address of the runtime that hosts the process.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The IP address of the hosting runtime.
    pub fn ip(&self) -> IpAddr {
        self.inner.addr.ip()
    }

    /// The port of the hosting runtime.
    pub fn port(&self) -> u16 {
        self.inner.addr.port()
    }
}

fn validate_id(id: &str, input: &str) -> Result<(), UpidParseError> {
    if id.is_empty() {
        return Err(UpidParseError::EmptyId(input.to_string()));
    }
    if id
        .chars()
        .any(|c| c == '/' || c == '@' || c.is_whitespace() || c.is_control())
    {
        return Err(UpidParseError::InvalidId(input.to_string()));
    }
    Ok(())
}

impl FromStr for Upid {
    type Err = UpidParseError;

    fn from_str(s: &str) -> Result<Upid, UpidParseError> {
        // The id may not hold '@', so the last '@' separates id and address.
        let (id, address) = s
            .rsplit_once('@')
            .ok_or_else(|| UpidParseError::MissingAt(s.to_string()))?;
        validate_id(id, s)?;
        let addr = address
            .parse::<SocketAddr>()
            .map_err(|_| UpidParseError::InvalidAddress {
                input: s.to_string(),
                address: address.to_string(),
            })?;
        Ok(Upid::from_parts(id, addr))
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.inner.id, self.inner.addr)
    }
}

impl fmt::Debug for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Upid({self})")
    }
}

impl Serialize for Upid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Upid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Upid, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_ipv4_and_ipv6() {
        for text in ["master@127.0.0.1:5050", "agent(1)@[::1]:5051"] {
            let pid: Upid = text.parse().unwrap();
            assert_eq!(pid.to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_input_with_a_reason() {
        assert_eq!(
            "master".parse::<Upid>(),
            Err(UpidParseError::MissingAt("master".into()))
        );
        assert_eq!(
            "@127.0.0.1:1".parse::<Upid>(),
            Err(UpidParseError::EmptyId("@127.0.0.1:1".into()))
        );
        assert!(matches!(
            "a/b@127.0.0.1:1".parse::<Upid>(),
            Err(UpidParseError::InvalidId(_))
        ));
        assert!(matches!(
            "m@localhost".parse::<Upid>(),
            Err(UpidParseError::InvalidAddress { .. })
        ));
        assert!(matches!(
            "m@127.0.0.1:99999".parse::<Upid>(),
            Err(UpidParseError::InvalidAddress { .. })
        ));
        let err = "m@nope".parse::<Upid>().unwrap_err().to_string();
        assert!(err.contains("'nope'"), "{err}");
    }

    #[test]
    fn serde_uses_the_string_form() {
        let pid: Upid = "master@127.0.0.1:5050".parse().unwrap();
        let json = serde_json::to_string(&pid).unwrap();
        assert_eq!(json, "\"master@127.0.0.1:5050\"");
        assert_eq!(serde_json::from_str::<Upid>(&json).unwrap(), pid);
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&pid, cfg).unwrap();
        let (back, _): (Upid, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        assert_eq!(back, pid);
    }

    #[test]
    fn equality_hash_and_order_follow_the_text_not_the_allocation() {
        use std::collections::hash_map::DefaultHasher;
        use std::hash::{Hash, Hasher};
        let hash = |p: &Upid| {
            let mut h = DefaultHasher::new();
            p.hash(&mut h);
            h.finish()
        };
        let a: Upid = "a@127.0.0.1:1".parse().unwrap();
        let a2: Upid = "a@127.0.0.1:1".parse().unwrap();
        let b: Upid = "b@127.0.0.1:1".parse().unwrap();
        let a_other_port: Upid = "a@127.0.0.1:2".parse().unwrap();
        assert_eq!(a, a2);
        assert_eq!(hash(&a), hash(&a2));
        assert_ne!(a, b);
        assert_ne!(a, a_other_port);
        assert!(a < a_other_port && a_other_port < b);
        assert_eq!(std::mem::size_of::<Upid>(), std::mem::size_of::<usize>());
    }
}
