//! The `mesos-master`, `mesos-agent` and `mesos-execute` binaries started with flags, and a
//! small HTTP client, for the end-to-end tests over real TCP (the security tests).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use process::testing::{ensure_binary, BoundedCommand, ChildGuard, Lines};

use super::{ensure_command_executor, WAIT};

/// A scratch directory, removed on drop.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    /// Writes `text` to `name` in the directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `mesos-master` on a free port with `flags`; returns it and its `ip:port`.
pub fn start_master(flags: &[String]) -> (ChildGuard, String) {
    let bin = ensure_binary("master", "mesos-master");
    let mut child = Command::new(bin)
        .args(["--ip=127.0.0.1", "--port=0", "--allocation_interval=50ms"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mesos-master starts");
    let lines = Lines::new(child.stdout.take().unwrap());
    let banner = lines.expect_within("the master's banner", WAIT);
    // "mesos-master X running as master@127.0.0.1:PORT; ..."
    let addr = banner
        .split("master@")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_string();
    (ChildGuard::new(child), addr)
}

/// A `mesos-agent` registering with `master`, with extra `flags`; its stderr is collected.
pub fn start_agent(master: &str, work_dir: &Path, flags: &[String]) -> ChildGuard {
    let bin = ensure_binary("agent", "mesos-agent");
    ensure_command_executor();
    let child = Command::new(bin)
        .arg(format!("--master={master}"))
        .args([
            "--port=0",
            "--resources=cpus:2;mem:1024",
            "--registration_backoff_factor=50ms",
        ])
        .arg(format!("--work_dir={}", work_dir.display()))
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mesos-agent starts");
    ChildGuard::collecting(child)
}

/// `mesos-execute` against `master` with `args` (after `--master`); its output.
pub fn execute(master: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-execute"))
        .args(["--master", master])
        .args(args)
        .env_remove("DEFAULT_PRINCIPAL")
        .env_remove("DEFAULT_SECRET")
        .output_within("mesos-execute", WAIT * 2)
}

/// `mesos-execute` started in the background (a long task); stdout piped.
pub fn execute_in_background(master: &str, args: &[&str]) -> (ChildGuard, Lines) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-execute"))
        .args(["--master", master])
        .args(args)
        .env_remove("DEFAULT_PRINCIPAL")
        .env_remove("DEFAULT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mesos-execute starts");
    let lines = Lines::new(child.stdout.take().unwrap());
    (ChildGuard::new(child), lines)
}

/// A long task (`command`) run by `mesos-execute` as `user`, authenticated as `principal` (secret
/// `<principal>-secret`); the child and its framework id, once the task runs.
pub fn running_task_as(
    master: &str,
    name: &str,
    command: &str,
    principal: &str,
    user: &str,
) -> (ChildGuard, String) {
    let (child, lines) = execute_in_background(
        master,
        &[
            &format!("--name={name}"),
            &format!("--command={command}"),
            &format!("--principal={principal}"),
            &format!("--secret={principal}-secret"),
            &format!("--user={user}"),
        ],
    );
    let id = lines.expect_within("the framework id", WAIT);
    let id = id.trim().rsplit(' ').next().unwrap().to_string();
    process::testing::wait_until("the task runs", WAIT, || {
        lines
            .next_within("a status", WAIT)
            .is_some_and(|l| l.contains("TASK_RUNNING"))
    });
    (child, id)
}

/// One HTTP/1.1 request with optional Basic credentials; the status and the body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    auth: Option<(&str, &str)>,
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some((principal, secret)) = auth {
        head += &format!(
            "Authorization: {}\r\n",
            mesos::auth::http::basic_header(principal, secret)
        );
    }
    stream
        .write_all(format!("{head}\r\n{body}").as_bytes())
        .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

/// `GET path` as JSON (status 200 expected).
pub fn get_json(addr: &str, path: &str, auth: Option<(&str, &str)>) -> serde_json::Value {
    let (status, body) = http(addr, "GET", path, auth, "");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// Text of a process's output bytes.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
