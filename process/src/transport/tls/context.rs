//! The rustls configurations of one transport, built once from a [`TlsConfig`]: one for accepted
//! connections, one for the connections this runtime opens.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore};
use rustls::{ServerConfig, ServerConnection, SignatureScheme};

use super::config::{TlsConfig, TlsError, SYSTEM_CA_FILE};

/// Both sides' rustls configurations, shared by every connection of a transport.
pub(crate) struct TlsContext {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    /// Accept plaintext connections too (the first byte decides).
    pub(crate) downgrade: bool,
}

impl std::fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsContext")
            .field("downgrade", &self.downgrade)
            .finish_non_exhaustive()
    }
}

impl TlsContext {
    /// Reads the certificate, key and CA files of `config`.
    ///
    /// # Errors
    /// A [`TlsError`] naming the file that cannot be read or used.
    pub(crate) fn new(config: &TlsConfig) -> Result<TlsContext, TlsError> {
        let provider = Arc::new(ring::default_provider());
        let certs = load_certs(&config.cert_file)?;
        let key = PrivateKeyDer::from_pem_file(&config.key_file).map_err(|e| {
            TlsError::file(&config.key_file, pem_reason(e, "no PEM private key found"))
        })?;
        let roots = if config.verifies() {
            Some(Arc::new(load_roots(config)?))
        } else {
            None
        };
        let identity = |e: rustls::Error| TlsError::Identity {
            cert: config.cert_file.clone(),
            key: config.key_file.clone(),
            reason: e.to_string(),
        };

        let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(identity)?;
        let server = match &roots {
            Some(roots) => {
                let verifier = WebPkiClientVerifier::builder_with_provider(
                    Arc::clone(roots),
                    Arc::clone(&provider),
                );
                let verifier = if config.require_cert {
                    verifier
                } else {
                    // VERIFY_CERT alone: a client certificate is checked if presented.
                    verifier.allow_unauthenticated()
                };
                let verifier = verifier.build().map_err(|_| TlsError::NoTrustedCa)?;
                server.with_client_cert_verifier(verifier)
            }
            None => server.with_no_client_auth(),
        };
        let server = server
            .with_single_cert(certs.clone(), key.clone_key())
            .map_err(identity)?;

        let client = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(identity)?;
        let client = match &roots {
            Some(roots) => client.with_root_certificates(Arc::clone(roots)),
            None => client
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyServerCertificate(provider))),
        };
        let client = client.with_client_auth_cert(certs, key).map_err(identity)?;
        Ok(TlsContext {
            server: Arc::new(server),
            client: Arc::new(client),
            downgrade: config.support_downgrade,
        })
    }

    /// The server side of an accepted connection.
    pub(crate) fn accept(&self) -> Result<ServerConnection, rustls::Error> {
        ServerConnection::new(Arc::clone(&self.server))
    }

    /// The client side of a connection to `peer`; its certificate must name `peer`'s IP address
    /// when verification is on.
    pub(crate) fn connect(&self, peer: SocketAddr) -> Result<ClientConnection, rustls::Error> {
        ClientConnection::new(
            Arc::clone(&self.client),
            ServerName::IpAddress(peer.ip().into()),
        )
    }
}

fn pem_reason(e: rustls::pki_types::pem::Error, none: &str) -> String {
    match e {
        rustls::pki_types::pem::Error::NoItemsFound => none.to_owned(),
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        other => format!("not valid PEM: {other}"),
    }
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::file(path, pem_reason(e, "no PEM certificate found")))?;
    if certs.is_empty() {
        return Err(TlsError::file(path, "no PEM certificate found"));
    }
    Ok(certs)
}

/// The trusted CAs: `ca_file` and every PEM certificate in `ca_dir` (files that hold none are
/// skipped, as OpenSSL's hashed directories also hold other things); the system bundle when
/// neither is set.
fn load_roots(config: &TlsConfig) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let mut add = |path: &Path, certs: Vec<CertificateDer<'static>>| {
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| TlsError::file(path, format!("unusable CA certificate: {e}")))?;
        }
        Ok::<(), TlsError>(())
    };
    if let Some(file) = &config.ca_file {
        add(file, load_certs(file)?)?;
    }
    if let Some(dir) = &config.ca_dir {
        let entries = std::fs::read_dir(dir).map_err(|e| TlsError::file(dir, e))?;
        let mut found = false;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                if let Ok(certs) = load_certs(&path) {
                    found = true;
                    add(&path, certs)?;
                }
            }
        }
        if !found {
            return Err(TlsError::file(
                dir,
                "no PEM CA certificate in this directory",
            ));
        }
    }
    if config.ca_file.is_none() && config.ca_dir.is_none() {
        let system = Path::new(SYSTEM_CA_FILE);
        if !system.is_file() {
            return Err(TlsError::NoTrustedCa);
        }
        add(system, load_certs(system)?)?;
    }
    Ok(roots)
}

/// Without LIBPROCESS_SSL_VERIFY_CERT, libprocess accepts whatever certificate a server presents
/// (the connection is still encrypted, and the handshake still proves the server holds the key of
/// the certificate it sent).
/// Also what HTTPS health checks use (Mesos runs them with `curl -k`).
#[derive(Debug)]
pub struct AnyServerCertificate(Arc<CryptoProvider>);

impl AnyServerCertificate {
    /// A verifier that checks signatures with `provider`'s algorithms and trusts any certificate.
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        AnyServerCertificate(provider)
    }
}

impl ServerCertVerifier for AnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
