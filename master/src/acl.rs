//! Authorization by `--acls` in the master (issue 14): which principal may register with which
//! role (`register_frameworks`), run tasks as which user (`run_tasks`), tear down whose
//! frameworks (`teardown_frameworks`), and read which endpoints (`get_endpoints`). The rules and
//! their evaluation are [`mesos::acl`]; here they meet the master's requests.

use mesos::acl::{Acls, Action};
use mesos::{FrameworkInfo, TaskInfo};

/// The roles a framework registers with (`roles`, else its single `role`).
fn roles(framework: &FrameworkInfo) -> Vec<&str> {
    if framework.roles.is_empty() {
        vec![framework.role.as_str()]
    } else {
        framework.roles.iter().map(String::as_str).collect()
    }
}

/// `register_frameworks`: whether `framework`'s principal may register with each of its roles.
///
/// # Errors
/// The refusal, naming the principal and the first role refused.
pub fn authorize_registration(acls: &Acls, framework: &FrameworkInfo) -> Result<(), String> {
    let principal = framework.principal.as_deref();
    for role in roles(framework) {
        if !acls.allows(Action::RegisterFrameworks, principal, Some(role)) {
            return Err(format!(
                "framework principal {} is not authorized to register with role '{role}' (--acls register_frameworks)",
                describe(principal)
            ));
        }
    }
    Ok(())
}

/// The user a task runs as: its command's user, else its executor's command's, else the
/// framework's (as Mesos decides).
pub fn task_user<'a>(framework: &'a FrameworkInfo, task: &'a TaskInfo) -> &'a str {
    task.command
        .as_ref()
        .and_then(|c| c.user.as_deref())
        .or_else(|| {
            task.executor
                .as_ref()
                .and_then(|e| e.command.user.as_deref())
        })
        .unwrap_or(framework.user.as_str())
}

/// `run_tasks`: whether `framework`'s principal may run `task` as the task's user.
///
/// # Errors
/// The message of the task's TASK_ERROR (reason `REASON_TASK_UNAUTHORIZED`).
pub fn authorize_task(
    acls: &Acls,
    framework: &FrameworkInfo,
    task: &TaskInfo,
) -> Result<(), String> {
    if !acls.restricts(Action::RunTasks) {
        return Ok(());
    }
    let principal = framework.principal.as_deref();
    let user = task_user(framework, task);
    if acls.allows(Action::RunTasks, principal, Some(user)) {
        return Ok(());
    }
    Err(format!(
        "Task is not authorized to launch: principal {} may not run tasks as user '{user}' (--acls run_tasks)",
        describe(principal)
    ))
}

/// `teardown_frameworks`: whether the operator `principal` may tear down a framework whose
/// principal is `framework_principal`.
///
/// # Errors
/// The `403` body.
pub fn authorize_teardown(
    acls: &Acls,
    principal: Option<&str>,
    framework_principal: Option<&str>,
) -> Result<(), String> {
    if acls.allows(Action::TeardownFrameworks, principal, framework_principal) {
        return Ok(());
    }
    Err(format!(
        "Forbidden: principal {} may not tear down frameworks of principal {} (--acls teardown_frameworks)",
        describe(principal),
        describe(framework_principal)
    ))
}

fn describe(principal: Option<&str>) -> String {
    match principal {
        Some(p) => format!("'{p}'"),
        None => "(none)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos::{AgentId, CommandInfo, TaskInfo};

    fn acls(text: &str) -> Acls {
        text.parse().unwrap()
    }

    fn task(user: Option<&str>) -> TaskInfo {
        let mut command = CommandInfo::shell("true");
        command.user = user.map(str::to_string);
        TaskInfo::new("t", "t", AgentId::new("a"), "cpus:1".parse().unwrap()).with_command(command)
    }

    #[test]
    fn registration_checks_every_role() {
        let a = acls(
            r#"{"register_frameworks": [
                {"principals": {"values": ["p"]}, "roles": {"values": ["a", "b"]}},
                {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}]}"#,
        );
        let mut f = FrameworkInfo::new("u", "f").with_role("a");
        assert!(authorize_registration(&a, &f).is_err());
        f.principal = Some("p".into());
        assert_eq!(authorize_registration(&a, &f), Ok(()));
        f.roles = vec!["a".into(), "c".into()];
        let e = authorize_registration(&a, &f).unwrap_err();
        assert!(e.contains("'p'") && e.contains("role 'c'"), "{e}");
    }

    #[test]
    fn task_user_comes_from_the_command_else_the_framework() {
        let a = acls(
            r#"{"run_tasks": [{"principals": {"type": "ANY"}, "users": {"values": ["nobody"]}}],
                "permissive": false}"#,
        );
        let mut f = FrameworkInfo::new("nobody", "f");
        f.principal = Some("p".into());
        assert_eq!(authorize_task(&a, &f, &task(None)), Ok(()));
        let e = authorize_task(&a, &f, &task(Some("root"))).unwrap_err();
        assert!(e.contains("user 'root'") && e.contains("'p'"), "{e}");
        f.user = "root".into();
        assert!(authorize_task(&a, &f, &task(None)).is_err());
        assert_eq!(authorize_task(&a, &f, &task(Some("nobody"))), Ok(()));
        assert_eq!(authorize_task(&Acls::default(), &f, &task(None)), Ok(()));
    }

    #[test]
    fn teardown_names_both_principals() {
        let a = acls(
            r#"{"teardown_frameworks": [
                {"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}},
                {"principals": {"type": "ANY"}, "framework_principals": {"type": "NONE"}}]}"#,
        );
        assert_eq!(authorize_teardown(&a, Some("ops"), Some("x")), Ok(()));
        let e = authorize_teardown(&a, Some("dev"), Some("x")).unwrap_err();
        assert!(e.contains("'dev'") && e.contains("'x'"), "{e}");
        assert!(authorize_teardown(&a, None, None).is_err());
    }
}
