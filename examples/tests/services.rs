//! `service-framework` end to end (issue 17): a real cluster (in process, real agents and command
//! executors), the scheduler as a real process, Marathon's REST API over real HTTP, an app of 3
//! instances of a small HTTP server fetched from a tarball served by the test and health-checked
//! over HTTP. Kill one task's process, stop an agent, break one instance's health: each time the
//! app returns to 3 healthy instances. A rolling deploy never has fewer than 3 instances
//! answering (polled throughout). The scheduler killed mid-deploy and restarted adopts its tasks:
//! no duplicates.

mod long_running_util;
#[path = "../../local/tests/services_util/mod.rs"]
mod services_util;

use std::process::Command;
use std::time::Instant;

use long_running_util::{call_json, client, quick_config, start_scheduler, WAIT};
use mesos_local::LocalCluster;
use process::testing::{wait_for, wait_until, ChildGuard};
use serde_json::{json, Value};
use services_util::*;

/// Each instance: answers `GET /` with its version, `GET /health` with 200 unless a file
/// `unhealthy` is in its sandbox; writes its task id and pid there.
const SERVER: &str = r#"
import http.server, os
open('task_id', 'w').write(os.environ['MESOS_TASK_ID'])
open('pid', 'w').write(str(os.getpid()))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/health' and os.path.exists('unhealthy'):
            code, body = 503, b'sick'
        else:
            code, body = 200, os.environ.get('APP_VERSION', '?').encode()
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT0'])), Handler).serve_forever()
"#;

/// A cluster of `agents` agents, each with a port range of its own (they share one host).
fn cluster(agents: usize) -> LocalCluster {
    let mut cluster = LocalCluster::start(quick_config(0)).expect("cluster starts");
    let base = 20_000 + (std::process::id() % 200) as u16 * 100;
    for i in 0..agents {
        let low = base + i as u16 * 20;
        cluster
            .add_agent_with_resources(Some(format!("cpus:2;mem:2048;ports:[{low}-{}]", low + 19)))
            .expect("agent");
    }
    cluster
}

fn start(master: &str, state_file: &std::path::Path) -> (ChildGuard, String) {
    let args = ["--state_file".into(), state_file.into()];
    start_scheduler(env!("CARGO_BIN_EXE_service-framework"), master, &args)
}

fn agent() -> ureq::Agent {
    client()
}

fn call(method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    call_json(method, url, body)
}

fn app(version: &str, tarball: &str) -> Value {
    json!({
        "id": "/shop/web",
        "cmd": "exec python3 server.py",
        "instances": 3,
        "cpus": 0.1,
        "mem": 64,
        "portDefinitions": [{"port": 0}],
        "env": {"APP_VERSION": version},
        "fetch": [{"uri": tarball}],
        "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
                          "gracePeriodSeconds": 20, "intervalSeconds": 0.3,
                          "timeoutSeconds": 1, "maxConsecutiveFailures": 2,
                          "delaySeconds": 0}],
        "constraints": [["node", "UNIQUE"]],
        "backoffSeconds": 0.2,
        "backoffFactor": 1.5,
        "maxLaunchDelaySeconds": 2,
        "upgradeStrategy": {"minimumHealthCapacity": 1.0, "maximumOverCapacity": 1.0},
    })
}

/// The app's tasks as the API lists them.
fn tasks(api: &str) -> Vec<Value> {
    let (status, body) = call("GET", &format!("{api}/v2/apps/shop/web/tasks"), None);
    assert_eq!(status, 200, "{body}");
    body["tasks"].as_array().cloned().unwrap_or_default()
}

/// Versions served by the instances that answer, one entry per answering instance.
fn answering(api: &str) -> Vec<String> {
    tasks(api)
        .iter()
        .filter_map(|t| {
            let port = t["ports"][0].as_u64()?;
            let response = agent()
                .get(&format!("http://127.0.0.1:{port}/"))
                .call()
                .ok()?;
            response.into_string().ok()
        })
        .collect()
}

/// Waits for 3 healthy instances of `version` (and no other task).
fn three_healthy(api: &str, version: &str) -> Vec<Value> {
    wait_for(&format!("3 healthy instances of {version}"), WAIT, || {
        let tasks = tasks(api);
        let healthy = tasks
            .iter()
            .filter(|t| t["healthCheckResults"][0]["alive"] == true)
            .count();
        let served = answering(api);
        (tasks.len() == 3 && healthy == 3 && served.iter().filter(|v| *v == version).count() == 3)
            .then_some(tasks)
    })
}

fn sandbox_of(cluster: &LocalCluster, task_id: &str) -> std::path::PathBuf {
    find_files(cluster.work_dir(), "task_id")
        .into_iter()
        .find(|p| std::fs::read_to_string(p).is_ok_and(|id| id == task_id))
        .and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        .expect("the task's sandbox")
}

#[test]
fn a_service_stays_at_three_healthy_instances_through_failures_deploys_and_restarts() {
    let files = FileServer::start();
    files.put(
        "/web.tgz",
        gzip(&tar_of(&[("server.py", SERVER.as_bytes(), 0o644)])),
    );
    let tarball = files.url("/web.tgz");
    let mut cluster = cluster(4);
    let state = cluster.work_dir().join("service-framework.json");
    let (scheduler, api) = start(&cluster.master_address(), &state);
    assert_eq!(call("GET", &format!("{api}/ping"), None).1, "pong");

    // Create: 201 with the app; a second create is a conflict; a missing app is a 404.
    let (status, created) = call(
        "POST",
        &format!("{api}/v2/apps"),
        Some(&app("v1", &tarball)),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], "/shop/web");
    assert_eq!(
        call(
            "POST",
            &format!("{api}/v2/apps"),
            Some(&app("v1", &tarball))
        )
        .0,
        409
    );
    assert_eq!(call("GET", &format!("{api}/v2/apps/nope"), None).0, 404);
    let first = three_healthy(&api, "v1");
    assert!(call("GET", &format!("{api}/v2/deployments"), None)
        .1
        .as_array()
        .unwrap()
        .is_empty());

    // Kill one task's process: replaced.
    let victim = first[0]["id"].as_str().unwrap().to_string();
    let pid = std::fs::read_to_string(sandbox_of(&cluster, &victim).join("pid")).unwrap();
    Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .unwrap();
    wait_until("the killed task replaced", WAIT, || {
        tasks(&api).iter().all(|t| t["id"] != victim.as_str())
    });
    let after_kill = three_healthy(&api, "v1");

    // Break one instance's health: killed after 2 failed checks, replaced.
    let sick = after_kill[1]["id"].as_str().unwrap().to_string();
    std::fs::write(sandbox_of(&cluster, &sick).join("unhealthy"), "").unwrap();
    wait_until("the unhealthy task replaced", WAIT, || {
        tasks(&api).iter().all(|t| t["id"] != sick.as_str())
    });
    let after_sick = three_healthy(&api, "v1");

    // Stop an agent that runs an instance: its task is lost and placed on the spare agent.
    let agent_id = after_sick[2]["slaveId"].as_str().unwrap().to_string();
    let index = (0..cluster.agent_count())
        .find(|i| {
            cluster
                .agent(*i)
                .and_then(|a| a.agent_id().ok().flatten())
                .is_some_and(|id| id.as_str() == agent_id)
        })
        .expect("the task's agent");
    cluster.stop_agent(index).unwrap();
    wait_until("the lost task replaced", WAIT, || {
        tasks(&api)
            .iter()
            .all(|t| t["slaveId"] != agent_id.as_str())
    });
    three_healthy(&api, "v1");

    // A rolling deploy: never fewer than 3 instances answering while it runs.
    cluster
        .add_agent_with_resources(Some("cpus:2;mem:2048;ports:[29900-29919]".into()))
        .unwrap();
    let (status, change) = call(
        "PUT",
        &format!("{api}/v2/apps/shop/web"),
        Some(&app("v2", &tarball)),
    );
    assert_eq!(status, 200, "{change}");
    let deployment = change["deploymentId"].as_str().unwrap().to_string();
    let started = Instant::now();
    let mut fewest = usize::MAX;
    let mut samples = 0;
    loop {
        let served = answering(&api);
        fewest = fewest.min(served.len());
        samples += 1;
        let deployments = call("GET", &format!("{api}/v2/deployments"), None).1;
        let running = deployments
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == deployment.as_str());
        if !running && served.iter().filter(|v| *v == "v2").count() == 3 && served.len() == 3 {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the deploy did not end: {deployments}"
        );
    }
    assert!(
        fewest >= 3,
        "only {fewest} instances answered at one point ({samples} samples)"
    );
    eprintln!(
        "rolling_deploy samples={samples} fewest_answering={fewest} took_ms={}",
        started.elapsed().as_millis()
    );
    three_healthy(&api, "v2");

    // Kill the scheduler mid-deploy, restart it: it adopts its tasks, no duplicates.
    let (status, _) = call(
        "PUT",
        &format!("{api}/v2/apps/shop/web"),
        Some(&app("v3", &tarball)),
    );
    assert_eq!(status, 200);
    wait_until("the v3 deploy under way", WAIT, || {
        answering(&api).iter().any(|v| v == "v3")
    });
    drop(scheduler);
    let (_scheduler, api) = start(&cluster.master_address(), &state);
    let done = three_healthy(&api, "v3");
    let ids: std::collections::BTreeSet<&str> =
        done.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids.len(), 3);
    // The master agrees: exactly 3 running tasks of the framework.
    let running = wait_for("the master to see 3 running tasks", WAIT, || {
        let text = agent()
            .get(&cluster.state_url())
            .call()
            .ok()?
            .into_string()
            .ok()?;
        let state: Value = serde_json::from_str(&text).ok()?;
        let running = state["frameworks"]
            .as_array()?
            .iter()
            .flat_map(|f| f["tasks"].as_array().cloned().unwrap_or_default())
            .filter(|t| t["state"] == "TASK_RUNNING")
            .count();
        (running == 3).then_some(running)
    });
    assert_eq!(running, 3);

    // Scale down through the API, then delete.
    let mut scaled = app("v3", &tarball);
    scaled["instances"] = json!(1);
    assert_eq!(
        call("PUT", &format!("{api}/v2/apps/shop/web"), Some(&scaled)).0,
        200
    );
    wait_until("scaled to 1", WAIT, || tasks(&api).len() == 1);
    let (status, _) = call("DELETE", &format!("{api}/v2/apps/shop/web"), None);
    assert_eq!(status, 200);
    assert_eq!(call("GET", &format!("{api}/v2/apps/shop/web"), None).0, 404);
}
