//! Framework lifecycle: registration, re-registration and scheduler failover, disconnection and
//! the failover timeout, deactivation, teardown, suppress and revive.

use std::time::Instant;

use allocator::{Allocator, FrameworkOptions};
use mesos::protocol::*;
use mesos::resources::is_valid_role;
use mesos::{FrameworkCapability, FrameworkId, FrameworkInfo, Reason, TaskState};

use process::{RemoteConnection, Upid};

use super::{Change, Deadline, Framework, MasterCore, MAX_COMPLETED_FRAMEWORKS};
use crate::outputs::Endpoint;
use std::cmp::Reverse;

/// Checks what the master needs of a `FrameworkInfo`; the error says what is wrong.
pub fn validate_framework(info: &FrameworkInfo) -> Result<(), String> {
    let roles = info.effective_roles();
    if roles.is_empty() {
        return Err(if info.has_capability(FrameworkCapability::MultiRole) {
            "a MULTI_ROLE framework must set 'roles'".to_string()
        } else {
            "the framework has no role".to_string()
        });
    }
    if let Some(bad) = roles.iter().find(|r| !is_valid_role(r)) {
        return Err(format!("invalid role '{bad}'"));
    }
    Ok(())
}

fn options(info: &FrameworkInfo, suppressed_roles: Vec<String>, active: bool) -> FrameworkOptions {
    FrameworkOptions {
        roles: info
            .effective_roles()
            .iter()
            .map(|r| r.to_string())
            .collect(),
        suppressed_roles,
        active,
    }
}

impl MasterCore {
    /// `RegisterFrameworkMessage` from the scheduler at `from`.
    pub fn register_framework(
        &mut self,
        now: Instant,
        from: &Upid,
        message: RegisterFrameworkMessage,
    ) {
        // A retry from a scheduler that is registered already (our answer was lost): answer again.
        if let Some(id) = self.framework_by_pid.get(from).cloned() {
            if self.frameworks.get(&id).is_some_and(|f| f.connected) {
                let master_info = self.config.master_info.clone();
                self.send(
                    from,
                    FrameworkRegisteredMessage {
                        framework_id: id,
                        master_info,
                    },
                );
                return;
            }
        }
        self.add_framework(
            now,
            Endpoint::Pid(from.clone()),
            message.framework,
            message.suppressed_roles,
        );
    }

    /// A v1 SUBSCRIBE on the HTTP stream `from`: a new framework (no id), or a known or
    /// recovered one taking over (the previous scheduler, if connected, gets "Framework failed
    /// over" and its stream or link is dropped).
    pub fn subscribe(
        &mut self,
        now: Instant,
        from: Endpoint,
        framework: FrameworkInfo,
        suppressed_roles: Vec<String>,
    ) {
        if framework.id.is_some() {
            self.readd_framework(now, from, framework, true, suppressed_roles);
        } else {
            self.add_framework(now, from, framework, suppressed_roles);
        }
    }

    /// Registers a new framework reached at `from`.
    fn add_framework(
        &mut self,
        now: Instant,
        from: Endpoint,
        mut info: FrameworkInfo,
        suppressed_roles: Vec<String>,
    ) {
        if let Err(error) = validate_framework(&info) {
            self.send_to(
                &from,
                FrameworkErrorMessage {
                    message: format!("framework registration refused: {error}"),
                },
            );
            return;
        }
        let id = FrameworkId::new(format!(
            "{}-{:04}",
            self.config.master_info.id, self.next_framework
        ));
        self.next_framework += 1;
        info.id = Some(id.clone());
        if let Err(error) = self
            .allocator
            .add_framework(id.as_str(), options(&info, suppressed_roles, true))
        {
            self.send_to(
                &from,
                FrameworkErrorMessage {
                    message: format!("framework registration refused: {error}"),
                },
            );
            return;
        }
        tracing::info!(framework = %id, name = %info.name, %from, "framework registered");
        let time = self.wall(now);
        self.frameworks.insert(
            id.clone(),
            Framework::new(id.clone(), info, Some(from.clone()), time),
        );
        self.changes.record(|| Change::FrameworkAdded(id.clone()));
        if let Endpoint::Pid(pid) = &from {
            self.framework_by_pid.insert(pid.clone(), id.clone());
        }
        self.watch(&from, RemoteConnection::Reuse);
        let master_info = self.config.master_info.clone();
        self.send_to(
            &from,
            FrameworkRegisteredMessage {
                framework_id: id,
                master_info,
            },
        );
    }

    /// `ReregisterFrameworkMessage` from the scheduler at `from`: a reconnect, a scheduler failover
    /// (a new pid, or `failover` set), or a framework this master learns of for the first time
    /// (after a master restart).
    pub fn reregister_framework(
        &mut self,
        now: Instant,
        from: &Upid,
        message: ReregisterFrameworkMessage,
    ) {
        self.readd_framework(
            now,
            Endpoint::Pid(from.clone()),
            message.framework,
            message.failover,
            message.suppressed_roles,
        );
    }

    /// Re-registers a framework by its id, now reached at `from`.
    fn readd_framework(
        &mut self,
        now: Instant,
        from: Endpoint,
        info: FrameworkInfo,
        failover: bool,
        suppressed_roles: Vec<String>,
    ) {
        let Some(id) = info.id.clone() else {
            self.send_to(
                &from,
                FrameworkErrorMessage {
                    message: "framework re-registration refused: the FrameworkInfo has no id"
                        .to_string(),
                },
            );
            return;
        };
        if self.removed_framework_ids.contains(&id) {
            self.send_to(
                &from,
                FrameworkErrorMessage {
                    message: format!("Framework {id} has been removed"),
                },
            );
            return;
        }
        if let Err(error) = validate_framework(&info) {
            self.send_to(
                &from,
                FrameworkErrorMessage {
                    message: format!("framework re-registration refused: {error}"),
                },
            );
            return;
        }
        let time = self.wall(now);
        let master_info = self.config.master_info.clone();
        let Some(framework) = self.frameworks.get(&id) else {
            // Unknown here (this master restarted): take the framework with its id.
            if let Err(error) = self
                .allocator
                .add_framework(id.as_str(), options(&info, suppressed_roles, true))
            {
                self.send_to(
                    &from,
                    FrameworkErrorMessage {
                        message: format!("framework re-registration refused: {error}"),
                    },
                );
                return;
            }
            tracing::info!(framework = %id, %from, "framework re-registered (new to this master)");
            let mut framework = Framework::new(id.clone(), info, Some(from.clone()), time);
            framework.reregistered_time = Some(time);
            self.frameworks.insert(id.clone(), framework);
            self.changes.record(|| Change::FrameworkAdded(id.clone()));
            if let Endpoint::Pid(pid) = &from {
                self.framework_by_pid.insert(pid.clone(), id.clone());
            }
            self.watch(&from, RemoteConnection::Reconnect);
            self.send_to(
                &from,
                FrameworkReregisteredMessage {
                    framework_id: id,
                    master_info,
                },
            );
            return;
        };

        let old_endpoint = framework.endpoint.clone();
        let was_connected = framework.connected;
        let old_offers: Vec<_> = framework.offers.iter().cloned().collect();
        let failover = failover || old_endpoint.as_ref().is_some_and(|old| *old != from);
        if failover {
            if let Some(old) = old_endpoint.as_ref().filter(|old| **old != from) {
                if was_connected {
                    self.send_to(
                        old,
                        FrameworkErrorMessage {
                            message: "Framework failed over".to_string(),
                        },
                    );
                }
                self.close_stream(old);
            }
            // The previous instance's offers are void; the resources go back (no filter) so the
            // new instance can be offered them at once.
            for offer in old_offers {
                self.rescind_offer(now, &offer, false);
            }
            tracing::info!(framework = %id, old = ?old_endpoint, new = %from, "scheduler failed over");
        }
        if let Some(old) = old_endpoint.as_ref().and_then(Endpoint::pid) {
            if self.framework_by_pid.get(old) == Some(&id) {
                self.framework_by_pid.remove(old);
            }
        }
        if let Endpoint::Pid(pid) = &from {
            self.framework_by_pid.insert(pid.clone(), id.clone());
        }
        let Some(framework) = self.frameworks.get_mut(&id) else {
            return;
        };
        let mut info = info;
        info.id = Some(id.clone());
        let was_active = framework.active;
        framework.info = info;
        framework.endpoint = Some(from.clone());
        framework.connected = true;
        framework.active = true;
        framework.recovered = false;
        framework.failover_deadline = None;
        framework.reregistered_time = Some(time);
        self.changes.record(|| Change::FrameworkUpdated(id.clone()));
        let opts = options(&framework.info, suppressed_roles, true);
        if let Err(error) = self.allocator.update_framework(id.as_str(), opts) {
            tracing::warn!(framework = %id, %error, "allocator refused the framework's new roles");
        }
        if !was_active {
            if let Err(error) = self.allocator.activate_framework(id.as_str()) {
                tracing::warn!(framework = %id, %error, "allocator cannot activate framework");
            }
        }
        self.watch(&from, RemoteConnection::Reconnect);
        if failover {
            self.send_to(
                &from,
                FrameworkRegisteredMessage {
                    framework_id: id.clone(),
                    master_info,
                },
            );
        } else {
            self.send_to(
                &from,
                FrameworkReregisteredMessage {
                    framework_id: id.clone(),
                    master_info,
                },
            );
        }
        if old_endpoint.as_ref() != Some(&from) {
            // Agents relay executor messages to the scheduler: tell them the new pid (none for
            // an HTTP scheduler, as Mesos sends an empty one).
            let pid = from.pid().map(Upid::to_string).unwrap_or_default();
            let agent_pids: Vec<Upid> = self.agents.values().map(|a| a.pid.clone()).collect();
            for agent in agent_pids {
                self.send(
                    &agent,
                    UpdateFrameworkMessage {
                        framework_id: id.clone(),
                        pid: pid.clone(),
                    },
                );
            }
        }
    }

    /// v1 UPDATE_FRAMEWORK from the framework's scheduler: new roles, capabilities, name,
    /// failover timeout and suppressed roles take effect at once.
    ///
    /// # Errors
    /// Why the new `FrameworkInfo` is refused (the caller answers 400).
    pub fn update_framework_info(
        &mut self,
        _now: Instant,
        from: &Endpoint,
        info: FrameworkInfo,
        suppressed_roles: Vec<String>,
    ) -> Result<(), String> {
        let Some(id) = info.id.clone() else {
            return Err("the FrameworkInfo has no id".into());
        };
        validate_framework(&info)?;
        let Some(framework) = self.framework_from(from, &id) else {
            return Err(format!("framework {id} is not subscribed on this stream"));
        };
        if framework.info.user != info.user {
            return Err("'user' cannot be changed".into());
        }
        if framework.info.checkpoint != info.checkpoint {
            return Err("'checkpoint' cannot be changed".into());
        }
        framework.info = info;
        let opts = options(&framework.info, suppressed_roles, framework.active);
        self.changes.record(|| Change::FrameworkUpdated(id.clone()));
        self.allocator
            .update_framework(id.as_str(), opts)
            .map_err(|e| e.to_string())
    }

    /// `UnregisterFrameworkMessage`: tear the framework down now.
    pub fn unregister_framework(
        &mut self,
        now: Instant,
        from: &Endpoint,
        message: UnregisterFrameworkMessage,
    ) {
        if self.framework_from(from, &message.framework_id).is_none() {
            return;
        }
        tracing::info!(framework = %message.framework_id, "framework unregistered: tearing down");
        self.remove_framework(now, &message.framework_id);
    }

    /// An operator's TEARDOWN of `id`; false when no such framework is registered.
    pub fn teardown(&mut self, now: Instant, id: &FrameworkId) -> bool {
        if !self.frameworks.contains_key(id) {
            return false;
        }
        tracing::info!(framework = %id, "framework torn down by an operator");
        self.remove_framework(now, id);
        true
    }

    /// `DeactivateFrameworkMessage` (driver `stop(failover = true)`): no more offers, outstanding
    /// ones rescinded, and the failover timeout starts, as if the scheduler had disconnected (an
    /// embedded scheduler's connection may well stay open, so the master does not wait for it to
    /// break).
    pub fn deactivate_framework(
        &mut self,
        now: Instant,
        from: &Endpoint,
        message: DeactivateFrameworkMessage,
    ) {
        if self.framework_from(from, &message.framework_id).is_none() {
            return;
        }
        self.disconnect_framework(now, &message.framework_id);
    }

    /// `SuppressOffersMessage`.
    pub fn suppress_offers(
        &mut self,
        _now: Instant,
        from: &Endpoint,
        message: SuppressOffersMessage,
    ) {
        if self.framework_from(from, &message.framework_id).is_none() {
            return;
        }
        let roles: Vec<&str> = message.roles.iter().map(String::as_str).collect();
        if let Err(error) = self
            .allocator
            .suppress_offers(message.framework_id.as_str(), &roles)
        {
            tracing::warn!(framework = %message.framework_id, %error, "cannot suppress offers");
        }
    }

    /// `ReviveOffersMessage`: filters cleared, offers resume (triggers an allocation).
    pub fn revive_offers(&mut self, _now: Instant, from: &Endpoint, message: ReviveOffersMessage) {
        if self.framework_from(from, &message.framework_id).is_none() {
            return;
        }
        let roles: Vec<&str> = message.roles.iter().map(String::as_str).collect();
        if let Err(error) = self
            .allocator
            .revive_offers(message.framework_id.as_str(), &roles)
        {
            tracing::warn!(framework = %message.framework_id, %error, "cannot revive offers");
        }
    }

    /// The scheduler is gone (or deactivated): offers rescinded, no new ones, and the framework
    /// is torn down unless it re-registers within its `failover_timeout`.
    pub(super) fn disconnect_framework(&mut self, now: Instant, id: &FrameworkId) {
        let Some(framework) = self.frameworks.get_mut(id) else {
            return;
        };
        if !framework.connected && framework.failover_deadline.is_some() {
            return;
        }
        framework.connected = false;
        framework.active = false;
        self.changes.record(|| Change::FrameworkUpdated(id.clone()));
        let timeout = framework.info.failover_timeout();
        let deadline = now.checked_add(timeout);
        framework.failover_deadline = deadline;
        let offers: Vec<_> = framework.offers.iter().cloned().collect();
        if let Err(error) = self.allocator.deactivate_framework(id.as_str()) {
            tracing::warn!(framework = %id, %error, "allocator cannot deactivate framework");
        }
        for offer in offers {
            self.rescind_offer(now, &offer, false);
        }
        if let Some(at) = deadline {
            self.deadlines
                .push(Reverse((at, Deadline::Failover(id.clone()))));
        }
        tracing::info!(framework = %id, ?timeout, "framework disconnected: failover timeout started");
    }

    pub(super) fn failover_due(&mut self, now: Instant, at: Instant, id: &FrameworkId) {
        let due = self
            .frameworks
            .get(id)
            .is_some_and(|f| !f.connected && f.failover_deadline == Some(at));
        if due {
            tracing::info!(framework = %id, "failover timeout expired: tearing the framework down");
            self.remove_framework(now, id);
        }
    }

    /// Tears a framework down: its tasks are killed (agents get `ShutdownFrameworkMessage`),
    /// its offers and resources go back, and it moves to the completed frameworks.
    pub(super) fn remove_framework(&mut self, now: Instant, id: &FrameworkId) {
        let Some(mut framework) = self.frameworks.remove(id) else {
            return;
        };
        if let Some(pid) = framework.pid() {
            if self.framework_by_pid.get(pid) == Some(id) {
                self.framework_by_pid.remove(pid);
            }
        }
        if let Some(endpoint) = framework.endpoint.clone().filter(|_| framework.connected) {
            // Mesos ends a torn-down HTTP framework's stream.
            self.close_stream(&endpoint);
        }
        for offer in std::mem::take(&mut framework.offers) {
            if let Some(entry) = self.remove_offer(&offer) {
                self.recover(
                    now,
                    id,
                    &entry.role,
                    &entry.offer.agent_id,
                    &entry.offer.resources,
                    None,
                );
            }
        }
        let message = format!("Framework {id} removed");
        for (task_id, mut entry) in std::mem::take(&mut framework.tasks) {
            let agent_id = entry.task.agent_id.clone();
            if let Some(agent) = self.agents.get_mut(&agent_id) {
                agent.tasks.remove(&(id.clone(), task_id.clone()));
            }
            self.recover(now, id, &entry.role, &agent_id, &entry.task.resources, None);
            let status = self.master_status(
                now,
                &task_id,
                TaskState::Killed,
                Reason::FrameworkRemoved,
                message.clone(),
                Some(&agent_id),
                entry.task.executor_id.as_ref(),
            );
            let previous = std::mem::replace(&mut entry.task.state, TaskState::Killed);
            self.changes.task_state(id, previous, &entry.task, &status);
            entry.task.statuses.push(status);
            self.count_terminal(TaskState::Killed);
            framework.add_completed(entry.task);
        }
        for (_, entry) in std::mem::take(&mut framework.unreachable_tasks) {
            framework.add_completed(entry.task);
        }
        for (agent_id, executors) in std::mem::take(&mut framework.executors) {
            for (_, executor) in executors {
                self.recover(
                    now,
                    id,
                    &executor.role,
                    &agent_id,
                    &executor.info.resources,
                    None,
                );
            }
        }
        let agent_pids: Vec<Upid> = self.agents.values().map(|a| a.pid.clone()).collect();
        for pid in agent_pids {
            self.send(
                &pid,
                ShutdownFrameworkMessage {
                    framework_id: id.clone(),
                },
            );
        }
        if let Err(error) = self.allocator.remove_framework(id.as_str()) {
            tracing::warn!(framework = %id, %error, "allocator cannot remove framework");
        }
        framework.connected = false;
        framework.active = false;
        framework.failover_deadline = None;
        framework.unregistered_time = Some(self.wall(now));
        if self.completed_frameworks.len() >= MAX_COMPLETED_FRAMEWORKS {
            self.completed_frameworks.pop_front();
        }
        self.changes
            .record(|| Change::FrameworkRemoved(framework.info.clone()));
        self.completed_frameworks.push_back(framework);
        self.removed_framework_ids.insert(id.clone());
    }
}
