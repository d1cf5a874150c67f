use std::time::Duration;

use super::*;
use crate::{MasterInfo, Uuid};

fn master() -> Upid {
    "master@127.0.0.1:5050".parse().unwrap()
}

fn impostor() -> Upid {
    "master@127.0.0.1:6060".parse().unwrap()
}

fn core_with(framework: FrameworkInfo, implicit: bool) -> DriverCore {
    DriverCore::new(
        framework,
        CoreOptions {
            implicit_acknowledgements: implicit,
            backoff_factor: Duration::from_secs(2),
            seed: 9,
        },
    )
}

fn core() -> DriverCore {
    core_with(FrameworkInfo::new("u", "f"), true)
}

fn registered(core: &mut DriverCore) {
    core.start(Some(master()));
    let out = core.on_registered(
        &master(),
        FrameworkRegisteredMessage {
            framework_id: FrameworkId::new("fw-1"),
            master_info: MasterInfo::default(),
        },
    );
    assert_eq!(out.len(), 1);
}

fn sent(out: &[Output]) -> Vec<ToMaster> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(_, m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn callbacks(out: &[Output]) -> Vec<Callback> {
    out.iter()
        .filter_map(|o| match o {
            Output::Callback(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn retry_of(out: &[Output]) -> Option<(Duration, u64)> {
    out.iter().find_map(|o| match o {
        Output::Timer {
            after,
            timer: Timer::RetryRegistration { generation },
        } => Some((*after, *generation)),
        _ => None,
    })
}

fn update(task: &str, state: TaskState, uuid: Option<Uuid>) -> StatusUpdateMessage {
    let mut status = TaskStatus::new(TaskId::new(task), state);
    status.uuid = uuid;
    StatusUpdateMessage {
        update: StatusUpdate {
            framework_id: FrameworkId::new("fw-1"),
            executor_id: None,
            agent_id: Some(AgentId::new("a-1")),
            status,
            timestamp: 0.0,
            uuid: uuid.unwrap_or_default(),
        },
        pid: Some("slave(1)@127.0.0.1:5051".into()),
    }
}

#[test]
fn start_links_registers_and_retries_until_registered() {
    let mut core = core();
    let out = core.start(Some(master()));
    assert_eq!(out[0], Output::Link(master()));
    assert!(matches!(sent(&out)[..], [ToMaster::Register(_)]));
    let (after, generation) = retry_of(&out).unwrap();
    assert!(after <= Duration::from_secs(2));
    // The retry re-sends while unregistered, with a doubled cap.
    let again = core.timer_fired(Timer::RetryRegistration { generation });
    assert!(matches!(sent(&again)[..], [ToMaster::Register(_)]));
    assert!(retry_of(&again).unwrap().0 <= Duration::from_secs(4));
    // Stale chains do nothing.
    assert!(core
        .timer_fired(Timer::RetryRegistration {
            generation: generation + 7
        })
        .is_empty());
    registered(&mut core);
    assert!(core.is_connected());
    assert!(core
        .timer_fired(Timer::RetryRegistration { generation })
        .is_empty());
}

#[test]
fn messages_from_a_non_leading_master_are_dropped() {
    let mut core = core();
    core.start(Some(master()));
    let from_impostor = core.on_registered(
        &impostor(),
        FrameworkRegisteredMessage {
            framework_id: FrameworkId::new("fw-x"),
            master_info: MasterInfo::default(),
        },
    );
    assert!(from_impostor.is_empty());
    assert!(!core.is_connected());
    registered(&mut core);
    let offers = ResourceOffersMessage {
        offers: vec![],
        pids: vec![],
    };
    assert!(core.on_offers(&impostor(), offers.clone()).is_empty());
    assert_eq!(core.on_offers(&master(), offers).len(), 1);
    let error = FrameworkErrorMessage {
        message: "x".into(),
    };
    assert!(core.on_error(&impostor(), error).is_empty());
    assert_eq!(core.status(), DriverStatus::Running);
}

#[test]
fn registered_twice_calls_back_once() {
    let mut core = core();
    registered(&mut core);
    let dup = core.on_registered(
        &master(),
        FrameworkRegisteredMessage {
            framework_id: FrameworkId::new("fw-1"),
            master_info: MasterInfo::default(),
        },
    );
    assert!(dup.is_empty());
    assert_eq!(core.framework_id(), Some(&FrameworkId::new("fw-1")));
}

#[test]
fn a_new_instance_with_an_id_fails_over_then_reregisters_plainly() {
    let framework = FrameworkInfo {
        id: Some(FrameworkId::new("fw-1")),
        ..FrameworkInfo::new("u", "f")
    };
    let mut core = core_with(framework, true);
    let out = core.start(Some(master()));
    match &sent(&out)[..] {
        [ToMaster::Reregister(m)] => assert!(m.failover),
        other => panic!("expected a failover re-registration, got {other:?}"),
    }
    let out = core.on_registered(
        &master(),
        FrameworkRegisteredMessage {
            framework_id: FrameworkId::new("fw-1"),
            master_info: MasterInfo::default(),
        },
    );
    assert!(matches!(callbacks(&out)[..], [Callback::Registered(..)]));
    // The master goes away: disconnected, then a plain re-registration.
    let out = core.exited(&master());
    assert_eq!(callbacks(&out), vec![Callback::Disconnected]);
    let (_, generation) = retry_of(&out).unwrap();
    let out = core.timer_fired(Timer::RetryRegistration { generation });
    match &sent(&out)[..] {
        [ToMaster::Reregister(m)] => assert!(!m.failover),
        other => panic!("expected a re-registration, got {other:?}"),
    }
    let out = core.on_reregistered(
        &master(),
        FrameworkReregisteredMessage {
            framework_id: FrameworkId::new("fw-1"),
            master_info: MasterInfo::default(),
        },
    );
    assert!(matches!(callbacks(&out)[..], [Callback::Reregistered(_)]));
}

#[test]
fn exit_of_another_process_or_while_unregistered_changes_nothing() {
    let mut core = core();
    core.start(Some(master()));
    assert!(core.exited(&master()).is_empty());
    registered(&mut core);
    assert!(core.exited(&impostor()).is_empty());
    assert!(core.is_connected());
}

#[test]
fn implicit_acknowledgement_follows_the_callback() {
    let mut core = core();
    registered(&mut core);
    let uuid = Uuid::random();
    let out = core.on_status_update(&master(), update("t1", TaskState::Running, Some(uuid)));
    assert!(matches!(
        out[0],
        Output::Callback(Callback::StatusUpdate(_))
    ));
    match &out[1] {
        Output::Send(to, ToMaster::Acknowledge(ack)) => {
            assert_eq!(to, &master());
            assert_eq!(ack.uuid, uuid);
            assert_eq!(ack.task_id, TaskId::new("t1"));
            assert_eq!(ack.agent_id, AgentId::new("a-1"));
            assert_eq!(ack.framework_id, FrameworkId::new("fw-1"));
        }
        other => panic!("expected an acknowledgement, got {other:?}"),
    }
    // Master-generated updates (reconciliation) carry no uuid: nothing to acknowledge.
    let out = core.on_status_update(&master(), update("t1", TaskState::Running, None));
    assert_eq!(out.len(), 1);
}

#[test]
fn explicit_acknowledgement_waits_for_the_scheduler() {
    let mut core = core_with(FrameworkInfo::new("u", "f"), false);
    registered(&mut core);
    let uuid = Uuid::random();
    let out = core.on_status_update(&master(), update("t1", TaskState::Finished, Some(uuid)));
    assert_eq!(out.len(), 1);
    let Output::Callback(Callback::StatusUpdate(status)) = &out[0] else {
        panic!("expected the callback");
    };
    let ack = core.acknowledge(status.clone());
    assert!(matches!(sent(&ack)[..], [ToMaster::Acknowledge(ref a)] if a.uuid == uuid));
    // With implicit acknowledgements an explicit one is refused.
    let mut implicit = core_with(FrameworkInfo::new("u", "f"), true);
    registered(&mut implicit);
    assert!(implicit.acknowledge(status.clone()).is_empty());
}

#[test]
fn launching_while_disconnected_is_lost_locally() {
    let task = |id: &str| {
        TaskInfo::new(id, id, AgentId::new("a-1"), "cpus:1".parse().unwrap())
            .with_command(crate::CommandInfo::shell("true"))
    };
    let mut core = core();
    core.start(Some(master()));
    let out = core.launch_tasks(
        vec![OfferId::new("o-1")],
        vec![task("t1"), task("t2")],
        Filters::default(),
    );
    assert!(sent(&out).is_empty());
    let states: Vec<_> = callbacks(&out)
        .into_iter()
        .map(|c| match c {
            Callback::StatusUpdate(s) => (s.task_id, s.state, s.reason, s.source),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (
                TaskId::new("t1"),
                TaskState::Lost,
                Some(Reason::MasterDisconnected),
                Some(Source::Master)
            ),
            (
                TaskId::new("t2"),
                TaskState::Lost,
                Some(Reason::MasterDisconnected),
                Some(Source::Master)
            ),
        ]
    );
    let aware = FrameworkInfo::new("u", "f").with_capability(FrameworkCapability::PartitionAware);
    let mut core = core_with(aware, true);
    core.start(Some(master()));
    let out = core.launch_tasks(
        vec![OfferId::new("o-1")],
        vec![task("t1")],
        Filters::default(),
    );
    assert!(
        matches!(&callbacks(&out)[..], [Callback::StatusUpdate(s)] if s.state == TaskState::Dropped)
    );
}

#[test]
fn connected_launches_go_to_the_master_and_use_up_offers() {
    let mut core = core();
    registered(&mut core);
    let offer = Offer {
        id: OfferId::new("o-1"),
        agent_id: AgentId::new("a-1"),
        ..Offer::default()
    };
    core.on_offers(
        &master(),
        ResourceOffersMessage {
            offers: vec![offer],
            pids: vec![],
        },
    );
    assert_eq!(core.outstanding_offers(), 1);
    let out = core.decline_offer(OfferId::new("o-1"), Filters::refuse(Duration::from_secs(1)));
    match &sent(&out)[..] {
        [ToMaster::Launch(m)] => {
            assert!(m.tasks.is_empty());
            assert_eq!(m.offer_ids, vec![OfferId::new("o-1")]);
            assert_eq!(m.filters.refuse_seconds, 1.0);
        }
        other => panic!("expected a decline, got {other:?}"),
    }
    assert_eq!(core.outstanding_offers(), 0);
}

#[test]
fn lost_master_clears_offers_and_agent_loss_drops_its_offers() {
    let mut core = core();
    registered(&mut core);
    let offer = |id: &str, agent: &str| Offer {
        id: OfferId::new(id),
        agent_id: AgentId::new(agent),
        ..Offer::default()
    };
    core.on_offers(
        &master(),
        ResourceOffersMessage {
            offers: vec![offer("o-1", "a-1"), offer("o-2", "a-2")],
            pids: vec![],
        },
    );
    let out = core.on_agent_lost(
        &master(),
        LostSlaveMessage {
            agent_id: AgentId::new("a-1"),
        },
    );
    assert_eq!(
        callbacks(&out),
        vec![Callback::AgentLost(AgentId::new("a-1"))]
    );
    assert_eq!(core.outstanding_offers(), 1);
    core.exited(&master());
    assert_eq!(core.outstanding_offers(), 0);
}

#[test]
fn error_aborts_and_silences_the_driver() {
    let mut core = core();
    registered(&mut core);
    let out = core.on_error(
        &master(),
        FrameworkErrorMessage {
            message: "Framework failed over".into(),
        },
    );
    assert_eq!(
        callbacks(&out),
        vec![Callback::Error("Framework failed over".into())]
    );
    assert_eq!(core.status(), DriverStatus::Aborted);
    assert!(core
        .on_status_update(&master(), update("t", TaskState::Running, None))
        .is_empty());
    assert!(core.kill_task(TaskId::new("t")).is_empty());
}

#[test]
fn stop_unregisters_or_deactivates() {
    let mut core = core();
    registered(&mut core);
    assert!(matches!(
        sent(&core.stop(false))[..],
        [ToMaster::Unregister(_)]
    ));
    assert_eq!(core.status(), DriverStatus::Stopped);
    assert!(core.stop(false).is_empty());

    let mut core = self::core();
    registered(&mut core);
    assert!(matches!(
        sent(&core.stop(true))[..],
        [ToMaster::Deactivate(_)]
    ));

    let mut core = self::core();
    registered(&mut core);
    assert!(matches!(sent(&core.abort())[..], [ToMaster::Deactivate(_)]));
    assert_eq!(core.status(), DriverStatus::Aborted);
}

#[test]
fn suppression_survives_reregistration() {
    let mut core = core_with(FrameworkInfo::new("u", "f").with_role("batch"), true);
    registered(&mut core);
    assert!(matches!(
        sent(&core.suppress_offers())[..],
        [ToMaster::Suppress(_)]
    ));
    let out = core.exited(&master());
    let (_, generation) = retry_of(&out).unwrap();
    match &sent(&core.timer_fired(Timer::RetryRegistration { generation }))[..] {
        [ToMaster::Reregister(m)] => assert_eq!(m.suppressed_roles, vec!["batch".to_string()]),
        other => panic!("expected a re-registration, got {other:?}"),
    }
}

#[test]
fn calls_before_registration_are_not_sent() {
    let mut core = core();
    core.start(Some(master()));
    assert!(core.kill_task(TaskId::new("t")).is_empty());
    assert!(core.reconcile_tasks(vec![]).is_empty());
    registered(&mut core);
    assert!(
        matches!(sent(&core.reconcile_tasks(vec![]))[..], [ToMaster::Reconcile(ref m)] if m.statuses.is_empty())
    );
    assert!(matches!(
        sent(&core.kill_task(TaskId::new("t")))[..],
        [ToMaster::Kill(_)]
    ));
    assert!(matches!(
        sent(&core.send_framework_message(ExecutorId::new("e"), AgentId::new("a"), b"hi".to_vec()))
            [..],
        [ToMaster::FrameworkMessage(_)]
    ));
    assert!(matches!(
        sent(&core.revive_offers())[..],
        [ToMaster::Revive(_)]
    ));
}
