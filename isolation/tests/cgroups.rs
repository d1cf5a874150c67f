//! The cgroups isolator and the launch setup on the real kernel, without the agent. These need root
//! and a writable cgroup filesystem (CI runs as root): without them they FAIL saying so.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use isolation::cgroups::CgroupsOptions;
use isolation::{CgroupsIsolator, ContainerConfig, Isolator, LaunchInfo, RecoveredContainer};
use mesos::ContainerId;
use process::testing::BoundedChild;

/// The bound on every wait for a child.
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

fn require_root() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "the cgroups tests need root and a writable cgroup filesystem; run them as root as CI does"
    );
}

fn isolator(test: &str) -> CgroupsIsolator {
    require_root();
    CgroupsIsolator::new(CgroupsOptions {
        cpu: true,
        mem: true,
        root: format!("isolation-test-{test}-{}", std::process::id()),
        enable_cfs: true,
    })
    .unwrap_or_else(|e| panic!("the cgroups tests need writable cgroups: {e}"))
}

fn config(id: &str, resources: &str) -> ContainerConfig {
    ContainerConfig {
        container_id: ContainerId::new(id),
        directory: std::env::temp_dir(),
        resources: resources.parse().unwrap(),
    }
}

/// Starts `command` the way the agent does: the child joins the container before exec.
fn spawn(launch: &LaunchInfo, command: &str, stdout: Stdio) -> Child {
    let setup = launch.child_setup(None).unwrap();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", command])
        .stdout(stdout)
        .stderr(Stdio::null());
    // SAFETY: `enter` only makes system calls on data prepared before the fork.
    unsafe {
        cmd.pre_exec(move || setup.enter());
    }
    cmd.spawn().unwrap()
}

/// A limit file's value, whichever cgroup version holds it.
fn limit(dirs: &[PathBuf], v1: &str, v2: &str) -> String {
    for dir in dirs {
        for file in [v1, v2] {
            if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
                return text.trim().to_string();
            }
        }
    }
    panic!("no {v1} or {v2} in {dirs:?}");
}

fn remove_roots(isolator: &CgroupsIsolator) {
    for root in isolator.roots() {
        let _ = std::fs::remove_dir(root);
    }
}

#[test]
fn limits_grow_and_shrink_usage_comes_from_the_cgroup_and_cleanup_kills_and_removes() {
    let mut isolator = isolator("update");
    let config = config("c-update", "cpus:1;mem:64");
    let id = config.container_id.clone();
    let launch = isolator.prepare(&config).unwrap();
    let dirs = isolator.container_dirs(&id);
    assert_eq!(launch.cgroups, dirs);
    let mem = |dirs: &[PathBuf]| limit(dirs, "memory.limit_in_bytes", "memory.max");
    assert_eq!(mem(&dirs), (64u64 << 20).to_string());
    assert_eq!(limit(&dirs, "cpu.shares", "cpu.weight"), "1024");
    assert_eq!(limit(&dirs, "cpu.cfs_quota_us", "cpu.max"), "100000");
    isolator
        .update(&id, &"cpus:2;mem:128".parse().unwrap())
        .unwrap();
    assert_eq!(mem(&dirs), (128u64 << 20).to_string());
    assert_eq!(limit(&dirs, "cpu.shares", "cpu.weight"), "2048");
    // Below Mesos's floor: 32 MB.
    isolator
        .update(&id, &"cpus:0.1;mem:16".parse().unwrap())
        .unwrap();
    assert_eq!(mem(&dirs), (32u64 << 20).to_string());
    assert_eq!(limit(&dirs, "cpu.cfs_quota_us", "cpu.max"), "10000");

    let mut child = spawn(&launch, "exec sleep 60", Stdio::null());
    let procs = std::fs::read_to_string(dirs[0].join("cgroup.procs")).unwrap();
    assert!(
        procs.lines().any(|l| l == child.id().to_string()),
        "{procs}"
    );
    let stats = isolator.usage(&id).unwrap();
    assert_eq!(stats.processes, 1);
    // The enforced limit (Mesos's 32 MB floor), not the 16 MB asked for.
    assert_eq!(stats.mem_limit_bytes, 32 << 20);
    assert_eq!(stats.mem_limit_bytes.to_string(), mem(&dirs));
    assert!(stats.cpus_nr_throttled.is_some());
    assert!(stats.mem_max_usage_bytes.is_some());
    assert_eq!(isolator.limitation(&id), None);

    isolator.cleanup(&id).unwrap();
    assert_eq!(
        child.wait_within("the container's process", WAIT).signal(),
        Some(libc::SIGKILL)
    );
    assert!(dirs.iter().all(|d| !d.exists()));
    remove_roots(&isolator);
}

#[test]
fn an_oom_kill_is_reported_as_a_memory_limitation_with_limit_and_usage() {
    let mut isolator = isolator("oom");
    let config = config("c-oom", "cpus:0.1;mem:32");
    let id = config.container_id.clone();
    let launch = isolator.prepare(&config).unwrap();
    let mut child = spawn(
        &launch,
        "exec dd if=/dev/zero of=/dev/null bs=256M count=1",
        Stdio::null(),
    );
    assert_eq!(
        child.wait_within("the container's process", WAIT).signal(),
        Some(libc::SIGKILL)
    );
    let limitation = isolator.limitation(&id).expect("the OOM kill is seen");
    assert_eq!(limitation.resource, "mem");
    assert!(
        limitation
            .message
            .starts_with("Memory limit exceeded: Requested: 32MB Maximum Used: "),
        "{}",
        limitation.message
    );
    isolator.cleanup(&id).unwrap();
    remove_roots(&isolator);
}

#[test]
fn recovery_keeps_recovered_containers_and_destroys_orphans() {
    let first = isolator("orphans");
    let dirs =
        |name: &str| -> Vec<PathBuf> { first.roots().iter().map(|r| r.join(name)).collect() };
    let (orphan_dirs, kept_dirs) = (dirs("orphan"), dirs("kept"));
    for dir in orphan_dirs.iter().chain(&kept_dirs) {
        std::fs::create_dir_all(dir).unwrap();
    }
    let in_cgroups = |cgroups: &[PathBuf]| LaunchInfo {
        cgroups: cgroups.to_vec(),
        ..LaunchInfo::default()
    };
    let mut orphan = spawn(&in_cgroups(&orphan_dirs), "exec sleep 60", Stdio::null());
    let mut kept = spawn(&in_cgroups(&kept_dirs), "exec sleep 60", Stdio::null());
    // Forgotten, as by an agent that crashed.
    std::mem::forget(first);
    let mut second = isolator("orphans");
    second
        .recover(&[RecoveredContainer {
            container_id: ContainerId::new("kept"),
            pid: kept.id(),
            resources: "cpus:0.5;mem:64".parse().unwrap(),
        }])
        .unwrap();
    assert_eq!(
        orphan.wait_within("the orphan's process", WAIT).signal(),
        Some(libc::SIGKILL)
    );
    assert!(orphan_dirs.iter().all(|d| !d.exists()));
    // The recovered container still runs, in its cgroups, and is managed again.
    assert!(kept.try_wait().unwrap().is_none());
    assert!(kept_dirs.iter().all(|d| d.exists()));
    assert!(second.usage(&ContainerId::new("kept")).is_ok());
    second.cleanup(&ContainerId::new("kept")).unwrap();
    assert_eq!(
        kept.wait_within("the kept container's process", WAIT)
            .signal(),
        Some(libc::SIGKILL)
    );
    remove_roots(&second);
}

#[test]
fn a_pid_namespace_makes_the_child_pid_one_with_its_own_proc() {
    require_root();
    let launch = LaunchInfo {
        pid_namespace: true,
        ..LaunchInfo::default()
    };
    let child = spawn(
        &launch,
        "echo $$; ls -d /proc/[0-9]* | wc -l",
        Stdio::piped(),
    );
    let output = child.output_within("the pid-namespaced shell", WAIT);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(lines[0], "1", "{text}");
    let visible: u32 = lines[1].parse().unwrap();
    assert!(visible <= 4, "sees {visible} processes: {text}");
}
