//! The v1 scheduler API over real sockets (`POST /api/v1/scheduler`): every call, every event,
//! every status code and stream rule of Mesos's contract. Agents are emulated by [`Peer`]s.

mod util;

use std::time::Duration;

use ::master::{MasterConfig, MasterHandle};
use mesos::protocol::*;
use mesos::v1::client::{subscribe, Client, Reply, Subscription};
use mesos::*;
use process::Runtime;
use serde_json::{json, Value as Json};
use util::*;

const API: &str = "/api/v1/scheduler";

fn config() -> MasterConfig {
    MasterConfig {
        scheduler_heartbeat_interval: Duration::from_millis(300),
        allocation_interval: Duration::from_millis(50),
        ..MasterConfig::default()
    }
}

fn subscribe_call(framework_info: Json) -> Json {
    json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}})
}

fn open(rt: &Runtime, info: Json, headers: &[(&str, &str)]) -> Subscription {
    subscribe(rt.addr(), API, headers, &subscribe_call(info), PATIENCE)
        .expect("subscribe request")
        .unwrap_or_else(|reply| panic!("subscribe refused: {} {}", reply.status, reply.text()))
}

fn next_of(stream: &mut Subscription, kind: &str) -> Json {
    loop {
        let event = next(stream);
        if event["type"] == kind {
            return event;
        }
    }
}

/// An HTTP framework: its stream, id and a client for calls carrying the stream id.
struct HttpFramework {
    stream: Subscription,
    id: String,
    stream_id: String,
    client: Client,
}

impl HttpFramework {
    fn subscribe(rt: &Runtime, info: Json) -> HttpFramework {
        let mut stream = open(rt, info, &[("Connection", "close")]);
        let stream_id = stream.stream_id().expect("Mesos-Stream-Id").to_string();
        let first = stream.next_event().unwrap().unwrap();
        assert_eq!(first["type"], "SUBSCRIBED", "{first}");
        let second = stream.next_event().unwrap().unwrap();
        assert_eq!(
            second,
            json!({"type": "HEARTBEAT"}),
            "HEARTBEAT right after SUBSCRIBED"
        );
        let id = first["subscribed"]["framework_id"]["value"]
            .as_str()
            .unwrap()
            .to_string();
        HttpFramework {
            stream,
            id,
            stream_id,
            client: Client::new(rt.addr(), PATIENCE),
        }
    }

    fn call(&mut self, call: Json) -> Reply {
        let mut call = call;
        call["framework_id"] = json!({"value": self.id});
        let stream_id = self.stream_id.clone();
        self.client
            .post(API, &[("Mesos-Stream-Id", &stream_id)], &call)
            .expect("call answered")
    }

    fn accepted(&mut self, call: Json) {
        let reply = self.call(call.clone());
        assert_eq!(reply.status, 202, "{call}: {}", reply.text());
        assert!(reply.body.is_empty());
    }
}

fn agent(master: &MasterHandle, resources: &str) -> (Peer, AgentId) {
    let mut agent = Peer::new("slave(1)");
    agent.send(
        master.pid(),
        RegisterSlaveMessage {
            agent: AgentInfo::new("node-1")
                .with_resources(resources.parse().unwrap())
                .with_attributes("rack:r1".parse().unwrap()),
            version: "1".into(),
        },
    );
    let id = agent.expect::<SlaveRegisteredMessage>().agent_id;
    (agent, id)
}

fn value(json: &Json) -> String {
    json["value"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_framework_lives_its_whole_life_through_every_call_and_event() {
    let (rt, master) = start_master(config());
    let (mut agent, agent_id) = agent(&master, "cpus:4;mem:1024;ports:[31000-32000]");
    let mut fw = HttpFramework::subscribe(
        &rt,
        json!({"user": "u", "name": "caf\u{e9}", "roles": ["web"],
               "capabilities": [{"type": "MULTI_ROLE"}, {"type": "SOMETHING_NEW"}],
               "failover_timeout": "3600"}),
    );

    // OFFERS, nested twice, with allocation_info; ASCII-only records were parsed fine above.
    let offers = next_of(&mut fw.stream, "OFFERS");
    let offer = &offers["offers"]["offers"][0];
    assert_eq!(value(&offer["agent_id"]), agent_id.as_str());
    assert_eq!(offer["hostname"], "node-1");
    assert_eq!(offer["resources"][0]["allocation_info"]["role"], "web");
    assert_eq!(offer["resources"][0]["role"], "*");
    assert_eq!(offer["attributes"][0]["text"]["value"], "r1");
    let offer_id = offer["id"].clone();

    // ACCEPT with a LAUNCH (`slave_id` as old clients send it) and an unsupported operation:
    // refused whole, with a message.
    let task = json!({"name": "t", "task_id": {"value": "t1"}, "slave_id": {"value": agent_id.as_str()},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}],
        "command": {"value": "sleep 100"}});
    let refused = fw.call(json!({"type": "ACCEPT", "accept": {"offer_ids": [offer_id],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}, {"type": "RESERVE"}]}}));
    assert_eq!(refused.status, 400);
    assert!(refused.text().contains("RESERVE"), "{}", refused.text());
    fw.accepted(json!({"type": "ACCEPT", "accept": {"offer_ids": [offer_id],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        "filters": {"refuse_seconds": 4294967295u64}}}));
    let run = agent.expect::<RunTaskMessage>();
    assert_eq!(run.task.task_id.as_str(), "t1");
    assert_eq!(run.pid, "", "an HTTP scheduler has no pid");

    // UPDATE with a uuid, then ACKNOWLEDGE forwarded to the agent.
    let uuid = Uuid::random();
    agent.send(
        master.pid(),
        StatusUpdateMessage {
            update: StatusUpdate {
                framework_id: FrameworkId::new(fw.id.clone()),
                executor_id: None,
                agent_id: Some(agent_id.clone()),
                timestamp: 1.0,
                uuid,
                status: TaskStatus::new(TaskId::new("t1"), TaskState::Running)
                    .with_source(Source::Executor)
                    .with_uuid(uuid)
                    .with_timestamp(1.0),
            },
            pid: None,
        },
    );
    let update = next_of(&mut fw.stream, "UPDATE");
    let status = &update["update"]["status"];
    assert_eq!(status["state"], "TASK_RUNNING");
    assert_eq!(value(&status["agent_id"]), agent_id.as_str());
    assert_eq!(status["uuid"], base64_encode(uuid.as_bytes()));
    fw.accepted(
        json!({"type": "ACKNOWLEDGE", "acknowledge": {"agent_id": status["agent_id"],
        "task_id": status["task_id"], "uuid": status["uuid"]}}),
    );
    let ack = agent.expect::<StatusUpdateAcknowledgementMessage>();
    assert_eq!(ack.uuid, uuid);

    // RECONCILE: implicit and explicit answers carry no uuid and REASON_RECONCILIATION.
    fw.accepted(json!({"type": "RECONCILE", "reconcile": {"tasks": []}}));
    let update = next_of(&mut fw.stream, "UPDATE");
    assert_eq!(
        update["update"]["status"]["reason"],
        "REASON_RECONCILIATION"
    );
    assert!(update["update"]["status"].get("uuid").is_none());
    fw.accepted(
        json!({"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "nope"}}]}}),
    );
    let update = next_of(&mut fw.stream, "UPDATE");
    assert_eq!(update["update"]["status"]["state"], "TASK_LOST");

    // MESSAGE both ways; SHUTDOWN of an executor; KILL.
    fw.accepted(
        json!({"type": "MESSAGE", "message": {"agent_id": {"value": agent_id.as_str()},
        "executor_id": {"value": "e1"}, "data": "aGk="}}),
    );
    assert_eq!(agent.expect::<FrameworkToExecutorMessage>().data, b"hi");
    agent.send(
        master.pid(),
        ExecutorToFrameworkMessage {
            agent_id: agent_id.clone(),
            framework_id: FrameworkId::new(fw.id.clone()),
            executor_id: ExecutorId::new("e1"),
            data: b"back".to_vec(),
        },
    );
    let message = next_of(&mut fw.stream, "MESSAGE");
    assert_eq!(message["message"]["data"], "YmFjaw==");
    fw.accepted(
        json!({"type": "SHUTDOWN", "shutdown": {"executor_id": {"value": "e1"},
        "agent_id": {"value": agent_id.as_str()}}}),
    );
    assert_eq!(
        agent
            .expect::<ShutdownExecutorMessage>()
            .executor_id
            .as_str(),
        "e1"
    );
    fw.accepted(json!({"type": "KILL", "kill": {"task_id": {"value": "t1"}, "agent_id": {"value": agent_id.as_str()}}}));
    assert_eq!(agent.expect::<KillTaskMessage>().task_id.as_str(), "t1");

    // An executor exit is a FAILURE with executor and status.
    agent.send(
        master.pid(),
        ExitedExecutorMessage {
            agent_id: agent_id.clone(),
            framework_id: FrameworkId::new(fw.id.clone()),
            executor_id: ExecutorId::new("e1"),
            status: 3,
        },
    );
    let failure = next_of(&mut fw.stream, "FAILURE");
    assert_eq!(failure["failure"]["status"], 3);
    assert_eq!(value(&failure["failure"]["executor_id"]), "e1");

    // The accepted-but-inert calls, RECONCILE_OPERATIONS' 200, SUPPRESS/REVIVE, UPDATE_FRAMEWORK.
    fw.accepted(json!({"type": "REQUEST", "request": {"requests": []}}));
    fw.accepted(json!({"type": "ACCEPT_INVERSE_OFFERS", "accept_inverse_offers": {"inverse_offer_ids": [{"value": "i"}]}}));
    fw.accepted(json!({"type": "DECLINE_INVERSE_OFFERS", "decline_inverse_offers": {"inverse_offer_ids": [{"value": "i"}]}}));
    let ops = fw.call(json!({"type": "RECONCILE_OPERATIONS", "reconcile_operations": {}}));
    assert_eq!(ops.status, 200);
    assert_eq!(ops.json().unwrap()["type"], "RECONCILE_OPERATIONS");
    fw.accepted(json!({"type": "SUPPRESS", "suppress": {"roles": ["web"]}}));
    fw.accepted(json!({"type": "REVIVE", "revive": {"roles": ["web"]}}));
    fw.accepted(
        json!({"type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info":
        {"user": "u", "name": "renamed", "id": {"value": fw.id}, "roles": ["web"],
         "capabilities": [{"type": "MULTI_ROLE"}]}}}),
    );
    let state = master.state();
    assert_eq!(state["frameworks"][0]["name"], "renamed");
    assert_eq!(state["frameworks"][0]["connected"], true);

    // A revived framework is offered the rest; DECLINE it; RESCIND when the agent goes.
    let offers = next_of(&mut fw.stream, "OFFERS");
    let declined = offers["offers"]["offers"][0]["id"].clone();
    fw.accepted(json!({"type": "DECLINE", "decline": {"offer_ids": [declined], "filters": {"refuse_seconds": "0.1"}}}));
    let offers = next_of(&mut fw.stream, "OFFERS");
    let outstanding = offers["offers"]["offers"][0]["id"].clone();
    agent.send(
        master.pid(),
        UnregisterSlaveMessage {
            agent_id: agent_id.clone(),
        },
    );
    let rescind = next_of(&mut fw.stream, "RESCIND");
    assert_eq!(rescind["rescind"]["offer_id"], outstanding);
    // The task on the removed agent is lost; then the FAILURE for the agent.
    let lost = next_of(&mut fw.stream, "UPDATE");
    assert_eq!(lost["update"]["status"]["state"], "TASK_LOST");
    let failure = next_of(&mut fw.stream, "FAILURE");
    assert_eq!(value(&failure["failure"]["agent_id"]), agent_id.as_str());
    assert!(failure["failure"].get("executor_id").is_none());

    // Heartbeats keep coming on an idle stream.
    for _ in 0..2 {
        let event = fw.stream.next_event().unwrap().unwrap();
        assert_eq!(event["type"], "HEARTBEAT");
    }

    // TEARDOWN: 202, the stream ends, the framework is completed.
    fw.accepted(json!({"type": "TEARDOWN"}));
    loop {
        match fw.stream.next_event() {
            Ok(Some(event)) => assert_eq!(event["type"], "HEARTBEAT", "{event}"),
            Ok(None) => break,
            Err(error) => panic!("the stream should end cleanly: {error}"),
        }
    }
    let state = master.state();
    assert_eq!(state["frameworks"].as_array().unwrap().len(), 0);
    assert_eq!(state["completed_frameworks"][0]["id"], fw.id.as_str());
}

#[test]
fn status_codes_follow_the_contract() {
    let (rt, master) = start_master(config());
    let mut client = Client::new(rt.addr(), PATIENCE);
    let teardown = |id: &str| json!({"type": "TEARDOWN", "framework_id": {"value": id}});

    let get = client.request("GET", API, &[], b"").unwrap();
    assert_eq!((get.status, get.header("allow")), (405, Some("POST")));
    let no_type = client.request("POST", API, &[], b"{}").unwrap();
    assert_eq!(no_type.status, 400);
    assert!(
        no_type.text().contains("Content-Type"),
        "{}",
        no_type.text()
    );
    let protobuf = client
        .request(
            "POST",
            API,
            &[("Content-Type", "application/x-protobuf")],
            b"\x08\x01",
        )
        .unwrap();
    assert_eq!(protobuf.status, 415);
    assert!(protobuf.text().contains("JSON"), "{}", protobuf.text());
    let garbage = client
        .request(
            "POST",
            API,
            &[("Content-Type", "application/json; charset=utf-8")],
            b"{nope",
        )
        .unwrap();
    assert_eq!(garbage.status, 400);
    assert!(
        garbage.text().contains("Failed to convert JSON"),
        "{}",
        garbage.text()
    );
    let invalid = client.post(API, &[], &json!({"type": "TEARDOWN"})).unwrap();
    assert_eq!(invalid.status, 400);
    assert!(
        invalid.text().contains("framework_id"),
        "{}",
        invalid.text()
    );

    // SUBSCRIBE refusals: Accept without JSON, a stream id, an invalid role.
    let info = json!({"user": "u", "name": "n"});
    let refused = |headers: &[(&str, &str)], info: Json| {
        subscribe(rt.addr(), API, headers, &subscribe_call(info), PATIENCE)
            .unwrap()
            .expect_err("refused")
    };
    assert_eq!(
        refused(&[("Accept", "application/x-protobuf")], info.clone()).status,
        406
    );
    assert_eq!(
        refused(&[("Mesos-Stream-Id", "x")], info.clone()).status,
        400
    );
    assert_eq!(
        refused(&[], json!({"user": "u", "name": "n", "role": "a b"})).status,
        400
    );

    // Calls: unknown framework 400; missing or wrong stream id 400; another framework's id 400.
    assert_eq!(
        client
            .post(API, &[("Mesos-Stream-Id", "x")], &teardown("nope"))
            .unwrap()
            .status,
        400
    );
    let mut a = HttpFramework::subscribe(&rt, info.clone());
    let b = HttpFramework::subscribe(
        &rt,
        json!({"user": "u", "name": "n", "failover_timeout": 1}),
    );
    let missing = client.post(API, &[], &teardown(&a.id)).unwrap();
    assert_eq!(missing.status, 400);
    assert!(
        missing.text().contains("Mesos-Stream-Id"),
        "{}",
        missing.text()
    );
    let wrong = client
        .post(API, &[("Mesos-Stream-Id", "wrong")], &teardown(&a.id))
        .unwrap();
    assert_eq!(wrong.status, 400);
    let other = client
        .post(API, &[("Mesos-Stream-Id", &b.stream_id)], &teardown(&a.id))
        .unwrap();
    assert_eq!(other.status, 400, "b's stream cannot act for a");
    assert_eq!(master.state()["frameworks"].as_array().unwrap().len(), 2);

    // A framework whose stream broke is not subscribed: 403 until it subscribes again.
    a.call(json!({"type": "SUPPRESS"}));
    let HttpFramework {
        stream,
        id,
        stream_id,
        ..
    } = b;
    stream.close();
    process::testing::wait_until("b is disconnected", PATIENCE, || {
        master.state()["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == id.as_str() && f["connected"] == false)
    });
    let forbidden = client
        .post(API, &[("Mesos-Stream-Id", &stream_id)], &teardown(&id))
        .unwrap();
    assert_eq!(forbidden.status, 403, "{}", forbidden.text());
    // Its failover timeout (1 s) passes: the framework is torn down.
    process::testing::wait_until("b is removed", PATIENCE, || {
        master.state()["completed_frameworks"]
            .as_array()
            .is_some_and(|c| c.iter().any(|f| f["id"] == id.as_str()))
    });
    assert_eq!(
        client
            .post(API, &[("Mesos-Stream-Id", &stream_id)], &teardown(&id))
            .unwrap()
            .status,
        400
    );
    drop(a);
    let _ = master;
}

#[test]
fn a_second_subscribe_replaces_the_stream_and_a_standby_redirects_or_refuses() {
    let (rt, master) = start_master(config());
    let mut first = HttpFramework::subscribe(
        &rt,
        json!({"user": "u", "name": "n", "failover_timeout": 60}),
    );
    let info = json!({"user": "u", "name": "n", "failover_timeout": 60, "id": {"value": first.id}});
    let call = json!({"type": "SUBSCRIBE", "framework_id": {"value": first.id},
        "subscribe": {"framework_info": info}});
    let mut second = subscribe(rt.addr(), API, &[], &call, PATIENCE)
        .unwrap()
        .unwrap();
    assert_ne!(second.stream_id(), Some(first.stream_id.as_str()));
    let subscribed = second.next_event().unwrap().unwrap();
    assert_eq!(value(&subscribed["subscribed"]["framework_id"]), first.id);
    let error = next(&mut first.stream);
    assert_eq!(
        error,
        json!({"type": "ERROR", "error": {"message": "Framework failed over"}})
    );
    assert!(
        matches!(first.stream.next_event(), Ok(None)),
        "the old stream ends"
    );
    // The old stream id no longer acts for the framework; the new one does.
    assert_eq!(first.call(json!({"type": "REVIVE"})).status, 400);

    // A standby: 503 with no leader, 307 to the leader's //host:port/path when one is known.
    let (standby_rt, standby) = start_master(MasterConfig {
        standby: true,
        ..config()
    });
    let mut client = Client::new(standby_rt.addr(), PATIENCE);
    let reply = client
        .post(API, &[], &subscribe_call(json!({"user": "u", "name": "n"})))
        .unwrap();
    assert_eq!(reply.status, 503);
    standby.set_leadership(false, Some(master.info().clone()));
    let reply = client
        .post(
            "/master/api/v1/scheduler?x=1",
            &[],
            &subscribe_call(json!({"user": "u"})),
        )
        .unwrap();
    assert_eq!(reply.status, 307);
    assert_eq!(
        reply.header("location"),
        Some(
            format!(
                "//127.0.0.1:{}/master/api/v1/scheduler?x=1",
                rt.addr().port()
            )
            .as_str()
        )
    );
    drop(second);
}

#[test]
fn http_and_driver_frameworks_share_one_master_and_bad_clients_hurt_no_one() {
    let (rt, master) = start_master(config());
    let (_agent, _agent_id) = agent(&master, "cpus:4;mem:1024");
    let mut http = HttpFramework::subscribe(&rt, json!({"user": "u", "name": "http"}));
    let mut driver = Peer::new("scheduler-1");
    driver.send(
        master.pid(),
        RegisterFrameworkMessage {
            framework: FrameworkInfo::new("u", "driver"),
            suppressed_roles: vec![],
        },
    );
    driver.expect::<FrameworkRegisteredMessage>();
    // One allocator: the HTTP framework holds the whole agent; the driver gets it once the
    // HTTP framework declines (DRF across both doors).
    let offers = next_of(&mut http.stream, "OFFERS");
    let offer = offers["offers"]["offers"][0]["id"].clone();
    http.accepted(json!({"type": "DECLINE", "decline": {"offer_ids": [offer], "filters": {"refuse_seconds": 3600}}}));
    let offer = driver.expect::<ResourceOffersMessage>();
    assert_eq!(offer.offers[0].resources.cpus(), Some(4.0));
    let metrics = master.metrics();
    assert_eq!(metrics["master/frameworks_active"], 2.0);
    assert_eq!(metrics["master/frameworks_connected"], 2.0);

    // A client that stops reading its stream, one that sends half a request, and a 100 MB
    // body: each gets its answer or its connection closed; everyone else is served.
    let _silent = open(&rt, json!({"user": "u", "name": "silent"}), &[]);
    let mut half = std::net::TcpStream::connect(rt.addr()).unwrap();
    std::io::Write::write_all(
        &mut half,
        b"POST /api/v1/scheduler HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"ty",
    )
    .unwrap();
    let mut big = Client::new(rt.addr(), PATIENCE);
    let huge = vec![b' '; 100 << 20];
    match big.request("POST", API, &[("Content-Type", "application/json")], &huge) {
        Ok(reply) => assert_eq!(reply.status, 413),
        // The server may close before the client finished writing 100 MB.
        Err(error) => assert!(
            matches!(
                error.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "{error}"
        ),
    }
    http.accepted(json!({"type": "REVIVE"}));
    let (status, _) = http_get(rt.addr(), "/master/state");
    assert_eq!(status, 200);
    drop(half);
}
