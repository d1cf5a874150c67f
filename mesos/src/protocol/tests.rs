//! Every message must survive the wire encoding (bincode, not self-describing) with every optional
//! field both set and unset: a serde attribute that only works for JSON would break the cluster.

use super::*;
use crate::*;

fn wire_round_trip<M: process::Message + PartialEq + std::fmt::Debug>(message: &M) {
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(message, cfg).expect("encodes");
    let (back, used): (M, usize) = bincode::serde::decode_from_slice(&bytes, cfg).expect("decodes");
    assert_eq!(used, bytes.len(), "{} left trailing bytes", M::NAME);
    assert_eq!(&back, message, "{} changed on the wire", M::NAME);
}

fn full_framework() -> FrameworkInfo {
    FrameworkInfo {
        user: "alice".into(),
        name: "wordcount".into(),
        id: Some(FrameworkId::new("fw-1")),
        failover_timeout: 60.0,
        checkpoint: true,
        role: "analytics".into(),
        roles: vec!["analytics".into()],
        hostname: Some("host-a".into()),
        principal: Some("alice".into()),
        webui_url: Some("http://host-a:8080".into()),
        capabilities: vec![FrameworkCapability::PartitionAware],
        labels: Labels::default(),
    }
}

fn full_task_info() -> TaskInfo {
    TaskInfo {
        name: "t".into(),
        task_id: TaskId::new("t-1"),
        agent_id: AgentId::new("a-1"),
        resources: "cpus:1;mem:128;ports:[31000-31001];disks:{a,b}"
            .parse()
            .unwrap(),
        executor: Some(ExecutorInfo {
            executor_id: ExecutorId::new("e-1"),
            framework_id: Some(FrameworkId::new("fw-1")),
            command: CommandInfo::shell("./executor"),
            resources: "cpus(analytics):0.1;mem:32".parse().unwrap(),
            name: Some("exec".into()),
            source: Some("src".into()),
            data: vec![1, 2, 3],
            labels: Labels::default(),
        }),
        command: Some(CommandInfo::shell("echo hi")),
        data: vec![9, 8, 7],
        labels: Labels::default(),
        kill_policy: None,
        health_check: Some(crate::HealthCheck {
            kind: crate::HealthCheckType::Http,
            http: Some(crate::HttpCheckInfo {
                port: 8080,
                path: Some("/health".into()),
                ..Default::default()
            }),
            interval_seconds: Some(1.5),
            ..Default::default()
        }),
    }
}

fn full_status() -> TaskStatus {
    TaskStatus {
        task_id: TaskId::new("t-1"),
        state: TaskState::Running,
        message: Some("running".into()),
        source: Some(Source::Executor),
        reason: Some(Reason::CommandExecutorFailed),
        uuid: Some(Uuid::random()),
        timestamp: 1234.5,
        agent_id: Some(AgentId::new("a-1")),
        executor_id: Some(ExecutorId::new("e-1")),
        healthy: Some(true),
        data: vec![4, 2],
    }
}

fn bare_status() -> TaskStatus {
    TaskStatus {
        task_id: TaskId::new("t-2"),
        state: TaskState::Lost,
        message: None,
        source: None,
        reason: None,
        uuid: None,
        timestamp: 0.0,
        agent_id: None,
        executor_id: None,
        healthy: None,
        data: Vec::new(),
    }
}

fn master_info() -> MasterInfo {
    MasterInfo {
        id: "m-1".into(),
        ip: 0x0100007f,
        port: 5050,
        pid: Some("master@127.0.0.1:5050".into()),
        hostname: Some("localhost".into()),
        version: Some(crate::VERSION.into()),
        address: Some(Address {
            ip: Some("127.0.0.1".into()),
            hostname: Some("localhost".into()),
            port: 5050,
        }),
    }
}

fn agent_info() -> AgentInfo {
    AgentInfo {
        hostname: "h".into(),
        port: 5051,
        resources: "cpus:4;mem:1024".parse().unwrap(),
        attributes: "rack:r1;zone:a".parse().unwrap(),
        id: Some(AgentId::new("a-1")),
    }
}

#[test]
fn scheduler_messages_cross_the_wire() {
    let fw = full_framework();
    wire_round_trip(&RegisterFrameworkMessage {
        framework: fw.clone(),
        suppressed_roles: vec![],
    });
    let mut bare = fw.clone();
    bare.id = None;
    bare.hostname = None;
    bare.principal = None;
    bare.webui_url = None;
    wire_round_trip(&RegisterFrameworkMessage {
        framework: bare,
        suppressed_roles: vec!["r".into()],
    });
    wire_round_trip(&ReregisterFrameworkMessage {
        framework: fw,
        failover: true,
        suppressed_roles: vec![],
    });
    wire_round_trip(&FrameworkRegisteredMessage {
        framework_id: FrameworkId::new("f"),
        master_info: master_info(),
    });
    wire_round_trip(&ResourceOffersMessage {
        offers: vec![Offer {
            id: OfferId::new("o-1"),
            framework_id: FrameworkId::new("f"),
            agent_id: AgentId::new("a"),
            hostname: "h".into(),
            resources: "cpus(r):2;mem:10;ports:[1-5,7-9]".parse().unwrap(),
            attributes: "rack:r1".parse().unwrap(),
            executor_ids: vec![ExecutorId::new("e")],
        }],
        pids: vec!["slave(1)@127.0.0.1:5051".into()],
    });
    wire_round_trip(&LaunchTasksMessage {
        framework_id: FrameworkId::new("f"),
        tasks: vec![full_task_info()],
        filters: Filters::default(),
        offer_ids: vec![OfferId::new("o-1")],
    });
    for status in [full_status(), bare_status()] {
        wire_round_trip(&StatusUpdateMessage {
            update: StatusUpdate {
                framework_id: FrameworkId::new("f"),
                executor_id: None,
                agent_id: Some(AgentId::new("a")),
                status: status.clone(),
                timestamp: 1.0,
                uuid: Uuid::random(),
            },
            pid: None,
        });
        wire_round_trip(&ReconcileTasksMessage {
            framework_id: FrameworkId::new("f"),
            statuses: vec![status],
        });
    }
}

#[test]
fn agent_and_executor_messages_cross_the_wire() {
    let task = Task::staging(
        &full_task_info(),
        &FrameworkId::new("f"),
        Some(ExecutorId::new("e-1")),
    );
    wire_round_trip(&RegisterSlaveMessage {
        agent: agent_info(),
        version: "1".into(),
    });
    wire_round_trip(&ReregisterSlaveMessage {
        agent: agent_info(),
        executors: vec![full_task_info().executor.unwrap()],
        tasks: vec![task],
        frameworks: vec![full_framework()],
        version: "1".into(),
    });
    wire_round_trip(&RunTaskMessage {
        framework_id: FrameworkId::new("f"),
        framework: full_framework(),
        pid: "scheduler@127.0.0.1:1".into(),
        task: full_task_info(),
    });
    wire_round_trip(&ExecutorRegisteredMessage {
        executor_info: full_task_info().executor.unwrap(),
        framework_id: FrameworkId::new("f"),
        framework_info: full_framework(),
        agent_id: AgentId::new("a"),
        agent_info: agent_info(),
    });
    wire_round_trip(&SlaveRegisteredMessage {
        agent_id: AgentId::new("a"),
        master_info: master_info(),
        ping_timeout_secs: 15.0,
    });
}
