//! Shared by the tests that run the real `macro-bench` binary: finding (and if need be building)
//! the framework binaries it starts as child processes.

use process::testing::BoundedCommand;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every binary a full `macro-bench` run starts, besides itself.
pub const FRAMEWORK_BINARIES: [&str; 10] = [
    "wordcount-framework",
    "wordcount-executor",
    "hadoop-lr-framework",
    "spark-framework",
    "spark-executor",
    "mpi-framework",
    "mpi-executor",
    "shell-framework",
    "mesos-executor",
    "service-framework",
];

/// The directory cargo put `macro-bench` in; the frameworks must be there too.
pub fn bin_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_macro-bench"));
    exe.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Builds the example frameworks and the command executor into the same target directory and
/// profile when one is missing (a plain `cargo test -p mesos-benches` does not build another
/// package's binaries; `scripts/test.sh` builds the whole workspace first, so they are current
/// there, and a build of only these packages could resolve other features and rebuild shared
/// dependencies); then checks they are all there.
pub fn ensure_frameworks(dir: &Path) {
    if FRAMEWORK_BINARIES
        .iter()
        .all(|name| dir.join(name).is_file())
    {
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "mesos-examples",
            "-p",
            "agent",
            "--bins",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    if let Some(target) = dir.parent() {
        build.arg("--target-dir").arg(target);
    }
    let status = build.status_within("cargo build", process::testing::CARGO_BUILD_PATIENCE);
    assert!(status.success(), "building the frameworks failed");
    for name in FRAMEWORK_BINARIES {
        assert!(dir.join(name).is_file(), "no {name} in {}", dir.display());
    }
}
