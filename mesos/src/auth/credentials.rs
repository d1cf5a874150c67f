//! [`Credential`] and [`Credentials`]: Mesos's credential files, JSON or text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use super::MAX_PRINCIPAL_LEN;

/// A principal and its secret.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Credential {
    /// Who.
    pub principal: String,
    /// The shared secret.
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        f.debug_struct("Credential")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

/// Why a credential file could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("cannot read '{path}': {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// A JSON file that is not `{"credentials":[{"principal":..,"secret":..}]}`.
    #[error("bad JSON credentials: {0}")]
    Json(String),
    /// A text line that is not `principal secret`.
    #[error("line {line}: expected 'principal secret'")]
    Line {
        /// 1-based line number.
        line: usize,
    },
    /// A principal that is empty, too long, or given twice.
    #[error("bad principal '{0}': empty, longer than 256 bytes, or given twice")]
    Principal(String),
    /// No credential at all.
    #[error("no credentials in the file")]
    Empty,
    /// More than one credential where one is expected (an agent's or scheduler's file).
    #[error("expected one credential, found {0}")]
    NotOne(usize),
}

impl Credential {
    /// A credential.
    pub fn new(principal: impl Into<String>, secret: impl Into<String>) -> Credential {
        Credential {
            principal: principal.into(),
            secret: secret.into(),
        }
    }

    /// `DEFAULT_PRINCIPAL` and `DEFAULT_SECRET` from the environment, as Mesos's example
    /// frameworks read them; `None` unless the principal is set.
    pub fn from_env() -> Option<Credential> {
        let principal = std::env::var("DEFAULT_PRINCIPAL").ok()?;
        let secret = std::env::var("DEFAULT_SECRET").unwrap_or_default();
        Some(Credential::new(principal, secret))
    }

    /// The single credential of an agent's `--credential` file (JSON
    /// `{"principal":..,"secret":..}`, or a text line `principal secret`).
    ///
    /// # Errors
    /// [`CredentialsError`] naming what is wrong.
    pub fn load(path: &Path) -> Result<Credential, CredentialsError> {
        let text = read(path)?;
        if let Ok(one) = serde_json::from_str::<Credential>(&text) {
            check_principal(&one.principal)?;
            return Ok(one);
        }
        let all: Credentials = text.parse()?;
        if all.len() != 1 {
            return Err(CredentialsError::NotOne(all.len()));
        }
        let (principal, secret) = all.secrets.into_iter().next().expect("one credential");
        Ok(Credential { principal, secret })
    }
}

/// The credentials a master accepts: principal → secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.secrets.keys()).finish()
    }
}

#[derive(Deserialize)]
struct JsonCredentials {
    credentials: Vec<Credential>,
}

fn check_principal(principal: &str) -> Result<(), CredentialsError> {
    if principal.is_empty() || principal.len() > MAX_PRINCIPAL_LEN {
        return Err(CredentialsError::Principal(principal.to_string()));
    }
    Ok(())
}

/// Reads a file named as Mesos does: a path, or `file:///path`.
fn read(path: &Path) -> Result<String, CredentialsError> {
    let text = path.to_string_lossy();
    let path = Path::new(text.strip_prefix("file://").unwrap_or(&text));
    std::fs::read_to_string(path).map_err(|e| CredentialsError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

impl Credentials {
    /// Credentials from `(principal, secret)` pairs.
    ///
    /// # Errors
    /// [`CredentialsError::Principal`] for an empty, overlong or repeated principal.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = Credential>,
    ) -> Result<Credentials, CredentialsError> {
        let mut secrets = BTreeMap::new();
        for Credential { principal, secret } in pairs {
            check_principal(&principal)?;
            if secrets.contains_key(&principal) {
                return Err(CredentialsError::Principal(principal));
            }
            secrets.insert(principal, secret);
        }
        if secrets.is_empty() {
            return Err(CredentialsError::Empty);
        }
        Ok(Credentials { secrets })
    }

    /// The master's `--credentials` file.
    ///
    /// # Errors
    /// [`CredentialsError`] naming what is wrong.
    pub fn load(path: &Path) -> Result<Credentials, CredentialsError> {
        read(path)?.parse()
    }

    /// The secret of `principal`, if known.
    pub fn secret(&self, principal: &str) -> Option<&str> {
        self.secrets.get(principal).map(String::as_str)
    }

    /// How many principals.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether there are none (never, for parsed credentials).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Whether `principal` with `secret` is one of these (for HTTP Basic authentication);
    /// compares the secret in constant time.
    pub fn check(&self, principal: &str, secret: &str) -> bool {
        use hmac::Mac;
        let Some(known) = self.secret(principal) else {
            return false;
        };
        // Compare MACs of both under one key: constant time in the secret's content.
        let tag = |s: &str| {
            let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(b"compare")
                .expect("any key length");
            mac.update(s.as_bytes());
            mac
        };
        tag(secret)
            .verify_slice(&tag(known).finalize().into_bytes())
            .is_ok()
    }
}

impl FromStr for Credentials {
    type Err = CredentialsError;

    /// Mesos's JSON form (`{"credentials":[...]}`) when the text starts with `{`, else its text
    /// form: one `principal secret` per line (blank lines and `#` comments skipped).
    fn from_str(text: &str) -> Result<Credentials, CredentialsError> {
        if text.trim_start().starts_with('{') {
            let parsed: JsonCredentials =
                serde_json::from_str(text).map_err(|e| CredentialsError::Json(e.to_string()))?;
            return Credentials::from_pairs(parsed.credentials);
        }
        let mut pairs = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(principal), Some(secret), None) => {
                    pairs.push(Credential::new(principal, secret))
                }
                _ => return Err(CredentialsError::Line { line: i + 1 }),
            }
        }
        Credentials::from_pairs(pairs)
    }
}
