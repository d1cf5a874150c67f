//! Finding and signalling the processes of executors' sessions (an executor leads its own
//! session, so everything it started is there unless it made a session of its own).
//!
//! Linux says which session a process is in only in `/proc/<pid>/stat`, so finding a session's
//! processes means reading that file for every process on the machine. When an executor ends, the
//! agent kills what is left of its session; in a burst (1,000 short tasks) executors end together,
//! and one scan per executor made the scans an eighth of the agent's CPU. [`sweep`] lets executors
//! that end together share one scan.

use std::io::Read;
use std::sync::{Mutex, PoisonError};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid as OsPid;

/// The session of process `pid` (field 6 of `/proc/<pid>/stat`); None if it is gone.
pub fn session_of(pid: u32) -> Option<u32> {
    let mut file = std::fs::File::open(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp session ...`: the session comes well within the first 512
    // bytes (comm is at most 64).
    let mut buf = [0u8; 512];
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    parse_session(&buf[..len])
}

/// The session field of a `/proc/<pid>/stat` line (comm may hold spaces and parentheses: the
/// fields start after the last `)`).
fn parse_session(stat: &[u8]) -> Option<u32> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    // state, ppid, pgrp, session.
    rest.split_ascii_whitespace().nth(3)?.parse().ok()
}

/// Sends `signal` to every process in any of `sessions`, with one scan of `/proc`. Returns how
/// many processes were signalled. Without `/proc`, signals the session leaders themselves.
pub fn signal_sessions(sessions: &[u32], signal: Signal) -> usize {
    if sessions.is_empty() {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return sessions
            .iter()
            .filter(|&&leader| signal_pid(leader, signal))
            .count();
    };
    let mut count = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if session_of(pid).is_some_and(|s| sessions.contains(&s)) && signal_pid(pid, signal) {
            count += 1;
        }
    }
    count
}

/// Sessions waiting for a scan, and which requests the scans done so far covered.
struct Pending {
    sessions: Vec<u32>,
    /// Requests made so far (each gets the next number).
    requested: u64,
    /// Every request up to this number has been swept.
    swept: u64,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending {
    sessions: Vec::new(),
    requested: 0,
    swept: 0,
});
/// Held during a scan: requests made meanwhile wait for it, then share the next one.
static SCAN: Mutex<()> = Mutex::new(());

/// SIGKILLs whatever is left in session `session`; returns once a scan that started after this
/// call has signalled it. Callers that arrive together share one scan of `/proc` (whoever
/// gets to scan takes every session waiting).
pub fn sweep(session: u32) {
    let ticket = {
        let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
        pending.sessions.push(session);
        pending.requested += 1;
        pending.requested
    };
    let _scan = SCAN.lock().unwrap_or_else(PoisonError::into_inner);
    let (sessions, through) = {
        let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.swept >= ticket {
            // A scan that took our session has finished.
            return;
        }
        (std::mem::take(&mut pending.sessions), pending.requested)
    };
    signal_sessions(&sessions, Signal::SIGKILL);
    let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
    pending.swept = pending.swept.max(through);
}

fn signal_pid(pid: u32, signal: Signal) -> bool {
    i32::try_from(pid)
        .ok()
        .filter(|&p| p > 0)
        .is_some_and(|p| kill(OsPid::from_raw(p), signal).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    #[test]
    fn parses_the_session_after_the_last_parenthesis() {
        assert_eq!(parse_session(b"42 (sh) S 1 42 40 0 -1"), Some(40));
        assert_eq!(parse_session(b"42 (a) b) c) R 1 7 9 0"), Some(9));
        assert_eq!(parse_session(b"42 (sh) S 1"), None);
        assert_eq!(parse_session(b"garbage"), None);
    }

    #[test]
    fn finds_our_own_session() {
        let ours = nix::unistd::getsid(None).expect("getsid").as_raw() as u32;
        assert_eq!(session_of(std::process::id()), Some(ours));
        assert_eq!(session_of(u32::MAX), None);
    }

    /// A process in a session of its own that starts a grandchild, which outlives nothing.
    fn session_with_grandchild() -> std::process::Child {
        let mut command = Command::new("sh");
        command
            .args(["-c", "sleep 30 & wait"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            command.pre_exec(|| nix::unistd::setsid().map(|_| ()).map_err(Into::into));
        }
        command.spawn().expect("spawn sh")
    }

    fn members(session: u32) -> usize {
        std::fs::read_dir("/proc")
            .expect("/proc")
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| session_of(pid) == Some(session))
            .filter(|&pid| {
                // Zombies wait for us to reap them; they are not running.
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map(|s| {
                        !s.rsplit_once(')')
                            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
                    })
                    .unwrap_or(false)
            })
            .count()
    }

    #[test]
    fn concurrent_sweeps_kill_every_session() {
        let mut children: Vec<_> = (0..4).map(|_| session_with_grandchild()).collect();
        let sessions: Vec<u32> = children.iter().map(std::process::Child::id).collect();
        for &session in &sessions {
            process::testing::wait_until("sh and its sleep start", Duration::from_secs(10), || {
                members(session) == 2
            });
        }
        std::thread::scope(|scope| {
            for &session in &sessions {
                scope.spawn(move || sweep(session));
            }
        });
        for child in &mut children {
            let status = child.wait().expect("wait");
            assert!(!status.success(), "sh was killed, not finished");
        }
        for &session in &sessions {
            process::testing::wait_until(
                "nothing left in the session",
                Duration::from_secs(10),
                || members(session) == 0,
            );
        }
    }
}
