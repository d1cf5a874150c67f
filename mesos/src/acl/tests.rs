use super::*;

fn acls(text: &str) -> Acls {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn error(text: &str) -> String {
    text.parse::<Acls>().unwrap_err().to_string()
}

#[test]
fn no_acls_allow_everything() {
    let a = Acls::default();
    for action in Action::ALL {
        assert!(a.allows(action, Some("p"), Some("o")));
        assert!(a.allows(action, None, None));
        assert!(!a.restricts(action));
    }
    assert_eq!(acls("{}"), Acls::default());
}

#[test]
fn first_matching_rule_wins() {
    let a = acls(
        r#"{"run_tasks": [
            {"principals": {"values": ["a"]}, "users": {"type": "NONE"}},
            {"principals": {"type": "ANY"}, "users": {"type": "ANY"}}
        ]}"#,
    );
    assert!(!a.allows(Action::RunTasks, Some("a"), Some("root")));
    assert!(a.allows(Action::RunTasks, Some("b"), Some("root")));
    // Reversed order: the ANY rule matches first.
    let b = acls(
        r#"{"run_tasks": [
            {"principals": {"type": "ANY"}, "users": {"type": "ANY"}},
            {"principals": {"values": ["a"]}, "users": {"type": "NONE"}}
        ]}"#,
    );
    assert!(b.allows(Action::RunTasks, Some("a"), Some("root")));
}

#[test]
fn no_match_falls_back_to_permissive() {
    let rules = r#""register_frameworks": [
        {"principals": {"values": ["a"]}, "roles": {"values": ["r"]}}
    ]"#;
    let permissive = acls(&format!("{{{rules}}}"));
    let strict = acls(&format!("{{\"permissive\": false, {rules}}}"));
    // Matched and allowed.
    assert!(permissive.allows(Action::RegisterFrameworks, Some("a"), Some("r")));
    assert!(strict.allows(Action::RegisterFrameworks, Some("a"), Some("r")));
    // No rule matches: permissive decides.
    for (principal, role) in [("a", "other"), ("b", "r")] {
        assert!(permissive.allows(Action::RegisterFrameworks, Some(principal), Some(role)));
        assert!(!strict.allows(Action::RegisterFrameworks, Some(principal), Some(role)));
    }
    assert!(strict.restricts(Action::RunTasks));
    assert!(!permissive.restricts(Action::RunTasks));
    assert!(permissive.restricts(Action::RegisterFrameworks));
}

#[test]
fn none_matches_but_refuses() {
    let a = acls(
        r#"{"teardown_frameworks": [
            {"principals": {"type": "NONE"}, "framework_principals": {"values": ["f"]}},
            {"principals": {"values": ["ops"]}, "framework_principals": {"type": "NONE"}}
        ]}"#,
    );
    // Rule 0 matches every principal for f, and refuses.
    assert!(!a.allows(Action::TeardownFrameworks, Some("ops"), Some("f")));
    assert!(!a.allows(Action::TeardownFrameworks, None, Some("f")));
    // Rule 1: ops may tear down nothing else either.
    assert!(!a.allows(Action::TeardownFrameworks, Some("ops"), Some("g")));
    // Anyone else, any other framework: no rule, permissive.
    assert!(a.allows(Action::TeardownFrameworks, Some("dev"), Some("g")));
}

#[test]
fn unauthenticated_principal_is_matched_only_by_any_or_none() {
    let a = acls(
        r#"{"permissive": false, "view_frameworks": [
            {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}
        ]}"#,
    );
    assert!(a.allows(Action::ViewFrameworks, Some("ops"), Some("alice")));
    assert!(!a.allows(Action::ViewFrameworks, None, Some("alice")));
    let b = acls(
        r#"{"permissive": false, "view_frameworks": [
            {"principals": {"type": "ANY"}, "users": {"values": ["alice"]}}
        ]}"#,
    );
    assert!(b.allows(Action::ViewFrameworks, None, Some("alice")));
    assert!(!b.allows(Action::ViewFrameworks, None, Some("bob")));
    // A request without an object (e.g. a framework without principal) is allowed only by ANY.
    assert!(!b.allows(Action::ViewFrameworks, Some("x"), None));
}

#[test]
fn every_action_reads_its_object_field() {
    for action in Action::ALL {
        let text = format!(
            r#"{{"permissive": false, "{}": [{{"principals": {{"values": ["p"]}}, "{}": {{"values": ["o"]}}}}]}}"#,
            action.key(),
            action.object_field()
        );
        let a = acls(&text);
        assert_eq!(a.rules(action).len(), 1, "{}", action.key());
        assert!(a.allows(action, Some("p"), Some("o")));
        assert!(!a.allows(action, Some("p"), Some("x")));
        for other in Action::ALL.into_iter().filter(|o| *o != action) {
            assert!(a.rules(other).is_empty());
        }
    }
}

#[test]
fn mesos_names_carry_over() {
    // The older shutdown_frameworks name, and ACLs we accept but do not enforce.
    let a = acls(
        r#"{"shutdown_frameworks": [{"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}],
            "view_roles": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}"#,
    );
    assert_eq!(a.rules(Action::TeardownFrameworks).len(), 1);
    assert_eq!(a.unenforced, vec!["view_roles".to_string()]);
    // Explicit SOME.
    let b = acls(
        r#"{"run_tasks": [{"principals": {"type": "SOME", "values": ["a"]}, "users": {"values": []}}]}"#,
    );
    assert_eq!(
        b.rules(Action::RunTasks)[0],
        Rule {
            principals: Entity::Some(vec!["a".into()]),
            objects: Entity::Some(vec![]),
        }
    );
}

#[test]
fn bad_input_names_the_problem() {
    for (text, expected) in [
        ("not json", "bad JSON"),
        ("[]", "expected an object"),
        (
            r#"{"permissive": "yes"}"#,
            "'permissive' must be true or false",
        ),
        (r#"{"run_taks": []}"#, "unknown ACL 'run_taks'"),
        (r#"{"run_tasks": {}}"#, "run_tasks[0]: expected an array"),
        (r#"{"run_tasks": [1]}"#, "run_tasks[0]: expected an object"),
        (
            r#"{"run_tasks": [{"principals": {"type": "ANY"}}]}"#,
            "run_tasks[0]: 'users' missing",
        ),
        (
            r#"{"run_tasks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}, {"principals": {"type": "ALL"}, "users": {"type": "ANY"}}]}"#,
            "run_tasks[1]: 'principals': unknown type \"ALL\"",
        ),
        (
            r#"{"register_frameworks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}]}"#,
            "unknown field 'users' (expected 'principals' and 'roles')",
        ),
        (
            r#"{"run_tasks": [{"principals": {"values": "a"}, "users": {"type": "ANY"}}]}"#,
            "'values' must be an array of strings",
        ),
        (
            r#"{"run_tasks": [{"principals": {"values": [1]}, "users": {"type": "ANY"}}]}"#,
            "'values' holds 1, not a string",
        ),
        (
            r#"{"run_tasks": [{"principals": {"type": "ANY", "values": ["a"]}, "users": {"type": "ANY"}}]}"#,
            "type ANY takes no 'values'",
        ),
        (
            r#"{"run_tasks": [{"principals": {}, "users": {"type": "ANY"}}]}"#,
            "'principals': 'values' missing",
        ),
    ] {
        let e = error(text);
        assert!(e.contains(expected), "{text}: {e}");
    }
}

#[test]
fn load_reads_inline_json_or_a_file() {
    let dir = std::env::temp_dir().join(format!("acl-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("acls.json");
    std::fs::write(&path, r#"{"permissive": false}"#).unwrap();
    assert!(!Acls::load(path.to_str().unwrap()).unwrap().permissive);
    assert!(
        !Acls::load(&format!("file://{}", path.display()))
            .unwrap()
            .permissive
    );
    assert!(!Acls::load(r#" {"permissive": false}"#).unwrap().permissive);
    let missing = Acls::load("/nonexistent/acls.json").unwrap_err();
    assert!(matches!(missing, AclError::Read { .. }), "{missing}");
    assert!(missing.to_string().contains("/nonexistent/acls.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}
