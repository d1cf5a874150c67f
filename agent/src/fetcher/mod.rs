//! The fetcher: brings an executor's `CommandInfo.uris` into its sandbox before it starts (for a
//! command task, the task's URIs, which the agent copies into its command executor's command, as
//! Mesos does).
//!
//! Each URI is `http://`, `https://`, `file://` or an absolute path. Fetched into the sandbox
//! under its base name (or `output_file`), it is then made `executable`, or else extracted when
//! `extract` is set and its name says it is an archive (see [`extract`]). With `cache`, the
//! download goes through the agent's [`FetcherCache`] (`--fetcher_cache_dir`,
//! `--fetcher_cache_size`) and is copied from there. What the fetcher does is written to the
//! sandbox's `stderr`. The first URI that fails stops the fetch with a [`FetchError`] naming it;
//! the agent then fails the task with `REASON_CONTAINER_LAUNCH_FAILED`.
//!
//! `https://` servers must present a certificate signed by a CA the fetcher trusts: the system
//! bundle, Mozilla's roots, or a CA file the operator names in `SSL_CERT_FILE` or
//! `LIBPROCESS_SSL_CA_FILE` (see [`trust`]).
//!
//! Fetching is blocking I/O: the agent runs it on a thread of its own per container, never on
//! its actor.

pub mod cache;
pub mod extract;
pub mod trust;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos::CommandUri;

pub use cache::FetcherCache;
use extract::{ArchiveKind, ExtractError};

/// Mesos's default `--fetcher_cache_size`: 2 GB.
pub const DEFAULT_CACHE_SIZE: u64 = 2 * 1024 * 1024 * 1024;
/// How long a connection to an HTTP server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stalled download (no byte for this long) may take.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a URI could not be fetched: names the URI and the error.
#[derive(Debug, thiserror::Error)]
#[error("cannot fetch URI '{uri}': {kind}")]
pub struct FetchError {
    /// The URI.
    pub uri: String,
    /// What went wrong.
    pub kind: FetchErrorKind,
}

/// What went wrong fetching one URI.
#[derive(Debug, thiserror::Error)]
pub enum FetchErrorKind {
    /// The URI's scheme is not one the fetcher knows.
    #[error("unsupported URI scheme (use http://, https://, file:// or an absolute path)")]
    UnsupportedScheme,
    /// The URI names no file.
    #[error("the URI names no file (set output_file)")]
    NoFileName,
    /// `output_file` is absolute or leaves the sandbox.
    #[error("output_file '{0}' must be a relative path inside the sandbox")]
    BadOutputFile(String),
    /// The HTTP server answered with an error status.
    #[error("HTTP status {0}")]
    HttpStatus(u16),
    /// The HTTP request failed.
    #[error("{0}")]
    Http(String),
    /// Reading the source or writing the sandbox failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The archive could not be extracted.
    #[error("cannot extract: {0}")]
    Extract(#[from] ExtractError),
}

/// The agent's fetcher: one per agent, shared by every fetch thread.
#[derive(Debug)]
pub struct Fetcher {
    cache: Option<FetcherCache>,
    http: ureq::Agent,
}

/// Where a URI's bytes come from.
enum Source<'a> {
    Http(&'a str),
    Local(PathBuf),
}

fn source(uri: &str) -> Result<Source<'_>, FetchErrorKind> {
    let lower = uri.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(Source::Http(uri));
    }
    if let Some(path) = uri.strip_prefix("file://") {
        return Ok(Source::Local(PathBuf::from(path)));
    }
    if uri.contains("://") || !uri.starts_with('/') {
        return Err(FetchErrorKind::UnsupportedScheme);
    }
    Ok(Source::Local(PathBuf::from(uri)))
}

/// The name a URI's file gets in the sandbox: `output_file`, else the last segment of its path
/// (without query or fragment).
fn file_name(uri: &CommandUri) -> Result<PathBuf, FetchErrorKind> {
    if let Some(output) = uri.output_file.as_deref().filter(|o| !o.is_empty()) {
        let path = Path::new(output);
        let inside = path.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
        if !inside || output.ends_with('/') {
            return Err(FetchErrorKind::BadOutputFile(output.to_string()));
        }
        return Ok(path.to_path_buf());
    }
    let without_query = uri.value.split(['?', '#']).next().unwrap_or_default();
    let after_scheme = without_query
        .split_once("://")
        .map_or(without_query, |(_, rest)| rest);
    // http://host alone names no file; the host is not a file name.
    let path = if without_query.contains("://") {
        after_scheme.split_once('/').map_or("", |(_, p)| p)
    } else {
        after_scheme
    };
    let name = path.rsplit('/').next().unwrap_or_default();
    if name.is_empty() || name == "." || name == ".." {
        return Err(FetchErrorKind::NoFileName);
    }
    Ok(PathBuf::from(name))
}

/// Appends to the sandbox's `stderr` (the fetcher's log), best effort.
struct FetchLog(Option<File>);

impl FetchLog {
    fn open(sandbox: &Path) -> FetchLog {
        FetchLog(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(sandbox.join("stderr"))
                .ok(),
        )
    }

    fn line(&mut self, text: &str) {
        if let Some(file) = &mut self.0 {
            let _ = writeln!(file, "{text}");
        }
    }
}

impl Fetcher {
    /// A fetcher; with `cache` (`--fetcher_cache_dir`, size), URIs asking for it are cached.
    /// `https://` servers are checked against the system's and Mozilla's roots.
    pub fn new(cache: Option<FetcherCache>) -> Fetcher {
        Fetcher::trusting(cache, &[])
    }

    /// As [`Fetcher::new`], also trusting the CAs in `ca_files` for `https://` URIs. A file that
    /// cannot be used is logged (naming it) and left out; the other roots still apply.
    pub fn trusting(cache: Option<FetcherCache>, ca_files: &[PathBuf]) -> Fetcher {
        let tls = trust::client_config(ca_files).or_else(|err| {
            tracing::error!(%err, "https:// URIs are checked against the system CAs only");
            trust::client_config(&[])
        });
        let mut http = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout_read(READ_TIMEOUT);
        if let Ok(tls) = tls {
            http = http.tls_config(tls);
        }
        Fetcher {
            cache,
            http: http.build(),
        }
    }

    /// The cache, if the agent has one.
    pub fn cache(&self) -> Option<&FetcherCache> {
        self.cache.as_ref()
    }

    /// Fetches every URI of `uris` into `sandbox` (which must exist), in order, logging to its
    /// `stderr`.
    ///
    /// # Errors
    /// The first URI that cannot be fetched, extracted or made executable.
    pub fn fetch(&self, uris: &[CommandUri], sandbox: &Path) -> Result<(), FetchError> {
        let mut log = FetchLog::open(sandbox);
        for uri in uris {
            log.line(&format!("Fetching URI '{}'", uri.value));
            if let Err(kind) = self.fetch_one(uri, sandbox, &mut log) {
                let error = FetchError {
                    uri: uri.value.clone(),
                    kind,
                };
                log.line(&format!("Failed to fetch: {error}"));
                return Err(error);
            }
        }
        if !uris.is_empty() {
            log.line(&format!(
                "Fetched {} URI(s) into '{}'",
                uris.len(),
                sandbox.display()
            ));
        }
        Ok(())
    }

    fn fetch_one(
        &self,
        uri: &CommandUri,
        sandbox: &Path,
        log: &mut FetchLog,
    ) -> Result<(), FetchErrorKind> {
        let name = file_name(uri)?;
        let source = source(&uri.value)?;
        let dest = sandbox.join(&name);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match (&self.cache, uri.cache) {
            (Some(cache), true) => {
                let cached = cache.get(&uri.value, |path| self.download(&source, path))?;
                log.line(&format!(
                    "{} '{}' in the cache as '{}'",
                    if cached.hit { "Found" } else { "Downloaded" },
                    uri.value,
                    cached.path.display()
                ));
                std::fs::copy(&cached.path, &dest)?;
            }
            _ => {
                log.line(&format!(
                    "Downloading resource from '{}' to '{}'",
                    uri.value,
                    dest.display()
                ));
                self.download(&source, &dest)?;
            }
        }
        if uri.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))?;
        } else if uri.extract {
            if let Some(kind) = ArchiveKind::of(&name.to_string_lossy()) {
                let into = dest.parent().unwrap_or(sandbox);
                let entries = extract::extract(&dest, kind, into)?;
                log.line(&format!(
                    "Extracted '{}' into '{}' ({entries} entries)",
                    dest.display(),
                    into.display()
                ));
            }
        }
        Ok(())
    }

    /// Copies the URI's bytes to `dest`; returns their count.
    fn download(&self, source: &Source<'_>, dest: &Path) -> Result<u64, FetchErrorKind> {
        match source {
            Source::Local(path) => Ok(std::fs::copy(path, dest)?),
            Source::Http(url) => {
                let response = self.http.get(url).call().map_err(|err| match err {
                    ureq::Error::Status(code, _) => FetchErrorKind::HttpStatus(code),
                    ureq::Error::Transport(t) => FetchErrorKind::Http(transport_error(&t)),
                })?;
                let mut reader = response.into_reader();
                let mut file = File::create(dest)?;
                let size = io::copy(&mut reader, &mut file)?;
                file.sync_all()?;
                Ok(size)
            }
        }
    }
}

/// A transport error in words; a certificate no trusted CA signed says how to trust one.
fn transport_error(error: &ureq::Transport) -> String {
    let text = error.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("unknownissuer") {
        format!(
            "{text} (the fetcher trusts the system CAs and the CA files named by {})",
            trust::CA_FILE_VARS.join(" and ")
        )
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(value: &str) -> CommandUri {
        CommandUri {
            value: value.into(),
            ..CommandUri::default()
        }
    }

    #[test]
    fn file_names() {
        let name = |u: &CommandUri| file_name(u).map(|p| p.display().to_string());
        assert_eq!(name(&uri("http://h:1/a/b.tgz?x=1")).unwrap(), "b.tgz");
        assert_eq!(name(&uri("/opt/app/run.sh")).unwrap(), "run.sh");
        assert_eq!(name(&uri("file:///opt/x.zip")).unwrap(), "x.zip");
        assert!(matches!(
            name(&uri("http://h:1")),
            Err(FetchErrorKind::NoFileName)
        ));
        assert!(matches!(
            name(&uri("http://h:1/dir/")),
            Err(FetchErrorKind::NoFileName)
        ));
        let mut renamed = uri("http://h/download?id=3");
        renamed.output_file = Some("bin/app".into());
        assert_eq!(name(&renamed).unwrap(), "bin/app");
        renamed.output_file = Some("../app".into());
        assert!(matches!(
            name(&renamed),
            Err(FetchErrorKind::BadOutputFile(_))
        ));
        renamed.output_file = Some("/tmp/app".into());
        assert!(matches!(
            name(&renamed),
            Err(FetchErrorKind::BadOutputFile(_))
        ));
    }

    #[test]
    fn sources() {
        assert!(matches!(source("HTTPS://x/y"), Ok(Source::Http(_))));
        assert!(matches!(source("file:///a"), Ok(Source::Local(p)) if p == Path::new("/a")));
        assert!(matches!(source("/a/b"), Ok(Source::Local(_))));
        assert!(matches!(
            source("ftp://x/y"),
            Err(FetchErrorKind::UnsupportedScheme)
        ));
        assert!(matches!(
            source("relative/x"),
            Err(FetchErrorKind::UnsupportedScheme)
        ));
    }
}
