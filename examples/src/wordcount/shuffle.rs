//! The shuffle: each executor serves the files in its sandbox over a tiny HTTP/1.0 server
//! (`GET /<file>`), and reducers (and the scheduler, for the final counts) fetch them.
//!
//! Why our own server and not the agent's `/files/download`: an executor's output then lives
//! exactly as long as its executor (the scheduler ends it when the job is done), it needs no
//! agent endpoint, and map output never passes through the master (framework messages would).
//! It listens on an ephemeral port rather than an offered one because every local agent offers
//! the same port range on one host. Only plain file names are served, never paths.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a fetch may stall on connect, read or write.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest request head accepted.
const MAX_HEAD: usize = 8 * 1024;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum ShuffleError {
    /// The server is not `ip:port`.
    #[error("bad shuffle server address '{0}'")]
    Address(String),
    /// Talking to the server failed.
    #[error("cannot fetch {file} from {server}: {source}")]
    Io {
        /// The server.
        server: String,
        /// The file.
        file: String,
        /// What went wrong.
        source: io::Error,
    },
    /// The server answered with an error status.
    #[error("{server} answered '{status}' for {file}")]
    Status {
        /// The server.
        server: String,
        /// The file.
        file: String,
        /// The status line.
        status: String,
    },
}

/// Whether `name` is a plain file name (no directories, no parent references).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Starts serving the files of `dir` on `ip` (any free port) on a background thread; returns the
/// bound address.
///
/// # Errors
/// The listener could not be bound.
pub fn serve_dir(ip: IpAddr, dir: PathBuf) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(SocketAddr::new(ip, 0))?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name("shuffle-server".into())
        .spawn(move || {
            for stream in listener.incoming() {
                match stream {
                    Ok(stream) => {
                        let dir = dir.clone();
                        // One thread per connection: a handful of reducers fetch at a time.
                        let spawned = std::thread::Builder::new()
                            .name("shuffle-conn".into())
                            .spawn(move || {
                                if let Err(error) = serve_one(stream, &dir) {
                                    tracing::debug!(%error, "shuffle connection failed");
                                }
                            });
                        if let Err(error) = spawned {
                            tracing::warn!(%error, "cannot serve a shuffle connection");
                        }
                    }
                    Err(error) => tracing::warn!(%error, "shuffle accept failed"),
                }
            }
        })?;
    Ok(addr)
}

fn serve_one(stream: TcpStream, dir: &Path) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    let mut head = reader.read_line(&mut request_line)?;
    // Skip the headers; bound the head so a client cannot make us buffer forever.
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        head += n;
        if n == 0 || line == "\r\n" || line == "\n" || head > MAX_HEAD {
            break;
        }
    }
    let mut stream = stream;
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next(), parts.next());
    let name = target.and_then(|t| t.strip_prefix('/')).unwrap_or("");
    if method != Some("GET") || !is_plain_name(name) {
        return respond(&mut stream, "400 Bad Request", b"bad request\n");
    }
    match std::fs::read(dir.join(name)) {
        Ok(body) => respond(&mut stream, "200 OK", &body),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            respond(&mut stream, "404 Not Found", b"no such file\n")
        }
        Err(error) => respond(
            &mut stream,
            "500 Internal Server Error",
            error.to_string().as_bytes(),
        ),
    }
}

fn respond(stream: &mut TcpStream, status: &str, body: &[u8]) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.0 {status}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

/// Fetches `file` from the shuffle server at `server` (`ip:port`).
///
/// # Errors
/// [`ShuffleError`] naming the server and file.
pub fn fetch(server: &str, file: &str) -> Result<Vec<u8>, ShuffleError> {
    let addr: SocketAddr = server
        .parse()
        .map_err(|_| ShuffleError::Address(server.to_string()))?;
    let io_error = |source| ShuffleError::Io {
        server: server.to_string(),
        file: file.to_string(),
        source,
    };
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(io_error)?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .map_err(io_error)?;
    stream
        .set_write_timeout(Some(IO_TIMEOUT))
        .map_err(io_error)?;
    write!(stream, "GET /{file} HTTP/1.0\r\nHost: {server}\r\n\r\n").map_err(io_error)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(io_error)?;
    let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(io_error(io::Error::new(
            io::ErrorKind::InvalidData,
            "response has no header end",
        )));
    };
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.lines().next().unwrap_or("").to_string();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(ShuffleError::Status {
            server: server.to_string(),
            file: file.to_string(),
            status,
        });
    }
    let body = response.split_off(split + 4);
    // A short body means the server died mid-answer.
    let expected = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    if expected.is_some_and(|n| n != body.len()) {
        return Err(io_error(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "response body is shorter than its content-length",
        )));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn serves_plain_files_and_refuses_paths() {
        let dir = std::env::temp_dir().join(format!(
            "wordcount-shuffle-{}-{}",
            std::process::id(),
            mesos::Uuid::random()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("map-0-part-1.txt"), b"a 1\nb 2\n").expect("write");
        let addr = serve_dir(IpAddr::V4(Ipv4Addr::LOCALHOST), dir.clone()).expect("serve");
        let server = addr.to_string();
        assert_eq!(
            fetch(&server, "map-0-part-1.txt").expect("fetch"),
            b"a 1\nb 2\n"
        );
        let missing = fetch(&server, "map-9-part-1.txt").unwrap_err();
        assert!(missing.to_string().contains("404"), "{missing}");
        let escape = fetch(&server, "../etc/passwd").unwrap_err();
        assert!(escape.to_string().contains("400"), "{escape}");
        assert!(matches!(
            fetch("nowhere", "x"),
            Err(ShuffleError::Address(_))
        ));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn plain_names_only() {
        assert!(is_plain_name("reduce-0.txt"));
        assert!(!is_plain_name(".."));
        assert!(!is_plain_name("a/b"));
        assert!(!is_plain_name(""));
    }
}
