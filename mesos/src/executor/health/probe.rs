//! Running one health check: a command in the task's sandbox (healthy on exit 0), an HTTP(S) GET
//! to `127.0.0.1:port` (healthy on a status in 200..=399, redirects not followed; an `https`
//! server's certificate is not verified, as Mesos's `curl -k`), a TCP connect to
//! `127.0.0.1:port`; each within the check's timeout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid as OsPid;
use process::transport::tls::AnyServerCertificate;
use rustls::crypto::ring;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

use crate::{CommandInfo, Environment, HealthCheck, HealthCheckType};

/// How long a check may take when its timeout is 0 ("none"): still bounded.
const NO_TIMEOUT: Duration = Duration::from_secs(3600);

/// Runs `check` once. `sandbox` and `env` are the task's (a COMMAND check runs there, with them).
///
/// # Errors
/// Why the task is not healthy, in words for the status update's message.
pub fn probe(check: &HealthCheck, sandbox: Option<&Path>, env: &Environment) -> Result<(), String> {
    let timeout = match check.timeout() {
        Duration::ZERO => NO_TIMEOUT,
        timeout => timeout,
    };
    match check.kind {
        HealthCheckType::Command => {
            let command = check.command.as_ref().ok_or("no command")?;
            run_command(command, sandbox, env, timeout)
        }
        HealthCheckType::Http => {
            let http = check.http.as_ref().ok_or("no http check")?;
            http_get(
                http.scheme.as_deref().unwrap_or("http"),
                http.port,
                http.path.as_deref().unwrap_or("/"),
                timeout,
            )
        }
        HealthCheckType::Tcp => {
            let tcp = check.tcp.as_ref().ok_or("no tcp check")?;
            let addr = address(tcp.port)?;
            TcpStream::connect_timeout(&addr, timeout)
                .map(drop)
                .map_err(|err| format!("TCP connection to {addr} failed: {err}"))
        }
        HealthCheckType::Unknown => Err("health check type is not set".into()),
    }
}

fn address(port: u32) -> Result<SocketAddr, String> {
    let port = u16::try_from(port).map_err(|_| format!("port {port} is out of range"))?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The argv of `command`: `sh -c value` for shell commands, else `value` run with `arguments`
/// (whose first element is `argv[0]`).
pub fn command_argv(command: &CommandInfo) -> Option<(String, Option<String>, Vec<String>)> {
    let value = command.value.clone().filter(|v| !v.is_empty())?;
    if command.shell {
        return Some(("sh".into(), None, vec!["-c".into(), value]));
    }
    let mut args = command.arguments.clone();
    let arg0 = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    Some((value, arg0, args))
}

fn run_command(
    command: &CommandInfo,
    sandbox: Option<&Path>,
    env: &Environment,
    timeout: Duration,
) -> Result<(), String> {
    let (program, arg0, args) = command_argv(command).ok_or("empty command")?;
    let mut cmd = Command::new(program);
    if let Some(arg0) = arg0 {
        cmd.arg0(arg0);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some(dir) = sandbox {
        cmd.current_dir(dir);
    }
    for var in env.variables.iter().chain(&command.environment.variables) {
        cmd.env(&var.name, &var.value);
    }
    let mut child = cmd
        .spawn()
        .map_err(|err| format!("cannot run the health check command: {err}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("health check command {status}")),
            Ok(None) if Instant::now() >= deadline => {
                if let Ok(pgid) = i32::try_from(child.id()) {
                    let _ = killpg(OsPid::from_raw(pgid), Signal::SIGKILL);
                }
                let _ = child.wait();
                return Err(format!("health check command timed out after {timeout:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(err) => return Err(format!("cannot wait for the health check command: {err}")),
        }
    }
}

/// A plain HTTP/1.1 GET (over TLS for `https`) with one deadline for connect, handshake, write
/// and read.
fn http_get(scheme: &str, port: u32, path: &str, timeout: Duration) -> Result<(), String> {
    let addr = address(port)?;
    let url = format!("{scheme}://{addr}{path}");
    let failed = |err: &dyn std::fmt::Display| format!("GET {url} failed: {err}");
    let deadline = Instant::now() + timeout;
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|err| failed(&err))?;
    let status = if scheme.eq_ignore_ascii_case("https") {
        let conn = insecure_client()
            .and_then(|config| {
                ClientConnection::new(config, ServerName::IpAddress(addr.ip().into()))
            })
            .map_err(|err| failed(&err))?;
        let mut tls = rustls::StreamOwned::new(conn, stream);
        exchange(&mut tls, |s| &s.sock, addr, path, deadline)
    } else {
        let mut plain = stream;
        exchange(&mut plain, |s| s, addr, path, deadline)
    }
    .map_err(|err| failed(&err))?
    .ok_or_else(|| format!("GET {url}: not an HTTP response"))?;
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(format!("GET {url} returned {status}"))
    }
}

/// Sends the request and reads the status line's code (None if the answer is not HTTP); `socket`
/// reaches the TCP stream under `stream` to keep every read and write within `deadline`.
fn exchange<S: Read + Write>(
    stream: &mut S,
    socket: impl Fn(&S) -> &TcpStream,
    addr: SocketAddr,
    path: &str,
    deadline: Instant,
) -> std::io::Result<Option<u16>> {
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: mesos-health-check\r\nConnection: close\r\n\r\n"
    );
    socket(stream).set_write_timeout(Some(left()))?;
    socket(stream).set_read_timeout(Some(left()))?;
    stream.write_all(request.as_bytes())?;
    stream.flush()?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() <= 8192 {
        socket(stream).set_read_timeout(Some(left()))?;
        match stream.read(&mut buf)? {
            0 => break,
            n => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    Ok(line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok()))
}

/// A TLS client that accepts any server certificate (Mesos's HTTP checks run `curl -k`: the
/// check asks whether the task answers, not who it is).
fn insecure_client() -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(ring::default_provider());
    let verifier = Arc::new(AnyServerCertificate::new(Arc::clone(&provider)));
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HttpCheckInfo, TcpCheckInfo};
    use std::net::TcpListener;

    fn serve_status(status: u16) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1) {
                let mut stream = stream.unwrap();
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
            }
        });
        port
    }

    fn http(port: u16) -> HealthCheck {
        HealthCheck {
            kind: HealthCheckType::Http,
            http: Some(HttpCheckInfo {
                port: port.into(),
                path: Some("/health".into()),
                ..HttpCheckInfo::default()
            }),
            timeout_seconds: Some(2.0),
            ..HealthCheck::default()
        }
    }

    #[test]
    fn http_checks_accept_200_to_399() {
        let env = Environment::default();
        assert!(probe(&http(serve_status(200)), None, &env).is_ok());
        assert!(probe(&http(serve_status(302)), None, &env).is_ok());
        let err = probe(&http(serve_status(503)), None, &env).unwrap_err();
        assert!(err.contains("503"), "{err}");
    }

    #[test]
    fn tcp_and_command_checks() {
        let env = Environment::default();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tcp = |port: u16| HealthCheck {
            kind: HealthCheckType::Tcp,
            tcp: Some(TcpCheckInfo { port: port.into() }),
            timeout_seconds: Some(1.0),
            ..HealthCheck::default()
        };
        assert!(probe(&tcp(port), None, &env).is_ok());
        drop(listener);
        assert!(probe(&tcp(port), None, &env).is_err());
        let command = |cmd: &str, timeout: f64| HealthCheck {
            kind: HealthCheckType::Command,
            command: Some(CommandInfo::shell(cmd)),
            timeout_seconds: Some(timeout),
            ..HealthCheck::default()
        };
        let with_env = Environment {
            variables: vec![crate::EnvironmentVariable {
                name: "EXPECTED".into(),
                value: "yes".into(),
            }],
        };
        assert!(probe(&command("test \"$EXPECTED\" = yes", 5.0), None, &with_env).is_ok());
        assert!(probe(&command("exit 1", 5.0), None, &env)
            .unwrap_err()
            .contains("exit"));
        let started = Instant::now();
        let err = probe(&command("sleep 30", 0.3), None, &env).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
