//! Mesos's text form of resources: `cpus:4;mem:1024;ports:[31000-32000]`,
//! `cpus(analytics):2`, `disks:{sda,sdb}`.

use std::collections::BTreeSet;

use super::{Ranges, Resource, Resources, Scalar, Value};

/// Why resources could not be parsed. Every variant names the bad token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResourcesError {
    /// A token is not `name:value` (missing or extra `:`).
    #[error("bad resource '{token}': expected name:value or name(role):value")]
    BadToken {
        /// The offending `;`-separated token.
        token: String,
    },
    /// The name is empty or holds characters Mesos does not allow.
    #[error("bad resource name in '{token}'")]
    BadName {
        /// The offending token.
        token: String,
    },
    /// The `(role)` part is unbalanced, empty or not a valid role name.
    #[error("bad role in '{token}'")]
    BadRole {
        /// The offending token.
        token: String,
    },
    /// A scalar that is not a finite number.
    #[error("bad scalar value in '{token}'")]
    BadScalar {
        /// The offending token.
        token: String,
    },
    /// A negative scalar (Mesos rejects these).
    #[error("negative scalar value in '{token}'")]
    NegativeScalar {
        /// The offending token.
        token: String,
    },
    /// Malformed ranges, e.g. `[5-1]` or `[a-b]`.
    #[error("bad ranges in '{token}': {reason}")]
    BadRanges {
        /// The offending token.
        token: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A malformed set, e.g. `{a,,b}` or a missing `}`.
    #[error("bad set in '{token}'")]
    BadSet {
        /// The offending token.
        token: String,
    },
    /// A well-known resource with the wrong kind, e.g. `cpus:[1-2]`.
    #[error("resource '{name}' must be a {expected} value, got '{token}'")]
    WrongKind {
        /// The resource name.
        name: String,
        /// The kind it must have (`SCALAR` or `RANGES`).
        expected: &'static str,
        /// The offending token.
        token: String,
    },
    /// Malformed JSON, or a JSON resource that is invalid.
    #[error("bad resources json: {message}")]
    Json {
        /// The decoder's message, naming the field or resource.
        message: String,
    },
}

/// Parses the `;`-separated text form; empty tokens are skipped and
/// whitespace around every part is ignored, as Mesos does.
pub(crate) fn parse_text(text: &str) -> Result<Resources, ResourcesError> {
    let mut out = Resources::new();
    for raw in text.split(';') {
        let token = raw.trim();
        if token.is_empty() {
            continue;
        }
        out.push(parse_token(token)?);
    }
    Ok(out)
}

/// Parses one `name(role):value` token.
pub(crate) fn parse_token(token: &str) -> Result<Resource, ResourcesError> {
    let bad = || ResourcesError::BadToken {
        token: token.to_string(),
    };
    let (head, value_text) = token.split_once(':').ok_or_else(bad)?;
    if value_text.contains(':') {
        return Err(bad());
    }
    let head = head.trim();
    let (name, reservation) = match head.find('(') {
        None => {
            if head.contains(')') {
                return Err(ResourcesError::BadRole {
                    token: token.to_string(),
                });
            }
            (head, None)
        }
        Some(open) => {
            let role = head[open + 1..]
                .strip_suffix(')')
                .map(str::trim)
                .filter(|r| is_valid_role(r))
                .ok_or_else(|| ResourcesError::BadRole {
                    token: token.to_string(),
                })?;
            let reservation = (role != "*").then(|| role.to_string());
            (head[..open].trim(), reservation)
        }
    };
    if !is_valid_name(name) {
        return Err(ResourcesError::BadName {
            token: token.to_string(),
        });
    }
    let value = parse_value(value_text.trim(), token)?;
    check_kind(name, &value, token)?;
    Ok(Resource {
        name: name.to_string(),
        value,
        reservation,
    })
}

/// Parses a value: `[a-b, ...]` ranges, `{x, ...}` set, else a scalar.
pub(crate) fn parse_value(text: &str, token: &str) -> Result<Value, ResourcesError> {
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| ResourcesError::BadRanges {
                token: token.to_string(),
                reason: "missing ']'".to_string(),
            })?;
        return parse_ranges_inner(inner, token).map(Value::Ranges);
    }
    if let Some(inner) = text.strip_prefix('{') {
        let inner = inner
            .strip_suffix('}')
            .ok_or_else(|| ResourcesError::BadSet {
                token: token.to_string(),
            })?;
        let mut items = BTreeSet::new();
        if !inner.trim().is_empty() {
            for item in inner.split(',') {
                let item = item.trim();
                if item.is_empty() || item.contains(['{', '}', '[', ']']) {
                    return Err(ResourcesError::BadSet {
                        token: token.to_string(),
                    });
                }
                items.insert(item.to_string());
            }
        }
        return Ok(Value::Set(items));
    }
    let v: f64 = text.parse().map_err(|_| ResourcesError::BadScalar {
        token: token.to_string(),
    })?;
    if !v.is_finite() {
        return Err(ResourcesError::BadScalar {
            token: token.to_string(),
        });
    }
    if v < 0.0 {
        return Err(ResourcesError::NegativeScalar {
            token: token.to_string(),
        });
    }
    Ok(Value::Scalar(Scalar::from_f64(v)))
}

/// Parses `a-b, c-d` (the part inside the brackets).
fn parse_ranges_inner(inner: &str, token: &str) -> Result<Ranges, ResourcesError> {
    let bad = |reason: String| ResourcesError::BadRanges {
        token: token.to_string(),
        reason,
    };
    let mut pairs = Vec::new();
    if inner.trim().is_empty() {
        return Ok(Ranges::new());
    }
    for part in inner.split(',') {
        let part = part.trim();
        let (b, e) = part
            .split_once('-')
            .ok_or_else(|| bad(format!("'{part}' is not begin-end")))?;
        let b: u64 = b
            .trim()
            .parse()
            .map_err(|_| bad(format!("'{part}' has a bad begin")))?;
        let e: u64 = e
            .trim()
            .parse()
            .map_err(|_| bad(format!("'{part}' has a bad end")))?;
        if b > e {
            return Err(bad(format!("'{part}' begins after it ends")));
        }
        pairs.push((b, e));
    }
    Ok(Ranges::from_pairs(pairs))
}

impl std::str::FromStr for Ranges {
    type Err = ResourcesError;
    /// Parses `[a-b, c-d]`.
    fn from_str(s: &str) -> Result<Ranges, ResourcesError> {
        match parse_value(s.trim(), s)? {
            Value::Ranges(r) => Ok(r),
            _ => Err(ResourcesError::BadRanges {
                token: s.to_string(),
                reason: "expected [begin-end, ...]".into(),
            }),
        }
    }
}

/// The well-known resources must have the kind every component expects.
pub(crate) fn check_kind(name: &str, value: &Value, token: &str) -> Result<(), ResourcesError> {
    let expected = match name {
        "cpus" | "mem" | "disk" | "gpus" => super::ValueKind::Scalar,
        "ports" => super::ValueKind::Ranges,
        _ => return Ok(()),
    };
    if value.kind() == expected {
        Ok(())
    } else {
        Err(ResourcesError::WrongKind {
            name: name.to_string(),
            expected: expected.as_str(),
            token: token.to_string(),
        })
    }
}

/// Resource names: non-empty, no whitespace or separators of the text form.
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || "():;,[]{}".contains(c))
}

/// Role names as Mesos validates them: `*`, or `/`-separated non-empty
/// segments that are not `.` or `..`, do not start with `-`, and hold no
/// whitespace or separators.
pub fn is_valid_role(role: &str) -> bool {
    if role == "*" {
        return true;
    }
    !role.is_empty()
        && role.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && !seg.starts_with('-')
                && !seg.contains(|c: char| {
                    c.is_whitespace() || c.is_control() || "():;,[]{}*\\".contains(c)
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mesos_text_form() {
        let r = parse_text("cpus:4;mem:1024;disk:20000;ports:[31000-32000]").unwrap();
        assert_eq!(
            r.to_string(),
            "cpus:4;mem:1024;disk:20000;ports:[31000-32000]"
        );
        let r = parse_text(" cpus ( analytics ) : 2 ; ; mem(*):3.25 ;disks:{ b, a }").unwrap();
        assert_eq!(r.to_string(), "cpus(analytics):2;mem:3.25;disks:{a, b}");
        let r = parse_text("ports:[3-4, 1-2, 10-11]").unwrap();
        assert_eq!(r.to_string(), "ports:[1-4, 10-11]");
        assert!(parse_text("").unwrap().is_empty());
        assert!(parse_text("cpus:0;ports:[]").unwrap().is_empty());
        assert_eq!(parse_text("cpus:1;cpus:2").unwrap().cpus(), Some(3.0));
        assert_eq!(
            parse_text("role(a/b):{x}")
                .unwrap()
                .iter()
                .next()
                .unwrap()
                .role(),
            "a/b"
        );
    }

    #[test]
    fn errors_name_the_bad_token() {
        let cases = [
            ("cpus:4;mem", "mem"),
            ("cpus:4;mem:1:2", "mem:1:2"),
            ("cpus:-1", "cpus:-1"),
            ("cpus:abc", "cpus:abc"),
            ("cpus:nan", "cpus:nan"),
            ("cpus(:1", "cpus(:1"),
            ("cpus():1", "cpus():1"),
            ("cpus)x(:1", "cpus)x(:1"),
            ("cpus(a b):1", "cpus(a b):1"),
            (":1", ":1"),
            ("ports:[5-1]", "ports:[5-1]"),
            ("ports:[1-2", "ports:[1-2"),
            ("ports:[x-2]", "ports:[x-2]"),
            ("ports:[12]", "ports:[12]"),
            ("ports:7", "ports:7"),
            ("cpus:[1-2]", "cpus:[1-2]"),
            ("disks:{a,,b}", "disks:{a,,b}"),
            ("disks:{a", "disks:{a"),
        ];
        for (text, token) in cases {
            let err = parse_text(text).unwrap_err();
            assert!(
                err.to_string().contains(&format!("'{token}'")),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn role_names() {
        for ok in ["*", "a", "a/b", "web-1", "a.b"] {
            assert!(is_valid_role(ok), "{ok}");
        }
        for bad in ["", "/a", "a/", "a//b", ".", "..", "-a", "a b", "a*"] {
            assert!(!is_valid_role(bad), "{bad}");
        }
    }
}
