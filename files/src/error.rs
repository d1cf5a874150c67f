//! [`FilesError`]: why a files request is refused, and the HTTP answer for each reason.

use process::http::Response;

/// Why a files request is refused. Every variant maps to one HTTP status ([`FilesError::status`]);
/// none of them carries a byte of any file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilesError {
    /// The `path` query parameter is missing or empty.
    #[error("Expecting 'path=value' in query.")]
    MissingPath,
    /// The path contains a `..` component (plain or percent-encoded).
    #[error("'{0}' is inaccessible: '..' is not allowed in a path")]
    Traversal(String),
    /// The path contains a NUL byte.
    #[error("'{0}' is not a valid path")]
    InvalidPath(String),
    /// No attached path is a prefix of it, or the file does not exist.
    #[error("'{0}' not found")]
    NotFound(String),
    /// It resolves (through a symlink) outside the attached directory, or the OS refuses access.
    #[error("'{0}' is inaccessible")]
    Inaccessible(String),
    /// `offset` is not an integer, or is below -1.
    #[error("Failed to parse offset: '{0}' (expected an integer >= -1)")]
    BadOffset(String),
    /// `length` is not an integer, or is below -1.
    #[error("Failed to parse length: '{0}' (expected an integer >= -1)")]
    BadLength(String),
    /// `/files/read` of a directory.
    #[error("Cannot read a directory.")]
    ReadDirectory,
    /// `/files/download` of a directory.
    #[error("Cannot download a directory.")]
    DownloadDirectory,
    /// `/files/browse` of a file.
    #[error("'{0}' is not a directory")]
    NotADirectory(String),
    /// An attach call named a virtual path that is not absolute, or a real path that is not.
    #[error("cannot attach '{0}': both paths must be absolute and free of '..'")]
    BadAttachment(String),
    /// The file system failed in an unexpected way.
    #[error("cannot access '{path}': {message}")]
    Io {
        /// The requested path.
        path: String,
        /// The OS error.
        message: String,
    },
}

impl FilesError {
    /// The HTTP status Mesos answers with.
    pub fn status(&self) -> u16 {
        match self {
            FilesError::MissingPath
            | FilesError::InvalidPath(_)
            | FilesError::BadOffset(_)
            | FilesError::BadLength(_)
            | FilesError::ReadDirectory
            | FilesError::DownloadDirectory
            | FilesError::NotADirectory(_)
            | FilesError::BadAttachment(_) => 400,
            FilesError::Traversal(_) | FilesError::Inaccessible(_) => 403,
            FilesError::NotFound(_) => 404,
            FilesError::Io { .. } => 500,
        }
    }

    /// The plain-text answer (Mesos answers files errors as text).
    pub fn response(&self) -> Response {
        Response::text(self.status(), self.to_string())
    }

    /// Classifies an I/O error on `path`: missing → 404, refused → 403, else 500.
    pub(crate) fn io(path: &str, error: &std::io::Error) -> FilesError {
        match error.kind() {
            std::io::ErrorKind::NotFound => FilesError::NotFound(path.to_string()),
            std::io::ErrorKind::PermissionDenied => FilesError::Inaccessible(path.to_string()),
            _ if error.raw_os_error() == Some(40) => {
                // ELOOP: a final symlink refused by O_NOFOLLOW, or a symlink loop.
                FilesError::Inaccessible(path.to_string())
            }
            _ if error.raw_os_error() == Some(20) => {
                // ENOTDIR: a file used as a directory in the middle of the path.
                FilesError::NotFound(path.to_string())
            }
            _ => FilesError::Io {
                path: path.to_string(),
                message: error.to_string(),
            },
        }
    }
}
