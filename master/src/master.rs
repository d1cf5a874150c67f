//! [`Master::spawn`]: runs a master on a runtime; [`MasterHandle`] to reach and stop it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesos::{MasterInfo, Uuid};
use parking_lot::Mutex;
use process::{Handle, Pid, Upid};

use crate::config::MasterConfig;
use crate::core::{CoreConfig, MasterCore};
use crate::leadership::Leadership;
use crate::process::{MasterProcess, MetricsView, RootKind, RootView};

/// Why a master could not start.
#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    /// The runtime listens on an IPv6 address; `MasterInfo` carries IPv4 (as Mesos's does).
    #[error("the runtime listens on {0}, but the master needs an IPv4 address")]
    NotIpv4(SocketAddr),
    /// A process could not be spawned (e.g. a `master` process already runs on this runtime).
    #[error("cannot spawn the master's '{id}' process: {source}")]
    Spawn {
        /// The process id.
        id: &'static str,
        /// The runtime's error.
        source: process::Error,
    },
}

/// The Mesos master.
#[derive(Debug)]
pub struct Master;

/// A running master: its address, its `MasterInfo`, and a way to stop it.
#[derive(Debug, Clone)]
pub struct MasterHandle {
    runtime: Handle,
    master: Pid<MasterProcess>,
    others: Vec<Upid>,
    info: MasterInfo,
    core: Arc<Mutex<MasterCore>>,
    flags: Arc<serde_json::Value>,
    leadership: Arc<Leadership>,
    auth_metrics: Arc<crate::auth::AuthMetrics>,
}

impl Master {
    /// Starts a master on `runtime`: process `master` (messages, `/master/state`,
    /// `/master/state.json`, `/master/frameworks`, `/master/slaves`, `/master/health`), `metrics`
    /// (`/metrics/snapshot`), and the top-level aliases `/state`, `/state.json`, `/health`,
    /// `/version`. Its pid is `master@<runtime address>`.
    ///
    /// # Errors
    /// [`MasterError::NotIpv4`] for a runtime on an IPv6 address; [`MasterError::Spawn`] when a
    /// process id is taken.
    pub fn spawn(runtime: &Handle, config: MasterConfig) -> Result<MasterHandle, MasterError> {
        let addr = runtime.addr();
        let IpAddr::V4(ip) = addr.ip() else {
            return Err(MasterError::NotIpv4(addr));
        };
        let id = Uuid::random().to_string();
        // HTTP clients connect to this name after a redirect: it must resolve, so the default
        // is the address itself rather than a host name that may not.
        let hostname = config.hostname.clone().unwrap_or_else(|| ip.to_string());
        let info = MasterInfo::new(id.clone(), ip, addr.port(), Some(hostname));
        let seed = config
            .seed
            .unwrap_or_else(|| u64::from_str_radix(&id.replace('-', "")[..16], 16).unwrap_or(0));
        // The one wall-clock read: the core derives every timestamp from it and its `now`s.
        #[allow(clippy::disallowed_methods)]
        let start_wall_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs_f64();
        let mut core = MasterCore::new(
            CoreConfig {
                master_info: info.clone(),
                allocation_interval: config.allocation_interval,
                agent_ping_timeout: config.agent_ping_timeout,
                max_agent_ping_timeouts: config.max_agent_ping_timeouts,
                offer_timeout: config.offer_timeout,
                agent_reregister_timeout: config.agent_reregister_timeout,
                agent_reregistration_window: config.agent_reregistration_window,
                start_wall_secs,
                seed,
            },
            runtime.clock().now(),
        );
        core.set_acls(config.auth.acls.clone());
        let core = Arc::new(Mutex::new(core));
        let flags = Arc::new(config.flags_json());
        let leadership = Arc::new(Leadership::new(!config.standby, &info));
        let auth_metrics = Arc::new(crate::auth::AuthMetrics::default());
        let spawn_err = |id: &'static str| move |source| MasterError::Spawn { id, source };
        let master = runtime
            .spawn(
                "master",
                MasterProcess::new(
                    core.clone(),
                    flags.clone(),
                    leadership.clone(),
                    crate::auth::MasterAuth::new(config.auth.clone(), auth_metrics.clone()),
                    crate::api::Streams::new(
                        config.scheduler_heartbeat_interval,
                        config.max_stream_queued_bytes,
                    ),
                ),
            )
            .map_err(spawn_err("master"))?;
        // Paths naming no process (`/api/v1/scheduler`, `/api/v1`, `/tasks`, ...) are the
        // master's, as libprocess delegates them.
        runtime.set_http_delegate(Some("master"));
        let authentication = config.auth.http.enabled().then(|| {
            config
                .auth
                .http
                .clone()
                .guard("mesos-master", crate::auth::master_realm)
        });
        if !config.auth.acls.unenforced.is_empty() {
            tracing::warn!(acls = ?config.auth.acls.unenforced, "--acls: these Mesos ACLs are accepted but not enforced by this master");
        }
        // `get_endpoints` in `--acls`, checked after authentication.
        if let Some(guard) = mesos::acl::http::guard(
            authentication,
            config.auth.http.clone(),
            config.auth.acls.clone(),
            None,
        ) {
            runtime.set_http_guard(Some(guard));
        }
        let mut others = Vec::new();
        let metrics = runtime
            .spawn(
                "metrics",
                MetricsView {
                    core: core.clone(),
                    leadership: leadership.clone(),
                    auth_metrics: auth_metrics.clone(),
                },
            )
            .map_err(spawn_err("metrics"));
        match metrics {
            Ok(pid) => others.push(pid.upid().clone()),
            Err(error) => {
                runtime.terminate(&master);
                return Err(error);
            }
        }
        for (id, kind) in [
            ("state", RootKind::State),
            ("state.json", RootKind::State),
            ("health", RootKind::Health),
            ("version", RootKind::Version),
        ] {
            let view = RootView {
                core: core.clone(),
                flags: flags.clone(),
                leadership: leadership.clone(),
                kind,
                viewer: crate::acl_view::Viewer {
                    acls: config.auth.acls.clone(),
                    http: config.auth.http.clone(),
                },
            };
            match runtime.spawn(id, view) {
                Ok(pid) => others.push(pid.upid().clone()),
                Err(source) => {
                    runtime.terminate(&master);
                    for pid in &others {
                        runtime.terminate(pid);
                    }
                    return Err(MasterError::Spawn {
                        id: match kind {
                            RootKind::State => "state",
                            RootKind::Health => "health",
                            RootKind::Version => "version",
                        },
                        source,
                    });
                }
            }
        }
        // The files API (`/master/log` with --log_dir), the web UI's assets and the proxy to
        // agents' files and state (`/agent/<id>/...`).
        let files = files::Files::new();
        if let Some(log_dir) = &config.log_dir {
            if let Err(error) = files.attach("/master/log", log_dir.join(crate::MASTER_LOG_FILE)) {
                tracing::warn!(%error, "cannot attach the master's log");
            }
        }
        let extras = [
            ("files", files.spawn(runtime).map(|p| p.upid().clone())),
            (
                crate::webui::WEBUI_PROCESS_ID,
                runtime
                    .spawn(
                        crate::webui::WEBUI_PROCESS_ID,
                        crate::webui::WebUiAssets {
                            core: core.clone(),
                            flags: flags.clone(),
                            leadership: leadership.clone(),
                            last_summary: None,
                        },
                    )
                    .map(|p| p.upid().clone()),
            ),
            (
                "agent",
                runtime
                    .spawn(
                        "agent",
                        crate::webui::proxy::AgentProxy { core: core.clone() },
                    )
                    .map(|p| p.upid().clone()),
            ),
        ];
        for (id, spawned) in extras {
            // The master works without them (a test may run an agent's `files` on this runtime).
            match spawned {
                Ok(pid) => others.push(pid),
                Err(error) => tracing::warn!(id, %error, "cannot start an HTTP view"),
            }
        }
        tracing::info!(pid = %master.upid(), id = %info.id, "master started");
        Ok(MasterHandle {
            runtime: runtime.clone(),
            master,
            others,
            info,
            core,
            flags,
            leadership,
            auth_metrics,
        })
    }
}

impl MasterHandle {
    /// The master's pid (`master@ip:port`): where schedulers and agents send.
    pub fn pid(&self) -> &Upid {
        self.master.upid()
    }

    /// The master's description (id, pid, hostname, version, address).
    pub fn info(&self) -> &MasterInfo {
        &self.info
    }

    /// `/master/state` as JSON, rendered now.
    pub fn state(&self) -> serde_json::Value {
        crate::process::state_with_leader(&self.core.lock(), &self.flags, &self.leadership)
    }

    /// `/metrics/snapshot` as JSON, rendered now.
    pub fn metrics(&self) -> serde_json::Value {
        let now = self.runtime.clock().now();
        crate::process::metrics_with_leader(
            &self.core.lock(),
            now,
            &self.leadership,
            &self.auth_metrics,
        )
    }

    /// Whether this master acts as the leader (always, for a standalone master).
    pub fn is_elected(&self) -> bool {
        self.leadership.is_elected()
    }

    /// Applies a leader election's outcome (see `mesos_zookeeper::MasterContender`): `elected`
    /// makes this master the leader, starting from fresh soft state that agents and frameworks
    /// rebuild by re-registering; `false` makes it a standby that drops every message at once
    /// (also the way to fence a master whose ZooKeeper session is gone). `leader` is what
    /// `/master/state` shows as `leader`/`leader_info`. Returns when the master process has
    /// applied it.
    pub fn set_leadership(&self, elected: bool, leader: Option<MasterInfo>) {
        // The flag first: messages already queued in the master's mailbox (a flood of
        // re-registrations that heard of the election at the same moment) are then handled by
        // the new leader instead of being dropped by the standby it was.
        self.leadership.set(elected, leader.clone());
        let reply = self.runtime.dispatch(&self.master, move |this, ctx| {
            this.set_leadership(ctx, elected, leader)
        });
        let _ = reply.wait();
    }

    /// Stops acting as the leader at once, without waiting for the master process (whose mailbox
    /// may hold thousands of messages): for threads that must never block, such as the one
    /// keeping the ZooKeeper session alive. The process is told afterwards.
    pub fn fence(&self) {
        self.leadership.set(false, None);
        drop(self.runtime.dispatch(&self.master, move |this, ctx| {
            this.set_leadership(ctx, false, None)
        }));
    }

    /// Hands a newly elected master the agent registry its predecessor published: offers wait
    /// until those agents have re-registered (or `agent_reregistration_window` passed), and the
    /// ones still missing after `agent_reregister_timeout` are marked lost. `None`: the registry
    /// could not be read (offers wait the whole window). Returns when applied.
    pub fn recover_agents(&self, agents: Option<Vec<crate::RegisteredAgent>>) {
        let reply = self.runtime.dispatch(&self.master, move |this, ctx| {
            this.recover_agents(ctx, agents)
        });
        let _ = reply.wait();
    }

    /// The agent registry to publish (every admitted agent, plus those a recovery still waits
    /// for) and its generation, which changes whenever the set does.
    pub fn registry(&self) -> (u64, Vec<crate::RegisteredAgent>) {
        self.core.lock().registry()
    }

    /// The publisher wrote registry `generation` to ZooKeeper: the status updates held until
    /// then go out (see [`MasterCore::registry_published`](crate::MasterCore::registry_published)).
    /// Does not wait for the master process.
    pub fn registry_published(&self, generation: u64) {
        drop(self.runtime.dispatch(&self.master, move |this, ctx| {
            this.registry_published(ctx, generation)
        }));
    }

    /// The registry's generation alone: cheap to poll.
    pub fn registry_generation(&self) -> u64 {
        self.core.lock().registry_generation()
    }

    /// Whether offers are held back while agents re-register after an election.
    pub fn holding_offers(&self) -> bool {
        self.core.lock().holding_offers(self.runtime.clock().now())
    }

    /// Asks the master and its HTTP views to stop (they finalize on their runtime's workers);
    /// returns at once. [`MasterHandle::wait`] blocks until they are gone, after which a new
    /// master can be spawned on the same runtime.
    pub fn stop(&self) {
        for pid in &self.others {
            self.runtime.terminate(pid);
        }
        self.runtime.terminate(&self.master);
    }

    /// Blocks until the master process and its HTTP views have terminated. Do not call it from a
    /// process of the master's runtime (that worker could be the one needed to finish them).
    pub fn wait(&self) {
        self.runtime.wait(&self.master);
        for pid in &self.others {
            self.runtime.wait(pid);
        }
    }

    /// As [`MasterHandle::wait`], waiting at most `timeout` for each process; true if every one
    /// terminated.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.runtime.wait_timeout(&self.master, timeout)
            && self
                .others
                .iter()
                .all(|pid| self.runtime.wait_timeout(pid, timeout))
    }
}
