//! `access_sandboxes` in the agent's `--acls`: which principal may read which user's sandboxes
//! through the files API (`/files/read`, `/files/browse`, `/files/download`). A sandbox belongs
//! to its executor's user (`CommandInfo.user`, else `FrameworkInfo.user`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use mesos::acl::{Acls, Action};
use process::http::Request;

/// Sandbox directory → the user it belongs to, kept by [`crate::sandboxes::Sandboxes`].
pub type SandboxOwners = Arc<std::sync::RwLock<HashMap<PathBuf, String>>>;

/// The check the agent's HTTP guard runs (see [`mesos::acl::http::guard`]), or `None` when the
/// ACLs let everyone read every sandbox.
pub fn check(
    acls: Arc<Acls>,
    files: files::Files,
    owners: SandboxOwners,
) -> Option<mesos::acl::http::Check> {
    if !acls.restricts(Action::AccessSandboxes) {
        return None;
    }
    Some(Arc::new(
        move |request: &Request, principal: Option<&str>| {
            let path = request.path.trim_end_matches('/');
            let file_op = ["/files/read", "/files/browse", "/files/download"]
                .iter()
                .any(|op| path == *op || path == format!("{op}.json"));
            if !file_op {
                return None;
            }
            // A path that does not resolve is the files API's to answer (404, 400).
            let resolved = files.resolve(&request.query_param("path")?).ok()?;
            let user = owner(&owners, &resolved.root)?;
            if acls.allows(Action::AccessSandboxes, principal, Some(&user)) {
                return None;
            }
            Some(format!(
            "principal {} may not access the sandboxes of user '{user}' (--acls access_sandboxes)",
            principal.map_or("(none)".to_string(), |p| format!("'{p}'"))
        ))
        },
    ))
}

/// The user whose sandbox `root` (a canonical path) is; `None` for what is no sandbox (the
/// agent's log).
fn owner(owners: &SandboxOwners, root: &std::path::Path) -> Option<String> {
    owners
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(dir, _)| dir.as_path() == root || dir.canonicalize().is_ok_and(|d| d == root))
        .map(|(_, user)| user.clone())
}
