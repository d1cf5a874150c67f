//! Reading the election from ZooKeeper: the leading contender and a watch on the children.

use mesos::MasterInfo;
use zookeeper_client::{Client, Error, OneshotWatcher};

use crate::election::{leader_node, parse_info};

/// One read of the election: every `json.info_*` child, the leader (node name and info), and a
/// watch that fires on the next change of the children.
pub(crate) struct ElectionView {
    pub(crate) children: Vec<String>,
    pub(crate) leader: Option<(String, MasterInfo)>,
    pub(crate) watcher: OneshotWatcher,
}

/// Reads the election under `path`. A leader whose node vanished between the listing and the read
/// is retried; a leader whose data does not decode is reported as no leader (and logged), as
/// Mesos's detector does.
///
/// # Errors
/// ZooKeeper errors (a missing `path` is an empty election, not an error, for the detector's sake:
/// it is watched until a contender creates it).
pub(crate) async fn read_election(client: &Client, path: &str) -> Result<ElectionView, Error> {
    loop {
        let (children, watcher) = match client.list_and_watch_children(path).await {
            Ok(found) => found,
            Err(Error::NoNode) => {
                // Watch for the path's creation, then list again.
                let (stat, watcher) = client.check_and_watch_stat(path).await?;
                if stat.is_some() {
                    continue;
                }
                return Ok(ElectionView {
                    children: Vec::new(),
                    leader: None,
                    watcher,
                });
            }
            Err(error) => return Err(error),
        };
        let Some(node) = leader_node(&children).map(str::to_string) else {
            return Ok(ElectionView {
                children,
                leader: None,
                watcher,
            });
        };
        let data = match client.get_data(&format!("{path}/{node}")).await {
            Ok((data, _)) => data,
            // The leader left while we looked: the watch has fired already; read again.
            Err(Error::NoNode) => continue,
            Err(error) => return Err(error),
        };
        let leader = match parse_info(&data) {
            Ok(info) => Some((node, info)),
            Err(error) => {
                tracing::warn!(%node, %error, "leading znode holds no MasterInfo JSON");
                None
            }
        };
        return Ok(ElectionView {
            children,
            leader,
            watcher,
        });
    }
}

/// A single-threaded tokio runtime for one election or detector thread.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// How much ahead of the process's other threads a session thread runs (a nice value).
const SESSION_NICE: libc::c_int = -10;

/// Raises the calling thread's priority, best effort: it keeps a ZooKeeper session alive, and a
/// master busy with tens of thousands of re-registrations on every core must not starve it past
/// the session timeout (its session would expire and the leader be fenced mid-recovery). Without
/// the privilege to raise priorities (`CAP_SYS_NICE`) the thread keeps the default.
pub(crate) fn favour_session_thread() {
    // SAFETY: gettid and setpriority take and return plain integers; no memory is shared.
    let result = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, SESSION_NICE)
    };
    if result != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            "cannot raise the zookeeper session thread's priority; it keeps the default"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn this_threads_nice() -> libc::c_int {
        // SAFETY: plain integer syscalls on the calling thread.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::getpriority(libc::PRIO_PROCESS, tid)
        }
    }

    #[test]
    fn a_session_thread_runs_ahead_when_the_process_may_raise_priorities() {
        let (before, after, privileged) = std::thread::spawn(|| {
            let before = this_threads_nice();
            favour_session_thread();
            let after = this_threads_nice();
            // Whether raising is allowed here at all: a scratch thread tries the same.
            let privileged = std::thread::spawn(|| {
                // SAFETY: as above.
                unsafe {
                    let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                    libc::setpriority(libc::PRIO_PROCESS, tid, SESSION_NICE) == 0
                }
            })
            .join()
            .unwrap_or(false);
            (before, after, privileged)
        })
        .join()
        .expect("thread");
        if privileged {
            assert_eq!(after, SESSION_NICE, "raised from {before}");
        } else {
            assert_eq!(after, before, "unchanged without the privilege");
        }
        // Only the calling thread changed: this one keeps its own.
        assert_ne!(this_threads_nice(), SESSION_NICE);
    }
}
