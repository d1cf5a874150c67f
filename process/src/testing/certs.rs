//! Certificates for TLS tests, generated on the spot (rcgen): a CA, leaves it signs (valid or
//! expired), and self-signed leaves no one trusts. Each is written as PEM files in a directory
//! the test owns, ready for `LIBPROCESS_SSL_*` variables or a [`TlsConfig`].
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("certs-doc-{}", std::process::id()));
//! let ca = process::testing::certs::TestCa::new(&dir).unwrap();
//! let node = ca.issue("node", &["127.0.0.1", "localhost"]).unwrap();
//! let config = node.tls_config(Some(ca.ca_file()));
//! assert!(config.cert_file.exists() && config.key_file.exists());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::io;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

use crate::transport::tls::{vars, TlsConfig};

/// A certificate and its key, as PEM files.
#[derive(Clone, Debug)]
pub struct CertFiles {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM, PKCS#8).
    pub key: PathBuf,
}

impl CertFiles {
    /// A [`TlsConfig`] presenting this certificate; with `ca`, peers are verified against it.
    pub fn tls_config(&self, ca: Option<&Path>) -> TlsConfig {
        let mut config = TlsConfig::new(&self.cert, &self.key);
        if let Some(ca) = ca {
            config.ca_file = Some(ca.to_path_buf());
            config.verify_cert = true;
        }
        config
    }

    /// The `LIBPROCESS_SSL_*` variables turning TLS on with this certificate (add
    /// `LIBPROCESS_SSL_CA_FILE`, `VERIFY_CERT`, ... as the test needs).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (vars::ENABLED, "true".into()),
            (vars::CERT_FILE, self.cert.display().to_string()),
            (vars::KEY_FILE, self.key.display().to_string()),
        ]
    }
}

/// A certificate authority for one test.
pub struct TestCa {
    dir: PathBuf,
    ca_file: PathBuf,
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn other(e: rcgen::Error) -> io::Error {
    io::Error::other(e.to_string())
}

fn leaf_params(name: &str, sans: &[&str]) -> io::Result<CertificateParams> {
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).map_err(other)?;
    params.distinguished_name.push(DnType::CommonName, name);
    Ok(params)
}

fn write(
    dir: &Path,
    name: &str,
    cert: &rcgen::Certificate,
    key: &KeyPair,
) -> io::Result<CertFiles> {
    let files = CertFiles {
        cert: dir.join(format!("{name}.pem")),
        key: dir.join(format!("{name}.key")),
    };
    std::fs::write(&files.cert, cert.pem())?;
    std::fs::write(&files.key, key.serialize_pem())?;
    Ok(files)
}

impl TestCa {
    /// A new CA; its certificate is written to `dir/ca.pem` (`dir` is created).
    ///
    /// # Errors
    /// If `dir` or the file cannot be written.
    pub fn new(dir: &Path) -> io::Result<TestCa> {
        std::fs::create_dir_all(dir)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "process test CA");
        let key = KeyPair::generate().map_err(other)?;
        let cert = params.self_signed(&key).map_err(other)?;
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, cert.pem())?;
        Ok(TestCa {
            dir: dir.to_path_buf(),
            ca_file,
            cert,
            key,
        })
    }

    /// The CA certificate file (for `LIBPROCESS_SSL_CA_FILE`, `curl --cacert`).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// A certificate for `sans` (IP addresses or DNS names), valid from 2000 to 4000, signed by
    /// this CA, written as `dir/<name>.pem` and `dir/<name>.key`.
    ///
    /// # Errors
    /// If the files cannot be written.
    pub fn issue(&self, name: &str, sans: &[&str]) -> io::Result<CertFiles> {
        let mut params = leaf_params(name, sans)?;
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(4000, 1, 1);
        self.sign(name, params)
    }

    /// As [`TestCa::issue`], but valid only during 2001: expired.
    ///
    /// # Errors
    /// If the files cannot be written.
    pub fn issue_expired(&self, name: &str, sans: &[&str]) -> io::Result<CertFiles> {
        let mut params = leaf_params(name, sans)?;
        params.not_before = rcgen::date_time_ymd(2001, 1, 1);
        params.not_after = rcgen::date_time_ymd(2002, 1, 1);
        self.sign(name, params)
    }

    fn sign(&self, name: &str, params: CertificateParams) -> io::Result<CertFiles> {
        let key = KeyPair::generate().map_err(other)?;
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .map_err(other)?;
        write(&self.dir, name, &cert, &key)
    }
}

/// A self-signed certificate for `sans`, trusted by no CA, written to `dir/<name>.{pem,key}`.
///
/// # Errors
/// If the files cannot be written.
pub fn self_signed(dir: &Path, name: &str, sans: &[&str]) -> io::Result<CertFiles> {
    std::fs::create_dir_all(dir)?;
    let params = leaf_params(name, sans)?;
    let key = KeyPair::generate().map_err(other)?;
    let cert = params.self_signed(&key).map_err(other)?;
    write(dir, name, &cert, &key)
}
