//! Reading and writing cgroup files, and emptying and removing a cgroup.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::IsolatorError;

fn error(path: &Path, source: std::io::Error) -> IsolatorError {
    IsolatorError::Cgroup {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `value` to `dir/file`.
pub(crate) fn write(dir: &Path, file: &str, value: &str) -> Result<(), IsolatorError> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(|e| error(&path, e))
}

/// Reads `dir/file`.
pub(crate) fn read(dir: &Path, file: &str) -> Result<String, IsolatorError> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|e| error(&path, e))
}

/// Reads one number from `dir/file`.
pub(crate) fn read_u64(dir: &Path, file: &str) -> Result<u64, IsolatorError> {
    let path = dir.join(file);
    let text = read(dir, file)?;
    text.trim().parse().map_err(|_| {
        error(
            &path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, "not a number"),
        )
    })
}

/// The value of `key` in a flat-keyed file (`memory.stat`, `cpu.stat`, `memory.oom_control`).
pub(crate) fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// The pids in a cgroup (none if it is gone).
pub(crate) fn pids(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// How long emptying and removing a cgroup may take before we give up on it.
const KILL_ATTEMPTS: u32 = 200;
const KILL_PAUSE: Duration = Duration::from_millis(10);

/// Kills every process in `dir` (again and again, since a forking process can add more while we
/// read: SIGKILL wins within a few rounds) and removes the directory.
pub(crate) fn destroy(dir: &Path) -> Result<(), IsolatorError> {
    if !dir.exists() {
        return Ok(());
    }
    // cgroup v2 kills the whole sub-tree atomically.
    if dir.join("cgroup.kill").exists() {
        let _ = write(dir, "cgroup.kill", "1");
    }
    let mut last_error = None;
    for _ in 0..KILL_ATTEMPTS {
        for pid in pids(dir) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            // EBUSY until the killed processes have left.
            Err(e) => last_error = Some(e),
        }
        std::thread::sleep(KILL_PAUSE);
    }
    Err(error(
        dir,
        last_error.unwrap_or_else(|| std::io::Error::other("cannot remove")),
    ))
}

/// The sub-directories of `dir` (the containers a previous agent left behind).
pub(crate) fn children(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_values() {
        let text = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(keyed(text, "oom_kill"), Some(3));
        assert_eq!(keyed(text, "under_oom"), Some(0));
        assert_eq!(keyed(text, "missing"), None);
    }
}
