//! Agent attributes: `rack:r1;zone:a;cores:8`, used by frameworks to place
//! tasks (Mesos's `Attribute`).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::resources::{Ranges, ResourcesError, Scalar, Value};

/// An attribute's value: like a resource value, plus free text.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum AttributeValue {
    /// A number, e.g. `cores:8`.
    Scalar(Scalar),
    /// Ranges, e.g. `ids:[1-5]`.
    Ranges(Ranges),
    /// A set, e.g. `features:{avx,sse}`.
    Set(BTreeSet<String>),
    /// Anything else, e.g. `rack:r1`.
    Text(String),
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Scalar(s) => s.fmt(f),
            AttributeValue::Ranges(r) => r.fmt(f),
            AttributeValue::Set(items) => crate::resources::fmt_set(items, f),
            AttributeValue::Text(t) => f.write_str(t),
        }
    }
}

/// One named attribute.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Attribute {
    /// The name, e.g. `rack`.
    pub name: String,
    /// The value.
    pub value: AttributeValue,
}

/// An agent's attributes, in the order given. Mesos's text form is
/// `rack:r1;zone:a`; JSON is Mesos's array of `Attribute`s.
///
/// ```
/// use mesos::attributes::{Attributes, AttributeValue};
/// let attrs: Attributes = "rack:r1;zone:a;cores:8".parse().unwrap();
/// assert_eq!(attrs.text("rack"), Some("r1"));
/// assert!(matches!(attrs.get("cores"), Some(AttributeValue::Scalar(_))));
/// assert_eq!(attrs.to_string(), "rack:r1;zone:a;cores:8");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Attributes(Vec<Attribute>);

impl Attributes {
    /// No attributes.
    pub fn new() -> Attributes {
        Attributes::default()
    }

    /// Parses `name:value;...`: numbers become scalars, `[..]` ranges,
    /// `{..}` sets, anything else text.
    ///
    /// # Errors
    /// A [`ResourcesError`] naming the bad token.
    pub fn parse(text: &str) -> Result<Attributes, ResourcesError> {
        let mut out = Vec::new();
        for raw in text.split(';') {
            let token = raw.trim();
            if token.is_empty() {
                continue;
            }
            let (name, value) = token
                .split_once(':')
                .ok_or_else(|| ResourcesError::BadToken {
                    token: token.to_string(),
                })?;
            let (name, value) = (name.trim(), value.trim());
            if !crate::resources::is_valid_name(name) {
                return Err(ResourcesError::BadName {
                    token: token.to_string(),
                });
            }
            if value.is_empty() || value.contains(':') {
                return Err(ResourcesError::BadToken {
                    token: token.to_string(),
                });
            }
            let value = if value.starts_with('[') || value.starts_with('{') {
                match crate::resources::parse_value(value, token)? {
                    Value::Ranges(r) => AttributeValue::Ranges(r),
                    Value::Set(s) => AttributeValue::Set(s),
                    Value::Scalar(s) => AttributeValue::Scalar(s),
                }
            } else {
                match value.parse::<f64>() {
                    Ok(v) if v.is_finite() => AttributeValue::Scalar(Scalar::from_f64(v)),
                    _ => AttributeValue::Text(value.to_string()),
                }
            };
            out.push(Attribute {
                name: name.to_string(),
                value,
            });
        }
        Ok(Attributes(out))
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The attributes, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Attribute> {
        self.0.iter()
    }

    /// Appends an attribute.
    pub fn push(&mut self, name: impl Into<String>, value: AttributeValue) {
        self.0.push(Attribute {
            name: name.into(),
            value,
        });
    }

    /// The value of the first attribute called `name`.
    pub fn get(&self, name: &str) -> Option<&AttributeValue> {
        self.0.iter().find(|a| a.name == name).map(|a| &a.value)
    }

    /// The text value of `name`, if it is text.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(AttributeValue::Text(t)) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{}:{}", a.name, a.value)?;
        }
        Ok(())
    }
}

impl FromStr for Attributes {
    type Err = ResourcesError;
    fn from_str(s: &str) -> Result<Attributes, ResourcesError> {
        Attributes::parse(s)
    }
}

impl FromIterator<Attribute> for Attributes {
    fn from_iter<I: IntoIterator<Item = Attribute>>(iter: I) -> Attributes {
        Attributes(iter.into_iter().collect())
    }
}

#[derive(Serialize, Deserialize)]
struct ValueJson<T> {
    value: T,
}

#[derive(Serialize, Deserialize, Default)]
struct SetJson {
    #[serde(default)]
    item: Vec<String>,
}

/// Mesos's JSON `Attribute`.
#[derive(Serialize, Deserialize)]
struct AttributeJson {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scalar: Option<ValueJson<Scalar>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ranges: Option<Ranges>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    set: Option<SetJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<ValueJson<String>>,
}

#[derive(Serialize, Deserialize)]
struct AttributeCompact {
    name: String,
    value: AttributeValue,
}

impl Serialize for Attributes {
    /// Mesos's JSON array in human-readable formats, compact otherwise.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            let list: Vec<AttributeJson> = self
                .0
                .iter()
                .map(|a| {
                    let mut j = AttributeJson {
                        name: a.name.clone(),
                        kind: String::new(),
                        scalar: None,
                        ranges: None,
                        set: None,
                        text: None,
                    };
                    match &a.value {
                        AttributeValue::Scalar(v) => {
                            (j.kind, j.scalar) = ("SCALAR".into(), Some(ValueJson { value: *v }))
                        }
                        AttributeValue::Ranges(r) => {
                            (j.kind, j.ranges) = ("RANGES".into(), Some(r.clone()))
                        }
                        AttributeValue::Set(items) => {
                            (j.kind, j.set) = (
                                "SET".into(),
                                Some(SetJson {
                                    item: items.iter().cloned().collect(),
                                }),
                            )
                        }
                        AttributeValue::Text(t) => {
                            (j.kind, j.text) = ("TEXT".into(), Some(ValueJson { value: t.clone() }))
                        }
                    }
                    j
                })
                .collect();
            list.serialize(s)
        } else {
            let list: Vec<AttributeCompact> = self
                .0
                .iter()
                .map(|a| AttributeCompact {
                    name: a.name.clone(),
                    value: a.value.clone(),
                })
                .collect();
            list.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attributes, D::Error> {
        if d.is_human_readable() {
            let list = Vec::<AttributeJson>::deserialize(d)?;
            let mut out = Vec::with_capacity(list.len());
            for j in list {
                let value = match (j.kind.as_str(), j.scalar, j.ranges, j.set, j.text) {
                    ("SCALAR", Some(v), None, None, None) => AttributeValue::Scalar(v.value),
                    ("RANGES", None, Some(r), None, None) => AttributeValue::Ranges(r),
                    ("SET", None, None, Some(s), None) => {
                        AttributeValue::Set(s.item.into_iter().collect())
                    }
                    ("TEXT", None, None, None, Some(t)) => AttributeValue::Text(t.value),
                    (kind, ..) => {
                        return Err(D::Error::custom(format!(
                            "attribute '{}' needs exactly one value matching its type {kind}",
                            j.name
                        )))
                    }
                };
                out.push(Attribute {
                    name: j.name,
                    value,
                });
            }
            Ok(Attributes(out))
        } else {
            let list = Vec::<AttributeCompact>::deserialize(d)?;
            Ok(Attributes(
                list.into_iter()
                    .map(|a| Attribute {
                        name: a.name,
                        value: a.value,
                    })
                    .collect(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kinds() {
        let a: Attributes = " rack : r1 ;zone:us-east-1a;cores:8;ids:[1-3];f:{x,y};v:1.2.3"
            .parse()
            .unwrap();
        assert_eq!(
            a.to_string(),
            "rack:r1;zone:us-east-1a;cores:8;ids:[1-3];f:{x, y};v:1.2.3"
        );
        assert_eq!(
            a.get("cores"),
            Some(&AttributeValue::Scalar(Scalar::from_f64(8.0)))
        );
        assert_eq!(a.text("v"), Some("1.2.3"));
        assert_eq!(a.text("cores"), None);
        assert_eq!(a.len(), 6);
    }

    #[test]
    fn errors_name_the_token() {
        for (text, token) in [
            ("rack", "rack"),
            ("rack:a:b", "rack:a:b"),
            (":x", ":x"),
            ("ids:[3-1]", "ids:[3-1]"),
        ] {
            let err = Attributes::parse(text).unwrap_err().to_string();
            assert!(err.contains(&format!("'{token}'")), "{text}: {err}");
        }
    }

    #[test]
    fn json_and_bincode_round_trip() {
        let a: Attributes = "rack:r1;cores:8;ids:[1-3];f:{x}".parse().unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.starts_with(r#"[{"name":"rack","type":"TEXT","text":{"value":"r1"}},{"name":"cores","type":"SCALAR","scalar":{"value":8}}"#), "{json}");
        assert_eq!(serde_json::from_str::<Attributes>(&json).unwrap(), a);
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&a, cfg).unwrap();
        assert_eq!(
            bincode::serde::decode_from_slice::<Attributes, _>(&bytes, cfg)
                .unwrap()
                .0,
            a
        );
        assert!(serde_json::from_str::<Attributes>(
            r#"[{"name":"x","type":"TEXT","scalar":{"value":1}}]"#
        )
        .is_err());
    }
}
