//! Attached paths and the resolution of a requested path to a real one inside them.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::error::FilesError;

/// The attached paths of a node (virtual path → real path). Clones share them.
#[derive(Debug, Clone, Default)]
pub struct Files {
    attached: Arc<RwLock<BTreeMap<String, PathBuf>>>,
}

/// A requested path resolved inside an attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The requested path, normalised (`/a/b`, no trailing `/`, no `.`).
    pub virtual_path: String,
    /// The canonical real path (no symlinks), inside `root`.
    pub real: PathBuf,
    /// The canonical real path of the attachment it lies in.
    pub root: PathBuf,
}

/// Normalises a requested path: `/`-separated, empty and `.` components dropped, always
/// absolute. A `..` component or a NUL byte is refused.
///
/// # Errors
/// [`FilesError::Traversal`] for `..`; [`FilesError::InvalidPath`] for NUL;
/// [`FilesError::MissingPath`] for an empty path.
pub fn normalize(path: &str) -> Result<String, FilesError> {
    if path.is_empty() {
        return Err(FilesError::MissingPath);
    }
    if path.contains('\0') {
        return Err(FilesError::InvalidPath(path.replace('\0', "\\0")));
    }
    let mut out = String::with_capacity(path.len() + 1);
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(FilesError::Traversal(path.to_string())),
            part => {
                out.push('/');
                out.push_str(part);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// Whether `prefix` is `path` or a whole-component prefix of it (both normalised).
fn is_prefix(prefix: &str, path: &str) -> bool {
    prefix == "/"
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

impl Files {
    /// No attachments.
    pub fn new() -> Files {
        Files::default()
    }

    /// Makes `real` (a directory or a file) readable under `virtual_path`; a later attach of the
    /// same virtual path replaces it.
    ///
    /// # Errors
    /// [`FilesError::BadAttachment`] if either path is relative or contains `..`.
    pub fn attach(&self, virtual_path: &str, real: impl AsRef<Path>) -> Result<(), FilesError> {
        let real = real.as_ref();
        let bad = || FilesError::BadAttachment(virtual_path.to_string());
        if !virtual_path.starts_with('/')
            || !real.is_absolute()
            || real.components().any(|c| c == Component::ParentDir)
        {
            return Err(bad());
        }
        let key = normalize(virtual_path).map_err(|_| bad())?;
        self.attached.write().insert(key, real.to_path_buf());
        Ok(())
    }

    /// Makes `virtual_path` unreadable again (no-op if it was not attached).
    pub fn detach(&self, virtual_path: &str) {
        if let Ok(key) = normalize(virtual_path) {
            self.attached.write().remove(&key);
        }
    }

    /// Whether `virtual_path` is attached (exactly).
    pub fn is_attached(&self, virtual_path: &str) -> bool {
        normalize(virtual_path).is_ok_and(|key| self.attached.read().contains_key(&key))
    }

    /// Every attachment, sorted by virtual path.
    pub fn attachments(&self) -> Vec<(String, PathBuf)> {
        self.attached
            .read()
            .iter()
            .map(|(v, r)| (v.clone(), r.clone()))
            .collect()
    }

    /// Resolves a requested path to a canonical real path inside the attachment with the longest
    /// matching virtual prefix.
    ///
    /// # Errors
    /// [`FilesError::Traversal`] / [`FilesError::InvalidPath`] / [`FilesError::MissingPath`] for a
    /// bad path, [`FilesError::NotFound`] when nothing attached matches or the file is missing,
    /// [`FilesError::Inaccessible`] when it resolves outside the attachment.
    pub fn resolve(&self, requested: &str) -> Result<Resolved, FilesError> {
        let virtual_path = normalize(requested)?;
        let (prefix, real_root) = {
            let attached = self.attached.read();
            attached
                .iter()
                .filter(|(prefix, _)| is_prefix(prefix, &virtual_path))
                .max_by_key(|(prefix, _)| prefix.len())
                .map(|(p, r)| (p.clone(), r.clone()))
                .ok_or_else(|| FilesError::NotFound(virtual_path.clone()))?
        };
        let suffix = virtual_path[prefix.len()..].trim_start_matches('/');
        let joined = if suffix.is_empty() {
            real_root.clone()
        } else {
            real_root.join(suffix)
        };
        let root = real_root
            .canonicalize()
            .map_err(|e| FilesError::io(&virtual_path, &e))?;
        let real = joined
            .canonicalize()
            .map_err(|e| FilesError::io(&virtual_path, &e))?;
        if !real.starts_with(&root) {
            tracing::warn!(path = %virtual_path, resolved = %real.display(),
                "files: a path resolving outside its attachment was refused");
            return Err(FilesError::Inaccessible(virtual_path));
        }
        Ok(Resolved {
            virtual_path,
            real,
            root,
        })
    }

    /// `/files/debug`: every attachment as `{virtual path: real path}`.
    pub fn debug(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.attached
                .read()
                .iter()
                .map(|(v, r)| (v.clone(), r.display().to_string().into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses_dot_dot() {
        assert_eq!(normalize("a//b/./c/").unwrap(), "/a/b/c");
        assert_eq!(normalize("/").unwrap(), "/");
        assert_eq!(normalize("..").unwrap_err().status(), 403);
        assert_eq!(normalize("/a/../b").unwrap_err().status(), 403);
        assert_eq!(normalize("/a/..").unwrap_err().status(), 403);
        assert_eq!(normalize("/a/b\0").unwrap_err().status(), 400);
        assert_eq!(normalize("").unwrap_err(), FilesError::MissingPath);
        // A name that merely contains dots is a name.
        assert_eq!(normalize("/a/..b/c..").unwrap(), "/a/..b/c..");
    }

    #[test]
    fn prefixes_are_whole_components() {
        assert!(is_prefix("/a/b", "/a/b"));
        assert!(is_prefix("/a/b", "/a/b/c"));
        assert!(!is_prefix("/a/b", "/a/bc"));
        assert!(is_prefix("/", "/x"));
    }

    #[test]
    fn attach_requires_absolute_paths() {
        let files = Files::new();
        assert!(files.attach("relative", "/tmp").is_err());
        assert!(files.attach("/v", "tmp").is_err());
        assert!(files.attach("/v", "/tmp/../etc").is_err());
        files.attach("/v/", "/tmp").unwrap();
        assert!(files.is_attached("/v"));
        files.detach("/v");
        assert!(files.attachments().is_empty());
    }
}
