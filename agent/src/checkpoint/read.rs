//! Reads `<work_dir>/meta` back into a [`RecoveredState`]. Never panics on what it finds: crash
//! debris (a directory without its info file, a torn update-log tail, leftover temp files) is
//! skipped quietly, as Mesos does; anything else unreadable is an error naming the file, fatal
//! with `--strict`, counted and skipped without.

use std::path::{Path, PathBuf};

use mesos::{AgentId, ContainerId, ExecutorInfo, FrameworkInfo};
use process::Upid;
use serde::de::DeserializeOwned;

use super::files::TEMP_PREFIX;
use super::layout::{MetaLayout, RunRef};
use super::log;
use super::state::*;

/// A checkpoint that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot recover from {path}: {reason}")]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

struct Reader {
    layout: MetaLayout,
    strict: bool,
    errors: Vec<String>,
}

impl Reader {
    /// Records a problem: fatal when strict, counted otherwise.
    fn problem(&mut self, path: &Path, reason: impl Into<String>) -> Result<(), ReadError> {
        let error = ReadError {
            path: path.to_path_buf(),
            reason: reason.into(),
        };
        if self.strict {
            return Err(error);
        }
        tracing::warn!(%error, "skipping what cannot be recovered (--strict=false)");
        self.errors.push(error.to_string());
        Ok(())
    }

    /// A file's bytes: None when missing or empty (crash debris: an empty file was created but its
    /// data never synced), an error when unreadable.
    fn bytes(&mut self, path: &Path) -> Result<Option<Vec<u8>>, ReadError> {
        match std::fs::read(path) {
            Ok(bytes) if bytes.is_empty() => {
                tracing::warn!(path = %path.display(), "empty checkpoint file; ignoring it");
                Ok(None)
            }
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => self.problem(path, err.to_string()).map(|()| None),
        }
    }

    fn json<T: DeserializeOwned>(&mut self, path: &Path) -> Result<Option<T>, ReadError> {
        let Some(bytes) = self.bytes(path)? else {
            return Ok(None);
        };
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(Some(value)),
            Err(err) => self
                .problem(path, format!("not a valid checkpoint: {err}"))
                .map(|()| None),
        }
    }

    fn text(&mut self, path: &Path) -> Result<Option<String>, ReadError> {
        let Some(bytes) = self.bytes(path)? else {
            return Ok(None);
        };
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Some(text.trim().to_string())),
            Err(_) => self.problem(path, "not UTF-8 text").map(|()| None),
        }
    }

    /// The entries of a directory (names), without temp files; empty if it does not exist.
    fn children(&mut self, dir: &Path) -> Result<Vec<String>, ReadError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return self.problem(dir, err.to_string()).map(|()| Vec::new()),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| !name.starts_with(TEMP_PREFIX) && name != "latest")
            .collect();
        names.sort();
        Ok(names)
    }

    fn link(&mut self, path: &Path) -> Result<Option<String>, ReadError> {
        match std::fs::read_link(path) {
            Ok(target) => match target.into_os_string().into_string() {
                Ok(name) if !name.is_empty() && !name.contains('/') => Ok(Some(name)),
                Ok(name) => self
                    .problem(path, format!("points at '{name}', not an id"))
                    .map(|()| None),
                Err(_) => self.problem(path, "not UTF-8").map(|()| None),
            },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => self.problem(path, err.to_string()).map(|()| None),
        }
    }
}

/// Reads the checkpoints under `<work_dir>/meta`.
///
/// # Errors
/// With `strict`, the first [`ReadError`]; without, none (problems are in
/// [`RecoveredState::errors`]).
pub fn read(work_dir: &Path, strict: bool) -> Result<RecoveredState, ReadError> {
    let mut reader = Reader {
        layout: MetaLayout::new(work_dir),
        strict,
        errors: Vec::new(),
    };
    let boot_id = reader.text(&reader.layout.boot_id())?;
    let agent = read_agent(&mut reader)?;
    Ok(RecoveredState {
        boot_id,
        agent,
        errors: reader.errors,
    })
}

fn read_agent(reader: &mut Reader) -> Result<Option<RecoveredAgent>, ReadError> {
    let latest = reader.layout.latest_agent();
    let Some(agent_id) = reader.link(&latest)? else {
        return Ok(None);
    };
    let agent_id = AgentId::new(agent_id);
    let path = reader.layout.agent_info(&agent_id);
    let Some(mut info) = reader.json::<mesos::AgentInfo>(&path)? else {
        reader.problem(&path, "the agent named by meta/slaves/latest has no info")?;
        return Ok(None);
    };
    if info.id.as_ref() != Some(&agent_id) {
        reader.problem(&path, format!("holds agent {:?}, not {agent_id}", info.id))?;
        info.id = Some(agent_id.clone());
    }
    let mut frameworks = Vec::new();
    let dir = reader.layout.agent(&agent_id).join("frameworks");
    for name in reader.children(&dir)? {
        let framework_id = mesos::FrameworkId::new(name);
        if let Some(framework) = read_framework(reader, &agent_id, &framework_id)? {
            frameworks.push(framework);
        }
    }
    Ok(Some(RecoveredAgent { info, frameworks }))
}

fn read_framework(
    reader: &mut Reader,
    agent_id: &AgentId,
    framework_id: &mesos::FrameworkId,
) -> Result<Option<RecoveredFramework>, ReadError> {
    let path = reader.layout.framework_info(agent_id, framework_id);
    let Some(mut info) = reader.json::<FrameworkInfo>(&path)? else {
        tracing::warn!(path = %path.display(), "framework without its info (crash debris); skipping it");
        return Ok(None);
    };
    info.id = Some(framework_id.clone());
    let pid = reader
        .text(&reader.layout.framework_pid(agent_id, framework_id))?
        .unwrap_or_default();
    let mut executors = Vec::new();
    let dir = reader
        .layout
        .framework(agent_id, framework_id)
        .join("executors");
    for name in reader.children(&dir)? {
        let executor_id = mesos::ExecutorId::new(name);
        if let Some(executor) = read_executor(reader, agent_id, framework_id, &executor_id)? {
            executors.push(executor);
        }
    }
    Ok(Some(RecoveredFramework {
        info,
        pid,
        executors,
    }))
}

fn read_executor(
    reader: &mut Reader,
    agent_id: &AgentId,
    framework_id: &mesos::FrameworkId,
    executor_id: &mesos::ExecutorId,
) -> Result<Option<RecoveredExecutor>, ReadError> {
    let layout = reader.layout.clone();
    let path = layout.executor_info(agent_id, framework_id, executor_id);
    let Some(info) = reader.json::<ExecutorInfo>(&path)? else {
        tracing::warn!(path = %path.display(), "executor without its info (crash debris); skipping it");
        return Ok(None);
    };
    let command_executor = layout
        .executor_generated(agent_id, framework_id, executor_id)
        .exists();
    let Some(latest) = reader.link(&layout.latest_run(agent_id, framework_id, executor_id))? else {
        tracing::warn!(path = %path.display(), "executor without a run (crash debris); skipping it");
        return Ok(None);
    };
    let runs_dir = layout
        .executor(agent_id, framework_id, executor_id)
        .join("runs");
    let old_runs = reader
        .children(&runs_dir)?
        .into_iter()
        .filter(|name| name != &latest)
        .map(|name| runs_dir.join(name))
        .collect();
    let run = RunRef {
        agent_id: agent_id.clone(),
        framework_id: framework_id.clone(),
        executor_id: executor_id.clone(),
        container_id: ContainerId::new(latest),
    };
    let run = read_run(reader, &run)?;
    Ok(Some(RecoveredExecutor {
        info,
        command_executor,
        run,
        old_runs,
    }))
}

fn read_run(reader: &mut Reader, run: &RunRef) -> Result<RecoveredRun, ReadError> {
    let layout = reader.layout.clone();
    let forked_path = layout.forked_pid(run);
    let forked_pid = match reader.text(&forked_path)? {
        None => None,
        Some(text) => match parse_forked_pid(&text) {
            Some(forked) => Some(forked),
            None => {
                reader.problem(&forked_path, format!("'{text}' is not a pid"))?;
                None
            }
        },
    };
    let pid_path = layout.libprocess_pid(run);
    let libprocess_pid = match reader.text(&pid_path)? {
        None => None,
        Some(text) => match text.parse::<Upid>() {
            Ok(pid) => Some(pid),
            Err(err) => {
                reader.problem(&pid_path, format!("'{text}' is not a process id: {err}"))?;
                None
            }
        },
    };
    let mut tasks = Vec::new();
    for name in reader.children(&layout.run(run).join("tasks"))? {
        let task_id = mesos::TaskId::new(name);
        let info_path = layout.task_info(run, &task_id);
        let Some(task) = reader.json::<mesos::TaskInfo>(&info_path)? else {
            tracing::warn!(path = %info_path.display(), "task without its info (crash debris); skipping it");
            continue;
        };
        let (records, damaged) = read_updates(reader, &layout.task_updates(run, &task_id))?;
        tasks.push(RecoveredTask {
            task,
            records,
            damaged,
        });
    }
    Ok(RecoveredRun {
        container_id: run.container_id.clone(),
        forked_pid,
        libprocess_pid,
        http: layout.http_marker(run).exists(),
        completed: layout.sentinel(run).exists(),
        tasks,
    })
}

fn parse_forked_pid(text: &str) -> Option<ForkedPid> {
    let mut parts = text.split_whitespace();
    let pid = parts.next()?.parse().ok().filter(|&p: &u32| p > 0)?;
    let start_ticks = match parts.next() {
        Some(start) => start.parse().ok()?,
        None => 0,
    };
    Some(ForkedPid { pid, start_ticks })
}

/// A task's update log, and whether it was damaged: a torn tail is dropped and cut off the file;
/// corruption before the end is a problem (the records before it are kept without `--strict`).
fn read_updates(
    reader: &mut Reader,
    path: &Path,
) -> Result<(Vec<log::UpdateRecord>, bool), ReadError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), false)),
        Err(err) => {
            return reader
                .problem(path, err.to_string())
                .map(|()| (Vec::new(), true))
        }
    };
    match log::decode(&bytes) {
        Ok(decoded) => {
            if decoded.valid_len < bytes.len() {
                tracing::warn!(path = %path.display(), dropped = bytes.len() - decoded.valid_len, "dropping the torn tail of an update log");
                if let Err(err) = super::files::truncate(path, decoded.valid_len as u64) {
                    reader.problem(path, err.to_string())?;
                }
            }
            Ok((decoded.records, false))
        }
        Err(err) => {
            reader.problem(path, err.to_string())?;
            // Without --strict: what precedes the corruption still counts.
            let good = log::decode(&bytes[..err.offset]).map(|d| d.records);
            Ok((good.unwrap_or_default(), true))
        }
    }
}
