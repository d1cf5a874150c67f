//! TLS settings: libprocess's `LIBPROCESS_SSL_*` environment variables, parsed into a
//! [`TlsConfig`], and the errors of reading them and the files they name.

use std::path::{Path, PathBuf};

/// The environment variables, as libprocess names them.
pub mod vars {
    /// `true|1` turns TLS on for every connection of the runtime (default off).
    pub const ENABLED: &str = "LIBPROCESS_SSL_ENABLED";
    /// The PEM certificate chain this runtime presents (required with TLS on).
    pub const CERT_FILE: &str = "LIBPROCESS_SSL_CERT_FILE";
    /// The PEM private key of that certificate (required with TLS on).
    pub const KEY_FILE: &str = "LIBPROCESS_SSL_KEY_FILE";
    /// A PEM file of trusted CA certificates.
    pub const CA_FILE: &str = "LIBPROCESS_SSL_CA_FILE";
    /// A directory of PEM files of trusted CA certificates.
    pub const CA_DIR: &str = "LIBPROCESS_SSL_CA_DIR";
    /// Verify the peer's certificate when one is presented (default off).
    pub const VERIFY_CERT: &str = "LIBPROCESS_SSL_VERIFY_CERT";
    /// Require (and verify) a certificate from every connecting client: mutual TLS (default off).
    pub const REQUIRE_CERT: &str = "LIBPROCESS_SSL_REQUIRE_CERT";
    /// Also accept plaintext connections on the TLS port; the first byte decides (default off).
    pub const SUPPORT_DOWNGRADE: &str = "LIBPROCESS_SSL_SUPPORT_DOWNGRADE";
    /// Every variable above, for passing them on.
    pub const ALL: [&str; 8] = [
        ENABLED,
        CERT_FILE,
        KEY_FILE,
        CA_FILE,
        CA_DIR,
        VERIFY_CERT,
        REQUIRE_CERT,
        SUPPORT_DOWNGRADE,
    ];
}

/// Where trusted CA certificates come from when none is configured and verification is on: the
/// system bundle (Debian's path), as OpenSSL's default for libprocess.
pub(crate) const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// TLS settings of one runtime (see [`vars`] for what each field means).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// The certificate chain presented to peers (PEM).
    pub cert_file: PathBuf,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// Trusted CA certificates (PEM), if any.
    pub ca_file: Option<PathBuf>,
    /// A directory of trusted CA certificates (PEM files), if any.
    pub ca_dir: Option<PathBuf>,
    /// Verify the peer's certificate when presented: the server's on outgoing connections, a
    /// client's on incoming ones.
    pub verify_cert: bool,
    /// Incoming connections must present a certificate that verifies (implies `verify_cert`).
    pub require_cert: bool,
    /// Incoming connections may also be plaintext: a first byte of 0x16 (a TLS handshake record)
    /// means TLS, anything else plaintext. Outgoing connections are always TLS.
    pub support_downgrade: bool,
}

impl TlsConfig {
    /// A configuration presenting `cert_file`/`key_file`, verifying nothing, no downgrade.
    pub fn new(cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> TlsConfig {
        TlsConfig {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
            ca_file: None,
            ca_dir: None,
            verify_cert: false,
            require_cert: false,
            support_downgrade: false,
        }
    }

    /// Reads the `LIBPROCESS_SSL_*` variables of this process: `None` when TLS is off.
    ///
    /// # Errors
    /// [`TlsError::BadVariable`] for a value that is not a boolean, [`TlsError::Missing`] when TLS
    /// is on without a certificate or key file.
    pub fn from_env() -> Result<Option<TlsConfig>, TlsError> {
        TlsConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// [`TlsConfig::from_env`] over any variable lookup (for tests and embedding).
    ///
    /// # Errors
    /// As [`TlsConfig::from_env`].
    pub fn from_vars(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<TlsConfig>, TlsError> {
        let flag = |name: &'static str| -> Result<bool, TlsError> {
            match lookup(name) {
                None => Ok(false),
                Some(value) => parse_bool(&value).ok_or(TlsError::BadVariable { name, value }),
            }
        };
        let path = |name: &'static str| lookup(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        if !flag(vars::ENABLED)? {
            return Ok(None);
        }
        let cert_file = path(vars::CERT_FILE).ok_or(TlsError::Missing(vars::CERT_FILE))?;
        let key_file = path(vars::KEY_FILE).ok_or(TlsError::Missing(vars::KEY_FILE))?;
        Ok(Some(TlsConfig {
            cert_file,
            key_file,
            ca_file: path(vars::CA_FILE),
            ca_dir: path(vars::CA_DIR),
            verify_cert: flag(vars::VERIFY_CERT)?,
            require_cert: flag(vars::REQUIRE_CERT)?,
            support_downgrade: flag(vars::SUPPORT_DOWNGRADE)?,
        }))
    }

    /// Whether peer certificates are checked against the trusted CAs.
    pub(crate) fn verifies(&self) -> bool {
        self.verify_cert || self.require_cert
    }
}

/// stout's boolean forms, as libprocess reads these variables.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Why TLS could not be set up. Every variant names the variable or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A boolean variable holds something else.
    #[error("{name}={value:?}: expected true, false, 1 or 0")]
    BadVariable {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// TLS is on but a required variable is unset.
    #[error("LIBPROCESS_SSL_ENABLED is true but {0} is not set")]
    Missing(&'static str),
    /// A certificate, key or CA file (or directory) cannot be read or holds nothing usable.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate and key do not make a usable configuration (e.g. the key does not match).
    #[error("certificate {} with key {}: {reason}", cert.display(), key.display())]
    Identity {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        reason: String,
    },
    /// Peer verification is on and no CA is configured or found.
    #[error("LIBPROCESS_SSL_VERIFY_CERT/REQUIRE_CERT need LIBPROCESS_SSL_CA_FILE or LIBPROCESS_SSL_CA_DIR (no system bundle at {SYSTEM_CA_FILE})")]
    NoTrustedCa,
}

impl TlsError {
    pub(crate) fn file(path: &Path, reason: impl ToString) -> TlsError {
        TlsError::File {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<TlsConfig>, TlsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TlsConfig::from_vars(|name| map.get(name).cloned())
    }

    #[test]
    fn off_unless_enabled() {
        assert_eq!(parse(&[]).unwrap(), None);
        assert_eq!(parse(&[(vars::ENABLED, "false")]).unwrap(), None);
        assert_eq!(
            parse(&[(vars::ENABLED, "0"), (vars::CERT_FILE, "c")]).unwrap(),
            None
        );
    }

    #[test]
    fn reads_every_variable() {
        let config = parse(&[
            (vars::ENABLED, "true"),
            (vars::CERT_FILE, "/c.pem"),
            (vars::KEY_FILE, "/k.pem"),
            (vars::CA_FILE, "/ca.pem"),
            (vars::CA_DIR, "/cas"),
            (vars::VERIFY_CERT, "1"),
            (vars::REQUIRE_CERT, "TRUE"),
            (vars::SUPPORT_DOWNGRADE, "false"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.cert_file, PathBuf::from("/c.pem"));
        assert_eq!(config.key_file, PathBuf::from("/k.pem"));
        assert_eq!(config.ca_file, Some(PathBuf::from("/ca.pem")));
        assert_eq!(config.ca_dir, Some(PathBuf::from("/cas")));
        assert!(config.verify_cert && config.require_cert && !config.support_downgrade);
        assert!(config.verifies());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = parse(&[(vars::ENABLED, "yes")]).unwrap_err();
        assert!(err.to_string().contains("LIBPROCESS_SSL_ENABLED"), "{err}");
        let err = parse(&[(vars::ENABLED, "1"), (vars::KEY_FILE, "k")]).unwrap_err();
        assert!(
            err.to_string().contains("LIBPROCESS_SSL_CERT_FILE"),
            "{err}"
        );
        let err = parse(&[(vars::ENABLED, "1"), (vars::CERT_FILE, "c")]).unwrap_err();
        assert!(err.to_string().contains("LIBPROCESS_SSL_KEY_FILE"), "{err}");
        let err = parse(&[
            (vars::ENABLED, "1"),
            (vars::CERT_FILE, "c"),
            (vars::KEY_FILE, "k"),
            (vars::REQUIRE_CERT, "maybe"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().contains("LIBPROCESS_SSL_REQUIRE_CERT"),
            "{err}"
        );
    }
}
