//! The operations: browse a directory, read a piece of a file, download a file. Each resolves
//! the path first ([`Files::resolve`]) and opens only what resolution allowed.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;

use serde_json::{json, Value as Json};

use crate::attach::{Files, Resolved};
use crate::error::FilesError;
use crate::users::Names;

/// The most bytes one `/files/read` returns: 16 pages of 4 KiB, as Mesos caps it.
pub const MAX_READ_BYTES: usize = 16 * 4096;

/// Files up to this size are downloaded in one body; larger ones are streamed in chunks.
pub(crate) const WHOLE_DOWNLOAD_BYTES: u64 = 8 << 20;

/// A file to download: its type, its name, and its bytes.
#[derive(Debug)]
pub struct Download {
    /// `Content-Type`, from the extension (`application/octet-stream` when unknown).
    pub content_type: &'static str,
    /// The file's base name, for `Content-Disposition`.
    pub filename: String,
    /// The bytes, whole or still to be streamed.
    pub body: DownloadBody,
}

/// The bytes of a [`Download`].
#[derive(Debug)]
pub enum DownloadBody {
    /// The whole file (small files).
    Bytes(Vec<u8>),
    /// An open file of `len` bytes, to stream.
    File {
        /// The opened file (already checked to lie inside its attachment).
        file: File,
        /// Its size when opened.
        len: u64,
    },
}

/// `ls -l`'s mode string: the type (`- d l c b p s`), then `rwx` for user, group and other,
/// with setuid/setgid/sticky as `s`/`t` (capitals when the execute bit is off).
pub(crate) fn mode_string(mode: u32) -> String {
    let kind = match mode & 0o170000 {
        0o140000 => 's',
        0o120000 => 'l',
        0o060000 => 'b',
        0o040000 => 'd',
        0o020000 => 'c',
        0o010000 => 'p',
        _ => '-',
    };
    let mut out = String::with_capacity(10);
    out.push(kind);
    let special = [(0o4000, 's', 'S'), (0o2000, 's', 'S'), (0o1000, 't', 'T')];
    for (i, shift) in [6u32, 3, 0].into_iter().enumerate() {
        let bits = (mode >> shift) & 0o7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        let (flag, on, off) = special[i];
        out.push(match (mode & flag != 0, bits & 1 != 0) {
            (true, true) => on,
            (true, false) => off,
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    out
}

/// The MIME type for a file name's extension.
pub(crate) fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt" | "log" | "out" | "err" | "conf" | "cfg" | "ini" | "md" | "sh" | "py") => {
            "text/plain"
        }
        Some("json") => "application/json",
        Some("html" | "htm") => "text/html",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("xml") => "application/xml",
        Some("csv") => "text/csv",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("gz" | "tgz") => "application/gzip",
        Some("tar") => "application/x-tar",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// One `/files/browse` entry, as Mesos writes it.
fn entry_json(path: String, meta: &Metadata, users: &Names, groups: &Names) -> Json {
    json!({
        "path": path,
        "nlink": meta.nlink(),
        "size": meta.size(),
        "mtime": meta.mtime(),
        "mode": mode_string(meta.mode()),
        "uid": users.name(meta.uid()),
        "gid": groups.name(meta.gid()),
    })
}

/// Opens a resolved file for reading without following a final symlink, then checks that what
/// was opened is still inside the attachment (a directory swapped for a symlink after
/// resolution would otherwise lead out).
fn open_confined(resolved: &Resolved) -> Result<File, FilesError> {
    let path = &resolved.virtual_path;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&resolved.real)
        .map_err(|e| FilesError::io(path, &e))?;
    let opened = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(|e| FilesError::io(path, &e))?;
    if !opened.starts_with(&resolved.root) {
        tracing::warn!(%path, opened = %opened.display(),
            "files: the opened file lies outside its attachment: refused");
        return Err(FilesError::Inaccessible(path.clone()));
    }
    Ok(file)
}

fn parse_position(
    text: Option<&str>,
    bad: impl Fn(String) -> FilesError,
) -> Result<i64, FilesError> {
    match text {
        None => Ok(-1),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if n >= -1 => Ok(n),
            _ => Err(bad(text.to_string())),
        },
    }
}

/// Cuts an incomplete UTF-8 sequence off the end of `bytes` (a read that ended mid-character),
/// so the next read, at the returned length, starts on a character boundary.
fn cut_partial_char(bytes: &mut Vec<u8>) {
    if let Err(e) = std::str::from_utf8(bytes) {
        if e.error_len().is_none() && e.valid_up_to() > 0 {
            bytes.truncate(e.valid_up_to());
        }
    }
}

impl Files {
    /// `/files/browse?path=`: the entries of a directory, sorted by path.
    ///
    /// # Errors
    /// As [`Files::resolve`]; [`FilesError::NotADirectory`] for a file.
    pub fn browse(&self, path: &str) -> Result<Json, FilesError> {
        let resolved = self.resolve(path)?;
        let vpath = &resolved.virtual_path;
        let dir = open_confined(&resolved)?;
        let meta = dir.metadata().map_err(|e| FilesError::io(vpath, &e))?;
        if !meta.is_dir() {
            return Err(FilesError::NotADirectory(vpath.clone()));
        }
        let users = Names::load("/etc/passwd");
        let groups = Names::load("/etc/group");
        let base = vpath.trim_end_matches('/');
        let mut entries = Vec::new();
        let listing = std::fs::read_dir(&resolved.real).map_err(|e| FilesError::io(vpath, &e))?;
        for entry in listing.flatten() {
            // lstat: a symlink is listed as one (`l`), never followed here.
            let Ok(meta) = entry.metadata() else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            entries.push(entry_json(format!("{base}/{name}"), &meta, &users, &groups));
        }
        entries.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        Ok(Json::Array(entries))
    }

    /// `/files/read?path=&offset=&length=`: `offset` -1 (the default) answers the size as
    /// `{"offset": size, "data": ""}`; otherwise up to `length` (-1: no limit) bytes from
    /// `offset`, at most [`MAX_READ_BYTES`], as `{"offset": offset, "data": "..."}`. At or past
    /// the end, `data` is empty.
    ///
    /// # Errors
    /// As [`Files::resolve`]; [`FilesError::BadOffset`] / [`FilesError::BadLength`];
    /// [`FilesError::ReadDirectory`].
    pub fn read(
        &self,
        path: &str,
        offset: Option<&str>,
        length: Option<&str>,
    ) -> Result<Json, FilesError> {
        let offset = parse_position(offset, FilesError::BadOffset)?;
        let length = parse_position(length, FilesError::BadLength)?;
        let resolved = self.resolve(path)?;
        let vpath = &resolved.virtual_path;
        let mut file = open_confined(&resolved)?;
        let meta = file.metadata().map_err(|e| FilesError::io(vpath, &e))?;
        if meta.is_dir() {
            return Err(FilesError::ReadDirectory);
        }
        let size = meta.len();
        if offset == -1 {
            return Ok(json!({ "offset": size, "data": "" }));
        }
        let offset = offset as u64;
        let want = match length {
            -1 => MAX_READ_BYTES,
            n => (n as usize).min(MAX_READ_BYTES),
        };
        let mut data = Vec::with_capacity(want.min(size.saturating_sub(offset) as usize));
        if offset < size && want > 0 {
            file.seek(SeekFrom::Start(offset))
                .map_err(|e| FilesError::io(vpath, &e))?;
            file.take(want as u64)
                .read_to_end(&mut data)
                .map_err(|e| FilesError::io(vpath, &e))?;
            cut_partial_char(&mut data);
        }
        Ok(json!({ "offset": offset, "data": String::from_utf8_lossy(&data) }))
    }

    /// `/files/download?path=`: the file's bytes with its type and name.
    ///
    /// # Errors
    /// As [`Files::resolve`]; [`FilesError::DownloadDirectory`].
    pub fn download(&self, path: &str) -> Result<Download, FilesError> {
        let resolved = self.resolve(path)?;
        let vpath = &resolved.virtual_path;
        let mut file = open_confined(&resolved)?;
        let meta = file.metadata().map_err(|e| FilesError::io(vpath, &e))?;
        if meta.is_dir() {
            return Err(FilesError::DownloadDirectory);
        }
        let filename = Path::new(vpath)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let body = if meta.len() <= WHOLE_DOWNLOAD_BYTES {
            let mut bytes = Vec::with_capacity(meta.len() as usize);
            file.read_to_end(&mut bytes)
                .map_err(|e| FilesError::io(vpath, &e))?;
            DownloadBody::Bytes(bytes)
        } else {
            DownloadBody::File {
                file,
                len: meta.len(),
            }
        };
        Ok(Download {
            content_type: content_type(&filename),
            filename,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_like_ls() {
        assert_eq!(mode_string(0o040755), "drwxr-xr-x");
        assert_eq!(mode_string(0o100644), "-rw-r--r--");
        assert_eq!(mode_string(0o120777), "lrwxrwxrwx");
        assert_eq!(mode_string(0o104755), "-rwsr-xr-x");
        assert_eq!(mode_string(0o041777), "drwxrwxrwt");
        assert_eq!(mode_string(0o102644), "-rw-r-Sr--");
        assert_eq!(mode_string(0o010600), "prw-------");
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("stdout"), "application/octet-stream");
        assert_eq!(content_type("a.LOG"), "text/plain");
        assert_eq!(content_type("x.json"), "application/json");
    }

    #[test]
    fn positions() {
        let bad = FilesError::BadOffset;
        assert_eq!(parse_position(None, bad).unwrap(), -1);
        assert_eq!(parse_position(Some("12"), bad).unwrap(), 12);
        assert!(parse_position(Some("-2"), bad).is_err());
        assert!(parse_position(Some("x"), bad).is_err());
        assert!(parse_position(Some(""), bad).is_err());
    }

    #[test]
    fn partial_characters_are_cut() {
        let mut bytes = "aé".as_bytes()[..2].to_vec();
        cut_partial_char(&mut bytes);
        assert_eq!(bytes, b"a");
        let mut whole = "aé".as_bytes().to_vec();
        cut_partial_char(&mut whole);
        assert_eq!(whole, "aé".as_bytes());
    }
}
