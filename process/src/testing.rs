//! Bounded waits for tests: the one helper every test suite of the workspace uses to wait on a
//! condition, a child process, a channel or a thread.
//!
//! A test that waits without a bound can hang CI for its whole time limit and land nothing; each
//! helper here takes a deadline and panics, naming what it waited for, when the deadline passes.
//! They poll real (wall-clock) time: they guard the test's own thread, never process logic, which
//! uses the runtime's pausable clock.
//!
//! ```
//! use std::time::Duration;
//! use process::testing::wait_until;
//!
//! let start = std::time::Instant::now();
//! wait_until("a millisecond to pass", Duration::from_secs(5), || {
//!     start.elapsed() >= Duration::from_millis(1)
//! });
//! ```

pub mod certs;

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The bound for a test's own `cargo build` of a binary it needs: generous, since a fresh machine
/// compiles from scratch, yet finite.
pub const CARGO_BUILD_PATIENCE: Duration = Duration::from_secs(20 * 60);

/// The directory cargo puts this test's binaries in (`target/<profile>`, not its `deps`).
pub fn profile_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

/// Builds `package`'s binary `bin` into this test's target directory and profile unless it is
/// there (`cargo test -p <crate>` does not build other packages' binaries; the README's test
/// command builds the whole workspace first), and returns its path.
pub fn ensure_binary(package: &str, bin: &str) -> std::path::PathBuf {
    let dir = profile_dir();
    if !dir.join(bin).exists() {
        let target = dir.parent().expect("target dir").to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(["build", "-p", package, "--bin", bin, "--target-dir"])
            .arg(&target);
        if dir.file_name().is_some_and(|n| n == "release") {
            command.arg("--release");
        }
        let status = command.status_within("cargo build", CARGO_BUILD_PATIENCE);
        assert!(status.success(), "building {bin} failed");
    }
    dir.join(bin)
}

/// How often a condition is polled: short enough not to slow tests, long enough not to spin.
const POLL: Duration = Duration::from_millis(5);

/// Polls `done` until it holds.
///
/// # Panics
/// When `within` passes first, with "timed out after .. waiting for `what`".
pub fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    wait_for(what, within, || done().then_some(()))
}

/// Polls `poll` until it gives a value, and returns it.
///
/// # Panics
/// When `within` passes first, naming `what`.
pub fn wait_for<T>(what: &str, within: Duration, mut poll: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = poll() {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting for {what}");
        }
        std::thread::sleep(POLL);
    }
}

/// Whether `done` holds at some point within `within` (no panic: for conditions that may
/// legitimately never hold, such as "nothing arrives").
pub fn holds_within(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Bounded waits on a child process.
pub trait BoundedChild {
    /// Waits for the child to exit.
    ///
    /// # Panics
    /// When `within` passes first: the child is killed (SIGKILL) and reaped, then the panic names
    /// `what`.
    fn wait_within(&mut self, what: &str, within: Duration) -> ExitStatus;

    /// Waits for the child to exit, collecting its piped stdout and stderr (as
    /// [`Child::wait_with_output`]).
    ///
    /// # Panics
    /// When `within` passes first: the child is killed and the panic names `what` and shows what
    /// the child had written.
    fn output_within(self, what: &str, within: Duration) -> Output;
}

impl BoundedChild for Child {
    fn wait_within(&mut self, what: &str, within: Duration) -> ExitStatus {
        exit_within(self, what, within).unwrap_or_else(|()| {
            panic!(
                "timed out after {within:?} waiting for {what} (pid {}) to exit; killed it",
                self.id()
            )
        })
    }

    fn output_within(self, what: &str, within: Duration) -> Output {
        ChildGuard::collecting(self).output_within(what, within)
    }
}

/// The child's exit status, or `Err` once `within` passed (the child is then killed and reaped).
fn exit_within(child: &mut Child, what: &str, within: Duration) -> Result<ExitStatus, ()> {
    let deadline = Instant::now() + within;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(err) => panic!("cannot wait for {what}: {err}"),
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(());
        }
        std::thread::sleep(POLL);
    }
}

type Drain = JoinHandle<Vec<u8>>;

/// A child process that is killed and reaped when the guard drops, so a failing test leaves no
/// process behind (one holding the test's output pipe would keep the test harness waiting).
pub struct ChildGuard {
    child: Option<Child>,
    drains: Option<(Drain, Drain)>,
}

impl ChildGuard {
    /// Guards `child`; its pipes are left to the caller.
    pub fn new(child: Child) -> ChildGuard {
        ChildGuard {
            child: Some(child),
            drains: None,
        }
    }

    /// Guards `child` and starts collecting its piped stdout and stderr at once, on threads of
    /// their own, so a chatty child never blocks on a full pipe while the test does other things.
    pub fn collecting(mut child: Child) -> ChildGuard {
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        ChildGuard {
            child: Some(child),
            drains: Some((stdout, stderr)),
        }
    }

    /// Waits for the child to exit and gives its status with what it wrote to its piped stdout
    /// and stderr (collected since [`ChildGuard::collecting`], or from now).
    ///
    /// # Panics
    /// When `within` passes first: the child is killed and the panic names `what` and shows what
    /// the child had written.
    pub fn output_within(mut self, what: &str, within: Duration) -> Output {
        if self.drains.is_none() {
            let child = self
                .child
                .take()
                .expect("a guard holds its child until dropped");
            self = ChildGuard::collecting(child);
        }
        let (stdout, stderr) = self.drains.take().expect("collecting");
        let mut child = self
            .child
            .take()
            .expect("a guard holds its child until dropped");
        let Ok(status) = exit_within(&mut child, what, within) else {
            // The pipes close once the child and anything it forked are gone; a grandchild
            // holding them open must not turn this panic into a hang.
            let collect = |handle: Drain| {
                if holds_within(Duration::from_secs(2), || handle.is_finished()) {
                    handle.join().unwrap_or_default()
                } else {
                    Vec::new()
                }
            };
            let (out, err) = (collect(stdout), collect(stderr));
            panic!(
                "timed out after {within:?} waiting for {what} to exit; killed it.\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            );
        };
        let join = |handle: Drain, pipe: &str| {
            assert!(
                holds_within(within.max(Duration::from_secs(5)), || handle.is_finished()),
                "{what} exited but its {pipe} stayed open (a process it started still holds it)"
            );
            handle.join().unwrap_or_default()
        };
        Output {
            status,
            stdout: join(stdout, "stdout"),
            stderr: join(stderr, "stderr"),
        }
    }
}

impl std::ops::Deref for ChildGuard {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.child
            .as_ref()
            .expect("a guard holds its child until dropped")
    }
}

impl std::ops::DerefMut for ChildGuard {
    fn deref_mut(&mut self) -> &mut Child {
        self.child
            .as_mut()
            .expect("a guard holds its child until dropped")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
                // Bounded and panic-free: this may run while a failed test unwinds.
                let _ = holds_within(Duration::from_secs(10), || {
                    !matches!(child.try_wait(), Ok(None))
                });
            }
        }
    }
}

/// Bounded runs of a command.
pub trait BoundedCommand {
    /// Runs the command to completion with stdout and stderr captured and stdin closed, as
    /// [`Command::output`] does, but bounded.
    ///
    /// # Panics
    /// When the command cannot start, or does not exit within `within` (it is killed), naming
    /// `what`.
    fn output_within(&mut self, what: &str, within: Duration) -> Output;

    /// Runs the command (inheriting stdout and stderr) to completion, bounded, as
    /// [`Command::status`] does.
    ///
    /// # Panics
    /// As [`BoundedCommand::output_within`].
    fn status_within(&mut self, what: &str, within: Duration) -> ExitStatus;
}

impl BoundedCommand for Command {
    fn output_within(&mut self, what: &str, within: Duration) -> Output {
        self.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {what}: {err}"))
            .output_within(what, within)
    }

    fn status_within(&mut self, what: &str, within: Duration) -> ExitStatus {
        self.spawn()
            .unwrap_or_else(|err| panic!("cannot start {what}: {err}"))
            .wait_within(what, within)
    }
}

/// Receives one value from `rx`.
///
/// # Panics
/// When nothing arrives within `within` or every sender is gone, naming `what`.
pub fn recv_within<T>(rx: &std::sync::mpsc::Receiver<T>, what: &str, within: Duration) -> T {
    match rx.recv_timeout(within) {
        Ok(value) => value,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("timed out after {within:?} waiting for {what}")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("waiting for {what}: every sender is gone")
        }
    }
}

/// The lines of a pipe (a child's stdout, say), read on a thread of their own so that each can be
/// waited for with a bound.
pub struct Lines {
    rx: std::sync::mpsc::Receiver<std::io::Result<String>>,
}

impl Lines {
    /// Starts reading `pipe` line by line.
    pub fn new(pipe: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines() {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines { rx }
    }

    /// The next line, or `None` at the end of the pipe.
    ///
    /// # Panics
    /// When no line comes within `within`, or the pipe cannot be read, naming `what`.
    pub fn next_within(&self, what: &str, within: Duration) -> Option<String> {
        match self.rx.recv_timeout(within) {
            Ok(Ok(line)) => Some(line),
            Ok(Err(err)) => panic!("reading {what}: {err}"),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("timed out after {within:?} waiting for {what}")
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => None,
        }
    }

    /// The next line.
    ///
    /// # Panics
    /// As [`Lines::next_within`], and at the end of the pipe.
    pub fn expect_within(&self, what: &str, within: Duration) -> String {
        self.next_within(what, within)
            .unwrap_or_else(|| panic!("the pipe ended before {what}"))
    }
}

/// Accepts one connection on `listener` (left blocking again afterwards, as is the accepted
/// stream).
///
/// # Panics
/// When nobody connects within `within`, naming `what`.
pub fn accept_within(
    listener: &std::net::TcpListener,
    what: &str,
    within: Duration,
) -> (std::net::TcpStream, std::net::SocketAddr) {
    listener
        .set_nonblocking(true)
        .unwrap_or_else(|err| panic!("cannot poll the listener for {what}: {err}"));
    let accepted = wait_for(what, within, || match listener.accept() {
        Ok(pair) => Some(pair),
        Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => None,
        Err(err) => panic!("accepting {what}: {err}"),
    });
    let _ = listener.set_nonblocking(false);
    let _ = accepted.0.set_nonblocking(false);
    accepted
}

/// Joins `handle`, giving the thread's result.
///
/// # Panics
/// When the thread does not finish within `within` (it is left running: threads cannot be
/// killed), or panicked, naming `what`.
pub fn join_within<T>(handle: JoinHandle<T>, what: &str, within: Duration) -> T {
    wait_until(what, within, || handle.is_finished());
    handle
        .join()
        .unwrap_or_else(|_| panic!("the thread for {what} panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "waiting for something that never happens")]
    fn wait_until_panics_naming_what_it_waited_for() {
        wait_until(
            "something that never happens",
            Duration::from_millis(20),
            || false,
        );
    }

    #[test]
    fn a_child_that_outlives_its_bound_is_killed() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            child.wait_within("sleep 30", Duration::from_millis(50))
        }));
        let message = *result.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.contains("sleep 30") && message.contains(&pid.to_string()),
            "{message}"
        );
        // Reaped, so the pid no longer names our child.
        assert!(child.try_wait().unwrap().is_some());
    }

    #[test]
    fn output_within_collects_both_pipes() {
        let output = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .output_within("sh", Duration::from_secs(10));
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
    }

    #[test]
    fn recv_within_names_a_silent_channel() {
        let (_tx, rx) = std::sync::mpsc::channel::<u8>();
        let result =
            std::panic::catch_unwind(|| recv_within(&rx, "a reply", Duration::from_millis(10)));
        let message = *result.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("a reply"), "{message}");
    }
}
