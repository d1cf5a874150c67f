//! The master actor: converts messages, links and timers into [`MasterCore`] calls and performs
//! the outputs. No logic lives here.
//!
//! The core sits behind a mutex shared with the small HTTP-only processes that serve the
//! top-level aliases (`/state`, `/state.json`, `/health`, `/version`) and `/metrics/snapshot`:
//! a route handler must answer synchronously, so those processes read the state directly. The
//! lock is uncontended except while such a request is being rendered.

use std::sync::Arc;
use std::time::Instant;

use mesos::auth::{fresh_nonce, AuthenticateMessage, AuthenticationResponseMessage};
use mesos::protocol::*;
use parking_lot::Mutex;
use process::http::{Request, Responder, Response};
use process::{Context, Handlers, Process, Timer, Upid};
use serde_json::Value as Json;

use crate::acl_view::ViewFilter;
use crate::api::events::Subscribers;
use crate::api::{StreamWrite, Streams};
use crate::auth::{AuthMetrics, AuthReply, MasterAuth};
use crate::core::MasterCore;
use crate::early::{EarlyRegistrations, Registration};
use crate::http;
use crate::leadership::Leadership;
use crate::outputs::{Endpoint, Output};
use crate::snapshot::{answer_off_actor, json_response, Snapshot};

/// The master process (`master@ip:port`).
pub struct MasterProcess {
    pub(crate) core: Arc<Mutex<MasterCore>>,
    pub(crate) flags: Arc<Json>,
    /// Whether this master leads (a standby drops every message and does no timed work).
    pub(crate) leadership: Arc<Leadership>,
    /// The v1 HTTP schedulers' event streams.
    pub(crate) streams: Streams,
    /// The v1 operator API's event streams (SUBSCRIBE).
    pub(crate) subscribers: Subscribers,
    /// The armed timer: its deadline, generation and handle.
    timer: Option<(Instant, u64, Timer)>,
    timer_generation: u64,
    /// A tick is queued in the mailbox already (coalesces bursts of triggering events).
    tick_queued: bool,
    /// Registrations that reached this master as a standby, replayed if it is elected at once.
    early: EarlyRegistrations,
    /// The leadership this process last acted on. The shared flag changes first (from the
    /// election's thread); the first input after a change applies it here, so messages already
    /// queued behind the change are handled by the new leader rather than dropped.
    pub(crate) leading: bool,
    /// Who authenticated as which principal, and the exchanges in progress.
    pub(crate) auth: MasterAuth,
}

impl MasterProcess {
    pub(crate) fn new(
        core: Arc<Mutex<MasterCore>>,
        flags: Arc<Json>,
        leadership: Arc<Leadership>,
        auth: MasterAuth,
        streams: Streams,
    ) -> MasterProcess {
        let leading = leadership.is_elected();
        MasterProcess {
            leading,
            core,
            flags,
            leadership,
            streams,
            subscribers: Subscribers::default(),
            timer: None,
            timer_generation: 0,
            tick_queued: false,
            early: EarlyRegistrations::default(),
            auth,
        }
    }

    /// Runs one input on the core and performs what it produced; returns what `f` returned. A
    /// standby (not elected) master drops every input (`None`): agents and schedulers must talk
    /// to the leader only.
    pub(crate) fn input<R>(
        &mut self,
        ctx: &mut Context<'_, Self>,
        f: impl FnOnce(&mut MasterCore, Instant) -> R,
    ) -> Option<R> {
        self.sync_leadership(ctx);
        if !self.leading {
            tracing::debug!("not the leading master: input dropped");
            return None;
        }
        let now = ctx.now();
        let (result, outputs, writes, events, deadline) = {
            let mut core = self.core.lock();
            let result = f(&mut core, now);
            let outputs = core.drain_outputs();
            // Stream events are rendered here, with the core at hand (offers name their roles).
            let heartbeat = self.streams.heartbeat.as_secs_f64();
            let (outputs, writes) = crate::api::scheduler::render(&core, outputs, heartbeat);
            let events: Vec<Json> = core
                .drain_changes()
                .into_iter()
                .filter_map(|change| crate::api::events::render(&core, change))
                .collect();
            (result, outputs, writes, events, core.next_deadline(now))
        };
        perform(ctx, outputs);
        self.write_streams(ctx, writes);
        if !events.is_empty() {
            let records: Vec<Vec<u8>> = events.iter().map(crate::api::record).collect();
            self.subscribers.broadcast(&events, &records);
            self.stop_observing_if_idle();
        }
        self.rearm(ctx, now, deadline);
        Some(result)
    }

    fn write_streams(&mut self, ctx: &mut Context<'_, Self>, writes: Vec<StreamWrite>) {
        for write in writes {
            if let Some(first_heartbeat) = self.streams.write(write) {
                self.schedule_heartbeat(ctx, first_heartbeat);
            }
        }
    }

    fn message(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: &Upid,
        f: impl FnOnce(&mut MasterCore, Instant, &Upid),
    ) {
        self.input(ctx, |core, now| {
            core.count_message();
            f(core, now, from)
        });
    }

    /// A message from a driver-based scheduler.
    fn framework_message(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: &Upid,
        f: impl FnOnce(&mut MasterCore, Instant, &Endpoint),
    ) {
        let from = Endpoint::Pid(from.clone());
        self.input(ctx, |core, now| {
            core.count_message();
            f(core, now, &from)
        });
    }

    /// Whether this master leads now (applying a pending change of leadership first).
    pub(crate) fn leads(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        self.sync_leadership(ctx);
        self.leading
    }

    /// A (re)registration: handled by a leader; kept for a moment by a standby, which may be
    /// about to learn it was elected (see [`crate::early`]).
    fn registration(&mut self, ctx: &mut Context<'_, Self>, from: &Upid, message: Registration) {
        let checked = match &message {
            Registration::Framework(m) => self.auth.check_framework(from, &m.framework),
            Registration::ReregisterFramework(m) => self.auth.check_framework(from, &m.framework),
            Registration::Agent(_) | Registration::ReregisterAgent(_) => {
                self.auth.check_agent(from)
            }
        };
        if let Err(refusal) = checked {
            tracing::warn!(%from, %refusal, "registration refused");
            match message {
                Registration::Framework(_) | Registration::ReregisterFramework(_) => ctx.send(
                    from,
                    FrameworkErrorMessage {
                        message: refusal.to_string(),
                    },
                ),
                // An agent learns it through the authentication conversation (it has no error
                // message of its own): one with a credential re-authenticates, one without stops.
                Registration::Agent(_) | Registration::ReregisterAgent(_) => ctx.send(
                    from,
                    mesos::auth::AuthenticationFailedMessage {
                        reason: refusal.to_string(),
                    },
                ),
            }
            return;
        }
        self.sync_leadership(ctx);
        if !self.leading {
            self.early.keep(ctx.now(), from, message);
            return;
        }
        self.message(ctx, from, |core, now, from| message.apply(core, now, from));
    }

    fn tick(&mut self, ctx: &mut Context<'_, Self>) {
        self.input(ctx, |core, now| {
            let runs = core.allocation_runs_started();
            // A metric (`allocator/mesos/allocation_run_ms`), not logic: real time, whatever
            // the runtime clock says.
            #[allow(clippy::disallowed_methods)]
            let started = std::time::Instant::now();
            core.tick(now);
            if core.allocation_runs_started() != runs {
                core.record_allocation_run(started.elapsed());
            }
        });
    }

    /// Makes sure `tick` runs by `deadline`: queued at once when due (behind the messages
    /// already in the mailbox, so a burst costs one allocation run), else one timer.
    fn rearm(&mut self, ctx: &mut Context<'_, Self>, now: Instant, deadline: Instant) {
        if deadline <= now {
            if !self.tick_queued {
                self.tick_queued = true;
                let pid = ctx.pid();
                drop(ctx.runtime().dispatch(&pid, |this: &mut Self, ctx| {
                    this.tick_queued = false;
                    this.tick(ctx);
                }));
            }
            return;
        }
        if let Some((at, _, timer)) = &self.timer {
            if *at <= deadline {
                return;
            }
            timer.cancel();
        }
        self.timer_generation += 1;
        let generation = self.timer_generation;
        let timer = ctx.delay(deadline - now, move |this: &mut Self, ctx| {
            if this
                .timer
                .as_ref()
                .is_some_and(|(_, g, _)| *g == generation)
            {
                this.timer = None;
            }
            this.tick(ctx);
        });
        self.timer = Some((deadline, generation, timer));
    }

    /// Records the election's outcome and applies it (see [`MasterProcess::sync_leadership`]).
    pub(crate) fn set_leadership(
        &mut self,
        ctx: &mut Context<'_, Self>,
        elected: bool,
        leader: Option<mesos::MasterInfo>,
    ) {
        self.leadership.set(elected, leader);
        self.sync_leadership(ctx);
    }

    /// Acts on a change of the shared leadership flag: on election, the master starts from fresh
    /// soft state at `now` (the agent re-registration window starts now), replays the
    /// registrations that reached it just before, and rebuilds the rest from the agents and
    /// frameworks that re-register; a master that stops leading drops everything from then on.
    fn sync_leadership(&mut self, ctx: &mut Context<'_, Self>) {
        let elected = self.leadership.is_elected();
        if elected == self.leading {
            return;
        }
        self.leading = elected;
        // HTTP schedulers subscribed to the previous core (or to a master that no longer
        // leads) must subscribe again, to the leader; so must operators.
        self.streams.close_all();
        self.subscribers.close_all();
        self.core.lock().observe_changes(false);
        if elected {
            let now = ctx.now();
            {
                let mut core = self.core.lock();
                let mut config = core.config().clone();
                config.start_wall_secs = core.wall(now);
                let acls = core.acls().clone();
                *core = MasterCore::new(config, now);
                core.set_acls(acls);
                core.begin_recovery(now);
                // The HA publisher reports each registry written (`registry_published`).
                core.hold_updates_until_published();
            }
            tracing::info!(pid = %ctx.pid().upid(), "elected: acting as the leading master");
            let early = self.early.take_fresh(now);
            if !early.is_empty() {
                tracing::info!(
                    count = early.len(),
                    "replaying registrations that arrived just before the election"
                );
            }
            for (from, registration) in early {
                self.input(ctx, |core, now| {
                    core.count_message();
                    registration.apply(core, now, &from)
                });
            }
            self.tick(ctx);
        } else {
            if let Some((_, _, timer)) = self.timer.take() {
                timer.cancel();
            }
            tracing::warn!(pid = %ctx.pid().upid(), "no longer the leading master");
        }
    }

    /// The agent registry the previous leader published (see [`MasterCore::recover_agents`]).
    pub(crate) fn recover_agents(
        &mut self,
        ctx: &mut Context<'_, Self>,
        agents: Option<Vec<crate::RegisteredAgent>>,
    ) {
        self.input(ctx, |core, now| core.recover_agents(now, agents));
    }

    /// The HA publisher wrote registry `generation`.
    pub(crate) fn registry_published(&mut self, ctx: &mut Context<'_, Self>, generation: u64) {
        self.input(ctx, |core, now| core.registry_published(now, generation));
    }

    pub(crate) fn render(&self, f: impl FnOnce(&MasterCore) -> Json) -> Response {
        let core = self.core.lock();
        Response::ok_json(&f(&core))
    }
}

/// Sends the core's messages to processes and links (stream events were rendered already).
fn perform<P: Process>(ctx: &Context<'_, P>, outputs: Vec<Output>) {
    for output in outputs {
        match output {
            Output::Send {
                to: Endpoint::Pid(pid),
                message,
            } => message.send_from(ctx, &pid),
            Output::Link { pid, connection } => ctx.link_with(&pid, connection),
            Output::Send {
                to: Endpoint::Stream(_),
                ..
            }
            | Output::CloseStream { .. } => {}
        }
    }
}

/// Sends the answer to an authentication message.
fn send_auth_reply<P: Process>(ctx: &Context<'_, P>, to: &Upid, reply: AuthReply) {
    match reply {
        AuthReply::Challenge(m) => ctx.send(to, m),
        AuthReply::Completed(m) => ctx.send(to, m),
        AuthReply::Failed(m) => ctx.send(to, m),
    }
}

/// Installs `handler` for message type `$ty` from an agent (or any process), calling
/// `MasterCore::$method(now, from_pid, message)`.
macro_rules! on {
    ($h:expr, $($ty:ty => $method:ident),+ $(,)?) => {
        $($h.on(|this: &mut MasterProcess, ctx, from, message: $ty| {
            this.message(ctx, from, |core, now, from| core.$method(now, from, message))
        });)+
    };
}

/// As `on!`, for messages from driver-based schedulers: the core gets their [`Endpoint`].
macro_rules! on_framework {
    ($h:expr, $($ty:ty => $method:ident),+ $(,)?) => {
        $($h.on(|this: &mut MasterProcess, ctx, from, message: $ty| {
            this.framework_message(ctx, from, |core, now, from| core.$method(now, from, message))
        });)+
    };
}

impl Process for MasterProcess {
    fn handlers(h: &mut Handlers<Self>) {
        h.on(
            |this: &mut MasterProcess, ctx, from, m: RegisterFrameworkMessage| {
                this.registration(ctx, from, Registration::Framework(m))
            },
        );
        h.on(
            |this: &mut MasterProcess, ctx, from, m: ReregisterFrameworkMessage| {
                this.registration(ctx, from, Registration::ReregisterFramework(m))
            },
        );
        h.on(
            |this: &mut MasterProcess, ctx, from, m: RegisterSlaveMessage| {
                this.registration(ctx, from, Registration::Agent(m))
            },
        );
        h.on(
            |this: &mut MasterProcess, ctx, from, m: ReregisterSlaveMessage| {
                this.registration(ctx, from, Registration::ReregisterAgent(m))
            },
        );
        h.on(
            |this: &mut MasterProcess, ctx, from, m: AuthenticateMessage| {
                let (now, me) = (ctx.now(), ctx.pid().upid().clone());
                let reply = this.auth.start(now, from, &me, m, fresh_nonce());
                send_auth_reply(ctx, from, reply);
            },
        );
        h.on(
            |this: &mut MasterProcess, ctx, from, m: AuthenticationResponseMessage| {
                let (now, me) = (ctx.now(), ctx.pid().upid().clone());
                let reply = this.auth.step(now, from, &me, m);
                if matches!(reply, AuthReply::Completed(_)) {
                    // Its connection breaking voids the authentication (see `exited`).
                    ctx.link(from);
                }
                send_auth_reply(ctx, from, reply);
            },
        );
        on_framework!(h,
            UnregisterFrameworkMessage => unregister_framework,
            DeactivateFrameworkMessage => deactivate_framework,
            LaunchTasksMessage => launch_tasks,
            ReviveOffersMessage => revive_offers,
            SuppressOffersMessage => suppress_offers,
            KillTaskMessage => kill_task,
            StatusUpdateAcknowledgementMessage => acknowledge,
            ReconcileTasksMessage => reconcile_tasks,
            FrameworkToExecutorMessage => framework_to_executor,
        );
        on!(h,
            StatusUpdateMessage => status_update,
            ExecutorToFrameworkMessage => executor_to_framework,
            ExitedExecutorMessage => exited_executor,
            UnregisterSlaveMessage => unregister_agent,
        );
        h.on(|this: &mut MasterProcess, ctx, from, _: PongSlaveMessage| {
            this.message(ctx, from, |core, now, from| core.pong(now, from))
        });
        for path in ["/state", "/state.json"] {
            h.route_deferred(path, |this: &mut MasterProcess, _, request, responder| {
                let filter = this.auth.viewer.filter(&request, &this.core.lock());
                state_off_actor(&this.core, &this.flags, &this.leadership, filter, responder)
            });
        }
        h.route(
            "/frameworks",
            |this: &mut MasterProcess, _, request: &Request| {
                let core = this.core.lock();
                let mut frameworks = http::frameworks_json(&core);
                if let Some(filter) = this.auth.viewer.filter(request, &core) {
                    filter.apply(&mut frameworks);
                }
                Response::ok_json(&frameworks)
            },
        );
        h.route("/slaves", |this: &mut MasterProcess, _, _: &Request| {
            this.render(http::slaves_json)
        });
        h.route("/health", |_: &mut MasterProcess, _, _: &Request| {
            Response::text(200, "")
        });
        h.route(
            "/api/v1/scheduler",
            |this: &mut MasterProcess, ctx, request| this.scheduler_api(ctx, request),
        );
        // `/api/v1/operator` reaches this route by prefix, as in libprocess.
        h.route_deferred(
            "/api/v1",
            |this: &mut MasterProcess, ctx, request, responder| {
                this.operator_api(ctx, &request, responder)
            },
        );
        h.route_deferred(
            "/tasks",
            |this: &mut MasterProcess, _, request, responder| {
                let query = match crate::api::legacy::TasksQuery::parse(&request) {
                    Ok(query) => query,
                    Err(message) => return responder.respond(Response::bad_request(&message)),
                };
                let (snapshot, filter) = {
                    let core = this.core.lock();
                    (
                        Snapshot::take(&core),
                        this.auth.viewer.filter(&request, &core),
                    )
                };
                answer_off_actor(responder, move || {
                    let body = crate::api::legacy::tasks(&snapshot, &query);
                    json_response(filtered(filter.as_ref(), body))
                });
            },
        );
        h.route_deferred(
            "/state-summary",
            |this: &mut MasterProcess, _, request, responder| {
                let (snapshot, filter) = {
                    let core = this.core.lock();
                    (
                        Snapshot::take(&core),
                        this.auth.viewer.filter(&request, &core),
                    )
                };
                answer_off_actor(responder, move || {
                    let body = crate::snapshot::legacy::state_summary(&snapshot);
                    json_response(filtered(filter.as_ref(), body))
                });
            },
        );
        h.route("/roles", |this: &mut MasterProcess, _, _: &Request| {
            this.render(|core| crate::api::operator::roles(core, true))
        });
        h.route("/flags", |this: &mut MasterProcess, _, _: &Request| {
            Response::ok_json(&serde_json::json!({ "flags": *this.flags }))
        });
        h.route("/teardown", |this: &mut MasterProcess, ctx, request| {
            this.teardown_form(ctx, request)
        });
        h.route("/redirect", |this: &mut MasterProcess, ctx, request| {
            this.redirect(ctx, request)
        });
        // `/` (handed to the master as libprocess's delegate): the web UI's page.
        h.route("/", |_: &mut MasterProcess, _, request| {
            crate::webui::root(request)
        });
    }

    fn initialize(&mut self, ctx: &mut Context<'_, Self>) {
        self.tick(ctx);
    }

    fn exited(&mut self, ctx: &mut Context<'_, Self>, pid: &Upid) {
        self.auth.exited(pid);
        self.input(ctx, |core, now| core.exited(now, pid));
    }
}

/// Answers `/master/state` (with the election's view of the leader) from a snapshot taken now,
/// rendered on another thread (see [`crate::snapshot`]).
fn state_off_actor(
    core: &Mutex<MasterCore>,
    flags: &Arc<Json>,
    leadership: &Arc<Leadership>,
    filter: Option<ViewFilter>,
    responder: Responder,
) {
    let snapshot = Snapshot::take(&core.lock());
    let (flags, leadership) = (flags.clone(), leadership.clone());
    answer_off_actor(responder, move || {
        let body = crate::snapshot::legacy::state(&snapshot, &flags, &leadership);
        json_response(filtered(filter.as_ref(), body))
    });
}

/// `body` with what `filter`'s principal may not see removed (`--acls` `view_*`).
pub(crate) fn filtered(filter: Option<&ViewFilter>, body: Vec<u8>) -> Vec<u8> {
    match filter {
        Some(filter) => filter.apply_bytes(body),
        None => body,
    }
}

/// `/master/state` with the election's view of the leader.
pub(crate) fn state_with_leader(core: &MasterCore, flags: &Json, leadership: &Leadership) -> Json {
    let mut state = http::state_json(core, flags);
    leadership.apply_to_state(&mut state);
    state
}

/// `/metrics/snapshot` with `master/elected`.
pub(crate) fn metrics_with_leader(
    core: &MasterCore,
    now: Instant,
    leadership: &Leadership,
    auth: &AuthMetrics,
) -> Json {
    let mut metrics = http::metrics_json(core, now);
    if let Some(metrics) = metrics.as_object_mut() {
        core.allocation_run_times().apply_to(metrics);
    }
    leadership.apply_to_metrics(&mut metrics);
    auth.apply_to(&mut metrics);
    metrics
}

/// What a [`RootView`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootKind {
    /// `/state` and `/state.json`.
    State,
    /// `/health`.
    Health,
    /// `/version`.
    Version,
}

/// Serves a top-level path (`/state`, `/state.json`, `/health`, `/version`): a process whose id is
/// the path, answering its root route.
pub(crate) struct RootView {
    pub(crate) core: Arc<Mutex<MasterCore>>,
    pub(crate) flags: Arc<Json>,
    pub(crate) leadership: Arc<Leadership>,
    pub(crate) kind: RootKind,
    /// Who may see what (`--acls` `view_*`).
    pub(crate) viewer: crate::acl_view::Viewer,
}

impl Process for RootView {
    fn handlers(h: &mut Handlers<Self>) {
        h.route_deferred(
            "/",
            |this: &mut RootView, _, request, responder| match this.kind {
                RootKind::State => {
                    let filter = this.viewer.filter(&request, &this.core.lock());
                    state_off_actor(&this.core, &this.flags, &this.leadership, filter, responder)
                }
                RootKind::Health => responder.respond(Response::text(200, "")),
                RootKind::Version => {
                    responder.respond(Response::ok_json(&crate::api::operator::version_info()))
                }
            },
        );
    }
}

/// The `metrics` process: `/metrics/snapshot`.
pub(crate) struct MetricsView {
    pub(crate) core: Arc<Mutex<MasterCore>>,
    pub(crate) leadership: Arc<Leadership>,
    pub(crate) auth_metrics: Arc<AuthMetrics>,
}

impl Process for MetricsView {
    fn handlers(h: &mut Handlers<Self>) {
        h.route("/snapshot", |this: &mut MetricsView, ctx, _: &Request| {
            let now = ctx.now();
            let core = this.core.lock();
            Response::ok_json(&metrics_with_leader(
                &core,
                now,
                &this.leadership,
                &this.auth_metrics,
            ))
        });
    }
}
