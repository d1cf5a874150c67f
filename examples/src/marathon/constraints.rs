//! Marathon's placement constraints: `[field, operator, value?]` where field is `hostname` or an
//! agent attribute; operators `UNIQUE`, `CLUSTER`, `GROUP_BY`, `LIKE`, `UNLIKE`, `MAX_PER`.

use mesos::{Attributes, Offer};

/// One parsed constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    field: String,
    operator: Operator,
}

#[derive(Debug, Clone)]
enum Operator {
    Unique,
    Cluster(Option<String>),
    GroupBy,
    Like(regex::Regex),
    Unlike(regex::Regex),
    MaxPer(usize),
}

/// The value of `field` on an agent: its hostname or an attribute's text.
pub fn field_value(field: &str, hostname: &str, attributes: &Attributes) -> Option<String> {
    if field == "hostname" {
        return Some(hostname.to_string());
    }
    attributes.text(field).map(str::to_string)
}

impl Constraint {
    /// Parses `[field, operator, value?]`.
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn parse(parts: &[String]) -> Result<Constraint, String> {
        let (field, operator) = match parts {
            [field, operator, ..] => (field.clone(), operator.to_ascii_uppercase()),
            _ => return Err("a constraint is [field, operator, value?]".into()),
        };
        let value = parts.get(2).cloned();
        let regex = |value: Option<String>| {
            let value = value.ok_or_else(|| format!("{operator} needs a value"))?;
            regex::Regex::new(&format!("^(?:{value})$")).map_err(|e| format!("bad regex: {e}"))
        };
        let operator = match operator.as_str() {
            "UNIQUE" => Operator::Unique,
            "CLUSTER" => Operator::Cluster(value),
            "GROUP_BY" => Operator::GroupBy,
            "LIKE" => Operator::Like(regex(value)?),
            "UNLIKE" => Operator::Unlike(regex(value)?),
            "MAX_PER" => Operator::MaxPer(
                value
                    .and_then(|v| v.parse().ok())
                    .ok_or("MAX_PER needs a number")?,
            ),
            other => return Err(format!("unknown operator {other}")),
        };
        Ok(Constraint { field, operator })
    }

    /// Whether a task may go on `offer`'s agent, given the field values of the agents that run
    /// the app's live tasks (one entry per task).
    pub fn allows(&self, offer: &Offer, placed: &[Option<String>]) -> bool {
        let value = field_value(&self.field, &offer.hostname, &offer.attributes);
        let count = |v: &Option<String>| placed.iter().filter(|p| *p == v).count();
        match &self.operator {
            Operator::Unique => value.is_some() && count(&value) == 0,
            Operator::Cluster(Some(wanted)) => value.as_deref() == Some(wanted.as_str()),
            // Without a value: wherever the first task went.
            Operator::Cluster(None) => match placed.iter().flatten().next() {
                Some(first) => value.as_ref() == Some(first),
                None => value.is_some(),
            },
            Operator::GroupBy => {
                // Even spread: no value may get ahead of the least used one seen so far.
                let Some(value) = value else { return false };
                let mine = count(&Some(value.clone()));
                let least = placed
                    .iter()
                    .flatten()
                    .filter(|p| **p != value)
                    .map(|p| count(&Some(p.clone())))
                    .min()
                    .unwrap_or(mine);
                mine <= least
            }
            Operator::Like(regex) => value.is_some_and(|v| regex.is_match(&v)),
            Operator::Unlike(regex) => value.is_none_or(|v| !regex.is_match(&v)),
            Operator::MaxPer(max) => count(&value) < *max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos::{AgentId, FrameworkId, OfferId};

    fn offer(host: &str, rack: &str) -> Offer {
        Offer {
            id: OfferId::new("o"),
            framework_id: FrameworkId::new("f"),
            agent_id: AgentId::new(host),
            hostname: host.into(),
            resources: "cpus:1".parse().unwrap(),
            attributes: Attributes::parse(&format!("rack:{rack}")).unwrap(),
            executor_ids: Vec::new(),
        }
    }

    fn c(parts: &[&str]) -> Constraint {
        Constraint::parse(&parts.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn operators() {
        let a = offer("a", "r1");
        let some = |v: &str| Some(v.to_string());
        assert!(c(&["hostname", "UNIQUE"]).allows(&a, &[some("b")]));
        assert!(!c(&["hostname", "UNIQUE"]).allows(&a, &[some("a")]));
        assert!(c(&["rack", "CLUSTER", "r1"]).allows(&a, &[]));
        assert!(!c(&["rack", "CLUSTER", "r2"]).allows(&a, &[]));
        assert!(c(&["rack", "LIKE", "r[12]"]).allows(&a, &[]));
        assert!(!c(&["rack", "UNLIKE", "r1"]).allows(&a, &[]));
        assert!(!c(&["rack", "GROUP_BY"]).allows(&a, &[some("r1"), some("r2"), some("r1")]));
        assert!(c(&["rack", "GROUP_BY"]).allows(&a, &[some("r1"), some("r2")]));
        assert!(!c(&["hostname", "MAX_PER", "1"]).allows(&a, &[some("a")]));
        assert!(Constraint::parse(&["x".into()]).is_err());
    }
}
