//! The frameworks as child processes: where their binaries are ([`Toolbox`]), and running a group
//! of them side by side ([`run_group`]) with start offsets, a deadline, captured output, and every
//! other member stopped as soon as one fails (a broken experiment should fail fast and say why).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::MacroBenchError;

/// The directory holding the framework binaries (`wordcount-framework`, `mpi-framework`,
/// `shell-framework` and their executors).
#[derive(Debug, Clone)]
pub struct Toolbox {
    dir: PathBuf,
}

impl Toolbox {
    /// `dir` if given, else the directory of the running executable (cargo puts every binary of
    /// a build in one directory; `deps/` is stepped out of for test binaries).
    ///
    /// # Errors
    /// [`MacroBenchError::Cluster`] if the executable's own path is unknown.
    pub fn locate(dir: Option<PathBuf>) -> Result<Toolbox, MacroBenchError> {
        if let Some(dir) = dir {
            return Ok(Toolbox { dir });
        }
        let exe = std::env::current_exe()
            .map_err(|e| MacroBenchError::Cluster(format!("cannot find this executable: {e}")))?;
        let mut dir = exe
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        if dir.file_name().is_some_and(|n| n == "deps") {
            dir.pop();
        }
        Ok(Toolbox { dir })
    }

    /// Where binaries are looked for.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of binary `name`.
    ///
    /// # Errors
    /// [`MacroBenchError::MissingBinary`] (with the build command) if it is not there.
    pub fn binary(&self, name: &str) -> Result<PathBuf, MacroBenchError> {
        let path = self.dir.join(name);
        if path.is_file() {
            Ok(path)
        } else {
            Err(MacroBenchError::MissingBinary {
                name: name.to_string(),
                dir: self.dir.clone(),
            })
        }
    }
}

/// One framework run: a binary, its flags, and when to start it.
#[derive(Debug, Clone)]
pub struct ChildSpec {
    /// A name for reports and errors (e.g. `wordcount`).
    pub name: String,
    /// The binary.
    pub program: PathBuf,
    /// Its flags.
    pub args: Vec<String>,
    /// How long after the group's start to launch it.
    pub start_after: Duration,
    /// How many times to run it back to back (each run must succeed); e.g. batches of shell
    /// tasks.
    pub repeat: usize,
}

impl ChildSpec {
    /// Runs `program` once with `args`, at the group's start.
    pub fn new(name: &str, program: PathBuf, args: Vec<String>) -> ChildSpec {
        ChildSpec {
            name: name.to_string(),
            program,
            args,
            start_after: Duration::ZERO,
            repeat: 1,
        }
    }
}

/// What a finished [`ChildSpec`] left behind.
#[derive(Debug, Clone, Default)]
pub struct ChildOutput {
    /// The run's name.
    pub name: String,
    /// Every stdout line of every repetition, in order.
    pub stdout: Vec<String>,
    /// Wall seconds of each repetition (spawn to exit).
    pub run_s: Vec<f64>,
    /// Seconds from the group's start to its first launch.
    pub started_s: f64,
    /// Seconds from the group's start to its last exit.
    pub ended_s: f64,
}

/// The last `n` lines of `lines` joined, for error messages.
fn tail(lines: &[String], n: usize) -> String {
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Collects a child's pipe line by line on a thread.
fn drain<R: Read + Send + 'static>(pipe: R, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut lines) = into.lock() {
                lines.push(line);
            }
        }
    });
}

/// Waits for `child` while watching the abort flag and the deadline; kills it on either.
fn supervise(
    mut child: Child,
    name: &str,
    deadline: Instant,
    timeout: Duration,
    abort: &AtomicBool,
    stderr: &Mutex<Vec<String>>,
) -> Result<(), MacroBenchError> {
    let stderr_tail = || stderr.lock().map(|l| tail(&l, 15)).unwrap_or_default();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                // Let the reader threads catch the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return Err(MacroBenchError::FrameworkFailed {
                    name: name.to_string(),
                    status: status.to_string(),
                    stderr_tail: stderr_tail(),
                });
            }
            Ok(None) => {}
            Err(source) => {
                return Err(MacroBenchError::Spawn {
                    name: name.to_string(),
                    source,
                })
            }
        }
        let aborted = abort.load(Ordering::Acquire);
        if aborted || Instant::now() >= deadline {
            // Ours to end: the child we spawned, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            return Err(if aborted {
                MacroBenchError::Aborted {
                    name: name.to_string(),
                }
            } else {
                MacroBenchError::Timeout {
                    name: name.to_string(),
                    seconds: timeout.as_secs(),
                    stderr_tail: stderr_tail(),
                }
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs one spec (all its repetitions) relative to the group's `start`.
fn run_one(
    spec: &ChildSpec,
    start: Instant,
    timeout: Duration,
    abort: &AtomicBool,
) -> Result<ChildOutput, MacroBenchError> {
    let deadline = start + timeout;
    let launch_at = start + spec.start_after;
    while Instant::now() < launch_at {
        if abort.load(Ordering::Acquire) {
            return Err(MacroBenchError::Aborted {
                name: spec.name.clone(),
            });
        }
        std::thread::sleep(Duration::from_millis(10).min(launch_at - Instant::now()));
    }
    let mut output = ChildOutput {
        name: spec.name.clone(),
        started_s: start.elapsed().as_secs_f64(),
        ..ChildOutput::default()
    };
    for _ in 0..spec.repeat.max(1) {
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let began = Instant::now();
        let mut child = Command::new(&spec.program)
            .args(&spec.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| MacroBenchError::Spawn {
                name: spec.name.clone(),
                source,
            })?;
        if let Some(pipe) = child.stdout.take() {
            drain(pipe, Arc::clone(&stdout));
        }
        if let Some(pipe) = child.stderr.take() {
            drain(pipe, Arc::clone(&stderr));
        }
        supervise(child, &spec.name, deadline, timeout, abort, &stderr)?;
        output.run_s.push(began.elapsed().as_secs_f64());
        // The pipe closes with the process; give the reader a moment to push the last line.
        let settle = Instant::now() + Duration::from_millis(500);
        while Arc::strong_count(&stdout) > 1 && Instant::now() < settle {
            std::thread::sleep(Duration::from_millis(5));
        }
        let lines = stdout.lock().map(|l| l.clone()).unwrap_or_default();
        output.stdout.extend(lines);
    }
    output.ended_s = start.elapsed().as_secs_f64();
    Ok(output)
}

/// Runs every spec concurrently (each after its `start_after`, relative to `start`) and waits for
/// all. The first failure stops the others; its error is returned.
///
/// # Errors
/// The first member's [`MacroBenchError`] (exit non-zero, timeout, spawn failure).
pub fn run_group(
    specs: &[ChildSpec],
    start: Instant,
    timeout: Duration,
) -> Result<Vec<ChildOutput>, MacroBenchError> {
    let abort = AtomicBool::new(false);
    let results: Vec<Result<ChildOutput, MacroBenchError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = specs
            .iter()
            .map(|spec| {
                let abort = &abort;
                scope.spawn(move || {
                    let result = run_one(spec, start, timeout, abort);
                    if result.is_err() {
                        abort.store(true, Ordering::Release);
                    }
                    result
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(specs)
            .map(|(h, spec)| {
                h.join().unwrap_or_else(|_| {
                    Err(MacroBenchError::Aborted {
                        name: spec.name.clone(),
                    })
                })
            })
            .collect()
    });
    let mut outputs = Vec::new();
    let mut first_error = None;
    for result in results {
        match result {
            Ok(output) => outputs.push(output),
            // An `Aborted` is a consequence; report the cause.
            Err(MacroBenchError::Aborted { .. }) if first_error.is_some() => {}
            Err(error @ MacroBenchError::Aborted { .. }) => {
                first_error = first_error.or(Some(error))
            }
            Err(error) => {
                if matches!(first_error, None | Some(MacroBenchError::Aborted { .. })) {
                    first_error = Some(error);
                }
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(outputs),
    }
}

/// Runs one spec alone, from now.
///
/// # Errors
/// As [`run_group`].
pub fn run_alone(spec: &ChildSpec, timeout: Duration) -> Result<ChildOutput, MacroBenchError> {
    let mut outputs = run_group(std::slice::from_ref(spec), Instant::now(), timeout)?;
    outputs.pop().ok_or_else(|| MacroBenchError::Aborted {
        name: spec.name.clone(),
    })
}
