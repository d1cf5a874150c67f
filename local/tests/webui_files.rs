//! The files API on a real cluster: a task's sandbox under its real path and under the virtual
//! `/frameworks/<fid>/executors/<eid>/runs/latest` on the agent, the same through the master's
//! `/agent/<agent id>/...` proxy, the logs with `--log_dir`, and the web UI's assets.

mod util;

use std::time::Duration;

use mesos::v1::client::{Client, Reply};
use mesos::{Filters, TaskState};
use serde_json::Value as Json;
use util::*;

fn get(addr: std::net::SocketAddr, target: &str) -> Reply {
    Client::new(addr, Duration::from_secs(10))
        .request("GET", target, &[], &[])
        .unwrap_or_else(|e| panic!("GET {target}: {e}"))
}

fn json(addr: std::net::SocketAddr, target: &str) -> Json {
    let reply = get(addr, target);
    assert_eq!(reply.status, 200, "{target}: {}", reply.text());
    reply.json().unwrap()
}

#[test]
fn a_tasks_sandbox_and_the_logs_through_agent_and_master() {
    let log_dir = std::env::temp_dir().join(format!("webui-logs-{}", mesos::Uuid::random()));
    std::fs::create_dir_all(&log_dir).unwrap();
    std::fs::write(log_dir.join(master::MASTER_LOG_FILE), "master says hi\n").unwrap();
    std::fs::write(log_dir.join(agent::AGENT_LOG_FILE), "agent says hi\n").unwrap();
    let mut config = fast_config(1, "cpus:2;mem:1024");
    config.master.log_dir = Some(log_dir.clone());
    config.agent.log_dir = Some(log_dir.clone());
    let cluster = mesos_local::LocalCluster::start(config).expect("cluster starts");
    let master: std::net::SocketAddr = cluster.master_address().parse().unwrap();
    let agent = cluster.agent(0).unwrap().pid().addr();

    let (driver, mut events) = driver(&cluster, framework("files"), options());
    let framework_id = events.registered();
    let offer = events.offers().remove(0);
    let agent_id = offer.agent_id.clone();
    let task = command_task(
        "printer",
        &offer,
        "echo out-$((6*7)); echo err-line >&2",
        "cpus:0.5;mem:64",
    );
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    events.state("printer", TaskState::Finished);

    // The agent's state names the sandbox; the command executor's id is the task's.
    let state = json(agent, "/slave(1)/state");
    let directory = state["completed_frameworks"][0]["executors"]
        .as_array()
        .into_iter()
        .chain(state["frameworks"][0]["executors"].as_array())
        .flatten()
        .find_map(|e| e["directory"].as_str().map(str::to_string))
        .or_else(|| {
            // A finished command executor has left the agent's book: find its run on disk.
            let runs = cluster.work_dir().join("agent-0/slaves");
            let found = walk(&runs).into_iter().find(|p| p.ends_with("stdout"))?;
            Some(found.parent()?.to_string_lossy().into_owned())
        })
        .expect("the sandbox directory");
    let latest = format!(
        "/frameworks/{}/executors/printer/runs/latest",
        framework_id.as_str()
    );

    // On the agent: the virtual path and the real path, after the task finished.
    for base in [latest.as_str(), directory.as_str()] {
        let listing = json(agent, &format!("/files/browse?path={}", enc(base)));
        let names: Vec<&str> = listing
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["path"].as_str()?.rsplit('/').next())
            .collect();
        assert!(
            names.contains(&"stdout") && names.contains(&"stderr"),
            "{names:?}"
        );
        let out = json(
            agent,
            &format!("/files/read?path={}/stdout&offset=0", enc(base)),
        );
        assert_eq!(out["data"], "out-42\n");
    }

    // Through the master, which is all a browser may reach.
    let proxied = format!("/agent/{}", agent_id.as_str());
    let out = json(
        master,
        &format!("{proxied}/files/read?path={}/stderr&offset=0", enc(&latest)),
    );
    // The command executor logs to the same stderr (as Mesos's does), so only the task's line is
    // pinned here, as a whole line.
    let err = out["data"].as_str().expect("stderr data");
    assert!(err.lines().any(|l| l == "err-line"), "{err:?}");
    let size = json(
        master,
        &format!(
            "{proxied}/files/read.json?path={}/stdout&offset=-1",
            enc(&latest)
        ),
    );
    assert_eq!(size["offset"], 7);
    let download = get(
        master,
        &format!("{proxied}/files/download?path={}/stdout", enc(&latest)),
    );
    assert_eq!(download.body, b"out-42\n");
    assert!(download
        .header("content-disposition")
        .is_some_and(|d| d.contains("stdout")));
    let agent_state = json(master, &format!("{proxied}/slave(1)/state"));
    assert_eq!(agent_state["id"], agent_id.as_str());
    assert!(json(master, &format!("{proxied}/monitor/statistics")).is_array());
    // Errors pass through; traversal gets nothing; only the listed endpoints are forwarded.
    let escape = get(
        master,
        &format!(
            "{proxied}/files/read?path={}/..%2F..%2F..&offset=0",
            enc(&latest)
        ),
    );
    assert_eq!(escape.status, 403, "{}", escape.text());
    let missing = get(master, &format!("{proxied}/files/read?path=/nope&offset=0"));
    assert_eq!(missing.status, 404);
    for target in [
        "/agent/no-such-agent/files/read?path=/slave/log".to_string(),
        format!("{proxied}/files/debug"),
        format!("{proxied}/files/../slave(1)/state"),
        format!("{proxied}/api/v1"),
        proxied.clone(),
    ] {
        let reply = get(master, &target);
        assert_eq!(reply.status, 404, "{target}: {}", reply.text());
    }

    // Logs: /slave/log on the agent (also through the master), /master/log on the master.
    assert_eq!(
        json(agent, "/files/read?path=/slave/log&offset=0")["data"],
        "agent says hi\n"
    );
    assert_eq!(
        json(
            master,
            &format!("{proxied}/files/read?path=/slave/log&offset=0")
        )["data"],
        "agent says hi\n"
    );
    assert_eq!(
        json(master, "/files/read?path=/master/log&offset=0")["data"],
        "master says hi\n"
    );
    let flags = json(master, "/master/state")["flags"].clone();
    assert_eq!(flags["log_dir"], log_dir.to_string_lossy().as_ref());
    assert_eq!(
        json(agent, "/slave(1)/state")["log_dir"],
        log_dir.to_string_lossy().as_ref()
    );

    // The web UI: the page at `/` with its assets, relative URLs only, locked to this origin.
    let page = get(master, "/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("connect-src 'self'"));
    let html = page.text();
    assert!(html.contains("src=\"webui/app.js\""), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src=\"/"));
    let script = get(master, "/webui/app.js");
    assert_eq!(script.status, 200);
    assert!(script
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    assert!(!script.text().contains("http://") && !script.text().contains("https://"));
    assert_eq!(get(master, "/webui/app.css").status, 200);
    assert_eq!(get(master, "/no-such-page").status, 404);

    // What the page reads on a big cluster: the summary and the server-side task search.
    let summary = json(master, "/webui/summary?limit=5");
    assert_eq!(summary["summary"]["tasks"]["TASK_FINISHED"], 1);
    assert_eq!(summary["activated_slaves"], 1);
    assert_eq!(
        summary["frameworks"][0]["completed_tasks"][0]["id"],
        "printer"
    );
    assert_eq!(summary["slaves"][0]["id"], agent_id.as_str());
    assert!(summary["summary"]["total"]["cpus"].as_f64().unwrap() >= 2.0);
    let found = json(master, "/webui/tasks?q=PRINT&state=TASK_FINISHED");
    assert_eq!(found["total"], 1);
    assert_eq!(found["tasks"][0]["kind"], "completed");
    assert_eq!(json(master, "/webui/tasks?state=TASK_RUNNING")["total"], 0);
    assert_eq!(
        json(master, "/webui/tasks?offset=1")["tasks"],
        serde_json::json!([])
    );
    assert_eq!(get(master, "/webui/tasks?limit=x").status, 400);
    assert_eq!(get(master, "/master/no-such-endpoint").status, 404);

    driver.stop(false);
    drop(cluster);
    let _ = std::fs::remove_dir_all(&log_dir);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn enc(path: &str) -> String {
    process::http::percent_encode_path(path)
}
