//! JSON as Mesos writes it.
//!
//! Our types derive serde without skipping absent fields, because binary
//! formats (bincode, used between our processes) cannot skip fields. So
//! plain `serde_json` writes `"hostname": null` where Mesos would omit the
//! field. [`to_mesos_json`] removes those nulls: use it wherever a Mesos
//! tool reads our JSON (ZooKeeper entries, HTTP endpoints). Reading accepts
//! both forms.

use serde::Serialize;
use serde_json::Value as Json;

/// Serializes `value` to JSON with every `null` object field removed.
///
/// # Errors
/// Only if `value`'s `Serialize` impl fails (ours do not).
pub fn to_mesos_json<T: Serialize + ?Sized>(value: &T) -> Result<Json, serde_json::Error> {
    let mut json = serde_json::to_value(value)?;
    strip_nulls(&mut json);
    Ok(json)
}

/// Removes `null` object fields, recursively.
pub fn strip_nulls(json: &mut Json) {
    match json {
        Json::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Json::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Resources as Mesos's HTTP endpoints write them (`/master/state`, `/slave(1)/state`):
/// `{"cpus": 1.5, "mem": 128, "disk": 0, "gpus": 0, "ports": "[31000-32000]"}`. Scalars are summed
/// over reservations; `cpus`, `mem`, `disk` and `gpus` are always present.
///
/// ```
/// let r: mesos::Resources = "cpus:1;cpus(a):0.5;mem:128;ports:[31000-32000]".parse().unwrap();
/// let json = mesos::json::resources_json(&r);
/// assert_eq!(json["cpus"], 1.5);
/// assert_eq!(json["gpus"], 0.0);
/// assert_eq!(json["ports"], "[31000-32000]");
/// ```
pub fn resources_json(resources: &crate::Resources) -> Json {
    let mut map = serde_json::Map::new();
    for name in ["cpus", "disk", "gpus", "mem"] {
        map.insert(name.into(), Json::from(0.0));
    }
    for (name, _) in resources.scalars() {
        // `scalar` sums every reservation of the name, so a repeated name writes the same total.
        map.insert(
            name.to_string(),
            Json::from(resources.scalar(name).as_f64()),
        );
    }
    for resource in resources.iter() {
        match &resource.value {
            crate::Value::Scalar(_) => {}
            crate::Value::Ranges(ranges) => {
                map.insert(resource.name.clone(), Json::from(ranges.to_string()));
            }
            crate::Value::Set(items) => {
                let items: Vec<&str> = items.iter().map(String::as_str).collect();
                map.insert(
                    resource.name.clone(),
                    Json::from(format!("{{{}}}", items.join(","))),
                );
            }
        }
    }
    Json::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MasterInfo;

    #[test]
    fn drops_null_fields_only() {
        let info = MasterInfo {
            id: "m".into(),
            ..MasterInfo::default()
        };
        let json = to_mesos_json(&info).unwrap();
        assert_eq!(json, serde_json::json!({"id": "m", "ip": 0, "port": 5050}));
        let back: MasterInfo = serde_json::from_value(json).unwrap();
        assert_eq!(back, info);
        let mut nested = serde_json::json!([{"a": null, "b": [{"c": null, "d": 1}]}, null]);
        strip_nulls(&mut nested);
        assert_eq!(nested, serde_json::json!([{"b": [{"d": 1}]}, null]));
    }
}
