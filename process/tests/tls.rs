//! TLS on every connection (LIBPROCESS_SSL_*): messages and HTTP between runtimes and clients,
//! mutual TLS, downgrade, and every kind of bad handshake refused without hurting other clients.
mod util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{mpsc, Arc};

use process::testing::certs::{self, CertFiles, TestCa};
use process::{Config, Context, Handlers, Process, Runtime, TlsConfig, TlsMode, Upid};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use util::{init_tracing, Ping, Pong, PATIENCE};

/// Answers pings with pongs.
struct Server;

impl Process for Server {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|_this: &mut Self, ctx, _from, Ping(n)| ctx.reply(Pong(n)));
    }
}

/// Pings `server` when told to; reports pongs and exits of linked processes.
struct Client {
    server: Upid,
    events: mpsc::Sender<Event>,
}

#[derive(Debug, PartialEq)]
enum Event {
    Pong(u64),
    Exited,
}

impl Process for Client {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _ctx, _from, Pong(n)| {
            let _ = this.events.send(Event::Pong(n));
        });
        handlers.on(|this: &mut Self, ctx: &mut Context<Self>, _from, Ping(n)| {
            ctx.send(&this.server, Ping(n));
        });
    }

    fn exited(&mut self, _ctx: &mut Context<Self>, _pid: &Upid) {
        let _ = self.events.send(Event::Exited);
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("process-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn runtime_with(tls: TlsMode) -> Result<Runtime, process::Error> {
    init_tracing();
    Runtime::new(Config {
        workers: 2,
        tls,
        ..Config::default()
    })
}

fn tls_runtime(config: TlsConfig) -> Runtime {
    runtime_with(TlsMode::On(config)).expect("tls runtime starts")
}

/// A client process on `node` talking to a `Server` on `server_node`.
fn client_of(node: &Runtime, server: &Upid) -> (process::Pid<Client>, mpsc::Receiver<Event>) {
    let (events, rx) = mpsc::channel();
    let client = node
        .spawn(
            "client",
            Client {
                server: server.clone(),
                events,
            },
        )
        .unwrap();
    (client, rx)
}

fn round_trips(
    node: &Runtime,
    client: &process::Pid<Client>,
    events: &mpsc::Receiver<Event>,
    n: u64,
) {
    for i in 0..n {
        node.send(client, Ping(i));
    }
    for i in 0..n {
        assert_eq!(events.recv_timeout(PATIENCE).expect("pong"), Event::Pong(i));
    }
}

/// A rustls client for tests: trusts `ca`, presents `identity` if given.
fn client_config(ca: Option<&Path>, identity: Option<&CertFiles>) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = ca {
        for cert in CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    Arc::new(match identity {
        Some(files) => builder
            .with_client_auth_cert(
                CertificateDer::pem_file_iter(&files.cert)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_file(&files.key).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    })
}

/// `GET /__processes__` over TLS: the status line, or the TLS/IO error.
fn https_get(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<String, String> {
    let name = ServerName::IpAddress(addr.ip().into());
    let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(b"GET /__processes__ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    match tls.read_to_end(&mut response) {
        Ok(_) => {}
        // Some servers skip close_notify; what was read counts.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = String::from_utf8_lossy(&response).to_string();
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// Sends `bytes` on a fresh plaintext connection and expects it closed without an answer.
fn assert_closed_after(addr: SocketAddr, bytes: &[u8]) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let _ = stream.write_all(bytes);
    let mut buf = [0; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return,
            // A TLS alert record (0x15) is an answer that refuses.
            Ok(n) if buf[0] == 0x15 && n >= 5 => continue,
            Ok(n) => panic!(
                "the runtime answered {n} bytes {:?} instead of closing",
                &buf[..n]
            ),
            Err(e) => {
                assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                    ),
                    "the connection stayed open: {e}"
                );
                return;
            }
        }
    }
}

/// A real TLS ClientHello, as rustls sends it first.
fn client_hello() -> Vec<u8> {
    let config = client_config(None, None);
    let mut conn =
        rustls::ClientConnection::new(config, ServerName::try_from("localhost").unwrap()).unwrap();
    let mut out = Vec::new();
    conn.write_tls(&mut out).unwrap();
    out
}

#[test]
fn messages_and_http_travel_over_tls_between_runtimes() {
    let dir = temp_dir("basic");
    let ca = TestCa::new(&dir).unwrap();
    let a_files = ca.issue("a", &["127.0.0.1"]).unwrap();
    let b_files = ca.issue("b", &["127.0.0.1"]).unwrap();
    // Both verify each other against the CA.
    let node_a = tls_runtime(a_files.tls_config(Some(ca.ca_file())));
    let node_b = tls_runtime(b_files.tls_config(Some(ca.ca_file())));
    assert_eq!(node_a.http_scheme(), "https");
    let server = node_a.spawn("server", Server).unwrap();
    let (client, events) = client_of(&node_b, server.upid());
    round_trips(&node_b, &client, &events, 500);

    // HTTP on the same TLS port.
    let status = https_get(node_a.addr(), client_config(Some(ca.ca_file()), None)).unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    // A plaintext request is refused (no downgrade).
    assert_closed_after(
        node_a.addr(),
        b"GET /__processes__ HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    round_trips(&node_b, &client, &events, 10);
}

#[test]
fn plaintext_and_tls_ports_refuse_each_other() {
    let dir = temp_dir("mixed");
    let ca = TestCa::new(&dir).unwrap();
    let files = ca.issue("a", &["127.0.0.1"]).unwrap();
    let tls_node = tls_runtime(files.tls_config(None));
    let plain_node = runtime_with(TlsMode::Off).unwrap();
    assert_eq!(plain_node.http_scheme(), "http");
    let tls_server = tls_node.spawn("server", Server).unwrap();
    let plain_server = plain_node.spawn("server", Server).unwrap();

    // A plaintext runtime's frames to a TLS runtime: the connection is refused (the link breaks).
    let (client, events) = client_of(&plain_node, tls_server.upid());
    plain_node
        .dispatch(&client, {
            let target = tls_server.upid().clone();
            move |_, ctx| ctx.link(&target)
        })
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(events.recv_timeout(PATIENCE).unwrap(), Event::Exited);

    // A TLS runtime's ClientHello to a plaintext runtime: refused too.
    let (client, events) = client_of(&tls_node, plain_server.upid());
    tls_node
        .dispatch(&client, {
            let target = plain_server.upid().clone();
            move |_, ctx| ctx.link(&target)
        })
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(events.recv_timeout(PATIENCE).unwrap(), Event::Exited);
    // And from a raw client.
    assert_closed_after(plain_node.addr(), &client_hello());
    let status = util::http_get(plain_node.addr(), "/__processes__").0;
    assert_eq!(status, 200, "the plaintext node still serves");
}

#[test]
fn downgrade_lets_plaintext_peers_in_and_tls_ones_too() {
    let dir = temp_dir("downgrade");
    let ca = TestCa::new(&dir).unwrap();
    let files = ca.issue("a", &["127.0.0.1"]).unwrap();
    let mut config = files.tls_config(None);
    config.support_downgrade = true;
    let node = tls_runtime(config);
    let server = node.spawn("server", Server).unwrap();

    let plain = runtime_with(TlsMode::Off).unwrap();
    let (client, events) = client_of(&plain, server.upid());
    round_trips(&plain, &client, &events, 100);
    assert_eq!(util::http_get(node.addr(), "/__processes__").0, 200);

    let other = tls_runtime(ca.issue("b", &["127.0.0.1"]).unwrap().tls_config(None));
    let (client, events) = client_of(&other, server.upid());
    round_trips(&other, &client, &events, 100);
    let status = https_get(node.addr(), client_config(Some(ca.ca_file()), None)).unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
}

#[test]
fn mutual_tls_refuses_clients_without_a_trusted_certificate() {
    let dir = temp_dir("mtls");
    let ca = TestCa::new(&dir).unwrap();
    let server_files = ca.issue("server", &["127.0.0.1"]).unwrap();
    let mut config = server_files.tls_config(Some(ca.ca_file()));
    config.require_cert = true;
    let node = tls_runtime(config);
    let trusted = |identity: Option<&CertFiles>| {
        https_get(node.addr(), client_config(Some(ca.ca_file()), identity))
    };

    let good = ca.issue("good", &["127.0.0.1"]).unwrap();
    assert_eq!(trusted(Some(&good)).unwrap(), "HTTP/1.1 200 OK");
    let refused = trusted(None).unwrap_err();
    assert!(
        refused.contains("CertificateRequired") || refused.contains("certificate"),
        "{refused}"
    );
    let stranger = certs::self_signed(&dir, "stranger", &["127.0.0.1"]).unwrap();
    let refused = trusted(Some(&stranger)).unwrap_err();
    assert!(
        refused.contains("UnknownCA") || refused.contains("alert"),
        "{refused}"
    );
    let expired = ca.issue_expired("expired", &["127.0.0.1"]).unwrap();
    let refused = trusted(Some(&expired)).unwrap_err();
    assert!(
        refused.contains("CertificateExpired") || refused.contains("alert"),
        "{refused}"
    );

    // A runtime without a trusted certificate cannot reach it; one with a good one can.
    let server = node.spawn("server", Server).unwrap();
    let outsider = tls_runtime(stranger.tls_config(None));
    let (client, events) = client_of(&outsider, server.upid());
    outsider
        .dispatch(&client, {
            let target = server.upid().clone();
            move |_, ctx| ctx.link(&target)
        })
        .wait_timeout(PATIENCE)
        .unwrap();
    assert_eq!(events.recv_timeout(PATIENCE).unwrap(), Event::Exited);
    let member = tls_runtime(good.tls_config(Some(ca.ca_file())));
    let (client, events) = client_of(&member, server.upid());
    round_trips(&member, &client, &events, 50);
}

/// `LIBPROCESS_SSL_CA_DIR`: every PEM certificate in the directory is trusted (other files are
/// skipped), on both sides: a mutual-TLS server trusting only a CA directory admits a client
/// the CA signed and refuses a stranger; a client runtime verifying with it reaches that server.
#[test]
fn a_ca_directory_is_trusted_like_a_ca_file() {
    let dir = temp_dir("cadir");
    let ca = TestCa::new(&dir).unwrap();
    let cas = dir.join("cas");
    std::fs::create_dir_all(&cas).unwrap();
    std::fs::copy(ca.ca_file(), cas.join("mesos-ca.pem")).unwrap();
    std::fs::write(cas.join("README"), "not a certificate\n").unwrap();
    let with_ca_dir = |files: &CertFiles| {
        let mut config = TlsConfig::new(&files.cert, &files.key);
        config.ca_dir = Some(cas.clone());
        config.verify_cert = true;
        config
    };
    let mut config = with_ca_dir(&ca.issue("server", &["127.0.0.1"]).unwrap());
    config.require_cert = true;
    let node = tls_runtime(config);

    let good = ca.issue("good", &["127.0.0.1"]).unwrap();
    let get = |identity: &CertFiles| {
        https_get(
            node.addr(),
            client_config(Some(ca.ca_file()), Some(identity)),
        )
    };
    assert_eq!(get(&good).unwrap(), "HTTP/1.1 200 OK");
    let stranger = certs::self_signed(&dir, "stranger", &["127.0.0.1"]).unwrap();
    let refused = get(&stranger).unwrap_err();
    assert!(
        refused.contains("UnknownCA") || refused.contains("alert"),
        "{refused}"
    );

    let server = node.spawn("server", Server).unwrap();
    let member = tls_runtime(with_ca_dir(&good));
    let (client, events) = client_of(&member, server.upid());
    round_trips(&member, &client, &events, 20);

    // A directory without any certificate stops the runtime, naming the directory.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut config = TlsConfig::new(&good.cert, &good.key);
    config.ca_dir = Some(empty.clone());
    config.verify_cert = true;
    let error = runtime_with(TlsMode::On(config)).expect_err("refused");
    assert!(
        error.to_string().contains(&empty.display().to_string()),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_verifying_runtime_refuses_untrusted_and_expired_servers() {
    let dir = temp_dir("verify");
    let ca = TestCa::new(&dir).unwrap();
    let verifier = tls_runtime(
        ca.issue("v", &["127.0.0.1"])
            .unwrap()
            .tls_config(Some(ca.ca_file())),
    );
    for files in [
        certs::self_signed(&dir, "selfsigned", &["127.0.0.1"]).unwrap(),
        ca.issue_expired("old", &["127.0.0.1"]).unwrap(),
        // Trusted, but for another address.
        ca.issue("elsewhere", &["10.1.2.3"]).unwrap(),
    ] {
        let node = tls_runtime(files.tls_config(None));
        let server = node.spawn("server", Server).unwrap();
        let (client, events) = client_of(&verifier, server.upid());
        verifier
            .dispatch(&client, {
                let target = server.upid().clone();
                move |_, ctx| ctx.link(&target)
            })
            .wait_timeout(PATIENCE)
            .unwrap();
        assert_eq!(
            events.recv_timeout(PATIENCE).unwrap(),
            Event::Exited,
            "{} refused",
            files.cert.display()
        );
        verifier.terminate(&client);
        verifier.settle();
    }
}

#[test]
fn garbage_and_truncated_handshakes_close_only_their_connection() {
    let dir = temp_dir("garbage");
    let ca = TestCa::new(&dir).unwrap();
    let node = tls_runtime(ca.issue("a", &["127.0.0.1"]).unwrap().tls_config(None));
    let hello = client_hello();
    // A handshake record of garbage.
    assert_closed_after(
        node.addr(),
        &[0x16, 0x03, 0x01, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    // A record claiming to be far too long.
    assert_closed_after(node.addr(), &[0x16, 0x03, 0x03, 0xff, 0xff, 0x01]);
    // Plaintext frames.
    assert_closed_after(node.addr(), &[0x00, 0x00, 0x00, 0x10, 1, 2, 3]);
    // Half a ClientHello, then the client goes away.
    {
        let mut stream = TcpStream::connect(node.addr()).unwrap();
        stream.write_all(&hello[..hello.len() / 2]).unwrap();
    }
    // A ClientHello that never finishes its handshake stays open but holds nothing else up.
    let mut stalled = TcpStream::connect(node.addr()).unwrap();
    stalled.write_all(&hello).unwrap();
    let status = https_get(node.addr(), client_config(Some(ca.ca_file()), None)).unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
}

#[test]
fn unusable_certificate_files_stop_the_runtime_naming_the_file() {
    let dir = temp_dir("badfiles");
    let ca = TestCa::new(&dir).unwrap();
    let good = ca.issue("a", &["127.0.0.1"]).unwrap();
    let other = ca.issue("b", &["127.0.0.1"]).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let missing = dir.join("missing.pem");
    let cases = [
        (
            TlsConfig::new(&missing, &good.key),
            missing.display().to_string(),
        ),
        (
            TlsConfig::new(&garbage, &good.key),
            garbage.display().to_string(),
        ),
        (
            TlsConfig::new(&good.cert, &garbage),
            garbage.display().to_string(),
        ),
        (
            TlsConfig::new(&good.cert, &other.key),
            good.cert.display().to_string(),
        ),
        (
            TlsConfig {
                ca_file: Some(garbage.clone()),
                verify_cert: true,
                ..good.tls_config(None)
            },
            garbage.display().to_string(),
        ),
    ];
    for (config, named) in cases {
        let err = runtime_with(TlsMode::On(config)).unwrap_err().to_string();
        assert!(err.contains(&named), "{err} names {named}");
    }
}
