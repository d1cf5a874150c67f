//! Launching: offers, validation, filters, offer timeouts.

use std::time::Duration;

use mesos::protocol::*;
use mesos::*;

use super::*;
use crate::outputs::Outgoing;

#[test]
fn registration_assigns_ids_and_offers_the_whole_agent() {
    let mut h = Harness::new();
    let fw = h.framework(SCHED, fw_info("f"));
    assert_eq!(fw, FrameworkId::new("m1-0000"));
    h.core.register_agent(
        h.now,
        &upid(AGENT),
        RegisterSlaveMessage {
            agent: AgentInfo::new("node").with_resources("cpus:4;mem:1024".parse().unwrap()),
            version: "1".into(),
        },
    );
    let out = h.out();
    let agent = AgentId::new("m1-S0");
    assert_eq!(
        out,
        vec![
            Output::Link {
                pid: upid(AGENT),
                connection: process::RemoteConnection::Reuse,
            },
            Output::Send {
                to: ep(AGENT),
                message: Outgoing::SlaveRegistered(SlaveRegisteredMessage {
                    agent_id: agent.clone(),
                    master_info: h.core.info().clone(),
                    ping_timeout_secs: 15.0,
                }),
            },
            Output::Send {
                to: ep(AGENT),
                message: Outgoing::PingSlave(PingSlaveMessage { connected: true }),
            },
        ]
    );
    h.core.tick(h.now);
    let out = h.out();
    let offers = offers_in(&out, SCHED);
    assert_eq!(
        offers,
        vec![Offer {
            id: OfferId::new("m1-O0"),
            framework_id: fw,
            agent_id: agent,
            hostname: "node".into(),
            resources: "cpus:4;mem:1024".parse().unwrap(),
            attributes: Attributes::new(),
            executor_ids: vec![],
        }]
    );
    match &sends(&out, SCHED)[0] {
        Outgoing::ResourceOffers(m) => assert_eq!(m.pids, vec![AGENT.to_string()]),
        other => panic!("{other:?}"),
    }
    // A registration retry from the same pid gets the same id.
    h.core.register_framework(
        h.now,
        &upid(SCHED),
        RegisterFrameworkMessage {
            framework: fw_info("f"),
            suppressed_roles: vec![],
        },
    );
    assert!(
        matches!(&sends(&h.out(), SCHED)[0], Outgoing::FrameworkRegistered(m) if m.framework_id.as_str() == "m1-0000")
    );
}

#[test]
fn launch_runs_the_task_and_returns_the_rest_with_the_filter() {
    let (mut h, fw, agent, offer) = offered();
    let out = h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![command_task("t1", &agent, "cpus:1;mem:128")],
    );
    let to_agent = sends(&out, AGENT);
    assert_eq!(to_agent.len(), 1);
    match &to_agent[0] {
        Outgoing::RunTask(run) => {
            assert_eq!(run.task.task_id.as_str(), "t1");
            assert_eq!(run.pid, SCHED);
            assert_eq!(run.framework_id, fw);
        }
        other => panic!("{other:?}"),
    }
    let task = &h.core.frameworks()[&fw].tasks[&TaskId::new("t1")];
    assert_eq!(task.task.state, TaskState::Staging);
    // The unused cpus:3;mem:896 are filtered for 5 s (the default): no offer at the next batch...
    assert!(offers_in(&h.advance(Duration::from_secs(1)), SCHED).is_empty());
    // ... but after the filter expired.
    let offers = offers_in(&h.advance(Duration::from_secs(5)), SCHED);
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].resources, "cpus:3;mem:896".parse().unwrap());
}

#[test]
fn launch_on_two_offers_of_one_agent() {
    let (mut h, fw, agent, first) = offered();
    // Use half, decline nothing: the other half comes back as a second offer after the filter.
    let out = h.launch(
        SCHED,
        &fw,
        &[&first],
        vec![command_task("t1", &agent, "cpus:2;mem:512")],
    );
    assert_eq!(sends(&out, AGENT).len(), 1);
    h.core.revive_offers(
        h.now,
        &ep(SCHED),
        ReviveOffersMessage {
            framework_id: fw.clone(),
            roles: vec![],
        },
    );
    let second = h.allocate(SCHED);
    assert_eq!(second.len(), 1);
    // Complete t1 so its resources come back as a third offer.
    h.agent_update(AGENT, &fw, &agent, "t1", TaskState::Finished, 1);
    let third = offers_in(&h.advance(Duration::from_secs(1)), SCHED);
    assert_eq!(third.len(), 1);
    let out = h.launch(
        SCHED,
        &fw,
        &[&second[0], &third[0]],
        vec![command_task("big", &agent, "cpus:4;mem:1024")],
    );
    assert!(
        matches!(&sends(&out, AGENT)[0], Outgoing::RunTask(r) if r.task.task_id.as_str() == "big")
    );
    assert!(updates(&out, SCHED).is_empty());
    assert!(h.core.offers().is_empty());
}

#[test]
fn every_validation_rule_refuses_with_its_reason() {
    type MakeTask = Box<dyn Fn(&AgentId) -> TaskInfo>;
    let cases: Vec<(&str, MakeTask, &str)> = vec![
        (
            "bad id",
            Box::new(|a| command_task("a/b", a, "cpus:1")),
            "Task ID 'a/b' is invalid: TaskId 'a/b' contains '/' or a non-printable character",
        ),
        (
            "neither",
            Box::new(|a| TaskInfo::new("t", "t", a.clone(), "cpus:1".parse().unwrap())),
            "Task has neither a CommandInfo nor an ExecutorInfo; set exactly one",
        ),
        (
            "both",
            Box::new(|a| {
                command_task("t", a, "cpus:1")
                    .with_executor(ExecutorInfo::new("e", CommandInfo::shell("x")))
            }),
            "Task has both a CommandInfo and an ExecutorInfo; set exactly one",
        ),
        (
            "too big",
            Box::new(|a| command_task("t", a, "cpus:8;mem:64")),
            "Task uses more resources (cpus:8;mem:64) than are left in the offers (cpus:4;mem:1024)",
        ),
        (
            "no resources",
            Box::new(|a| TaskInfo::new("t", "t", a.clone(), Resources::new()).with_command(CommandInfo::shell("x"))),
            "Task uses no resources",
        ),
        (
            "wrong agent",
            Box::new(|_| command_task("t", &AgentId::new("other"), "cpus:1")),
            "Task uses agent other but its offers are on agent m1-S0",
        ),
    ];
    for (name, task, expected) in cases {
        let (mut h, fw, agent, offer) = offered();
        let out = h.launch(SCHED, &fw, &[&offer], vec![task(&agent)]);
        assert_eq!(
            refusal(&out),
            (TaskState::Error, Reason::TaskInvalid, expected.to_string()),
            "case {name}"
        );
        assert!(sends(&out, AGENT).is_empty(), "case {name}");
        assert!(h.core.frameworks()[&fw].tasks.is_empty());
    }
}

#[test]
fn duplicate_task_ids_are_refused_in_one_launch_and_across_launches() {
    let (mut h, fw, agent, offer) = offered();
    let out = h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![
            command_task("t", &agent, "cpus:1"),
            command_task("t", &agent, "cpus:1"),
        ],
    );
    assert_eq!(sends(&out, AGENT).len(), 1);
    assert_eq!(
        refusal(&out),
        (
            TaskState::Error,
            Reason::TaskInvalid,
            "Task has duplicate ID: t".into()
        )
    );
    h.core.revive_offers(
        h.now,
        &ep(SCHED),
        ReviveOffersMessage {
            framework_id: fw.clone(),
            roles: vec![],
        },
    );
    let again = h.allocate(SCHED);
    let out = h.launch(
        SCHED,
        &fw,
        &[&again[0]],
        vec![command_task("t", &agent, "cpus:1")],
    );
    assert_eq!(
        refusal(&out),
        (
            TaskState::Error,
            Reason::TaskInvalid,
            "Task has duplicate ID: t".into()
        )
    );
}

#[test]
fn executor_resources_may_not_change() {
    let (mut h, fw, agent, offer) = offered();
    let exec = |r: &str| {
        ExecutorInfo::new("e1", CommandInfo::shell("exec")).with_resources(r.parse().unwrap())
    };
    let t = |id: &str, r: &str| {
        TaskInfo::new(id, id, agent.clone(), "cpus:1;mem:32".parse().unwrap())
            .with_executor(exec(r))
    };
    let out = h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![t("t1", "cpus:0.5;mem:32"), t("t2", "cpus:0.25;mem:32")],
    );
    assert_eq!(sends(&out, AGENT).len(), 1);
    assert_eq!(
        refusal(&out),
        (
            TaskState::Error,
            Reason::TaskInvalid,
            "Executor 'e1' on agent m1-S0 uses resources cpus:0.5;mem:32; the task's ExecutorInfo asks for cpus:0.25;mem:32 (an executor's resources cannot change)".into()
        )
    );
    // The executor's resources were charged once, with the first task.
    h.core.revive_offers(
        h.now,
        &ep(SCHED),
        ReviveOffersMessage {
            framework_id: fw.clone(),
            roles: vec![],
        },
    );
    let next = h.allocate(SCHED);
    assert_eq!(next[0].resources, "cpus:2.5;mem:960".parse().unwrap());
    assert_eq!(next[0].executor_ids, vec![ExecutorId::new("e1")]);
    // The same executor again: only the task's resources are needed.
    let out = h.launch(SCHED, &fw, &[&next[0]], vec![t("t3", "cpus:0.5;mem:32")]);
    assert_eq!(sends(&out, AGENT).len(), 1);
    assert!(updates(&out, SCHED).is_empty());
}

#[test]
fn invalid_offers_drop_or_lose_the_tasks() {
    // Not partition-aware: TASK_LOST.
    let (mut h, fw, agent, offer) = offered();
    let out = h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![command_task("t1", &agent, "cpus:1")],
    );
    assert_eq!(sends(&out, AGENT).len(), 1);
    // The offer is used now.
    let out = h.launch(
        SCHED,
        &fw,
        &[&offer],
        vec![command_task("t2", &agent, "cpus:1")],
    );
    assert_eq!(
        refusal(&out),
        (
            TaskState::Lost,
            Reason::InvalidOffers,
            "Task launched with invalid offers: Offer m1-O0 is no longer valid".into()
        )
    );
    // Partition-aware: TASK_DROPPED.
    let mut h = Harness::new();
    let fw = h.framework(SCHED, partition_aware());
    let agent = h.agent(AGENT, "cpus:4;mem:1024");
    let offers = h.allocate(SCHED);
    let bogus = Offer {
        id: OfferId::new("nope"),
        ..offers[0].clone()
    };
    let out = h.launch(
        SCHED,
        &fw,
        &[&offers[0], &bogus],
        vec![command_task("t", &agent, "cpus:1")],
    );
    assert_eq!(
        refusal(&out),
        (
            TaskState::Dropped,
            Reason::InvalidOffers,
            "Task launched with invalid offers: Offer nope is no longer valid".into()
        )
    );
    // The valid offer went back (no filter): offered again at the next batch.
    assert_eq!(
        offers_in(&h.advance(Duration::from_secs(1)), SCHED).len(),
        1
    );
}

#[test]
fn messages_from_a_pid_that_is_not_the_scheduler_are_dropped() {
    let (mut h, fw, agent, offer) = offered();
    let out = h.launch(
        SCHED2,
        &fw,
        &[&offer],
        vec![command_task("t1", &agent, "cpus:1")],
    );
    assert!(out.is_empty());
    assert_eq!(h.core.counters().dropped_messages, 1);
    assert!(h.core.offers().contains_key(&offer.id));
}

#[test]
fn offer_timeout_rescinds_offers() {
    let mut cfg = config();
    cfg.offer_timeout = Some(Duration::from_secs(30));
    let mut h = Harness::with(cfg);
    let _fw = h.framework(SCHED, fw_info("f"));
    h.agent(AGENT, "cpus:1;mem:64");
    let offers = h.allocate(SCHED);
    assert!(sends(&h.advance(Duration::from_secs(29)), SCHED).is_empty());
    let out = h.advance(Duration::from_secs(1));
    let to_sched = sends(&out, SCHED);
    assert_eq!(
        to_sched[0],
        Outgoing::RescindResourceOffer(RescindResourceOfferMessage {
            offer_id: offers[0].id.clone()
        })
    );
    assert_eq!(h.core.counters().offers_rescinded, 1);
    // No filter after a rescind: offered again by the batch that runs in the same tick.
    let again = offers_in(&out, SCHED);
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].id, offers[0].id);
}

#[test]
fn declines_are_filtered_for_refuse_seconds() {
    let (mut h, fw, _agent, offer) = offered();
    h.core.launch_tasks(
        h.now,
        &ep(SCHED),
        LaunchTasksMessage {
            framework_id: fw.clone(),
            tasks: vec![],
            filters: Filters::refuse(Duration::from_secs(10)),
            offer_ids: vec![offer.id.clone()],
        },
    );
    assert!(h.out().is_empty());
    assert_eq!(h.core.counters().offers_declined, 1);
    for _ in 0..9 {
        assert!(offers_in(&h.advance(Duration::from_secs(1)), SCHED).is_empty());
    }
    assert_eq!(
        offers_in(&h.advance(Duration::from_secs(1)), SCHED).len(),
        1
    );
}

#[test]
fn default_role_frameworks_are_offered_unreserved_resources() {
    let mut h = Harness::new();
    let fw = h.framework(SCHED, FrameworkInfo::new("u", "default"));
    let agent = h.agent(AGENT, "cpus(eng):2;cpus:2;mem:1024");
    let offers = h.allocate(SCHED);
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].resources, "cpus:2;mem:1024".parse().unwrap());
    assert_eq!(h.core.offers()[&offers[0].id].role, "*");
    let out = h.launch(
        SCHED,
        &fw,
        &[&offers[0]],
        vec![command_task("t1", &agent, "cpus:2;mem:1024")],
    );
    assert!(matches!(&sends(&out, AGENT)[0], Outgoing::RunTask(_)));
    // Failover re-registration keeps the default role working.
    let mut info = FrameworkInfo::new("u", "default");
    info.id = Some(fw.clone());
    h.core.reregister_framework(
        h.now,
        &upid(SCHED2),
        ReregisterFrameworkMessage {
            framework: info,
            failover: true,
            suppressed_roles: vec![],
        },
    );
    assert!(matches!(
        &sends(&h.out(), SCHED2)[0],
        Outgoing::FrameworkRegistered(_)
    ));
}
