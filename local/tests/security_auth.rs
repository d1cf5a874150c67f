//! Authentication of frameworks and agents on the binary protocol (issue 14), end to end over
//! real TCP: the `mesos-master`, `mesos-agent` and `mesos-execute` binaries with Mesos's flags
//! and credential files, and in-process clusters with drivers for the finer refusals.

mod util;

use std::path::PathBuf;
use std::process::Command;

use mesos::auth::{
    AuthenticateMessage, AuthenticationChallengeMessage, AuthenticationCompletedMessage,
    AuthenticationFailedMessage, AuthenticationResponseMessage, Credential, Peer,
};
use mesos::{Filters, TaskState};
use process::testing::{wait_for, wait_until, BoundedCommand};
use util::bins::{get_json, start_agent, start_master, text};
use util::*;

/// A scratch directory holding the credential files.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn new(name: &str) -> Files {
        let dir = std::env::temp_dir().join(format!("sec-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // The master's credentials in Mesos's JSON form; the agent's in its text form.
        std::fs::write(
            dir.join("credentials.json"),
            r#"{"credentials":[{"principal":"fw","secret":"fw-secret"},{"principal":"agent","secret":"agent-secret"}]}"#,
        )
        .unwrap();
        std::fs::write(dir.join("agent.txt"), "agent agent-secret\n").unwrap();
        std::fs::write(dir.join("agent-wrong.txt"), "agent guessed\n").unwrap();
        Files { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn metric(addr: &str, name: &str) -> f64 {
    get_json(addr, "/metrics/snapshot", None)[name]
        .as_f64()
        .unwrap_or(-1.0)
}

fn execute(master: &str, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mesos-execute"));
    command
        .args([
            "--master",
            master,
            "--name",
            "auth-task",
            "--command",
            "echo authenticated",
        ])
        .args(["--resources", "cpus:0.1;mem:32"])
        .args(args)
        .env_remove("DEFAULT_PRINCIPAL")
        .env_remove("DEFAULT_SECRET");
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output_within("mesos-execute", WAIT * 2)
}

/// The binaries with Mesos's flags: an authenticated agent registers, `mesos-execute --principal
/// --secret` runs a task; a wrong secret, no credential at all, and an agent with a wrong
/// secret or none are each refused with a clear error and counted; the master keeps serving.
#[test]
fn binaries_authenticate_and_refuse_with_mesos_flags() {
    let files = Files::new("bin");
    let (_master, addr) = start_master(&[
        format!("--credentials={}", files.path("credentials.json").display()),
        "--authenticate_frameworks".into(),
        "--authenticate_agents=true".into(),
    ]);
    let work = files.path("agent-work");
    let _agent = start_agent(
        &addr,
        &work,
        &[format!(
            "--credential=file://{}",
            files.path("agent.txt").display()
        )],
    );
    wait_until("the authenticated agent registers", WAIT, || {
        metric(&addr, "master/slaves_active") == 1.0
    });

    // A framework with the right secret runs its task.
    let ok = execute(&addr, &["--principal=fw", "--secret=fw-secret"], &[]);
    assert!(
        ok.status.success(),
        "{}\n{}",
        text(&ok.stdout),
        text(&ok.stderr)
    );
    assert!(text(&ok.stdout).contains("TASK_FINISHED"));

    // DEFAULT_PRINCIPAL / DEFAULT_SECRET, as Mesos's examples read them.
    let env = execute(
        &addr,
        &[],
        &[("DEFAULT_PRINCIPAL", "fw"), ("DEFAULT_SECRET", "fw-secret")],
    );
    assert!(
        env.status.success(),
        "{}\n{}",
        text(&env.stdout),
        text(&env.stderr)
    );

    // A wrong secret: refused, with the reason on the framework's side.
    let wrong = execute(&addr, &["--principal=fw", "--secret=guess"], &[]);
    assert_eq!(wrong.status.code(), Some(1));
    let stderr = text(&wrong.stderr);
    assert!(stderr.contains("refused authentication"), "{stderr}");
    assert!(stderr.contains("wrong principal or secret"), "{stderr}");
    assert_eq!(
        metric(&addr, "master/frameworks_authentication_failures"),
        1.0
    );

    // No credential: the registration is refused, naming why.
    let none = execute(&addr, &[], &[]);
    assert_eq!(none.status.code(), Some(1));
    let stderr = text(&none.stderr);
    assert!(stderr.contains("not authenticated"), "{stderr}");
    assert!(metric(&addr, "master/frameworks_unauthenticated_refused") >= 1.0);

    // An agent with a wrong secret, and one without a credential, stop with exit code 1.
    let wrong_agent = start_agent(
        &addr,
        &files.path("wrong-agent-work"),
        &[format!(
            "--credential={}",
            files.path("agent-wrong.txt").display()
        )],
    )
    .output_within("mesos-agent with a wrong secret", WAIT);
    assert_eq!(wrong_agent.status.code(), Some(1));
    let stderr = text(&wrong_agent.stderr);
    assert!(stderr.contains("refused authentication"), "{stderr}");
    let bare_agent = start_agent(&addr, &files.path("bare-agent-work"), &[])
        .output_within("mesos-agent without a credential", WAIT);
    assert_eq!(bare_agent.status.code(), Some(1));
    let stderr = text(&bare_agent.stderr);
    assert!(stderr.contains("--credential"), "{stderr}");
    assert_eq!(metric(&addr, "master/agents_authentication_failures"), 1.0);
    assert!(metric(&addr, "master/agents_unauthenticated_refused") >= 1.0);

    // Only the two good frameworks ever registered; the good agent is still there.
    let state = get_json(&addr, "/master/state", None);
    let completed = state["completed_frameworks"].as_array().map_or(0, Vec::len);
    let active = state["frameworks"].as_array().map_or(0, Vec::len);
    assert_eq!(completed + active, 2, "{state}");
    assert_eq!(metric(&addr, "master/slaves_active"), 1.0);
    assert_eq!(metric(&addr, "master/authentication_successes"), 3.0);
}

/// Bad flags: authentication without credentials, and an unreadable credentials file, stop the
/// master at once naming the flag.
#[test]
fn master_refuses_to_start_with_bad_authentication_flags() {
    let bin = ensure_binary("master", "mesos-master");
    let out = Command::new(&bin)
        .args(["--port=0", "--authenticate_frameworks"])
        .output_within("mesos-master", WAIT);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--credentials"),
        "{}",
        text(&out.stderr)
    );
    let files = Files::new("badflags");
    std::fs::write(
        files.path("bad.json"),
        r#"{"credentials": [{"principal": 1}]}"#,
    )
    .unwrap();
    let out = Command::new(&bin)
        .args(["--port=0"])
        .arg(format!(
            "--credentials={}",
            files.path("bad.json").display()
        ))
        .output_within("mesos-master", WAIT);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--credentials") && stderr.contains("bad JSON"),
        "{stderr}"
    );
}

fn auth_cluster(frameworks: bool) -> mesos_local::LocalCluster {
    let mut config = fast_config(1, "cpus:1;mem:512");
    config.master.auth = master::auth::AuthConfig {
        credentials: Some("fw fw-secret\nagent agent-secret\n".parse().unwrap()),
        authenticate_frameworks: frameworks,
        authenticate_agents: true,
        ..Default::default()
    };
    config.agent.credential = Some(Credential::new("agent", "agent-secret"));
    mesos_local::LocalCluster::start(config).expect("cluster starts")
}

/// The principal a framework authenticated as must be its `FrameworkInfo.principal`.
#[test]
fn a_framework_principal_must_match_the_authenticated_one() {
    let cluster = auth_cluster(true);
    let options = options().with_credential(Credential::new("fw", "fw-secret"));
    let mut info = framework("mismatch");
    info.principal = Some("someone-else".into());
    let (_driver, mut events) = driver(&cluster, info, options.clone());
    let error = events.wait("an error", |e| match e {
        Event::Error(message) => Some(message.clone()),
        _ => None,
    });
    assert!(
        error.contains("'someone-else' does not match the authenticated principal 'fw'"),
        "{error}"
    );
    // The driver's default principal is the credential's: it registers and runs a task.
    let (driver, mut events) = driver(&cluster, framework("matching"), options);
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("t", &offer, "true", "cpus:0.1;mem:32");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    events.state("t", TaskState::Finished);
    let state = cluster.master().unwrap().state();
    assert_eq!(state["frameworks"][0]["principal"], "fw", "{state}");
}

/// Without `--authenticate_frameworks` unauthenticated frameworks still register, and
/// authenticated ones are checked all the same.
#[test]
fn authentication_is_optional_unless_required() {
    let cluster = auth_cluster(false);
    let (_plain, mut events) = driver(&cluster, framework("plain"), options());
    events.registered();
    let options = options().with_credential(Credential::new("fw", "nope"));
    let (_bad, mut events) = driver(&cluster, framework("bad-secret"), options);
    let error = events.wait("an error", |e| match e {
        Event::Error(message) => Some(message.clone()),
        _ => None,
    });
    assert!(error.contains("refused authentication"), "{error}");
}

/// A process that records the master's authentication replies.
struct Prober {
    replies: std::sync::mpsc::Sender<String>,
}

impl process::Process for Prober {
    fn handlers(h: &mut process::Handlers<Self>) {
        h.on(
            |this: &mut Prober, _, _, m: AuthenticationChallengeMessage| {
                let _ = this.replies.send(format!("challenge {}", m.nonce.len()));
            },
        )
        .on(
            |this: &mut Prober, _, _, m: AuthenticationCompletedMessage| {
                let _ = this.replies.send(format!("completed {}", m.proof.len()));
            },
        )
        .on(|this: &mut Prober, _, _, m: AuthenticationFailedMessage| {
            let _ = this.replies.send(format!("failed {}", m.reason));
        });
    }
}

/// Sends `message` to `master` from the prober.
fn probe<M: process::Message>(
    runtime: &process::Runtime,
    prober: &process::Pid<Prober>,
    master: &process::Upid,
    message: M,
) {
    let master = master.clone();
    drop(
        runtime
            .handle()
            .dispatch(prober, move |_, ctx| ctx.send(&master, message)),
    );
}

/// A message named like the start of an exchange, with a body of another shape.
#[derive(serde::Serialize, serde::Deserialize)]
struct Garbage {
    junk: u8,
}
process::message!(Garbage = "mesos.internal.AuthenticateMessage");

/// Truncated, garbage and replayed handshakes over real TCP are refused cleanly; the master
/// keeps serving everyone else.
#[test]
fn bad_handshakes_are_refused_and_the_master_keeps_serving() {
    let cluster = auth_cluster(true);
    let master = cluster.master_pid();
    let runtime = process::Runtime::new(process::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..process::Config::default()
    })
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let prober = runtime
        .handle()
        .spawn("prober", Prober { replies: tx })
        .unwrap();
    let next = |what: &str| process::testing::recv_within(&rx, what, WAIT);
    // A nonce of 5 bytes: refused.
    probe(
        &runtime,
        &prober,
        &master,
        AuthenticateMessage {
            principal: "fw".into(),
            nonce: vec![1; 5],
            peer: Peer::Framework,
        },
    );
    assert!(next("a refusal").starts_with("failed malformed"));
    // A body that is not an AuthenticateMessage: dropped, no answer, nothing breaks.
    probe(&runtime, &prober, &master, Garbage { junk: 7 });
    // A response with no exchange: refused.
    probe(
        &runtime,
        &prober,
        &master,
        AuthenticationResponseMessage { proof: vec![0; 32] },
    );
    assert!(next("a refusal").contains("no authentication in progress"));
    // A real start, then a forged response: refused; replaying it: no exchange left.
    probe(
        &runtime,
        &prober,
        &master,
        AuthenticateMessage {
            principal: "fw".into(),
            nonce: vec![9; 32],
            peer: Peer::Framework,
        },
    );
    assert_eq!(next("a challenge"), "challenge 32");
    let forged = AuthenticationResponseMessage { proof: vec![7; 32] };
    probe(&runtime, &prober, &master, forged.clone());
    assert!(next("a refusal").contains("wrong principal or secret"));
    probe(&runtime, &prober, &master, forged);
    assert!(next("a refusal").contains("no authentication in progress"));
    let failures = wait_for("the failures counted", WAIT, || {
        let m = cluster.master().unwrap().metrics();
        let n = m["master/authentication_failures"].as_f64()?;
        (n >= 4.0).then_some(n)
    });
    assert_eq!(failures, 4.0);
    // Everyone else is still served.
    let options = options().with_credential(Credential::new("fw", "fw-secret"));
    let (_driver, mut events) = driver(&cluster, framework("after"), options);
    events.registered();
    runtime.shutdown();
}
