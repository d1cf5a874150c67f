//! Every public message type survives both wire forms: JSON (Mesos's shape)
//! and bincode (what our processes exchange; it cannot skip fields, so every
//! optional field must be present in the encoding).

use std::fmt::Debug;
use std::net::Ipv4Addr;
use std::time::Duration;

use mesos::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap();
    assert_eq!(
        &serde_json::from_str::<T>(&json).unwrap(),
        value,
        "json: {json}"
    );
    let stripped = mesos::json::to_mesos_json(value).unwrap();
    assert_eq!(
        &serde_json::from_value::<T>(stripped).unwrap(),
        value,
        "null-free json"
    );
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(value, cfg).unwrap();
    let (back, used): (T, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert_eq!(&back, value);
    assert_eq!(used, bytes.len());
}

fn full_task() -> TaskInfo {
    let executor = ExecutorInfo {
        framework_id: Some(FrameworkId::new("f")),
        name: Some("exec".into()),
        source: Some("src".into()),
        data: vec![0, 1, 255],
        labels: Labels::new().with("k", "v"),
        ..ExecutorInfo::new(
            ExecutorId::new("e"),
            CommandInfo::argv("/bin/exec", ["exec", "--flag"]),
        )
    }
    .with_resources("cpus:0.1;mem:32".parse().unwrap());
    let mut command = CommandInfo::shell("echo hi").with_env("A", "1");
    command.user = Some("nobody".into());
    command.uris.push(CommandUri {
        value: "http://x/y.tgz".into(),
        output_file: Some("y".into()),
        ..CommandUri::default()
    });
    TaskInfo::new(
        "t",
        "task",
        AgentId::new("a"),
        "cpus:1;mem:64;ports:[31000-31001];cpus(web):0.5"
            .parse()
            .unwrap(),
    )
    .with_command(command)
    .with_executor(executor)
    .with_data(b"payload".to_vec())
    .with_kill_grace_period(Duration::from_millis(1500))
}

#[test]
fn task_info_round_trips() {
    round_trips(&full_task());
    round_trips(&TaskInfo::default());
}

#[test]
fn framework_and_agent_and_master_round_trip() {
    let mut fw = FrameworkInfo::new("u", "n")
        .with_role("a/b")
        .with_principal("p")
        .with_failover_timeout(Duration::from_secs(7));
    for &c in FrameworkCapability::ALL {
        fw = fw.with_capability(c);
    }
    fw.hostname = Some("h".into());
    fw.roles = vec!["x".into(), "y".into()];
    round_trips(&fw);
    round_trips(&FrameworkInfo::default());

    let mut agent = AgentInfo::new("node")
        .with_port(6000)
        .with_resources("cpus:8;disks:{a,b}".parse().unwrap())
        .with_attributes("rack:r1;cores:8;ids:[1-2];tags:{x}".parse().unwrap());
    agent.id = Some(AgentId::new("a-1"));
    round_trips(&agent);

    round_trips(&MasterInfo::new(
        "m",
        Ipv4Addr::new(10, 1, 2, 3),
        5050,
        Some("host".into()),
    ));
    round_trips(&MasterInfo::default());
}

#[test]
fn status_offer_filters_round_trip() {
    for &state in TaskState::ALL {
        for &reason in Reason::ALL {
            let status = TaskStatus::new(TaskId::new("t"), state)
                .with_reason(reason)
                .with_source(Source::Agent)
                .with_uuid(Uuid::random())
                .with_message("m")
                .with_timestamp(12.5);
            round_trips(&status);
        }
    }
    round_trips(&TaskStatus::default());
    let offer = Offer {
        id: OfferId::new("o"),
        resources: "cpus:2".parse().unwrap(),
        executor_ids: vec![ExecutorId::new("e")],
        ..Offer::default()
    };
    round_trips(&offer);
    round_trips(&Filters::refuse(Duration::from_secs(60)));
    round_trips(&ContainerId::new("c"));
}

#[test]
fn bincode_rejects_invalid_resources() {
    // A well-known resource with the wrong kind is refused on decode, as in JSON.
    #[derive(Serialize)]
    struct Compact {
        name: String,
        value: Value,
        reservation: Option<String>,
    }
    let bad = vec![Compact {
        name: "cpus".into(),
        value: Value::Ranges(Ranges::from_range(1, 2)),
        reservation: None,
    }];
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&bad, cfg).unwrap();
    let err = bincode::serde::decode_from_slice::<Resources, _>(&bytes, cfg).unwrap_err();
    assert!(err.to_string().contains("cpus"), "{err}");
}
