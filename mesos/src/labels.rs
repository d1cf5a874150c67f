//! Free-form key/value labels on tasks, executors and frameworks.

use serde::{Deserialize, Serialize};

/// One label. Mesos allows a key without a value.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Label {
    /// The key.
    pub key: String,
    /// The value, if any.
    #[serde(default)]
    pub value: Option<String>,
}

/// Labels, in Mesos's JSON shape `{"labels": [{"key": "k", "value": "v"}]}`.
/// Keys may repeat, as in Mesos.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Labels {
    /// The labels, in order.
    #[serde(default)]
    pub labels: Vec<Label>,
}

impl Labels {
    /// No labels.
    pub fn new() -> Labels {
        Labels::default()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Appends `key=value`.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Labels {
        self.labels.push(Label {
            key: key.into(),
            value: Some(value.into()),
        });
        self
    }

    /// The value of the first label with `key` (`Some(None)` for a bare key).
    pub fn get(&self, key: &str) -> Option<Option<&str>> {
        self.labels
            .iter()
            .find(|l| l.key == key)
            .map(|l| l.value.as_deref())
    }

    /// The labels, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.labels.iter()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Labels {
        Labels {
            labels: iter
                .into_iter()
                .map(|(k, v)| Label {
                    key: k.into(),
                    value: Some(v.into()),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_json_shape() {
        let labels = Labels::new().with("team", "web");
        let json = serde_json::to_string(&labels).unwrap();
        assert_eq!(json, r#"{"labels":[{"key":"team","value":"web"}]}"#);
        let back: Labels =
            serde_json::from_str(r#"{"labels":[{"key":"team","value":"web"},{"key":"bare"}]}"#)
                .unwrap();
        assert_eq!(back.get("team"), Some(Some("web")));
        assert_eq!(back.get("bare"), Some(None));
        assert_eq!(back.get("nope"), None);
        assert_eq!(serde_json::from_str::<Labels>("{}").unwrap(), Labels::new());
    }
}
