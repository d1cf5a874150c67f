//! Executor sandboxes made readable through the files API (`/files/...`): each one under its
//! real path and under Mesos's virtual `/frameworks/<fid>/executors/<eid>/runs/latest`. A
//! finished executor's sandbox stays readable until it is garbage collected.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use files::Files;

use crate::state::AgentBook;

/// The virtual path of an executor's latest run, as Mesos attaches it.
pub fn virtual_sandbox(framework_id: &str, executor_id: &str) -> String {
    format!("/frameworks/{framework_id}/executors/{executor_id}/runs/latest")
}

/// Keeps the files API's attachments in step with the agent's executors.
#[derive(Debug)]
pub(crate) struct Sandboxes {
    files: Files,
    /// Attached sandbox directories and the virtual paths naming them.
    attached: HashMap<PathBuf, Vec<String>>,
    /// Each attached sandbox's user, for `access_sandboxes` (see [`crate::sandbox_acl`]).
    owners: crate::sandbox_acl::SandboxOwners,
}

impl Sandboxes {
    pub(crate) fn new(files: Files) -> Sandboxes {
        Sandboxes {
            files,
            attached: HashMap::new(),
            owners: Default::default(),
        }
    }

    /// The sandboxes' users, shared with the HTTP guard.
    pub(crate) fn owners(&self) -> crate::sandbox_acl::SandboxOwners {
        self.owners.clone()
    }

    /// Attaches the sandbox of every executor not attached yet (cheap when none is new).
    pub(crate) fn update(&mut self, book: &AgentBook) {
        for executor in book.executors() {
            if self.attached.contains_key(&executor.directory) {
                continue;
            }
            let dir = &executor.directory;
            let latest = virtual_sandbox(
                executor.framework_id.as_str(),
                executor.info.executor_id.as_str(),
            );
            let mut names = Vec::with_capacity(2);
            for name in [dir.to_string_lossy().into_owned(), latest] {
                match self.files.attach(&name, dir) {
                    Ok(()) => names.push(name),
                    Err(error) => tracing::warn!(%error, "cannot attach a sandbox"),
                }
            }
            self.attached.insert(dir.clone(), names);
            let user = executor
                .info
                .command
                .user
                .clone()
                .filter(|u| !u.is_empty())
                .or_else(|| {
                    book.framework(&executor.framework_id)
                        .map(|f| f.info.user.clone())
                })
                .unwrap_or_default();
            self.owners
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(dir.clone(), user);
        }
    }

    /// A directory was removed (garbage collection): detach every sandbox inside it.
    pub(crate) fn removed(&mut self, path: &Path) {
        self.owners
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|dir, _| !dir.starts_with(path));
        self.attached.retain(|dir, names| {
            if !dir.starts_with(path) {
                return true;
            }
            for name in names.iter() {
                // The virtual `runs/latest` may name a newer run by now: only detach ours.
                let ours = self
                    .files
                    .attachments()
                    .iter()
                    .any(|(v, real)| v == name && real == dir);
                if ours {
                    self.files.detach(name);
                }
            }
            false
        });
    }
}
