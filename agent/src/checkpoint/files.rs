//! Durable file primitives. Stronger than Mesos (which renames without syncing): a write is a temp
//! file in the same directory, fsynced, renamed over the target, then the directory fsynced, so
//! after a power cut a checkpoint is either the old one or the new one, and is on disk once the
//! call returns. Appends to an update log are fdatasynced before the call returns.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A failed checkpoint operation, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("cannot checkpoint {path}: {source}")]
pub struct FileError {
    /// The file or directory.
    pub path: PathBuf,
    /// The OS error.
    pub source: io::Error,
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> FileError + '_ {
    move |source| FileError {
        path: path.to_path_buf(),
        source,
    }
}

/// The prefix of temp files (readers skip names starting with it).
pub const TEMP_PREFIX: &str = ".tmp-";

fn sync_dir(dir: &Path) -> Result<(), FileError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(at(dir))
}

/// `mkdir -p dir`, syncing each directory that had to be created into its parent, so a new file's
/// whole path survives a power cut.
pub fn create_dirs(dir: &Path) -> Result<(), FileError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(err) => return Err(at(dir)(err)),
    }
    match dir.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// A fresh temp file name next to `path` (readers skip it).
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = OsString::from(TEMP_PREFIX);
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{}.{n}", std::process::id()));
    path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically and durably (see the module docs).
///
/// # Errors
/// [`FileError`] naming the file that could not be written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dirs(dir)?;
    let temp = temp_path(path);
    let written = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(err) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(at(path)(err));
    }
    if let Err(err) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(at(path)(err));
    }
    sync_dir(dir)
}

/// Replaces `path` with `bytes` atomically (a temp file renamed over it) but syncs nothing: for
/// records that only matter while the host stays up, such as process ids (after a reboot every
/// process is gone). They survive an agent crash in the page cache, at no disk round trip.
///
/// # Errors
/// [`FileError`] naming the file that could not be written.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut plan = super::batch::Plan::default();
    plan.write(path, bytes, super::batch::Durability::HostLifetime)?;
    plan.commit(None)
}

/// Points the symlink `link` at `target` atomically (a new link renamed over the old one).
///
/// # Errors
/// [`FileError`] naming the link.
pub fn symlink_atomic(link: &Path, target: &Path) -> Result<(), FileError> {
    let dir = link.parent().unwrap_or(Path::new("."));
    create_dirs(dir)?;
    let temp = temp_path(link);
    let _ = std::fs::remove_file(&temp);
    std::os::unix::fs::symlink(target, &temp).map_err(at(link))?;
    if let Err(err) = std::fs::rename(&temp, link) {
        let _ = std::fs::remove_file(&temp);
        return Err(at(link)(err));
    }
    sync_dir(dir)
}

/// Creates an empty marker file durably (no-op if it exists).
///
/// # Errors
/// [`FileError`] naming the file.
pub fn touch(path: &Path) -> Result<(), FileError> {
    if path.exists() {
        return Ok(());
    }
    write_atomic(path, b"")
}

/// Appends `bytes` to `path` (created if missing) and fdatasyncs it before returning; a new file's
/// directory entry is synced too.
///
/// # Errors
/// [`FileError`] naming the file.
pub fn append_durable(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let (mut file, created) = match OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
    {
        Ok(file) => (file, true),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => (
            OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(at(path))?,
            false,
        ),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            create_dirs(dir)?;
            (
                OpenOptions::new()
                    .append(true)
                    .create(true)
                    .mode(0o644)
                    .open(path)
                    .map_err(at(path))?,
                true,
            )
        }
        Err(err) => return Err(at(path)(err)),
    };
    file.write_all(bytes).map_err(at(path))?;
    file.sync_data().map_err(at(path))?;
    if created {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Cuts `path` to `len` bytes (dropping a torn tail) and syncs it.
///
/// # Errors
/// [`FileError`] naming the file.
pub fn truncate(path: &Path, len: u64) -> Result<(), FileError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(at(path))?;
    file.set_len(len).map_err(at(path))?;
    file.sync_all().map_err(at(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir()
            .join("agent-checkpoint-files")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temp_files() {
        let dir = dir("atomic");
        let path = dir.join("a/b/slave.info");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("slave.info")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn symlinks_are_replaced_and_appends_accumulate() {
        let dir = dir("links");
        let link = dir.join("runs/latest");
        symlink_atomic(&link, Path::new("c1")).unwrap();
        symlink_atomic(&link, Path::new("c2")).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), PathBuf::from("c2"));
        let log = dir.join("tasks/t/task.updates");
        append_durable(&log, b"ab").unwrap();
        append_durable(&log, b"cd").unwrap();
        assert_eq!(std::fs::read(&log).unwrap(), b"abcd");
        truncate(&log, 3).unwrap();
        assert_eq!(std::fs::read(&log).unwrap(), b"abc");
        touch(&dir.join("executor.sentinel")).unwrap();
        assert!(dir.join("executor.sentinel").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_file() {
        let err = write_atomic(Path::new("/proc/version/x/slave.info"), b"x").unwrap_err();
        assert!(err.to_string().contains("/proc/version"), "{err}");
    }
}
