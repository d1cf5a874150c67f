//! Extracting fetched archives into the sandbox: `.tar`, `.tar.gz`/`.tgz`, `.tar.bz2`/`.tbz2`,
//! `.tar.xz`/`.txz`, `.zip` (and a plain `.gz` file).
//!
//! Every entry is checked before anything is written: a path that is absolute or climbs out with
//! `..`, and a symbolic or hard link whose target lies outside the sandbox, refuse the whole
//! archive. While writing, an entry whose parent resolves outside the sandbox (through a link the
//! sandbox already had) is refused too.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// The kinds of archive the fetcher extracts, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// `.tar`
    Tar,
    /// `.tar.gz`, `.tgz`
    TarGz,
    /// `.tar.bz2`, `.tbz2`
    TarBz2,
    /// `.tar.xz`, `.txz`
    TarXz,
    /// `.zip`
    Zip,
    /// `.gz` (one compressed file)
    Gz,
}

impl ArchiveKind {
    /// The kind of archive `name` is, if any.
    pub fn of(name: &str) -> Option<ArchiveKind> {
        let name = name.to_ascii_lowercase();
        let kinds = [
            (".tar.gz", ArchiveKind::TarGz),
            (".tgz", ArchiveKind::TarGz),
            (".tar.bz2", ArchiveKind::TarBz2),
            (".tbz2", ArchiveKind::TarBz2),
            (".tar.xz", ArchiveKind::TarXz),
            (".txz", ArchiveKind::TarXz),
            (".tar", ArchiveKind::Tar),
            (".zip", ArchiveKind::Zip),
            (".gz", ArchiveKind::Gz),
        ];
        kinds
            .into_iter()
            .find(|(suffix, _)| name.ends_with(suffix))
            .map(|(_, kind)| kind)
    }
}

/// Why an archive was not extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Reading the archive or writing an entry failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The zip archive is malformed.
    #[error("{0}")]
    Zip(#[from] zip::result::ZipError),
    /// An entry would land outside the sandbox.
    #[error("archive entry '{0}' would escape the sandbox")]
    Escapes(String),
    /// A link entry points outside the sandbox.
    #[error("archive entry '{entry}' links to '{target}' outside the sandbox")]
    LinkEscapes {
        /// The link.
        entry: String,
        /// Where it points.
        target: String,
    },
}

/// `path` made lexically normal (no `.`, `..` resolved) if it stays below its root; None if it is
/// absolute or climbs above.
fn confined(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Checks an entry's path, and for a link its target (relative to the link's directory for a
/// symbolic link, to the archive root for a hard link). Returns the normal relative path.
fn check_entry(path: &Path, link: Option<(&Path, bool)>) -> Result<PathBuf, ExtractError> {
    let shown = path.display().to_string();
    // Refused as written: a `..` anywhere, even one that would come back down, is not an archive
    // a well-meaning tool makes.
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(ExtractError::Escapes(shown));
    }
    let relative = confined(path).ok_or_else(|| ExtractError::Escapes(shown.clone()))?;
    if let Some((target, symbolic)) = link {
        let base = if symbolic {
            relative.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            PathBuf::new()
        };
        let escapes = target.is_absolute() || confined(&base.join(target)).is_none();
        if escapes {
            return Err(ExtractError::LinkEscapes {
                entry: shown,
                target: target.display().to_string(),
            });
        }
    }
    Ok(relative)
}

/// Checks that `dest`'s parent, once created, still lies inside `root` (no link in the sandbox
/// leads out).
fn parent_inside(root: &Path, dest: &Path) -> Result<(), ExtractError> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
        let real = parent.canonicalize()?;
        if !real.starts_with(root) {
            return Err(ExtractError::Escapes(dest.display().to_string()));
        }
    }
    Ok(())
}

/// Extracts `archive` (of `kind`) into `dir`. Returns how many entries were written.
///
/// # Errors
/// [`ExtractError`]: unreadable archive, or an entry that would escape `dir` (nothing of the
/// archive is written then).
pub fn extract(archive: &Path, kind: ArchiveKind, dir: &Path) -> Result<usize, ExtractError> {
    let root = dir.canonicalize()?;
    match kind {
        ArchiveKind::Zip => extract_zip(archive, &root),
        ArchiveKind::Gz => {
            let name = archive
                .file_name()
                .and_then(|n| n.to_str())
                .map(|n| n.trim_end_matches(".gz").trim_end_matches(".GZ"))
                .filter(|n| !n.is_empty())
                .unwrap_or("extracted");
            let mut input = flate2::read::GzDecoder::new(File::open(archive)?);
            let mut output = File::create(root.join(name))?;
            io::copy(&mut input, &mut output)?;
            Ok(1)
        }
        tar_kind => {
            // Two passes: every entry is checked before the first is written.
            check_tar(tar_reader(archive, tar_kind)?)?;
            unpack_tar(tar_reader(archive, tar_kind)?, &root)
        }
    }
}

fn tar_reader(archive: &Path, kind: ArchiveKind) -> io::Result<Box<dyn Read>> {
    let file = io::BufReader::new(File::open(archive)?);
    Ok(match kind {
        ArchiveKind::TarGz => Box::new(flate2::read::MultiGzDecoder::new(file)),
        ArchiveKind::TarBz2 => Box::new(bzip2::read::MultiBzDecoder::new(file)),
        ArchiveKind::TarXz => Box::new(xz2::read::XzDecoder::new_multi_decoder(file)),
        _ => Box::new(file),
    })
}

fn tar_link(
    entry: &tar::Entry<'_, Box<dyn Read>>,
) -> Result<Option<(PathBuf, bool)>, ExtractError> {
    let kind = entry.header().entry_type();
    if !(kind.is_symlink() || kind.is_hard_link()) {
        return Ok(None);
    }
    let target = entry
        .link_name()?
        .map(|t| t.into_owned())
        .unwrap_or_default();
    Ok(Some((target, kind.is_symlink())))
}

fn check_tar(reader: Box<dyn Read>) -> Result<(), ExtractError> {
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let entry = entry?;
        let path = entry.path()?.into_owned();
        let link = tar_link(&entry)?;
        check_entry(&path, link.as_ref().map(|(t, s)| (t.as_path(), *s)))?;
    }
    Ok(())
}

fn unpack_tar(reader: Box<dyn Read>, root: &Path) -> Result<usize, ExtractError> {
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    let mut count = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let link = tar_link(&entry)?;
        let relative = check_entry(&path, link.as_ref().map(|(t, s)| (t.as_path(), *s)))?;
        if relative.as_os_str().is_empty() {
            continue;
        }
        parent_inside(root, &root.join(&relative))?;
        // `unpack_in` checks again (and refuses to write through links leading out).
        if !entry.unpack_in(root)? {
            return Err(ExtractError::Escapes(path.display().to_string()));
        }
        count += 1;
    }
    Ok(count)
}

/// The Unix file type bits of a zip entry that is a symbolic link.
const S_IFLNK: u32 = 0o120000;
const S_IFMT: u32 = 0o170000;

fn extract_zip(archive: &Path, root: &Path) -> Result<usize, ExtractError> {
    let mut zip = zip::ZipArchive::new(io::BufReader::new(File::open(archive)?))?;
    // First pass: every entry's path and link target.
    let mut plan = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let name = PathBuf::from(entry.name());
        let symlink = entry.unix_mode().is_some_and(|m| m & S_IFMT == S_IFLNK);
        let target = if symlink {
            let mut target = String::new();
            entry.read_to_string(&mut target)?;
            Some(PathBuf::from(target))
        } else {
            None
        };
        let relative = check_entry(&name, target.as_deref().map(|t| (t, true)))?;
        plan.push((relative, target, entry.is_dir(), entry.unix_mode()));
    }
    let mut count = 0;
    for (i, (relative, target, is_dir, mode)) in plan.into_iter().enumerate() {
        if relative.as_os_str().is_empty() {
            continue;
        }
        let dest = root.join(&relative);
        parent_inside(root, &dest)?;
        if is_dir {
            std::fs::create_dir_all(&dest)?;
        } else if let Some(target) = target {
            let _ = std::fs::remove_file(&dest);
            std::os::unix::fs::symlink(&target, &dest)?;
        } else {
            let mut entry = zip.by_index(i)?;
            // Never write through a link already at the destination.
            if dest
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
            {
                std::fs::remove_file(&dest)?;
            }
            let mut output = File::create(&dest)?;
            io::copy(&mut entry, &mut output)?;
            if let Some(mode) = mode {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode & 0o7777))?;
            }
        }
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!(ArchiveKind::of("app.tar.gz"), Some(ArchiveKind::TarGz));
        assert_eq!(ArchiveKind::of("APP.TGZ"), Some(ArchiveKind::TarGz));
        assert_eq!(ArchiveKind::of("a.tar.bz2"), Some(ArchiveKind::TarBz2));
        assert_eq!(ArchiveKind::of("a.tar.xz"), Some(ArchiveKind::TarXz));
        assert_eq!(ArchiveKind::of("a.tar"), Some(ArchiveKind::Tar));
        assert_eq!(ArchiveKind::of("a.zip"), Some(ArchiveKind::Zip));
        assert_eq!(ArchiveKind::of("a.gz"), Some(ArchiveKind::Gz));
        assert_eq!(ArchiveKind::of("run.sh"), None);
    }

    #[test]
    fn entries_that_escape_are_refused() {
        let ok = |p: &str| check_entry(Path::new(p), None).map(|p| p.display().to_string());
        assert_eq!(ok("./a/b").unwrap(), "a/b");
        assert!(matches!(ok("../x"), Err(ExtractError::Escapes(_))));
        assert!(matches!(ok("a/../../x"), Err(ExtractError::Escapes(_))));
        assert!(matches!(ok("/etc/passwd"), Err(ExtractError::Escapes(_))));
        let link = |p: &str, t: &str, s: bool| check_entry(Path::new(p), Some((Path::new(t), s)));
        assert!(link("a/l", "b", true).is_ok());
        assert!(link("a/l", "../b", true).is_ok(), "stays inside");
        assert!(matches!(
            link("a/l", "../../b", true),
            Err(ExtractError::LinkEscapes { .. })
        ));
        assert!(matches!(
            link("l", "/etc", true),
            Err(ExtractError::LinkEscapes { .. })
        ));
        assert!(matches!(
            link("a/h", "../x", false),
            Err(ExtractError::LinkEscapes { .. })
        ));
    }
}
