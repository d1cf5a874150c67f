//! `MasterInfo`: how the leading master is described to schedulers, agents
//! and (as JSON in ZooKeeper) to tools.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Mesos's default master port.
pub const DEFAULT_MASTER_PORT: u16 = 5050;

/// A network address as Mesos's `Address`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// The host name, if known.
    pub hostname: Option<String>,
    /// The IP address as text, e.g. `10.0.0.1`.
    pub ip: Option<String>,
    /// The port.
    pub port: i32,
}

/// The leading master (Mesos's `MasterInfo`).
///
/// `ip` is kept as Mesos does: the IPv4 address's network-order bytes read as
/// a little-endian `u32` (so `127.0.0.1` is `16777343`, what Mesos writes on
/// x86). Tools prefer `address`, which carries the IP as text.
///
/// ```
/// use std::net::Ipv4Addr;
/// use mesos::MasterInfo;
/// let info = MasterInfo::new("m-1", Ipv4Addr::LOCALHOST, 5050, Some("localhost".into()));
/// assert_eq!(info.ip, 16777343);
/// assert_eq!(info.pid.as_deref(), Some("master@127.0.0.1:5050"));
/// assert_eq!(info.ipv4(), Ipv4Addr::LOCALHOST);
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct MasterInfo {
    /// A unique id for this master run.
    pub id: String,
    /// The IPv4 address, Mesos's integer encoding (see the type docs).
    pub ip: u32,
    /// The port (default 5050).
    pub port: u32,
    /// The master's process id, `master@ip:port`.
    pub pid: Option<String>,
    /// The host name.
    pub hostname: Option<String>,
    /// The Mesos-compatible version string.
    pub version: Option<String>,
    /// The address, as tools read it.
    pub address: Option<Address>,
}

impl Default for MasterInfo {
    fn default() -> MasterInfo {
        MasterInfo {
            id: String::new(),
            ip: 0,
            port: u32::from(DEFAULT_MASTER_PORT),
            pid: None,
            hostname: None,
            version: None,
            address: None,
        }
    }
}

impl MasterInfo {
    /// Describes the master `id` listening on `ip:port`; fills `pid` and
    /// `address` as Mesos does, and `version` with this crate's version.
    pub fn new(
        id: impl Into<String>,
        ip: Ipv4Addr,
        port: u16,
        hostname: Option<String>,
    ) -> MasterInfo {
        MasterInfo {
            id: id.into(),
            ip: ip_to_mesos(ip),
            port: u32::from(port),
            pid: Some(format!("master@{ip}:{port}")),
            hostname: hostname.clone(),
            version: Some(crate::VERSION.to_string()),
            address: Some(Address {
                hostname,
                ip: Some(ip.to_string()),
                port: i32::from(port),
            }),
        }
    }

    /// The IPv4 address decoded from `ip`.
    pub fn ipv4(&self) -> Ipv4Addr {
        ip_from_mesos(self.ip)
    }
}

/// Mesos's integer form of an IPv4 address (network-order bytes as a
/// little-endian integer).
pub fn ip_to_mesos(ip: Ipv4Addr) -> u32 {
    u32::from_le_bytes(ip.octets())
}

/// Inverse of [`ip_to_mesos`].
pub fn ip_from_mesos(ip: u32) -> Ipv4Addr {
    Ipv4Addr::from(ip.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_reads_like_mesos_zookeeper_entry() {
        // The shape Mesos writes to ZooKeeper (json.info_*), trimmed.
        let json = r#"{"address":{"hostname":"h","ip":"10.0.0.5","port":5050},"hostname":"h",
            "id":"0b4b8b7c","ip":83886090,"pid":"master@10.0.0.5:5050","port":5050,"version":"1.11.0"}"#;
        let info: MasterInfo = serde_json::from_str(json).unwrap();
        assert_eq!(info.ipv4(), Ipv4Addr::new(10, 0, 0, 5));
        assert_eq!(
            info.address.as_ref().unwrap().ip.as_deref(),
            Some("10.0.0.5")
        );
        let built = MasterInfo::new(
            "0b4b8b7c",
            Ipv4Addr::new(10, 0, 0, 5),
            5050,
            Some("h".into()),
        );
        assert_eq!(built.ip, info.ip);
        assert_eq!(built.pid, info.pid);
        assert_eq!(built.address, info.address);
    }

    #[test]
    fn ip_round_trip() {
        for ip in [
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::new(192, 168, 1, 200),
            Ipv4Addr::BROADCAST,
        ] {
            assert_eq!(ip_from_mesos(ip_to_mesos(ip)), ip);
        }
        assert_eq!(ip_to_mesos(Ipv4Addr::LOCALHOST), 16_777_343);
    }
}
