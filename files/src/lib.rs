//! Mesos's files API: read-only access over HTTP to directories and files a node *attached*
//! (an agent's executor sandboxes, the agent's and the master's log files), and to nothing else.
//!
//! # Walkthrough
//!
//! A node keeps one [`Files`] (cheap to clone: every clone sees the same attachments), attaches
//! what may be read, and spawns the `files` process on its runtime, which serves
//! `/files/browse`, `/files/read`, `/files/download` and `/files/debug` in Mesos's JSON shapes:
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("files-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # std::fs::write(dir.join("stdout"), "hello\n").unwrap();
//! let files = files::Files::new();
//! files.attach("/frameworks/f1/executors/e1/runs/latest", &dir).unwrap();
//! let listing = files.browse("/frameworks/f1/executors/e1/runs/latest").unwrap();
//! assert_eq!(listing[0]["path"], "/frameworks/f1/executors/e1/runs/latest/stdout");
//! let read = files.read("/frameworks/f1/executors/e1/runs/latest/stdout", Some("0"), None).unwrap();
//! assert_eq!(read["data"], "hello\n");
//! // Anything outside what was attached is refused before a byte is read.
//! assert!(files.read("/frameworks/f1/executors/e1/runs/latest/../../../../etc/passwd", Some("0"), None).is_err());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! # The confinement rule
//!
//! A requested path is split into components; `..` anywhere is refused (`403`), whatever
//! encoding it arrived in (the query is decoded once, so `%2e%2e` is `..` and refused, while
//! `%252e%252e` names a file literally called `%2e%2e`). The longest attached virtual prefix
//! names the real directory; the rest is joined to it and the result is canonicalised, symlinks
//! included. It must still lie inside the canonical attached directory (`403` otherwise: a
//! symlink out of a sandbox leads nowhere). A file is opened without following a final symlink
//! and the opened descriptor's own path is checked again, so a symlink swapped in between the
//! check and the open cannot escape either.
#![deny(missing_docs)]

mod attach;
mod error;
pub mod logging;
mod ops;
mod process;
mod users;

pub use attach::{normalize, Files, Resolved};
pub use error::FilesError;
pub use ops::{Download, DownloadBody, MAX_READ_BYTES};
pub use process::{FilesProcess, FILES_PROCESS_ID};
