//! Identifiers: `FrameworkId`, `AgentId`, `OfferId`, `TaskId`, `ExecutorId`,
//! `ContainerId`.
//!
//! Each is a newtype over `String`, printed as its value and carried in JSON
//! as Mesos's `{"value": "..."}`.
//!
//! Ids become directory names in an agent's sandbox, so [`FromStr`] applies
//! Mesos's id rules (non-empty, not `.` or `..`, no `/`, printable). Decoding
//! from the wire does *not* check them: the master must be able to receive a
//! bad task id in order to answer TASK_ERROR; call `validate()` before use.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a valid id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The id is empty.
    #[error("{kind} must not be empty")]
    Empty {
        /// Which id type.
        kind: &'static str,
    },
    /// The id is `.` or `..`.
    #[error("{kind} '{id}' must not be '.' or '..'")]
    Dots {
        /// Which id type.
        kind: &'static str,
        /// The offending id.
        id: String,
    },
    /// The id holds `/` or a non-printable character.
    #[error("{kind} '{id}' contains '/' or a non-printable character")]
    BadCharacter {
        /// Which id type.
        kind: &'static str,
        /// The offending id.
        id: String,
    },
}

/// Checks Mesos's id rules (`common/validation.cpp: validateID`).
pub fn validate_id(kind: &'static str, id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if id == "." || id == ".." {
        return Err(IdError::Dots {
            kind,
            id: id.to_string(),
        });
    }
    if id.contains(|c: char| c == '/' || c.is_control()) {
        return Err(IdError::BadCharacter {
            kind,
            id: id.to_string(),
        });
    }
    Ok(())
}

#[derive(Serialize)]
struct IdRef<'a> {
    value: &'a str,
}

#[derive(Deserialize)]
struct IdOwned {
    value: String,
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
        pub struct $name(String);

        impl $name {
            /// Wraps `value` without checking it (for ids this process made);
            /// use `parse` for untrusted text.
            pub fn new(value: impl Into<String>) -> $name {
                $name(value.into())
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, by value.
            pub fn into_string(self) -> String {
                self.0
            }

            /// Checks Mesos's id rules.
            ///
            /// # Errors
            /// An [`IdError`] naming the rule broken.
            pub fn validate(&self) -> Result<(), IdError> {
                validate_id(stringify!($name), &self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<$name, IdError> {
                validate_id(stringify!($name), s)?;
                Ok($name(s.to_string()))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.to_string())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            /// `{"value": "..."}` (in binary formats, just the string).
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                IdRef { value: &self.0 }.serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                IdOwned::deserialize(d).map(|id| $name(id.value))
            }
        }
    };
}

id_type!(
    /// A framework's id, assigned by the master at first registration.
    FrameworkId
);
id_type!(
    /// An agent's id, assigned by the master at registration.
    AgentId
);
id_type!(
    /// An offer's id, unique per master.
    OfferId
);
id_type!(
    /// A task's id, chosen by the framework, unique within the framework.
    TaskId
);
id_type!(
    /// An executor's id, chosen by the framework (the command executor uses the task id).
    ExecutorId
);
id_type!(
    /// A container's id, chosen by the agent; also the sandbox run directory name.
    ContainerId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_mesos_value_object() {
        let id = TaskId::new("t-1");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#"{"value":"t-1"}"#);
        assert_eq!(
            serde_json::from_str::<TaskId>(r#"{"value":"t-1"}"#).unwrap(),
            id
        );
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&id, cfg).unwrap();
        assert_eq!(
            bincode::serde::decode_from_slice::<TaskId, _>(&bytes, cfg)
                .unwrap()
                .0,
            id
        );
    }

    #[test]
    fn parse_applies_mesos_rules() {
        assert_eq!("web-1".parse::<FrameworkId>().unwrap().to_string(), "web-1");
        assert_eq!("".parse::<TaskId>(), Err(IdError::Empty { kind: "TaskId" }));
        assert!(matches!("..".parse::<TaskId>(), Err(IdError::Dots { .. })));
        let err = "a/b".parse::<ExecutorId>().unwrap_err();
        assert!(err.to_string().contains("'a/b'"), "{err}");
        assert!("a\nb".parse::<AgentId>().is_err());
        assert!(TaskId::new("x/y").validate().is_err());
        assert!(TaskId::new("has space").validate().is_ok());
    }
}
