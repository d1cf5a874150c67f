//! `--switch_user` (issue 14), end to end with the `mesos-master`, `mesos-agent` and
//! `mesos-execute` binaries and a real non-root user the test creates (with a supplementary
//! group and a home directory): the task runs with that user's uid, groups and `HOME` in a
//! sandbox it owns; an unknown user fails the task naming the user; `--switch_user=false` runs
//! it as the agent's user. Needs root (to create users and to switch): skipped otherwise.

mod util;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use process::testing::{wait_until, BoundedCommand};
use util::bins::*;
use util::WAIT;

/// A user and an extra group, created for the test and deleted when dropped.
struct TestUser {
    name: String,
    group: String,
    home: PathBuf,
}

impl TestUser {
    fn create() -> TestUser {
        let suffix = std::process::id() % 100_000;
        let user = TestUser {
            name: format!("acltask{suffix}"),
            group: format!("aclgrp{suffix}"),
            home: std::env::temp_dir().join(format!("acl-home-{suffix}")),
        };
        user.delete();
        run("groupadd", &[&user.group]);
        run(
            "useradd",
            &[
                "--create-home",
                "--home-dir",
                user.home.to_str().unwrap(),
                "--groups",
                &user.group,
                "--shell",
                "/bin/sh",
                &user.name,
            ],
        );
        user
    }

    fn id(&self, flag: &str) -> String {
        let out = Command::new("id")
            .args([flag, &self.name])
            .output_within("id", WAIT);
        text(&out.stdout).trim().to_string()
    }

    fn delete(&self) {
        let _ = Command::new("userdel")
            .args(["--remove", &self.name])
            .output_within("userdel", WAIT);
        let _ = Command::new("groupdel")
            .arg(&self.group)
            .output_within("groupdel", WAIT);
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        self.delete();
    }
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output_within(program, WAIT);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        text(&out.stderr)
    );
}

/// The one `stdout` file under the agent's sandboxes whose executor is `task`.
fn sandbox_of(work_dir: &Path, task: &str) -> PathBuf {
    let mut pending = vec![work_dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                let is_run = path
                    .parent()
                    .and_then(Path::parent)
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == task)
                    && path
                        .parent()
                        .and_then(Path::file_name)
                        .is_some_and(|n| n == "runs")
                    && path.file_name().is_some_and(|n| n != "latest");
                if is_run {
                    return path;
                }
                pending.push(path);
            }
        }
    }
    panic!("no sandbox of {task} under {}", work_dir.display());
}

fn metric(addr: &str, name: &str) -> f64 {
    get_json(addr, "/metrics/snapshot", None)[name]
        .as_f64()
        .unwrap_or(-1.0)
}

fn cluster(files: &Scratch, agent_flags: &[String]) -> (impl Drop, impl Drop, String) {
    let (master, addr) = start_master(&[]);
    let agent = start_agent(&addr, &files.path("agent"), agent_flags);
    wait_until("the agent registers", WAIT, || {
        metric(&addr, "master/slaves_active") == 1.0
    });
    (master, agent, addr)
}

const REPORT: &str =
    "echo uid=$(id -u) gid=$(id -g) groups=$(id -G); echo HOME=$HOME; echo owner=$(stat -c %U .)";

#[test]
fn tasks_run_as_their_users() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!(
            "SKIPPED tasks_run_as_their_users: needs root (to create a user and to switch to it)"
        );
        return;
    }
    let user = TestUser::create();
    let files = Scratch::new("acl-user");
    let (_master, _agent, addr) = cluster(&files, &[]);

    let out = execute(
        &addr,
        &[
            "--name=as-user",
            &format!("--command={REPORT}"),
            &format!("--user={}", user.name),
        ],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let sandbox = sandbox_of(&files.path("agent"), "as-user");
    let report = std::fs::read_to_string(sandbox.join("stdout")).unwrap();
    let (uid, gid, groups) = (user.id("-u"), user.id("-g"), user.id("-G"));
    assert!(uid != "0" && !uid.is_empty(), "{uid}");
    assert!(
        report.contains(&format!("uid={uid} gid={gid} groups={groups}")),
        "expected uid={uid} gid={gid} groups={groups} in {report}"
    );
    // The supplementary group is there (id -G lists it after the primary one).
    assert!(groups.split_whitespace().count() >= 2, "{groups}");
    assert!(
        report.contains(&format!("HOME={}", user.home.display())),
        "{report}"
    );
    assert!(report.contains(&format!("owner={}", user.name)), "{report}");
    let meta = std::fs::metadata(&sandbox).unwrap();
    assert_eq!(meta.uid().to_string(), uid);
    assert_eq!(
        std::fs::metadata(sandbox.join("stdout"))
            .unwrap()
            .uid()
            .to_string(),
        uid
    );

    // A user that does not exist on the agent: TASK_FAILED naming the user.
    let out = execute(
        &addr,
        &["--name=ghost", "--command=true", "--user=no-such-user-acl"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("TASK_FAILED"), "{stdout}");
    assert!(
        stdout.contains("user 'no-such-user-acl' does not exist on this agent"),
        "{stdout}"
    );
}

#[test]
fn switch_user_false_runs_tasks_as_the_agent() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED switch_user_false_runs_tasks_as_the_agent: needs root");
        return;
    }
    let files = Scratch::new("acl-noswitch");
    let (_master, _agent, addr) = cluster(&files, &["--switch_user=false".into()]);
    // Even a user that does not exist: the agent does not switch, the task runs as root.
    let out = execute(
        &addr,
        &[
            "--name=as-agent",
            &format!("--command={REPORT}"),
            "--user=no-such-user-acl",
        ],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let sandbox = sandbox_of(&files.path("agent"), "as-agent");
    let report = std::fs::read_to_string(sandbox.join("stdout")).unwrap();
    assert!(report.contains("uid=0 "), "{report}");
    assert!(report.contains("owner=root"), "{report}");
}
