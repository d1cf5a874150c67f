//! Every bench binary reads its flags one way (clap, through `mesos_benches::cli::parse`): `--help`
//! prints usage naming the binary and its flags and exits 0; an unknown flag or a bad value exits
//! 1 naming it, before any work starts. Run against the real binaries.

use std::process::{Command, Output};
use std::time::Duration;

use process::testing::BoundedCommand;

/// Parsing flags takes milliseconds; the bound leaves room for a loaded 2-core machine.
const WITHIN: Duration = Duration::from_secs(60);

/// Each bench binary, with one flag it really has.
const BENCHES: [(&str, &str, &str); 8] = [
    (
        "actor-bench",
        env!("CARGO_BIN_EXE_actor-bench"),
        "--ours_only",
    ),
    (
        "allocator-bench",
        env!("CARGO_BIN_EXE_allocator-bench"),
        "--decline_cycles",
    ),
    (
        "api-bench",
        env!("CARGO_BIN_EXE_api-bench"),
        "--state_endpoints",
    ),
    (
        "failover-bench",
        env!("CARGO_BIN_EXE_failover-bench"),
        "--framework_backoff",
    ),
    (
        "launch-bench",
        env!("CARGO_BIN_EXE_launch-bench"),
        "--task_resources",
    ),
    (
        "macro-bench",
        env!("CARGO_BIN_EXE_macro-bench"),
        "--experiments",
    ),
    (
        "recovery-bench",
        env!("CARGO_BIN_EXE_recovery-bench"),
        "--keep_work_dir",
    ),
    ("ui-bench", env!("CARGO_BIN_EXE_ui-bench"), "--frameworks"),
];

fn run(exe: &str, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .output_within(&format!("{exe} {args:?}"), WITHIN)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_exits_zero_and_names_the_binary_and_its_flags() {
    for (name, exe, flag) in BENCHES {
        let out = run(exe, &["--help"]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name} --help: {stdout}{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("Usage: {name}")),
            "{name} --help: {stdout}"
        );
        assert!(
            stdout.contains(flag),
            "{name} --help lacks {flag}: {stdout}"
        );
    }
}

#[test]
fn an_unknown_flag_exits_one_naming_it() {
    for (name, exe, _) in BENCHES {
        let out = run(exe, &["--no_such_flag"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains("unexpected argument '--no_such_flag'"),
            "{name}: {stderr}"
        );
        assert!(
            out.stdout.is_empty(),
            "{name} printed results: {:?}",
            text(&out.stdout)
        );
    }
}

#[test]
fn a_bad_value_exits_one_naming_the_flag_and_the_value() {
    for (name, exe, args, flag) in [
        (
            "allocator-bench",
            env!("CARGO_BIN_EXE_allocator-bench"),
            &["--agents", "1000,ten"][..],
            "--agents",
        ),
        (
            "failover-bench",
            env!("CARGO_BIN_EXE_failover-bench"),
            &["--session=soon"][..],
            "--session",
        ),
        (
            "launch-bench",
            env!("CARGO_BIN_EXE_launch-bench"),
            &["--tasks", "0"][..],
            "--tasks",
        ),
        (
            "launch-bench",
            env!("CARGO_BIN_EXE_launch-bench"),
            &["--security", "maybe"][..],
            "--security",
        ),
        (
            "api-bench",
            env!("CARGO_BIN_EXE_api-bench"),
            &["--state_endpoints", "state,nope"][..],
            "--state_endpoints",
        ),
        (
            "ui-bench",
            env!("CARGO_BIN_EXE_ui-bench"),
            &["--agents"][..],
            "--agents",
        ),
    ] {
        let out = run(exe, args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name} {args:?}: {stderr}");
        assert!(stderr.contains(flag), "{name} {args:?}: {stderr}");
        let value = args.last().and_then(|a| a.rsplit([',', '=']).next());
        if let Some(value) = value.filter(|v| !v.starts_with("--")) {
            assert!(stderr.contains(value), "{name} {args:?}: {stderr}");
        }
    }
}

#[test]
fn the_old_dashed_allocator_flag_still_parses() {
    // `--decline-cycles` was documented before the flags moved to clap; a typo'd value shows it
    // reached the same flag (the error names the value) rather than being unknown.
    let out = run(
        env!("CARGO_BIN_EXE_allocator-bench"),
        &["--decline-cycles", "x"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("'x'"), "{stderr}");
    assert!(!stderr.contains("unexpected argument"), "{stderr}");
}
