//! Documents shaped like the ones Mesos itself reads and writes (v1 scheduler
//! API events and calls, agent flags, master logs) must decode into our types,
//! and ours must encode back to the same shapes.

use mesos::*;
use serde_json::json;

#[test]
fn v1_offers_event_decodes() {
    // An `OFFERS` event's offer, as in Mesos's scheduler HTTP API docs.
    let offer = json!({
        "id": {"value": "12214-23523-O235235"},
        "framework_id": {"value": "12124-235325-32425"},
        "agent_id": {"value": "12325-23523-S23523"},
        "hostname": "agent.host",
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}, "role": "*"},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 1024.5}, "role": "*"},
            {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 32000}]}, "role": "*"},
            {"name": "disk", "type": "SCALAR", "scalar": {"value": 100}, "role": "analytics",
             "reservations": [{"type": "STATIC", "role": "analytics"}],
             "allocation_info": {"role": "analytics"}}
        ],
        "attributes": [{"name": "os", "type": "TEXT", "text": {"value": "ubuntu"}}],
        "executor_ids": [{"value": "12214-23523-my-executor"}]
    });
    let offer: Offer = serde_json::from_value(offer).unwrap();
    assert_eq!(offer.agent_id, AgentId::new("12325-23523-S23523"));
    assert_eq!(
        offer.resources,
        "cpus:2;mem:1024.5;ports:[31000-32000];disk(analytics):100"
            .parse()
            .unwrap()
    );
    assert_eq!(offer.attributes.text("os"), Some("ubuntu"));
    assert_eq!(
        offer.executor_ids,
        vec![ExecutorId::new("12214-23523-my-executor")]
    );
}

#[test]
fn v0_slave_id_fields_are_accepted() {
    let offer: Offer = serde_json::from_value(json!({
        "id": {"value": "o"}, "framework_id": {"value": "f"}, "slave_id": {"value": "s-1"}, "hostname": "h"
    }))
    .unwrap();
    assert_eq!(offer.agent_id, AgentId::new("s-1"));
    let status: TaskStatus = serde_json::from_value(json!({
        "task_id": {"value": "t"}, "state": "TASK_LOST", "slave_id": {"value": "s-1"},
        "reason": "REASON_SLAVE_REMOVED", "source": "SOURCE_MASTER"
    }))
    .unwrap();
    assert_eq!(status.agent_id, Some(AgentId::new("s-1")));
    assert_eq!(status.reason, Some(Reason::AgentRemoved));
}

#[test]
fn v1_subscribe_framework_info_decodes() {
    let info: FrameworkInfo = serde_json::from_value(json!({
        "user": "foo",
        "name": "Example HTTP Framework",
        "roles": ["test"],
        "capabilities": [{"type": "MULTI_ROLE"}],
        "failover_timeout": 3600.5,
        "checkpoint": true
    }))
    .unwrap();
    assert_eq!(info.effective_roles(), vec!["test"]);
    assert_eq!(
        info.failover_timeout(),
        std::time::Duration::from_millis(3_600_500)
    );
    assert_eq!(info.role, "*");
    assert!(info.checkpoint);
}

#[test]
fn v1_accept_task_info_decodes() {
    let task: TaskInfo = serde_json::from_value(json!({
        "name": "My Task",
        "task_id": {"value": "12220-3440-12532-my-task"},
        "agent_id": {"value": "12220-3440-12532-S1233"},
        "executor": {
            "command": {"shell": true, "value": "sleep 1000"},
            "executor_id": {"value": "12214-23523-my-executor"}
        },
        "resources": [
            {"allocation_info": {"role": "engineering"}, "name": "cpus", "role": "*", "type": "SCALAR", "scalar": {"value": 1.0}},
            {"allocation_info": {"role": "engineering"}, "name": "mem", "role": "*", "type": "SCALAR", "scalar": {"value": 128.0}}
        ],
        "limits": {"cpus": 2.0}
    }))
    .unwrap();
    assert_eq!(task.resources, "cpus:1;mem:128".parse().unwrap());
    let executor = task.executor.unwrap();
    assert_eq!(
        executor.executor_id,
        ExecutorId::new("12214-23523-my-executor")
    );
    assert_eq!(
        executor.command.argv_to_exec(),
        vec!["sh", "-c", "sleep 1000"]
    );
    assert!(task.command.is_none());
}

#[test]
fn v1_update_event_status_round_trips() {
    let uuid = Uuid::v4_from(*b"0123456789abcdef");
    let json = json!({
        "task_id": {"value": "12344-23523-2352355"},
        "state": "TASK_FINISHED",
        "source": "SOURCE_EXECUTOR",
        "uuid": base64_encode(uuid.as_bytes()),
        "data": "aGVsbG8=",
        "timestamp": 1700000000.5,
        "healthy": true
    });
    let status: TaskStatus = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(status.uuid, Some(uuid));
    assert_eq!(status.data, b"hello");
    assert_eq!(status.healthy, Some(true));
    // Written back the way Mesos writes it: absent fields omitted, not null.
    assert_eq!(mesos::json::to_mesos_json(&status).unwrap(), json);
}

#[test]
fn master_log_resource_form_parses() {
    // Older Mesos prints resources as `cpus(*):2; mem(*):2768; ...`.
    let r: Resources = "cpus(*):2; mem(*):2768; ports(*):[31000-32000]; disk(*):35823"
        .parse()
        .unwrap();
    assert_eq!(
        r.to_string(),
        "cpus:2;mem:2768;ports:[31000-32000];disk:35823"
    );
}

#[test]
fn agent_resources_flag_accepts_json() {
    // `mesos-agent --resources` takes either form.
    let json = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":8}},
                   {"name":"gpus","type":"SCALAR","scalar":{"value":1}}]"#;
    let r = Resources::parse(json).unwrap();
    assert_eq!(r.cpus(), Some(8.0));
    assert_eq!(r.gpus(), Some(1.0));
}

#[test]
fn framework_info_writes_mesos_shape() {
    let mut info = FrameworkInfo::new("alice", "fw")
        .with_capability(FrameworkCapability::PartitionAware)
        .with_principal("alice");
    info.id = Some(FrameworkId::new("f-1"));
    let json = mesos::json::to_mesos_json(&info).unwrap();
    assert_eq!(
        json,
        json!({
            "user": "alice", "name": "fw", "id": {"value": "f-1"}, "failover_timeout": 0.0,
            "checkpoint": false, "role": "*", "roles": [], "principal": "alice",
            "capabilities": [{"type": "PARTITION_AWARE"}], "labels": {"labels": []}
        })
    );
}
