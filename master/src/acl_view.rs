//! What a principal may see (`view_frameworks`, `view_tasks`, `view_executors` in `--acls`):
//! [`ViewFilter`] removes the frameworks, tasks and executors of users the principal may not
//! view from a state answer (`/master/state`, `/master/frameworks`, `/master/tasks`,
//! `/master/state-summary`, the operator API's GET_* calls and its event stream).
//!
//! It works on the rendered JSON, in every shape the master writes (Mesos's legacy objects and
//! the v1 API's), so no view can forget it; it is built only when the ACLs restrict a view, so
//! a master without such rules renders as before.

use std::collections::HashMap;
use std::sync::Arc;

use mesos::acl::{Acls, Action};
use serde_json::Value as Json;

use crate::core::MasterCore;

/// What a node needs to build a [`ViewFilter`] for a request: the ACLs and who the request
/// authenticated as.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// `--acls`.
    pub acls: Arc<Acls>,
    /// The HTTP credentials the principal is checked against.
    pub http: mesos::auth::http::HttpAuth,
}

impl Viewer {
    /// The filter for `request`'s principal, or `None` when nothing is hidden from anyone.
    pub fn filter(
        &self,
        request: &process::http::Request,
        core: &MasterCore,
    ) -> Option<ViewFilter> {
        if !restricts(&self.acls) {
            return None;
        }
        let principal = match self.http.principal(request) {
            mesos::auth::http::HttpPrincipal::Authenticated(p) => Some(p),
            _ => None,
        };
        ViewFilter::new(&self.acls, principal, core)
    }
}

fn restricts(acls: &Acls) -> bool {
    [
        Action::ViewFrameworks,
        Action::ViewTasks,
        Action::ViewExecutors,
    ]
    .into_iter()
    .any(|a| acls.restricts(a))
}

/// The frameworks', tasks' and executors' visibility for one principal.
#[derive(Debug, Clone)]
pub struct ViewFilter {
    acls: Arc<Acls>,
    principal: Option<String>,
    /// Framework id → its user, for tasks and executors (which name only their framework).
    users: HashMap<String, String>,
}

impl ViewFilter {
    /// The filter for `principal` (`None`: unauthenticated), or `None` when the ACLs let
    /// everyone see everything.
    pub fn new(
        acls: &Arc<Acls>,
        principal: Option<String>,
        core: &MasterCore,
    ) -> Option<ViewFilter> {
        if !restricts(acls) {
            return None;
        }
        let users = core
            .frameworks()
            .values()
            .chain(core.completed_frameworks().iter())
            .map(|f| (f.id.as_str().to_string(), f.info.user.clone()))
            .collect();
        Some(ViewFilter {
            acls: acls.clone(),
            principal,
            users,
        })
    }

    /// Removes, at any depth, every framework, task and executor this principal may not see.
    pub fn apply(&self, value: &mut Json) {
        match value {
            Json::Array(items) => {
                items.retain(|item| self.visible(item));
                items.iter_mut().for_each(|item| self.apply(item));
            }
            Json::Object(map) => map.values_mut().for_each(|v| self.apply(v)),
            _ => {}
        }
    }

    /// [`ViewFilter::apply`] on a rendered JSON body (returned unchanged if it does not parse).
    pub fn apply_bytes(&self, body: Vec<u8>) -> Vec<u8> {
        let Ok(mut json) = serde_json::from_slice::<Json>(&body) else {
            return body;
        };
        self.apply(&mut json);
        serde_json::to_vec(&json).unwrap_or(body)
    }

    /// [`ViewFilter::apply`] on one RecordIO record (`<length>\n<json>`).
    pub fn apply_record(&self, record: Vec<u8>) -> Vec<u8> {
        let Some(newline) = record.iter().position(|b| *b == b'\n') else {
            return record;
        };
        let Ok(mut json) = serde_json::from_slice::<Json>(&record[newline + 1..]) else {
            return record;
        };
        self.apply(&mut json);
        crate::api::record(&json)
    }

    /// Learns the user of a framework an event adds (its tasks name only the framework).
    pub fn learn(&mut self, event: &Json) {
        let info = event
            .pointer("/framework_added/framework/framework_info")
            .or_else(|| event.pointer("/framework_updated/framework/framework_info"));
        if let Some(info) = info {
            let id = info.pointer("/id/value").and_then(Json::as_str);
            let user = info.get("user").and_then(Json::as_str);
            if let (Some(id), Some(user)) = (id, user) {
                self.users.insert(id.to_string(), user.to_string());
            }
        }
    }

    /// Whether an event of the operator stream may go to this principal: every framework,
    /// task and executor it names must be visible.
    pub fn event_visible(&self, event: &Json) -> bool {
        if !self.visible(event) {
            return false;
        }
        match event {
            Json::Object(map) => map.values().all(|v| self.event_visible(v)),
            Json::Array(items) => items.iter().all(|v| self.event_visible(v)),
            _ => true,
        }
    }

    fn allows(&self, action: Action, user: Option<&str>) -> bool {
        self.acls.allows(action, self.principal.as_deref(), user)
    }

    fn framework_user(&self, id: Option<&Json>) -> Option<&str> {
        let id = id?;
        let id = id.as_str().or_else(|| id.get("value")?.as_str())?;
        self.users.get(id).map(String::as_str)
    }

    /// Whether `item` is a framework, task or executor this principal may not see.
    fn visible(&self, item: &Json) -> bool {
        let Some(map) = item.as_object() else {
            return true;
        };
        let has = |k: &str| map.contains_key(k);
        if let Some(info) = map.get("framework_info") {
            // v1 framework.
            let user = info.get("user").and_then(Json::as_str);
            return self.allows(Action::ViewFrameworks, user);
        }
        if let Some(info) = map.get("executor_info") {
            // v1 executor: its command's user, else its framework's.
            let user = info
                .pointer("/command/user")
                .and_then(Json::as_str)
                .filter(|u| !u.is_empty())
                .or_else(|| self.framework_user(info.get("framework_id")));
            return self.allows(Action::ViewExecutors, user);
        }
        if has("framework_id") && has("state") && (has("task_id") || has("id")) {
            // A task (legacy or v1).
            let user = self.framework_user(map.get("framework_id"));
            return self.allows(Action::ViewTasks, user);
        }
        if has("framework_id") && has("status") {
            // A task's update (the operator stream's TASK_UPDATED).
            let user = self.framework_user(map.get("framework_id"));
            return self.allows(Action::ViewTasks, user);
        }
        if has("framework_id") && has("executor_id") {
            // A legacy executor.
            let user = self.framework_user(map.get("framework_id"));
            return self.allows(Action::ViewExecutors, user);
        }
        if has("id") && has("slave_ids") {
            // A framework of /master/state-summary.
            let user = self.framework_user(map.get("id"));
            return self.allows(Action::ViewFrameworks, user);
        }
        if has("id") && has("user") && has("name") {
            // A legacy framework.
            let user = map.get("user").and_then(Json::as_str);
            return self.allows(Action::ViewFrameworks, user);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(principal: &str) -> ViewFilter {
        let acls: Acls = r#"{"permissive": false,
            "view_frameworks": [{"principals": {"values": ["alice"]}, "users": {"values": ["alice"]}},
                                {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}],
            "view_tasks": [{"principals": {"values": ["alice"]}, "users": {"values": ["alice"]}},
                           {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}],
            "view_executors": [{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}]}"#
            .parse()
            .unwrap();
        ViewFilter {
            acls: Arc::new(acls),
            principal: Some(principal.to_string()),
            users: [("fa", "alice"), ("fb", "bob")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    fn legacy_state() -> Json {
        json!({"frameworks": [
            {"id": "fa", "name": "a", "user": "alice",
             "tasks": [{"id": "t1", "framework_id": "fa", "executor_id": "", "state": "TASK_RUNNING"}],
             "executors": [{"executor_id": "e1", "framework_id": "fa", "name": "e"}]},
            {"id": "fb", "name": "b", "user": "bob",
             "tasks": [{"id": "t2", "framework_id": "fb", "executor_id": "", "state": "TASK_RUNNING"}]}],
          "slaves": [{"id": "s1", "hostname": "h"}]})
    }

    #[test]
    fn legacy_state_shows_each_principal_its_own() {
        let mut state = legacy_state();
        filter("alice").apply(&mut state);
        let frameworks = state["frameworks"].as_array().unwrap();
        assert_eq!(frameworks.len(), 1);
        assert_eq!(frameworks[0]["id"], "fa");
        assert_eq!(frameworks[0]["tasks"].as_array().unwrap().len(), 1);
        // alice may not view executors.
        assert!(frameworks[0]["executors"].as_array().unwrap().is_empty());
        assert_eq!(state["slaves"].as_array().unwrap().len(), 1);

        let mut state = legacy_state();
        filter("ops").apply(&mut state);
        assert_eq!(state, legacy_state());

        let mut state = legacy_state();
        filter("mallory").apply(&mut state);
        assert!(state["frameworks"].as_array().unwrap().is_empty());
    }

    #[test]
    fn v1_shapes_and_tasks_lists() {
        let mut state = json!({"get_state": {
            "get_frameworks": {"frameworks": [
                {"framework_info": {"user": "alice", "id": {"value": "fa"}}},
                {"framework_info": {"user": "bob", "id": {"value": "fb"}}}]},
            "get_tasks": {"tasks": [
                {"task_id": {"value": "t1"}, "framework_id": {"value": "fa"}, "state": "TASK_RUNNING"},
                {"task_id": {"value": "t2"}, "framework_id": {"value": "fb"}, "state": "TASK_RUNNING"}]},
            "get_executors": {"executors": [
                {"executor_info": {"framework_id": {"value": "fa"}, "command": {}}}]}}});
        filter("alice").apply(&mut state);
        let s = &state["get_state"];
        assert_eq!(
            s["get_frameworks"]["frameworks"].as_array().unwrap().len(),
            1
        );
        assert_eq!(s["get_tasks"]["tasks"].as_array().unwrap().len(), 1);
        assert_eq!(s["get_tasks"]["tasks"][0]["task_id"]["value"], "t1");
        assert!(s["get_executors"]["executors"]
            .as_array()
            .unwrap()
            .is_empty());

        let event = json!({"type": "TASK_ADDED", "task_added": {"task":
            {"task_id": {"value": "t2"}, "framework_id": {"value": "fb"}, "state": "TASK_STAGING"}}});
        assert!(!filter("alice").event_visible(&event));
        assert!(filter("ops").event_visible(&event));
        let update = json!({"type": "TASK_UPDATED", "task_updated": {
            "framework_id": {"value": "fb"}, "state": "TASK_RUNNING",
            "status": {"task_id": {"value": "t2"}, "state": "TASK_RUNNING"}}});
        assert!(!filter("alice").event_visible(&update));
        assert!(filter("ops").event_visible(&update));
        // An unknown framework's task: only ANY rules allow it.
        let mut tasks =
            json!({"tasks": [{"id": "t9", "framework_id": "gone", "state": "TASK_LOST"}]});
        filter("alice").apply(&mut tasks);
        assert!(tasks["tasks"].as_array().unwrap().is_empty());
    }
}
