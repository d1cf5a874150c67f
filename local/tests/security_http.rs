//! HTTP Basic authentication of every endpoint (issue 14): `--authenticate_http_readonly`,
//! `--authenticate_http_readwrite`, `--authenticate_http_frameworks` with `--http_credentials`
//! on the master and an agent, over real TCP: `401` with `WWW-Authenticate` when the
//! credentials are missing or wrong, `403` for a scheduler subscribing under another principal.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;

use mesos::auth::http::{basic_header, HttpAuth};
use util::*;

/// One HTTP request; the status, the `WWW-Authenticate` header and the first bytes of the body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    auth: Option<(&str, &str)>,
    body: &str,
) -> (u16, Option<String>, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some((principal, secret)) = auth {
        head += &format!("Authorization: {}\r\n", basic_header(principal, secret));
    }
    stream
        .write_all(format!("{head}\r\n{body}").as_bytes())
        .unwrap();
    // Read until the head is complete (a subscription streams forever).
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&response).contains("\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let challenge = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("www-authenticate")
            .then(|| value.trim().to_string())
    });
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, challenge, body)
}

fn http_auth(frameworks: bool) -> HttpAuth {
    HttpAuth {
        credentials: Some("ops ops-secret\nfw fw-secret\n".parse().unwrap()),
        readonly: true,
        readwrite: true,
        frameworks,
    }
}

const OPS: Option<(&str, &str)> = Some(("ops", "ops-secret"));

#[test]
fn every_master_and_agent_endpoint_needs_credentials_except_the_open_ones() {
    let mut config = fast_config(1, "cpus:1;mem:512");
    config.master.auth.http = http_auth(true);
    config.agent.http_auth = http_auth(false);
    let cluster = mesos_local::LocalCluster::start(config).expect("cluster starts");
    let master = cluster.master_address();
    let agent = cluster.agent(0).unwrap().pid().addr().to_string();

    for path in [
        "/master/state",
        "/state",
        "/master/frameworks",
        "/metrics/snapshot",
        "/master/flags",
        "/files/browse?path=/",
        "/master/roles",
    ] {
        let (status, challenge, _) = request(&master, "GET", path, None, "");
        assert_eq!(status, 401, "{path}");
        assert_eq!(
            challenge.as_deref(),
            Some("Basic realm=\"mesos-master-readonly\""),
            "{path}"
        );
        let (status, _, body) = request(&master, "GET", path, Some(("ops", "wrong")), "");
        assert_eq!(status, 401, "{path}");
        assert!(body.contains("wrong principal or secret"), "{path}: {body}");
        let (status, _, _) = request(&master, "GET", path, OPS, "");
        assert_ne!(status, 401, "{path}");
        assert!(status < 500, "{path}: {status}");
    }
    let (status, _, _) = request(&master, "GET", "/master/state", OPS, "");
    assert_eq!(status, 200);
    for path in ["/health", "/master/health", "/version", "/"] {
        assert_eq!(request(&master, "GET", path, None, "").0, 200, "{path}");
    }
    // A malformed header is refused, not a crash.
    let mut stream = TcpStream::connect(&master).unwrap();
    stream
        .write_all(
            b"GET /master/state HTTP/1.1\r\nAuthorization: Basic !!!\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut reply = String::new();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let _ = stream.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");

    // Operator calls are read-write.
    let call = r#"{"type":"GET_HEALTH"}"#;
    let (status, challenge, _) = request(&master, "POST", "/api/v1", None, call);
    assert_eq!(
        (status, challenge.as_deref()),
        (401, Some("Basic realm=\"mesos-master-readwrite\""))
    );
    assert_eq!(request(&master, "POST", "/api/v1", OPS, call).0, 200);
    assert_eq!(
        request(&master, "POST", "/master/teardown", None, "").0,
        401
    );

    // The v1 scheduler API: credentials, and a principal matching the framework's.
    let subscribe = |principal: &str| {
        format!(
            r#"{{"type":"SUBSCRIBE","subscribe":{{"framework_info":{{"user":"","name":"h","principal":"{principal}"}}}}}}"#
        )
    };
    let (status, challenge, _) =
        request(&master, "POST", "/api/v1/scheduler", None, &subscribe("fw"));
    assert_eq!(
        (status, challenge.as_deref()),
        (401, Some("Basic realm=\"mesos-master-scheduler\""))
    );
    let (status, _, body) = request(
        &master,
        "POST",
        "/api/v1/scheduler",
        Some(("fw", "fw-secret")),
        &subscribe("ops"),
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("does not match the authenticated principal 'fw'"),
        "{body}"
    );
    let (status, _, _) = request(
        &master,
        "POST",
        "/api/v1/scheduler",
        Some(("fw", "fw-secret")),
        &subscribe("fw"),
    );
    assert_eq!(status, 200);

    // The agent's endpoints too; its executor API and health stay open.
    for path in [
        "/slave(1)/state",
        "/slave(1)/flags",
        "/metrics/snapshot",
        "/files/debug",
    ] {
        let (status, challenge, _) = request(&agent, "GET", path, None, "");
        assert_eq!(status, 401, "{path}");
        assert_eq!(
            challenge.as_deref(),
            Some("Basic realm=\"mesos-agent-readonly\""),
            "{path}"
        );
        assert_eq!(request(&agent, "GET", path, OPS, "").0, 200, "{path}");
    }
    assert_eq!(request(&agent, "GET", "/slave(1)/health", None, "").0, 200);
    assert_eq!(request(&agent, "POST", "/api/v1", None, call).0, 401);
    assert_eq!(request(&agent, "POST", "/api/v1", OPS, call).0, 200);
    // The executor API is not behind the operators' credentials (400: an empty call).
    assert_eq!(
        request(&agent, "POST", "/api/v1/executor", None, "{}").0,
        400
    );

    // The binary protocol is unaffected: a driver registers and runs a task.
    let (driver, mut events) = driver(&cluster, framework("binary"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("t", &offer, "true", "cpus:0.1;mem:32");
    driver.launch_tasks(vec![offer.id], vec![task], mesos::Filters::default());
    events.state("t", mesos::TaskState::Finished);
}

#[test]
fn only_the_chosen_realms_are_guarded() {
    let mut config = fast_config(1, "cpus:1;mem:512");
    config.master.auth.http = HttpAuth {
        readonly: false,
        ..http_auth(false)
    };
    let cluster = mesos_local::LocalCluster::start(config).expect("cluster starts");
    let master = cluster.master_address();
    assert_eq!(request(&master, "GET", "/master/state", None, "").0, 200);
    let call = r#"{"type":"GET_HEALTH"}"#;
    assert_eq!(request(&master, "POST", "/api/v1", None, call).0, 401);
    let subscribe = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"","name":"h"}}}"#;
    assert_eq!(
        request(&master, "POST", "/api/v1/scheduler", None, subscribe).0,
        200
    );
}
