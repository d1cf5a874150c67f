//! `--log_dir`: the binaries log to stderr and, with a log directory, to a file in it as well,
//! which the files API then serves (`/master/log`, `/slave/log`).

use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing_subscriber::fmt::writer::MakeWriterExt;

/// Installs the process's `tracing` subscriber: `RUST_LOG` (else `default_filter`) to stderr,
/// and with `log_dir` also appended to `<log_dir>/<file_name>` (the directory is created).
/// Returns the log file's path.
///
/// # Errors
/// When the directory or the file cannot be created or opened.
pub fn init_logging(
    default_filter: &str,
    log_dir: Option<&Path>,
    file_name: &str,
) -> io::Result<Option<PathBuf>> {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter))
    };
    let Some(dir) = log_dir else {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(io::stderr)
            .try_init();
        return Ok(None);
    };
    std::fs::create_dir_all(dir)?;
    let path = dir.join(file_name);
    let file = OpenOptions::new().create(true).append(true).open(&path)?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(false)
        .with_writer(io::stderr.and(Arc::new(file)))
        .try_init();
    Ok(Some(path))
}
