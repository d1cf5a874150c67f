//! The files API over real sockets: every rule (shapes, offsets, caps, errors) and every
//! traversal attempt, against a `files` process on a real runtime.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::Duration;

use files::{Files, MAX_READ_BYTES};
use mesos::v1::client::{Client, Reply};
use process::{Config, Runtime};
use serde_json::Value as Json;

const SANDBOX: &str = "/frameworks/f1/executors/e1/runs/latest";

struct Fixture {
    _runtime: Runtime,
    client: Client,
    root: PathBuf,
    sandbox: PathBuf,
    secret: String,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A sandbox with files, a subdirectory, symlinks in and out, and a secret file next to it.
fn fixture(name: &str) -> Fixture {
    let root = std::env::temp_dir().join(format!(
        "files-api-{name}-{}-{}",
        std::process::id(),
        mesos::Uuid::random()
    ));
    let sandbox = root.join("slaves/s1/frameworks/f1/executors/e1/runs/c1");
    std::fs::create_dir_all(sandbox.join("sub")).unwrap();
    std::fs::create_dir_all(root.join("outside")).unwrap();
    let secret = format!("TOPSECRET-{}", mesos::Uuid::random());
    std::fs::write(root.join("outside/secret"), &secret).unwrap();
    std::fs::write(root.join("slaves/s1/neighbour"), &secret).unwrap();
    std::fs::write(sandbox.join("stdout"), "hello from the task\n").unwrap();
    std::fs::write(sandbox.join("sub/nested.txt"), "nested\n").unwrap();
    let big: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(sandbox.join("big.log"), &big).unwrap();
    symlink(root.join("outside/secret"), sandbox.join("link-out")).unwrap();
    symlink(root.join("outside"), sandbox.join("dir-out")).unwrap();
    symlink("../../../../../../neighbour", sandbox.join("relative-out")).unwrap();
    symlink("stdout", sandbox.join("link-in")).unwrap();

    let runtime = Runtime::new(Config::default()).unwrap();
    let files = Files::new();
    files.attach(SANDBOX, &sandbox).unwrap();
    files.attach(&sandbox.to_string_lossy(), &sandbox).unwrap();
    std::fs::write(root.join("agent.log"), "log line\n").unwrap();
    files.attach("/slave/log", root.join("agent.log")).unwrap();
    files.spawn(&runtime).unwrap();
    let client = Client::new(runtime.addr(), Duration::from_secs(10));
    Fixture {
        _runtime: runtime,
        client,
        root,
        sandbox,
        secret,
    }
}

impl Fixture {
    /// GETs `target` exactly as written (no encoding by the client).
    fn get(&mut self, target: &str) -> Reply {
        let reply = self.client.request("GET", target, &[], &[]).unwrap();
        assert!(
            !reply.text().contains(&self.secret),
            "{target} leaked the secret: {}",
            reply.text()
        );
        reply
    }

    fn json(&mut self, target: &str) -> Json {
        let reply = self.get(target);
        assert_eq!(reply.status, 200, "{target}: {}", reply.text());
        reply.json().unwrap()
    }
}

fn enc(path: &str) -> String {
    process::http::percent_encode_path(path)
}

#[test]
fn browse_lists_a_sandbox_in_mesos_shape() {
    let mut f = fixture("browse");
    let listing = f.json(&format!("/files/browse?path={SANDBOX}"));
    let paths: Vec<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = [
        "big.log",
        "dir-out",
        "link-in",
        "link-out",
        "relative-out",
        "stdout",
        "sub",
    ]
    .iter()
    .map(|n| format!("{SANDBOX}/{n}"))
    .collect();
    assert_eq!(paths, expected, "sorted by path");
    let stdout = &listing[5];
    assert_eq!(stdout["size"], 20);
    assert_eq!(stdout["nlink"], 1);
    assert!(stdout["mode"].as_str().unwrap().starts_with("-rw"));
    assert!(stdout["mtime"].as_i64().unwrap() > 1_600_000_000);
    assert!(stdout["uid"].is_string() && stdout["gid"].is_string());
    assert!(listing[6]["mode"].as_str().unwrap().starts_with('d'));
    assert!(listing[3]["mode"].as_str().unwrap().starts_with('l'));

    // Trailing slash, the real path, a subdirectory, JSONP, the .json alias.
    assert_eq!(f.json(&format!("/files/browse?path={SANDBOX}/")), listing);
    let real = f.sandbox.to_string_lossy().into_owned();
    let by_real = f.json(&format!("/files/browse.json?path={}", enc(&real)));
    assert_eq!(by_real[5]["path"], format!("{real}/stdout"));
    let sub = f.json(&format!("/files/browse?path={SANDBOX}/sub"));
    assert_eq!(sub[0]["path"], format!("{SANDBOX}/sub/nested.txt"));
    let jsonp = f.get(&format!("/files/browse?path={SANDBOX}/sub&jsonp=cb"));
    assert!(jsonp.text().starts_with("cb([{"), "{}", jsonp.text());

    // Errors.
    assert_eq!(f.get("/files/browse").status, 400);
    assert_eq!(f.get("/files/browse?path=").status, 400);
    assert_eq!(
        f.get(&format!("/files/browse?path={SANDBOX}/nope")).status,
        404
    );
    assert_eq!(f.get("/files/browse?path=/frameworks/f2").status, 404);
    assert_eq!(
        f.get(&format!("/files/browse?path={SANDBOX}/stdout"))
            .status,
        400
    );
    let post = f
        .client
        .request("POST", &format!("/files/browse?path={SANDBOX}"), &[], b"")
        .unwrap();
    assert_eq!(post.status, 405);
}

#[test]
fn read_offsets_lengths_and_the_64k_cap() {
    let mut f = fixture("read");
    let stdout = format!("{SANDBOX}/stdout");
    let size = f.json(&format!("/files/read?path={stdout}&offset=-1"));
    assert_eq!(size, serde_json::json!({"offset": 20, "data": ""}));
    // offset defaults to -1, as in Mesos.
    assert_eq!(f.json(&format!("/files/read?path={stdout}")), size);
    let all = f.json(&format!("/files/read?path={stdout}&offset=0"));
    assert_eq!(
        all,
        serde_json::json!({"offset": 0, "data": "hello from the task\n"})
    );
    let piece = f.json(&format!("/files/read?path={stdout}&offset=6&length=4"));
    assert_eq!(piece, serde_json::json!({"offset": 6, "data": "from"}));
    let at_end = f.json(&format!("/files/read?path={stdout}&offset=20&length=5"));
    assert_eq!(at_end, serde_json::json!({"offset": 20, "data": ""}));
    let past = f.json(&format!("/files/read?path={stdout}&offset=999"));
    assert_eq!(past["data"], "");
    // Through a symlink that stays inside, and through the real path.
    let linked = f.json(&format!("/files/read?path={SANDBOX}/link-in&offset=0"));
    assert_eq!(linked["data"], "hello from the task\n");
    let real = format!("{}/stdout", f.sandbox.to_string_lossy());
    assert_eq!(
        f.json(&format!("/files/read?path={}&offset=0", enc(&real)))["data"],
        all["data"]
    );

    // The cap: 16 pages of 4 KiB, whatever length asks for.
    let big = format!("{SANDBOX}/big.log");
    for length in ["-1", "1000000"] {
        let read = f.json(&format!("/files/read?path={big}&offset=0&length={length}"));
        assert_eq!(read["data"].as_str().unwrap().len(), MAX_READ_BYTES);
    }
    let tail = f.json(&format!("/files/read?path={big}&offset=99990"));
    assert_eq!(tail["data"].as_str().unwrap().len(), 10);

    // Bad offsets and lengths, directories, missing files.
    for bad in [
        "offset=-2",
        "offset=abc",
        "offset=",
        "offset=1.5",
        "length=-7",
        "length=x",
    ] {
        let reply = f.get(&format!("/files/read?path={stdout}&{bad}"));
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text());
    }
    let dir = f.get(&format!("/files/read?path={SANDBOX}/sub&offset=0"));
    assert_eq!(
        (dir.status, dir.text().as_str()),
        (400, "Cannot read a directory.")
    );
    assert_eq!(
        f.get(&format!("/files/read?path={SANDBOX}/missing&offset=0"))
            .status,
        404
    );
    assert_eq!(f.get("/files/read?offset=0").status, 400);

    // An attached file (the agent's log).
    assert_eq!(
        f.json("/files/read?path=/slave/log&offset=0")["data"],
        "log line\n"
    );
    assert_eq!(f.get("/files/read?path=/slave/log/x&offset=0").status, 404);
}

#[test]
fn download_streams_bytes_with_a_name() {
    let mut f = fixture("download");
    let reply = f.get(&format!("/files/download?path={SANDBOX}/sub/nested.txt"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"nested\n");
    assert_eq!(reply.header("content-type"), Some("text/plain"));
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"nested.txt\"")
    );
    let stdout = f.get(&format!("/files/download?path={SANDBOX}/stdout"));
    assert_eq!(
        stdout.header("content-type"),
        Some("application/octet-stream")
    );
    let big = f.get(&format!("/files/download?path={SANDBOX}/big.log"));
    assert_eq!(big.body, std::fs::read(f.sandbox.join("big.log")).unwrap());
    let dir = f.get(&format!("/files/download?path={SANDBOX}/sub"));
    assert_eq!(
        (dir.status, dir.text().as_str()),
        (400, "Cannot download a directory.")
    );
    assert_eq!(
        f.get(&format!("/files/download?path={SANDBOX}/none"))
            .status,
        404
    );
}

#[test]
fn large_downloads_are_streamed_whole() {
    let mut f = fixture("stream");
    let len = 9 << 20;
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(f.sandbox.join("huge.bin"), &bytes).unwrap();
    let reply = f.get(&format!("/files/download?path={SANDBOX}/huge.bin"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    assert!(reply.body == bytes, "streamed bytes differ");
}

#[test]
fn traversal_attempts_never_return_a_byte() {
    let mut f = fixture("traversal");
    let root = f.root.to_string_lossy().into_owned();
    let secret_path = format!("{root}/outside/secret");
    let neighbour = format!("{root}/slaves/s1/neighbour");
    let real = f.sandbox.to_string_lossy().into_owned();
    // (query path as sent on the wire, expected status)
    let attacks: Vec<(String, u16)> = vec![
        // Plain and encoded `..` in the virtual and the real path.
        (format!("{SANDBOX}/../../../../../outside/secret"), 403),
        (
            format!("{SANDBOX}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside/secret"),
            403,
        ),
        (
            format!("{SANDBOX}/%2E%2E%2F%2E%2E%2F%2E%2E%2Fneighbour"),
            403,
        ),
        (
            format!("{SANDBOX}/..%2f..%2f..%2f..%2f..%2f..%2fneighbour"),
            403,
        ),
        (
            format!("{}/..%2F..%2F..%2F..%2F..%2F..%2Fneighbour", enc(&real)),
            403,
        ),
        (format!("{SANDBOX}/sub/.."), 403),
        ("..".to_string(), 403),
        ("%2e%2e".to_string(), 403),
        // Double-encoded: a name, `%2e%2e`, that does not exist.
        (format!("{SANDBOX}/%252e%252e/%252e%252e/neighbour"), 404),
        // Absolute paths outside every attachment.
        ("/etc/passwd".to_string(), 404),
        (enc(&secret_path), 404),
        (enc(&neighbour), 404),
        ("%2Fetc%2Fpasswd".to_string(), 404),
        // A sibling whose name starts like an attachment.
        (format!("{}-other", enc(&real)), 404),
        // Symlinks out of the sandbox: absolute, relative, and to a directory.
        (format!("{SANDBOX}/link-out"), 403),
        (format!("{SANDBOX}/relative-out"), 403),
        (format!("{SANDBOX}/dir-out/secret"), 403),
        (format!("{SANDBOX}/dir-out"), 403),
        // NUL, backslashes.
        (format!("{SANDBOX}/stdout%00"), 400),
        (format!("{SANDBOX}/..\\..\\..\\neighbour"), 404),
    ];
    for (path, status) in &attacks {
        for op in ["read", "download", "browse"] {
            let target = format!("/files/{op}?path={path}&offset=0");
            let reply = f.get(&target);
            assert_eq!(reply.status, *status, "{target}: {}", reply.text());
        }
    }
    // Traversal in the URL path itself never reaches a file.
    for target in [
        "/files/../etc/passwd",
        "/files/read/../../etc/passwd?path=/etc/passwd",
        "/files/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let reply = f.get(target);
        assert_eq!(reply.status, 404, "{target}: {}", reply.text());
    }
    // A symlink created later to a file outside is refused too.
    symlink(&secret_path, f.sandbox.join("late")).unwrap();
    assert_eq!(
        f.get(&format!("/files/read?path={SANDBOX}/late&offset=0"))
            .status,
        403
    );
    // A sandbox directory replaced by a symlink out is refused at its root.
    let sub = f.sandbox.join("sub");
    std::fs::remove_dir_all(&sub).unwrap();
    symlink(Path::new(&root).join("outside"), &sub).unwrap();
    assert_eq!(
        f.get(&format!("/files/read?path={SANDBOX}/sub/secret&offset=0"))
            .status,
        403
    );
}

#[test]
fn debug_lists_the_attachments() {
    let mut f = fixture("debug");
    let debug = f.json("/files/debug");
    assert_eq!(debug[SANDBOX], f.sandbox.to_string_lossy().as_ref());
    assert!(debug["/slave/log"].as_str().unwrap().ends_with("agent.log"));
    assert_eq!(debug.as_object().unwrap().len(), 3);
}
