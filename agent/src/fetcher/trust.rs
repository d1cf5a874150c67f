//! Which certificate authorities the fetcher trusts for `https://` URIs.
//!
//! Mesos's fetcher downloads with libcurl, which trusts the system's CA bundle. Ours trusts the
//! same bundle ([`SYSTEM_CA_FILE`], when present), Mozilla's roots built into the agent (so a host
//! without a bundle still fetches from public servers), and the operator's own CAs: every PEM
//! certificate in the files named by `SSL_CERT_FILE` (the variable curl and OpenSSL read) and
//! `LIBPROCESS_SSL_CA_FILE` (the cluster's CA, when it runs TLS), read when the agent starts.
//! A server whose certificate none of them signed fails the fetch (and so the task) with a
//! message naming the URI.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// The system CA bundle (Debian, Ubuntu, Alpine, Arch; what curl uses there).
pub const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The environment variables naming extra CA files, in the order they are read.
pub const CA_FILE_VARS: [&str; 2] = ["SSL_CERT_FILE", "LIBPROCESS_SSL_CA_FILE"];

/// A CA file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot use CA file '{path}' for the fetcher: {reason}")]
pub struct TrustError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// The extra CA files the environment names (`SSL_CERT_FILE`, `LIBPROCESS_SSL_CA_FILE`), read
/// through `var` (pass `|name| std::env::var(name).ok()`). Empty values are ignored.
pub fn ca_files_from(var: impl Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    CA_FILE_VARS
        .iter()
        .filter_map(|name| var(name))
        .filter(|value| !value.trim().is_empty())
        .map(PathBuf::from)
        .collect()
}

fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let error = |reason: String| TrustError {
        path: path.to_path_buf(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| match e {
            rustls::pki_types::pem::Error::Io(io) => error(io.to_string()),
            other => error(format!("not valid PEM: {other}")),
        })?;
    if certs.is_empty() {
        return Err(error("no PEM certificate found".into()));
    }
    Ok(certs)
}

/// The fetcher's TLS client configuration: Mozilla's roots, the system bundle if present, and
/// every certificate of `extra_ca_files`.
///
/// # Errors
/// The first of `extra_ca_files` that cannot be read or holds no usable certificate.
pub fn client_config(extra_ca_files: &[PathBuf]) -> Result<Arc<ClientConfig>, TrustError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let system = Path::new(SYSTEM_CA_FILE);
    if system.is_file() {
        match pem_certificates(system) {
            // A bundle may hold entries rustls cannot parse; the rest still count.
            Ok(certs) => drop(roots.add_parsable_certificates(certs)),
            Err(err) => tracing::warn!(%err, "the system CA bundle is not used"),
        }
    }
    for path in extra_ca_files {
        let certs = pem_certificates(path)?;
        for cert in certs {
            roots.add(cert).map_err(|e| TrustError {
                path: path.clone(),
                reason: format!("unusable CA certificate: {e}"),
            })?;
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError {
            path: PathBuf::new(),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_come_from_ssl_cert_file_and_libprocess_ssl_ca_file() {
        let files = ca_files_from(|name| match name {
            "SSL_CERT_FILE" => Some("/etc/my-ca.pem".into()),
            "LIBPROCESS_SSL_CA_FILE" => Some(" ".into()),
            _ => None,
        });
        assert_eq!(files, vec![PathBuf::from("/etc/my-ca.pem")]);
        assert!(ca_files_from(|_| None).is_empty());
    }

    #[test]
    fn unusable_ca_files_are_named() {
        let dir = std::env::temp_dir().join(format!("fetcher-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let err = client_config(std::slice::from_ref(&missing)).unwrap_err();
        assert!(err.to_string().contains("missing.pem"), "{err}");
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let err = client_config(std::slice::from_ref(&junk)).unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        let ca = process::testing::certs::TestCa::new(&dir).unwrap();
        assert!(client_config(&[ca.ca_file().to_path_buf()]).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
