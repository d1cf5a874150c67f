//! Serde for resources.
//!
//! Human-readable formats (JSON) use Mesos's shape:
//! `{"name":"cpus","type":"SCALAR","scalar":{"value":4}}`, with `"role"` and
//! `"reservations":[{"type":"STATIC","role":...}]` for reserved resources.
//! Binary formats (bincode on the wire between our processes) use a compact
//! shape with no optional fields, because such formats cannot skip fields.
//! Both decoders re-validate and canonicalize: input is never trusted.

use std::collections::BTreeSet;

use serde::de::Error as _;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::parse::{check_kind, is_valid_name, is_valid_role};
use super::{Ranges, Resource, Resources, Scalar, Value};

#[derive(Serialize, Deserialize)]
struct ScalarJson {
    value: Scalar,
}

#[derive(Serialize, Deserialize)]
struct SetJson {
    #[serde(default)]
    item: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ReservationJson {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

/// Mesos's JSON `Resource` (fields we do not model are ignored on input).
#[derive(Serialize, Deserialize)]
struct ResourceJson {
    name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scalar: Option<ScalarJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ranges: Option<Ranges>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    set: Option<SetJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reservations: Option<Vec<ReservationJson>>,
}

/// The binary shape: every field always present.
#[derive(Deserialize)]
struct ResourceCompact {
    name: String,
    value: Value,
    reservation: Option<String>,
}

/// [`ResourceCompact`] borrowed, to encode without copying (the same bytes: a `&str` encodes as
/// a `String` does).
#[derive(Serialize)]
struct ResourceCompactRef<'a> {
    name: &'a str,
    value: &'a Value,
    reservation: &'a Option<String>,
}

impl ResourceJson {
    fn from_resource(r: &Resource) -> ResourceJson {
        let mut out = ResourceJson {
            name: r.name.clone(),
            kind: Some(r.value.kind().as_str().to_string()),
            scalar: None,
            ranges: None,
            set: None,
            role: None,
            reservations: None,
        };
        match &r.value {
            Value::Scalar(s) => out.scalar = Some(ScalarJson { value: *s }),
            Value::Ranges(ranges) => out.ranges = Some(ranges.clone()),
            Value::Set(items) => {
                out.set = Some(SetJson {
                    item: items.iter().cloned().collect(),
                })
            }
        }
        if let Some(role) = &r.reservation {
            // Both the pre-1.4 `role` field and the `reservations` stack, so
            // old and new Mesos tools read it.
            out.role = Some(role.clone());
            out.reservations = Some(vec![ReservationJson {
                kind: Some("STATIC".to_string()),
                role: Some(role.clone()),
            }]);
        }
        out
    }

    fn into_resource(self) -> Result<Resource, String> {
        let name = self.name;
        let value = match (self.kind.as_deref(), self.scalar, self.ranges, self.set) {
            (Some("SCALAR") | None, Some(s), None, None) => Value::Scalar(s.value),
            (Some("RANGES") | None, None, Some(r), None) => Value::Ranges(r),
            (Some("SET") | None, None, None, Some(s)) => {
                Value::Set(s.item.into_iter().collect::<BTreeSet<_>>())
            }
            (kind, ..) => {
                return Err(format!(
                    "resource '{name}' needs exactly one value matching its type {}",
                    kind.unwrap_or("(none)")
                ))
            }
        };
        // The `reservations` stack wins over the legacy `role`; its last entry
        // is the most refined (current) reservation.
        let role = match self.reservations.as_ref().and_then(|v| v.last()) {
            Some(res) => res.role.clone(),
            None => self.role,
        };
        checked(name, value, role)
    }
}

/// The checks every decoded resource passes (JSON or binary): a valid name, no negative scalar,
/// a valid role (`*` is unreserved), a value of the kind its name needs.
fn checked(name: String, value: Value, role: Option<String>) -> Result<Resource, String> {
    if !is_valid_name(&name) {
        return Err(format!("bad resource name '{name}'"));
    }
    if matches!(value, Value::Scalar(s) if s < Scalar::ZERO) {
        return Err(format!("negative scalar value for resource '{name}'"));
    }
    let reservation = match role {
        Some(role) if role == "*" => None,
        Some(role) if is_valid_role(&role) => Some(role),
        Some(role) => return Err(format!("bad role '{role}' for resource '{name}'")),
        None => None,
    };
    check_kind(&name, &value, &name).map_err(|e| e.to_string())?;
    Ok(Resource {
        name,
        value,
        reservation,
    })
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            ResourceJson::from_resource(self).serialize(s)
        } else {
            ResourceCompactRef {
                name: &self.name,
                value: &self.value,
                reservation: &self.reservation,
            }
            .serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Resource, D::Error> {
        if d.is_human_readable() {
            ResourceJson::deserialize(d)?
                .into_resource()
                .map_err(D::Error::custom)
        } else {
            // Same checks as JSON input, on the decoded fields themselves (a failover decodes
            // hundreds of thousands of resources: no detour through the JSON shape's copies).
            let c = ResourceCompact::deserialize(d)?;
            checked(c.name, c.value, c.reservation).map_err(D::Error::custom)
        }
    }
}

impl Serialize for Resources {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for r in self.iter() {
            seq.serialize_element(r)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Resources {
    /// Sums duplicate entries and drops empty ones, like Mesos.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Resources, D::Error> {
        let list = Vec::<Resource>::deserialize(d)?;
        Ok(list.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_json_shape() {
        let r: Resources = "cpus:4;mem(web):1024.5;ports:[31000-32000];disks:{a}"
            .parse()
            .unwrap();
        let json = r.to_json();
        assert_eq!(
            json,
            concat!(
                r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":4}},"#,
                r#"{"name":"mem","type":"SCALAR","scalar":{"value":1024.5},"role":"web","reservations":[{"type":"STATIC","role":"web"}]},"#,
                r#"{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}},"#,
                r#"{"name":"disks","type":"SET","set":{"item":["a"]}}]"#
            )
        );
        assert_eq!(Resources::from_json(&json).unwrap(), r);
        assert_eq!(Resources::parse(&json).unwrap(), r);
    }

    #[test]
    fn accepts_mesos_variants() {
        let json = r#"[
            {"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*","allocation_info":{"role":"x"}},
            {"name":"cpus","type":"SCALAR","scalar":{"value":0.5}},
            {"name":"mem","type":"SCALAR","scalar":{"value":8},
             "reservations":[{"type":"STATIC","role":"a"},{"type":"DYNAMIC","role":"a/b"}]},
            {"name":"disk","type":"SCALAR","scalar":{"value":0}}
        ]"#;
        let r = Resources::from_json(json).unwrap();
        assert_eq!(r, "cpus:1.5;mem(a/b):8".parse().unwrap());
    }

    #[test]
    fn rejects_invalid_json_resources() {
        let cases = [
            (
                r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]"#,
                "cpus",
            ),
            (
                r#"[{"name":"cpus","type":"RANGES","scalar":{"value":1}}]"#,
                "cpus",
            ),
            (
                r#"[{"name":"ports","type":"SCALAR","scalar":{"value":1}}]"#,
                "ports",
            ),
            (
                r#"[{"name":"mem","scalar":{"value":1},"role":"a b"}]"#,
                "a b",
            ),
            (
                r#"[{"name":"x","ranges":{"range":[{"begin":2,"end":1}]}}]"#,
                "2-1",
            ),
            (r#"{"name":"cpus"}"#, "sequence"),
        ];
        for (json, needle) in cases {
            let err = Resources::from_json(json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn bincode_round_trip() {
        let r: Resources = "cpus:4;mem(web):1024.5;ports:[1-2, 5-9];disks:{a,b}"
            .parse()
            .unwrap();
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&r, cfg).unwrap();
        let (back, _): (Resources, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn bincode_input_is_checked_like_json() {
        let cfg = bincode::config::standard();
        let decode = |r: Resource| {
            let bytes = bincode::serde::encode_to_vec(vec![r], cfg).unwrap();
            bincode::serde::decode_from_slice::<Resources, _>(&bytes, cfg)
                .map(|(r, _)| r)
                .map_err(|e| e.to_string())
        };
        let bad = [
            (Resource::scalar("c pus", 1.0), "bad resource name 'c pus'"),
            (
                Resource::scalar("cpus", -1.0),
                "negative scalar value for resource 'cpus'",
            ),
            (
                Resource {
                    reservation: Some("a b".into()),
                    ..Resource::scalar("mem", 1.0)
                },
                "bad role 'a b' for resource 'mem'",
            ),
            (Resource::set("cpus", ["a"]), "cpus"),
        ];
        for (resource, needle) in bad {
            let err = decode(resource.clone()).unwrap_err();
            assert!(err.contains(needle), "{resource:?}: {err}");
        }
        // `*` is unreserved.
        let starred = Resource {
            reservation: Some("*".into()),
            ..Resource::scalar("mem", 1.0)
        };
        assert_eq!(
            decode(starred).unwrap(),
            Resources::from_iter([Resource::scalar("mem", 1.0)])
        );
    }
}
