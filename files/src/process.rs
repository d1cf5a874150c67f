//! The `files` process: `/files/browse`, `/files/read`, `/files/download` and `/files/debug`
//! (each also with `.json`), answered from a [`Files`].

use std::io::Read;

use process::http::{HttpStream, Request, Response};
use process::{Handle, Handlers, Pid, Process};

use crate::attach::Files;
use crate::error::FilesError;
use crate::ops::{Download, DownloadBody};

/// The process id: its routes are `/files/...`.
pub const FILES_PROCESS_ID: &str = "files";

/// Bytes of a streamed download allowed to wait unread before the writer pauses.
const STREAM_WINDOW: usize = 4 << 20;
/// The cap on unread bytes of a streamed download (the writer stays well below it).
const STREAM_CAP: usize = 16 << 20;

/// Serves a node's [`Files`] over HTTP.
#[derive(Debug)]
pub struct FilesProcess {
    files: Files,
}

impl FilesProcess {
    /// A process serving `files`.
    pub fn new(files: Files) -> FilesProcess {
        FilesProcess { files }
    }
}

impl Files {
    /// Spawns the `files` process on `runtime`, serving these attachments.
    ///
    /// # Errors
    /// The runtime's, e.g. when a `files` process already runs there.
    pub fn spawn(&self, runtime: &Handle) -> Result<Pid<FilesProcess>, process::Error> {
        runtime.spawn(FILES_PROCESS_ID, FilesProcess::new(self.clone()))
    }

    /// Answers one files request; `endpoint` is the path after `/files` (`/read`, `/browse.json`,
    /// ...). Only `GET` and `HEAD` are allowed.
    pub fn serve(&self, endpoint: &str, request: &Request) -> Response {
        if request.method != "GET" && request.method != "HEAD" {
            return Response::method_not_allowed(&["GET", "HEAD"], &request.method);
        }
        let endpoint = endpoint.trim_end_matches('/');
        let endpoint = endpoint.strip_suffix(".json").unwrap_or(endpoint);
        if endpoint == "/debug" {
            return Response::ok_json(&self.debug());
        }
        let path = request.query_param("path").filter(|p| !p.is_empty());
        let answer = path.ok_or(FilesError::MissingPath).and_then(|path| {
            match endpoint {
                "/browse" => self.browse(&path).map(|v| Response::ok_json(&v)),
                "/read" => {
                    let offset = request.query_param("offset");
                    let length = request.query_param("length");
                    self.read(&path, offset.as_deref(), length.as_deref())
                        .map(|v| Response::ok_json(&v))
                }
                "/download" => self.download(&path).map(download_response),
                other => Ok(Response::not_found(&format!(
                    "no files endpoint '{other}': try /files/browse, /files/read, /files/download or /files/debug"
                ))),
            }
        });
        answer.unwrap_or_else(|error| {
            if error.status() >= 403 {
                tracing::debug!(%error, "files request refused");
            }
            error.response()
        })
    }
}

fn download_response(download: Download) -> Response {
    let Download {
        content_type,
        filename,
        body,
    } = download;
    // The name is quoted; quotes and backslashes in it are escaped.
    let quoted = filename.replace('\\', "\\\\").replace('"', "\\\"");
    let disposition = format!("attachment; filename=\"{quoted}\"");
    match body {
        DownloadBody::Bytes(bytes) => Response::new(
            200,
            vec![
                ("Content-Type".into(), content_type.into()),
                ("Content-Disposition".into(), disposition),
            ],
            bytes,
        ),
        DownloadBody::File { file, len } => {
            let (response, stream) = Response::chunked(200, content_type, STREAM_CAP);
            let spawned = std::thread::Builder::new()
                .name("files-download".into())
                .spawn(move || stream_file(file, len, &stream));
            if let Err(error) = spawned {
                return Response::text(500, format!("cannot start the download: {error}"));
            }
            response.with_header("Content-Disposition", disposition)
        }
    }
}

/// Writes `len` bytes of `file` to `stream` in 64 KiB chunks, pausing while the reader is more
/// than [`STREAM_WINDOW`] behind; stops when the reader leaves.
fn stream_file(mut file: std::fs::File, len: u64, stream: &HttpStream) {
    let mut left = len;
    let mut buf = vec![0u8; 64 << 10];
    while left > 0 && !stream.is_closed() {
        if stream.queued_bytes() > STREAM_WINDOW {
            // The connection drains the queue; wait for it rather than buffer the whole file.
            std::thread::sleep(std::time::Duration::from_millis(2));
            continue;
        }
        let want = buf.len().min(left as usize);
        match file.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => {
                if stream.send(&buf[..n]).is_err() {
                    return;
                }
                left -= n as u64;
            }
            Err(error) => {
                tracing::warn!(%error, "files: download read failed");
                break;
            }
        }
    }
    stream.close();
}

impl Process for FilesProcess {
    fn handlers(h: &mut Handlers<Self>) {
        for endpoint in [
            "/browse",
            "/browse.json",
            "/read",
            "/read.json",
            "/download",
            "/download.json",
            "/debug",
            "/debug.json",
        ] {
            h.route(endpoint, move |this: &mut FilesProcess, _, request| {
                this.files.serve(endpoint, request)
            });
        }
    }
}
