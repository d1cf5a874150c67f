//! The agent's fetcher end to end (issue 17): a real cluster, real command tasks, URIs served by a
//! real HTTP server in the test. Each archive type is extracted, plain files are made executable
//! or renamed, cached URIs are downloaded once however many tasks ask at once, and a URI that
//! cannot be fetched or an archive that would escape the sandbox fails only its task, with
//! REASON_CONTAINER_LAUNCH_FAILED and a message naming the URI.

mod services_util;
mod util;

use mesos::{CommandInfo, CommandUri, Filters, Reason, TaskInfo, TaskState};
use services_util::*;
use util::*;

fn uri(value: String) -> CommandUri {
    CommandUri {
        value,
        ..CommandUri::default()
    }
}

fn task_with(id: &str, offer: &mesos::Offer, command: &str, uris: Vec<CommandUri>) -> TaskInfo {
    let mut command = CommandInfo::shell(command);
    command.uris = uris;
    TaskInfo::new(
        id,
        id,
        offer.agent_id.clone(),
        "cpus:0.2;mem:32".parse().expect("resources"),
    )
    .with_command(command)
}

fn terminal(events: &mut Events, task: &str) -> mesos::TaskStatus {
    terminals(events, &[task.to_string()]).remove(task).unwrap()
}

/// The terminal updates of `tasks`, in whatever order they come.
fn terminals(
    events: &mut Events,
    tasks: &[String],
) -> std::collections::HashMap<String, mesos::TaskStatus> {
    let mut ends = std::collections::HashMap::new();
    while ends.len() < tasks.len() {
        let end = events.wait(&format!("terminal updates of {tasks:?}"), |e| match e {
            Event::Update(s)
                if s.state.is_terminal() && tasks.iter().any(|t| t == s.task_id.as_str()) =>
            {
                Some(s.clone())
            }
            _ => None,
        });
        ends.insert(end.task_id.to_string(), end);
    }
    ends
}

#[test]
fn every_archive_type_and_plain_files_land_in_the_sandbox() {
    let server = FileServer::start();
    let tar = |name: &str, text: &str| tar_of(&[(name, text.as_bytes(), 0o644)]);
    server.put("/a.tar", tar("tar/a.txt", "tar"));
    server.put("/b.tar.gz", gzip(&tar("targz.txt", "targz")));
    server.put("/c.tgz", gzip(&tar("tgz.txt", "tgz")));
    server.put("/d.tar.bz2", bzip2(&tar("bz2.txt", "bz2")));
    server.put("/e.tar.xz", xz(&tar("xz.txt", "xz")));
    server.put(
        "/f.zip",
        zip_of(&[
            ("zip/f.txt", b"zip", 0o644),
            ("zipexec.sh", b"#!/bin/sh\necho zipexec\n", 0o755),
        ]),
    );
    server.put("/run.sh", b"#!/bin/sh\necho ran\n".to_vec());
    server.put("/download", b"renamed".to_vec());
    server.put("/kept.tar.gz", gzip(&tar("not-extracted.txt", "no")));
    let local = std::env::temp_dir().join(format!("fetcher-local-{}", std::process::id()));
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("by-file-uri.txt"), "file-uri").unwrap();
    std::fs::write(local.join("by-path.txt"), "path").unwrap();

    let mut uris: Vec<CommandUri> = [
        "/a.tar",
        "/b.tar.gz",
        "/c.tgz",
        "/d.tar.bz2",
        "/e.tar.xz",
        "/f.zip",
    ]
    .iter()
    .map(|p| uri(server.url(p)))
    .collect();
    uris.push(CommandUri {
        executable: true,
        ..uri(server.url("/run.sh"))
    });
    uris.push(CommandUri {
        output_file: Some("renamed.txt".into()),
        ..uri(server.url("/download"))
    });
    uris.push(CommandUri {
        extract: false,
        ..uri(server.url("/kept.tar.gz"))
    });
    uris.push(uri(format!(
        "file://{}",
        local.join("by-file-uri.txt").display()
    )));
    uris.push(uri(local.join("by-path.txt").display().to_string()));
    let check = [
        r#"test "$(cat tar/a.txt)" = tar"#,
        r#"test "$(cat targz.txt)" = targz"#,
        r#"test "$(cat tgz.txt)" = tgz"#,
        r#"test "$(cat bz2.txt)" = bz2"#,
        r#"test "$(cat xz.txt)" = xz"#,
        r#"test "$(cat zip/f.txt)" = zip"#,
        r#"test "$(./zipexec.sh)" = zipexec"#,
        r#"test "$(./run.sh)" = ran"#,
        r#"test "$(cat renamed.txt)" = renamed"#,
        "test -f kept.tar.gz",
        "test ! -e not-extracted.txt",
        r#"test "$(cat by-file-uri.txt)" = file-uri"#,
        r#"test "$(cat by-path.txt)" = path"#,
    ]
    .join(" && ");

    let cluster = cluster(1, "cpus:2;mem:1024");
    let (driver, mut events) = driver(&cluster, framework("fetch-all"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = task_with("all", &offer, &check, uris);
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    let end = terminal(&mut events, "all");
    assert_eq!(end.state, TaskState::Finished, "{end:?}");
    // The fetcher's log is the sandbox's stderr.
    let stderr = find_files(cluster.work_dir(), "stderr")
        .into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .find(|text| text.contains("Fetching URI"))
        .expect("a sandbox stderr with the fetcher's log");
    assert!(stderr.contains(&server.url("/f.zip")), "{stderr}");
    assert!(stderr.contains("Extracted"), "{stderr}");
    let _ = std::fs::remove_dir_all(&local);
}

#[test]
fn cached_uris_are_downloaded_once_for_concurrent_and_later_tasks() {
    let server = FileServer::start();
    server.put("/app.tgz", gzip(&tar_of(&[("app/VERSION", b"v1", 0o644)])));
    server.put("/uncached.txt", b"u".to_vec());
    let cluster = cluster(1, "cpus:2;mem:1024");
    let (driver, mut events) = driver(&cluster, framework("fetch-cache"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let cached = || CommandUri {
        cache: true,
        ..uri(server.url("/app.tgz"))
    };
    let tasks: Vec<TaskInfo> = (0..4)
        .map(|i| {
            task_with(
                &format!("c{i}"),
                &offer,
                r#"test "$(cat app/VERSION)" = v1 && test "$(cat uncached.txt)" = u"#,
                vec![cached(), uri(server.url("/uncached.txt"))],
            )
        })
        .collect();
    driver.launch_tasks(vec![offer.id], tasks, no_filter());
    let ids: Vec<String> = (0..4).map(|i| format!("c{i}")).collect();
    for end in terminals(&mut events, &ids).values() {
        assert_eq!(end.state, TaskState::Finished, "{end:?}");
    }
    assert_eq!(
        server.hits("/app.tgz"),
        1,
        "four concurrent fetches, one download"
    );
    assert_eq!(
        server.hits("/uncached.txt"),
        4,
        "not cached: fetched each time"
    );
    // A later task finds it in the cache too.
    let offer = events.offers().remove(0);
    let later = task_with("later", &offer, "test -f app/VERSION", vec![cached()]);
    driver.launch_tasks(vec![offer.id], vec![later], no_filter());
    assert_eq!(terminal(&mut events, "later").state, TaskState::Finished);
    assert_eq!(server.hits("/app.tgz"), 1);
    let cache_dir = cluster.work_dir().join("agent-0").join("fetch");
    let cached_files = std::fs::read_dir(&cache_dir).expect("cache dir").count();
    assert_eq!(
        cached_files,
        1,
        "one cached file in {}",
        cache_dir.display()
    );
}

#[test]
fn a_uri_that_cannot_be_fetched_fails_only_its_task() {
    let server = FileServer::start();
    server.put("/ok.txt", b"ok".to_vec());
    let cluster = cluster(1, "cpus:2;mem:1024");
    let (driver, mut events) = driver(&cluster, framework("fetch-bad"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let missing = server.url("/missing.tgz");
    let bad = task_with("bad", &offer, "true", vec![uri(missing.clone())]);
    let unsupported = task_with(
        "unsupported",
        &offer,
        "true",
        vec![uri("ftp://127.0.0.1/x".into())],
    );
    let good = task_with(
        "good",
        &offer,
        r#"test "$(cat ok.txt)" = ok"#,
        vec![uri(server.url("/ok.txt"))],
    );
    driver.launch_tasks(vec![offer.id], vec![bad, unsupported, good], no_filter());
    let ids = ["bad", "unsupported", "good"].map(String::from);
    let mut ends = terminals(&mut events, &ids);
    let failed = ends.remove("bad").unwrap();
    assert_eq!(failed.state, TaskState::Failed);
    assert_eq!(failed.reason, Some(Reason::ContainerLaunchFailed));
    let message = failed.message.unwrap_or_default();
    assert!(message.contains(&missing), "names the URI: {message}");
    assert!(message.contains("404"), "says why: {message}");
    let unsupported = ends.remove("unsupported").unwrap();
    assert_eq!(unsupported.reason, Some(Reason::ContainerLaunchFailed));
    assert!(unsupported.message.unwrap_or_default().contains("ftp://"));
    assert_eq!(ends["good"].state, TaskState::Finished);
}

#[test]
fn archives_that_would_escape_the_sandbox_are_refused() {
    let server = FileServer::start();
    let outside = std::env::temp_dir().join(format!("fetcher-outside-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    server.put("/dotdot.tar", tar_with_raw_name("../escaped.txt", b"bad"));
    server.put(
        "/absolute.tar",
        tar_with_raw_name("/tmp/absolute-escape.txt", b"bad"),
    );
    server.put(
        "/link.tar.gz",
        gzip(&tar_with_symlink("out", &outside.display().to_string())),
    );
    server.put(
        "/dotdot.zip",
        zip_of(&[("../zip-escaped.txt", b"bad", 0o644)]),
    );
    let cluster = cluster(1, "cpus:2;mem:1024");
    let (driver, mut events) = driver(&cluster, framework("fetch-escape"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let names = ["dotdot.tar", "absolute.tar", "link.tar.gz", "dotdot.zip"];
    let tasks = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            task_with(
                &format!("escape{i}"),
                &offer,
                "true",
                vec![uri(server.url(&format!("/{name}")))],
            )
        })
        .collect();
    driver.launch_tasks(vec![offer.id], tasks, no_filter());
    let ids: Vec<String> = (0..names.len()).map(|i| format!("escape{i}")).collect();
    let mut ends = terminals(&mut events, &ids);
    for (i, name) in names.iter().enumerate() {
        let end = ends.remove(&format!("escape{i}")).unwrap();
        assert_eq!(end.state, TaskState::Failed, "{name}: {end:?}");
        assert_eq!(end.reason, Some(Reason::ContainerLaunchFailed), "{name}");
        let message = end.message.unwrap_or_default();
        assert!(message.contains(name), "{name}: {message}");
        assert!(
            message.contains("outside") || message.contains("escape"),
            "{name}: {message}"
        );
    }
    assert!(
        std::fs::read_dir(&outside).unwrap().next().is_none(),
        "nothing written through the link"
    );
    assert!(!std::path::Path::new("/tmp/absolute-escape.txt").exists());
    assert!(find_files(cluster.work_dir(), "escaped.txt").is_empty());
    assert!(find_files(cluster.work_dir(), "zip-escaped.txt").is_empty());
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn https_uris_are_fetched_from_servers_a_trusted_ca_signed_and_refused_otherwise() {
    let dir = std::env::temp_dir().join(format!("fetcher-https-{}", std::process::id()));
    let ca = process::testing::certs::TestCa::new(&dir).expect("test CA");
    let trusted = FileServer::start_tls(&ca.issue("files", &["127.0.0.1"]).expect("certificate"));
    trusted.put("/secret.txt", b"over tls".to_vec());
    trusted.put(
        "/app.tgz",
        gzip(&tar_of(&[("app/run.sh", b"echo tgz", 0o755)])),
    );
    let stranger =
        process::testing::certs::self_signed(&dir.join("other"), "other", &["127.0.0.1"])
            .expect("self-signed certificate");
    let untrusted = FileServer::start_tls(&stranger);
    untrusted.put("/secret.txt", b"should not arrive".to_vec());

    // The operator trusts the test CA (the agent binary reads SSL_CERT_FILE or
    // LIBPROCESS_SSL_CA_FILE into this list).
    let mut config = fast_config(1, "cpus:2;mem:1024");
    config.agent.fetcher_ca_files = vec![ca.ca_file().to_path_buf()];
    let cluster = mesos_local::LocalCluster::start(config).expect("cluster starts");
    let (driver, mut events) = driver(&cluster, framework("fetch-https"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let good_uri = trusted.url("/secret.txt");
    assert!(good_uri.starts_with("https://"), "{good_uri}");
    let mut archive = uri(trusted.url("/app.tgz"));
    archive.extract = true;
    let good = task_with(
        "good",
        &offer,
        r#"test "$(cat secret.txt)" = "over tls" && test -x app/run.sh"#,
        vec![uri(good_uri), archive],
    );
    let bad_uri = untrusted.url("/secret.txt");
    let bad = task_with("bad", &offer, "true", vec![uri(bad_uri.clone())]);
    driver.launch_tasks(vec![offer.id], vec![good, bad], no_filter());
    let mut ends = terminals(&mut events, &["good".into(), "bad".into()]);
    let good = ends.remove("good").unwrap();
    assert_eq!(good.state, TaskState::Finished, "{:?}", good.message);
    assert_eq!(trusted.hits("/secret.txt"), 1);
    let bad = ends.remove("bad").unwrap();
    assert_eq!(bad.state, TaskState::Failed);
    assert_eq!(bad.reason, Some(Reason::ContainerLaunchFailed));
    let message = bad.message.unwrap_or_default();
    assert!(message.contains(&bad_uri), "names the URI: {message}");
    assert!(
        message.contains("certificate") && message.contains("SSL_CERT_FILE"),
        "says why and how to trust a CA: {message}"
    );
    assert_eq!(
        untrusted.hits("/secret.txt"),
        0,
        "nothing sent before trust"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
