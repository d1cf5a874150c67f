//! Process ids: `id@ip:port`, as libprocess prints them.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The address of a process: its id, unique within one runtime, and the runtime's listening address.
///
/// Printed and parsed as `id@ip:port` (IPv6 as `id@[::1]:port`). Cloning is cheap: the id is shared.
///
/// ```
/// use process::Upid;
/// let pid: Upid = "master@127.0.0.1:5050".parse().unwrap();
/// assert_eq!(pid.id(), "master");
/// assert_eq!(pid.addr().port(), 5050);
/// assert_eq!(pid.to_string(), "master@127.0.0.1:5050");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Upid {
    id: Arc<str>,
    addr: SocketAddr,
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
        Ok(Upid {
            id: Arc::from(id),
            addr,
        })
    }

    /// The process id, unique within its runtime (e.g. `master`, `scheduler-1`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The listening address of the runtime that hosts the process.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The IP address of the hosting runtime.
    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    /// The port of the hosting runtime.
    pub fn port(&self) -> u16 {
        self.addr.port()
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
        Ok(Upid {
            id: Arc::from(id),
            addr,
        })
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.id, self.addr)
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
}
