//! Health checks end to end (issue 17): real command tasks checked by the command executor over
//! HTTP, TCP and with a command; health changes reach the scheduler as TASK_RUNNING updates with
//! `healthy` and REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; a task failing its checks is killed and
//! ends unhealthy. Ports reach the task as PORT0/PORT/PORTS.

mod services_util;
mod util;

use mesos::{
    CommandInfo, CommandUri, HealthCheck, HealthCheckType, HttpCheckInfo, Reason, TaskInfo,
    TaskState, TaskStatus, TcpCheckInfo,
};
use services_util::*;
use util::*;

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Python HTTP server on $PORT0 answering 200, or 503 while a file `unhealthy` is in its
/// directory.
const SERVER: &str = r#"
import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = 503 if os.path.exists('unhealthy') else 200
        self.send_response(code)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT0'])), Handler).serve_forever()
"#;

fn check(kind: HealthCheckType, failures: u32, grace: f64) -> HealthCheck {
    HealthCheck {
        kind,
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.2),
        timeout_seconds: Some(1.0),
        grace_period_seconds: Some(grace),
        consecutive_failures: Some(failures),
        ..HealthCheck::default()
    }
}

fn health_update(events: &mut Events, task: &str, healthy: bool) -> TaskStatus {
    events.wait(&format!("{task} healthy={healthy}"), |e| match e {
        Event::Update(s)
            if s.task_id.as_str() == task
                && s.state == TaskState::Running
                && s.healthy == Some(healthy) =>
        {
            Some(s.clone())
        }
        _ => None,
    })
}

#[test]
fn an_http_checked_task_turns_healthy_and_is_killed_once_unhealthy() {
    let server = FileServer::start();
    server.put("/server.py", SERVER.as_bytes().to_vec());
    let port = free_port();
    let cluster = cluster(1, &format!("cpus:2;mem:1024;ports:[{port}-{port}]"));
    let (driver, mut events) = driver(&cluster, framework("health-http"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let mut command = CommandInfo::shell("exec python3 server.py");
    command.uris.push(CommandUri {
        value: server.url("/server.py"),
        ..CommandUri::default()
    });
    let health = HealthCheck {
        http: Some(HttpCheckInfo {
            port: port.into(),
            path: Some("/health".into()),
            ..HttpCheckInfo::default()
        }),
        ..check(HealthCheckType::Http, 3, 10.0)
    };
    let task = TaskInfo::new(
        "web",
        "web",
        offer.agent_id.clone(),
        format!("cpus:0.2;mem:64;ports:[{port}-{port}]")
            .parse()
            .unwrap(),
    )
    .with_command(command)
    .with_health_check(health);
    driver.launch_tasks(vec![offer.id], vec![task], no_filter());
    let healthy = health_update(&mut events, "web", true);
    assert_eq!(healthy.reason, Some(Reason::TaskHealthCheckStatusUpdated));
    // Break its health: the checks fail, each failure is reported, the third kills it.
    let sandbox = find_files(cluster.work_dir(), "server.py")
        .pop()
        .expect("the fetched server")
        .parent()
        .unwrap()
        .to_path_buf();
    std::fs::write(sandbox.join("unhealthy"), "").unwrap();
    let unhealthy = health_update(&mut events, "web", false);
    assert_eq!(unhealthy.reason, Some(Reason::TaskHealthCheckStatusUpdated));
    assert!(
        unhealthy.message.unwrap_or_default().contains("503"),
        "the failed check says why"
    );
    let end = events.wait("web's terminal update", |e| match e {
        Event::Update(s) if s.task_id.as_str() == "web" && s.state.is_terminal() => Some(s.clone()),
        _ => None,
    });
    assert_eq!(end.state, TaskState::Killed, "{end:?}");
    assert_eq!(end.healthy, Some(false));
}

#[test]
fn a_tcp_check_on_a_closed_port_kills_after_consecutive_failures() {
    let port = free_port();
    let cluster = cluster(1, "cpus:2;mem:1024");
    let (driver, mut events) = driver(&cluster, framework("health-tcp"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let health = HealthCheck {
        tcp: Some(TcpCheckInfo { port: port.into() }),
        ..check(HealthCheckType::Tcp, 2, 0.0)
    };
    let task =
        command_task("closed", &offer, "sleep 60", "cpus:0.2;mem:32").with_health_check(health);
    driver.launch_tasks(vec![offer.id], vec![task], no_filter());
    let mut unhealthy = 0;
    let end = events.wait("closed's terminal update", |e| match e {
        Event::Update(s) if s.task_id.as_str() == "closed" && s.healthy == Some(false) => {
            if s.state.is_terminal() {
                Some(s.clone())
            } else {
                unhealthy += 1;
                None
            }
        }
        _ => None,
    });
    assert_eq!(end.state, TaskState::Killed);
    assert_eq!(unhealthy, 2, "each counted failure is reported");
}

#[test]
fn command_checks_and_ports_in_the_environment() {
    let (low, high) = loop {
        let port = free_port();
        if port < u16::MAX {
            break (port, port + 1);
        }
    };
    let cluster = cluster(1, &format!("cpus:2;mem:1024;ports:[{low}-{high}]"));
    let (driver, mut events) = driver(&cluster, framework("health-command"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let script = format!(
        r#"test "$PORT0" = {low} && test "$PORT1" = {high} && test "$PORT" = {low} && test "$PORTS" = {low},{high} && touch ok && sleep 60"#
    );
    let health = HealthCheck {
        command: Some(CommandInfo::shell(
            r#"test -f ok && test "$PORT0" = "#.to_string() + &low.to_string(),
        )),
        ..check(HealthCheckType::Command, 3, 20.0)
    };
    let task = TaskInfo::new(
        "cmd",
        "cmd",
        offer.agent_id.clone(),
        format!("cpus:0.2;mem:32;ports:[{low}-{high}]")
            .parse()
            .unwrap(),
    )
    .with_command(CommandInfo::shell(script))
    .with_health_check(health);
    driver.launch_tasks(vec![offer.id], vec![task], no_filter());
    health_update(&mut events, "cmd", true);
    driver.kill_task(mesos::TaskId::new("cmd"));
    let end = events.wait("cmd's terminal update", |e| match e {
        Event::Update(s) if s.task_id.as_str() == "cmd" && s.state.is_terminal() => Some(s.clone()),
        _ => None,
    });
    assert_eq!(end.state, TaskState::Killed);
    assert_eq!(
        end.healthy, None,
        "killed by the framework, not for its health"
    );
}
