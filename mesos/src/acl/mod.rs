//! Authorization by access control lists (Mesos's local authorizer, issue 14): the `--acls`
//! flag's JSON and its evaluation.
//!
//! Each action holds rules in order; a rule names *subjects* (`principals`) and *objects*
//! (`roles`, `users`, `framework_principals`, `paths`), each an entity: `{"values": [..]}`,
//! `{"type": "ANY"}` or `{"type": "NONE"}`. The first rule whose entities *match* the request
//! decides: the request is allowed if the rule's entities also *allow* it (a `NONE` entity
//! matches but never allows). No matching rule: `permissive` (default `true`) decides. A
//! request without a principal (unauthenticated) is matched only by `ANY` and `NONE` subjects
//! and allowed only by `ANY`.
//!
//! ```
//! use mesos::acl::{Acls, Action};
//!
//! let acls: Acls = r#"{
//!   "permissive": false,
//!   "register_frameworks": [
//!     {"principals": {"values": ["analytics"]}, "roles": {"values": ["batch"]}},
//!     {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}
//!   ],
//!   "run_tasks": [
//!     {"principals": {"type": "ANY"}, "users": {"values": ["nobody"]}}
//!   ]
//! }"#.parse()?;
//! assert!(acls.allows(Action::RegisterFrameworks, Some("analytics"), Some("batch")));
//! assert!(!acls.allows(Action::RegisterFrameworks, Some("analytics"), Some("web")));
//! assert!(!acls.allows(Action::RegisterFrameworks, Some("mallory"), Some("batch")));
//! assert!(acls.allows(Action::RunTasks, Some("analytics"), Some("nobody")));
//! assert!(!acls.allows(Action::RunTasks, Some("analytics"), Some("root")));
//! // Not permissive: an action without rules is refused.
//! assert!(!acls.allows(Action::TeardownFrameworks, Some("ops"), Some("analytics")));
//! # Ok::<(), mesos::acl::AclError>(())
//! ```

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value as Json;

#[cfg(test)]
mod tests;

/// The actions the master and agent authorize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A framework (re)registering with a role: principal → role.
    RegisterFrameworks,
    /// A task launched as a user: framework principal → user.
    RunTasks,
    /// Tearing a framework down over HTTP: operator principal → the framework's principal.
    TeardownFrameworks,
    /// Seeing a framework in state endpoints: principal → the framework's user.
    ViewFrameworks,
    /// Seeing a task: principal → the task's user.
    ViewTasks,
    /// Seeing an executor: principal → the executor's user.
    ViewExecutors,
    /// Reading a sandbox through the files API: principal → the executor's user.
    AccessSandboxes,
    /// Reading an endpoint such as `/flags` or `/metrics/snapshot`: principal → path.
    GetEndpoints,
}

impl Action {
    /// Every action, in the order of [`Action::key`]'s table.
    pub const ALL: [Action; 8] = [
        Action::RegisterFrameworks,
        Action::RunTasks,
        Action::TeardownFrameworks,
        Action::ViewFrameworks,
        Action::ViewTasks,
        Action::ViewExecutors,
        Action::AccessSandboxes,
        Action::GetEndpoints,
    ];

    /// The action's key in the ACL JSON.
    pub fn key(self) -> &'static str {
        match self {
            Action::RegisterFrameworks => "register_frameworks",
            Action::RunTasks => "run_tasks",
            Action::TeardownFrameworks => "teardown_frameworks",
            Action::ViewFrameworks => "view_frameworks",
            Action::ViewTasks => "view_tasks",
            Action::ViewExecutors => "view_executors",
            Action::AccessSandboxes => "access_sandboxes",
            Action::GetEndpoints => "get_endpoints",
        }
    }

    /// The field naming a rule's objects.
    pub fn object_field(self) -> &'static str {
        match self {
            Action::RegisterFrameworks => "roles",
            Action::TeardownFrameworks => "framework_principals",
            Action::GetEndpoints => "paths",
            Action::RunTasks
            | Action::ViewFrameworks
            | Action::ViewTasks
            | Action::ViewExecutors
            | Action::AccessSandboxes => "users",
        }
    }

    fn index(self) -> usize {
        Action::ALL.iter().position(|a| *a == self).unwrap_or(0)
    }
}

/// Mesos's other ACL names: accepted (a Mesos file carries over) but not enforced here.
const UNENFORCED: &[&str] = &[
    "reserve_resources",
    "unreserve_resources",
    "create_volumes",
    "destroy_volumes",
    "resize_volumes",
    "get_quotas",
    "update_quotas",
    "view_roles",
    "update_weights",
    "access_mesos_logs",
    "register_agents",
    "update_maintenance_schedules",
    "get_maintenance_schedules",
    "start_maintenances",
    "stop_maintenances",
    "get_maintenance_statuses",
    "view_flags",
    "set_log_level",
    "attach_containers_input",
    "attach_containers_output",
    "launch_nested_containers",
    "launch_nested_containers_as_user",
    "kill_nested_containers",
    "wait_nested_containers",
    "launch_nested_container_sessions",
    "remove_nested_containers",
    "view_containers",
    "view_resource_providers",
    "view_standalone_containers",
    "launch_standalone_containers",
    "kill_standalone_containers",
    "wait_standalone_containers",
    "remove_standalone_containers",
    "modify_resource_provider_configs",
    "prune_images",
    "mark_resource_providers_gone",
    "mark_agents_gone",
    "decommission_agents",
    "drain_agents",
    "deactivate_agents",
    "reactivate_agents",
    "get_endpoints_with_path",
];

/// An ACL entity: who or what a rule covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    /// Everyone and everything (`{"type": "ANY"}`).
    Any,
    /// No one and nothing (`{"type": "NONE"}`): a rule with it matches, and refuses.
    None,
    /// These values (`{"values": [..]}`).
    Some(Vec<String>),
}

impl Entity {
    /// Whether a rule with this entity applies to a request naming `request` (`None`: the
    /// request names no one, e.g. an unauthenticated principal).
    fn matches(&self, request: Option<&str>) -> bool {
        match (request, self) {
            (_, Entity::Any | Entity::None) => true,
            (None, Entity::Some(_)) => false,
            (Some(value), Entity::Some(values)) => values.iter().any(|v| v == value),
        }
    }

    /// Whether a rule with this entity, once it applies, allows the request.
    fn allows(&self, request: Option<&str>) -> bool {
        match (request, self) {
            (_, Entity::Any) => true,
            (_, Entity::None) | (None, Entity::Some(_)) => false,
            (Some(value), Entity::Some(values)) => values.iter().any(|v| v == value),
        }
    }

    fn parse(json: &Json) -> Result<Entity, String> {
        let Some(map) = json.as_object() else {
            return Err("expected {\"values\": [..]} or {\"type\": \"ANY\"|\"NONE\"}".into());
        };
        if let Some(key) = map.keys().find(|k| *k != "type" && *k != "values") {
            return Err(format!("unknown field '{key}'"));
        }
        let values = match map.get("values") {
            None => None,
            Some(Json::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| format!("'values' holds {v}, not a string"))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(other) => {
                return Err(format!("'values' must be an array of strings, not {other}"))
            }
        };
        match (map.get("type").map(|t| t.as_str()), values) {
            (None | Some(Some("SOME")), Some(values)) => Ok(Entity::Some(values)),
            (Some(Some("ANY")), None) => Ok(Entity::Any),
            (Some(Some("NONE")), None) => Ok(Entity::None),
            (Some(Some(t @ ("ANY" | "NONE"))), Some(_)) => {
                Err(format!("type {t} takes no 'values'"))
            }
            (None | Some(Some("SOME")), None) => Err("'values' missing".into()),
            (Some(_), _) => Err(format!(
                "unknown type {}: expected ANY or NONE",
                map.get("type").map(Json::to_string).unwrap_or_default()
            )),
        }
    }
}

/// One rule: these subjects may (or, with a `NONE` entity, may not) act on these objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `principals`.
    pub principals: Entity,
    /// The objects (`roles`, `users`, `framework_principals` or `paths`, by action).
    pub objects: Entity,
}

/// Why an `--acls` value could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    /// The file could not be read.
    #[error("cannot read '{path}': {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// Not JSON, or not an object.
    #[error("bad JSON: {0}")]
    Json(String),
    /// A key that is no Mesos ACL.
    #[error("unknown ACL '{0}' (expected one of permissive, register_frameworks, run_tasks, teardown_frameworks, view_frameworks, view_tasks, view_executors, access_sandboxes, get_endpoints or another Mesos ACL name)")]
    UnknownAction(String),
    /// `permissive` that is not a boolean.
    #[error("'permissive' must be true or false")]
    Permissive,
    /// A rule that does not parse.
    #[error("{action}[{index}]: {reason}")]
    Rule {
        /// The action's key.
        action: String,
        /// The rule's position (0-based).
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

/// The ACLs of a master or agent; `Default` allows everything (no `--acls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acls {
    /// What a request no rule matches gets.
    pub permissive: bool,
    rules: [Vec<Rule>; 8],
    /// Mesos ACL names given in the file that this implementation does not enforce.
    pub unenforced: Vec<String>,
}

impl Default for Acls {
    fn default() -> Acls {
        Acls {
            permissive: true,
            rules: Default::default(),
            unenforced: Vec::new(),
        }
    }
}

impl Acls {
    /// The `--acls` flag's value: JSON text (starting with `{`), or a path (or `file:///path`)
    /// to a file holding it.
    ///
    /// # Errors
    /// The file cannot be read, or its JSON is not Mesos's ACL form.
    pub fn load(value: &str) -> Result<Acls, AclError> {
        let trimmed = value.trim_start();
        if trimmed.starts_with('{') {
            return trimmed.parse();
        }
        let path = Path::new(value.strip_prefix("file://").unwrap_or(value));
        let text = std::fs::read_to_string(path).map_err(|e| AclError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        text.parse()
    }

    /// The rules of `action`, in order.
    pub fn rules(&self, action: Action) -> &[Rule] {
        &self.rules[action.index()]
    }

    /// Appends a rule to `action` (for embedders building ACLs in code).
    pub fn push(&mut self, action: Action, rule: Rule) {
        self.rules[action.index()].push(rule);
    }

    /// Whether `principal` (`None`: unauthenticated) may perform `action` on `object` (`None`:
    /// the request names no object, matched only by `ANY`/`NONE`).
    pub fn allows(&self, action: Action, principal: Option<&str>, object: Option<&str>) -> bool {
        for rule in self.rules(action) {
            if rule.principals.matches(principal) && rule.objects.matches(object) {
                return rule.principals.allows(principal) && rule.objects.allows(object);
            }
        }
        self.permissive
    }

    /// Whether any rule restricts `action` or the ACLs are not permissive: when `false`, every
    /// request of `action` is allowed and callers may skip the per-object work.
    pub fn restricts(&self, action: Action) -> bool {
        !self.permissive || !self.rules(action).is_empty()
    }
}

impl FromStr for Acls {
    type Err = AclError;

    fn from_str(text: &str) -> Result<Acls, AclError> {
        let json: Json = serde_json::from_str(text).map_err(|e| AclError::Json(e.to_string()))?;
        let Json::Object(map) = json else {
            return Err(AclError::Json("expected an object of ACLs".into()));
        };
        let mut acls = Acls::default();
        for (key, value) in &map {
            if key == "permissive" {
                acls.permissive = value.as_bool().ok_or(AclError::Permissive)?;
                continue;
            }
            // Mesos's older name for teardown_frameworks.
            let name = if key == "shutdown_frameworks" {
                "teardown_frameworks"
            } else {
                key.as_str()
            };
            let Some(action) = Action::ALL.into_iter().find(|a| a.key() == name) else {
                if UNENFORCED.contains(&name) {
                    acls.unenforced.push(key.clone());
                    continue;
                }
                return Err(AclError::UnknownAction(key.clone()));
            };
            let rules = value.as_array().ok_or_else(|| AclError::Rule {
                action: key.clone(),
                index: 0,
                reason: "expected an array of rules".into(),
            })?;
            for (index, rule) in rules.iter().enumerate() {
                let parsed = parse_rule(action, rule).map_err(|reason| AclError::Rule {
                    action: key.clone(),
                    index,
                    reason,
                })?;
                acls.push(action, parsed);
            }
        }
        Ok(acls)
    }
}

fn parse_rule(action: Action, json: &Json) -> Result<Rule, String> {
    let Some(map) = json.as_object() else {
        return Err("expected an object with 'principals' and an object entity".into());
    };
    let objects_field = action.object_field();
    if let Some(key) = map
        .keys()
        .find(|k| *k != "principals" && *k != objects_field)
    {
        return Err(format!(
            "unknown field '{key}' (expected 'principals' and '{objects_field}')"
        ));
    }
    let entity = |field: &str| -> Result<Entity, String> {
        let value = map.get(field).ok_or_else(|| format!("'{field}' missing"))?;
        Entity::parse(value).map_err(|e| format!("'{field}': {e}"))
    };
    Ok(Rule {
        principals: entity("principals")?,
        objects: entity(objects_field)?,
    })
}
