//! [`ZkUrl`]: `zk://host1:2181,host2:2181/path`, as Mesos's `--zk` and `--master` take it.

/// A parsed `zk://` URL: the servers and the election path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkUrl {
    /// `host:port` entries, comma-separated, as ZooKeeper clients take them.
    pub servers: String,
    /// The election path (absolute, no trailing slash), e.g. `/mesos`.
    pub path: String,
}

/// Why a `zk://` URL was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZkUrlError {
    /// Not of the form `zk://host:port[,host:port]/path`.
    #[error("bad zookeeper url '{0}': expected zk://host1:2181,host2:2181/path")]
    Malformed(String),
}

impl std::str::FromStr for ZkUrl {
    type Err = ZkUrlError;

    fn from_str(text: &str) -> Result<ZkUrl, ZkUrlError> {
        let bad = || ZkUrlError::Malformed(text.to_string());
        let rest = text.trim().strip_prefix("zk://").ok_or_else(bad)?;
        // Credentials (`user:pass@`) are not supported: no ACLs are used.
        let (servers, path) = rest.split_once('/').ok_or_else(bad)?;
        if servers.is_empty() || servers.contains('@') {
            return Err(bad());
        }
        for server in servers.split(',') {
            let (host, port) = server.rsplit_once(':').ok_or_else(bad)?;
            if host.is_empty() || port.parse::<u16>().is_err() {
                return Err(bad());
            }
        }
        let path = path.trim_end_matches('/');
        if path.is_empty() || path.split('/').any(str::is_empty) {
            return Err(bad());
        }
        Ok(ZkUrl {
            servers: servers.to_string(),
            path: format!("/{path}"),
        })
    }
}

impl std::fmt::Display for ZkUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "zk://{}{}", self.servers, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_servers_and_path() {
        let url: ZkUrl = "zk://h1:2181,h2:2182/mesos/prod/".parse().unwrap();
        assert_eq!(url.servers, "h1:2181,h2:2182");
        assert_eq!(url.path, "/mesos/prod");
        assert_eq!(url.to_string(), "zk://h1:2181,h2:2182/mesos/prod");
    }

    #[test]
    fn rejects_bad_forms_naming_them() {
        for bad in [
            "h1:2181/mesos",
            "zk://h1:2181",
            "zk://h1:2181/",
            "zk:///mesos",
            "zk://h1/mesos",
            "zk://h1:x/mesos",
            "zk://u:p@h1:2181/mesos",
            "zk://h1:2181/a//b",
        ] {
            let err = bad.parse::<ZkUrl>().unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
