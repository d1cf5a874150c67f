use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

fn pid(text: &str) -> process::Upid {
    text.parse().unwrap()
}

fn setup() -> (Authenticator, process::Upid, process::Upid) {
    let credentials: Credentials = "alice s3cret\nbob hunter2\n".parse().unwrap();
    (
        Authenticator::new(credentials),
        pid("master@127.0.0.1:5050"),
        pid("scheduler-1@127.0.0.1:40000"),
    )
}

#[test]
fn credentials_in_both_of_mesos_forms() {
    let json: Credentials =
        r#"{"credentials":[{"principal":"alice","secret":"s1"},{"principal":"bob","secret":"s2"}]}"#
            .parse()
            .unwrap();
    let text: Credentials = "# ops\nalice s1\n\n  bob   s2  \n".parse().unwrap();
    assert_eq!(json, text);
    assert_eq!(json.secret("alice"), Some("s1"));
    assert!(json.check("bob", "s2"));
    assert!(!json.check("bob", "s1"));
    assert!(!json.check("carol", "s2"));
    assert_eq!(
        format!("{json:?}"),
        r#"["alice", "bob"]"#,
        "no secret printed"
    );
}

#[test]
fn bad_credentials_name_the_problem() {
    let cases = [
        ("alice\n", "line 1"),
        ("alice s1\nbob s2 extra\n", "line 2"),
        ("", "no credentials"),
        ("alice s1\nalice s2\n", "'alice'"),
        (r#"{"credentials": 3}"#, "bad JSON"),
        (
            r#"{"credentials":[{"principal":"","secret":"x"}]}"#,
            "bad principal",
        ),
    ];
    for (text, expected) in cases {
        let error = text.parse::<Credentials>().unwrap_err().to_string();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
}

#[test]
fn a_single_credential_file_json_or_text_and_file_urls() {
    let dir = std::env::temp_dir().join(format!("auth-cred-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("c.json");
    std::fs::write(&json, r#"{"principal":"agent","secret":"pw"}"#).unwrap();
    let text = dir.join("c.txt");
    std::fs::write(&text, "agent pw\n").unwrap();
    let two = dir.join("two.txt");
    std::fs::write(&two, "a x\nb y\n").unwrap();
    assert_eq!(
        Credential::load(&json).unwrap(),
        Credential::new("agent", "pw")
    );
    let url = std::path::PathBuf::from(format!("file://{}", text.display()));
    assert_eq!(
        Credential::load(&url).unwrap(),
        Credential::new("agent", "pw")
    );
    assert_eq!(Credential::load(&two), Err(CredentialsError::NotOne(2)));
    let missing = Credential::load(&dir.join("nope")).unwrap_err().to_string();
    assert!(missing.contains("cannot read"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs an exchange; returns what the client got at the end.
fn exchange(
    server: &mut Authenticator,
    client: &mut Authenticatee<&'static str>,
    master: &process::Upid,
    me: &process::Upid,
    now: Instant,
) -> Result<Option<&'static str>, String> {
    let Gate::Hold(Some(start)) = client.gate(now, master, "register", fresh_nonce()) else {
        panic!("expected a new exchange");
    };
    let challenge = server.start(now, me, master, start, fresh_nonce()).unwrap();
    let response = client.on_challenge(master, me, challenge).unwrap();
    match server.step(now, me, master, response) {
        Ok((completed, who)) => {
            assert_eq!(who.peer, Peer::Framework);
            client.on_completed(master, me, completed)
        }
        Err(refusal) => {
            let reason = refusal.client_reason();
            let got = client.on_failed(master, AuthenticationFailedMessage { reason });
            Err(got.expect("a failure from the master counts"))
        }
    }
}

#[test]
fn the_right_secret_authenticates_and_releases_the_held_registration() {
    let (mut server, master, me) = setup();
    let mut client = Authenticatee::new(Credential::new("alice", "s3cret"), Peer::Framework);
    let now = Instant::now();
    assert_eq!(
        exchange(&mut server, &mut client, &master, &me, now),
        Ok(Some("register"))
    );
    assert!(client.is_authenticated_with(&master));
    assert_eq!(
        client.gate(now, &master, "again", fresh_nonce()),
        Gate::Pass("again")
    );
    // Another master (a new leader) needs its own exchange.
    let other = pid("master@127.0.0.1:5051");
    assert!(matches!(
        client.gate(now, &other, "x", fresh_nonce()),
        Gate::Hold(Some(_))
    ));
    assert_eq!(server.pending(), 0);
}

#[test]
fn a_wrong_secret_or_unknown_principal_fails_alike() {
    let (mut server, master, me) = setup();
    let now = Instant::now();
    let mut wrong = Authenticatee::new(Credential::new("alice", "guess"), Peer::Framework);
    let mut unknown = Authenticatee::new(Credential::new("mallory", "s3cret"), Peer::Framework);
    let a = exchange(&mut server, &mut wrong, &master, &me, now).unwrap_err();
    let b = exchange(&mut server, &mut unknown, &master, &me, now).unwrap_err();
    assert_eq!(a, b);
    assert!(a.contains("wrong principal or secret"), "{a}");
    assert!(!wrong.is_authenticated_with(&master));
}

#[test]
fn a_replayed_response_is_refused() {
    let (mut server, master, me) = setup();
    let now = Instant::now();
    let mut client: Authenticatee<()> =
        Authenticatee::new(Credential::new("alice", "s3cret"), Peer::Agent);
    let Gate::Hold(Some(start)) = client.gate(now, &master, (), fresh_nonce()) else {
        panic!()
    };
    let challenge = server
        .start(now, &me, &master, start.clone(), fresh_nonce())
        .unwrap();
    let response = client.on_challenge(&master, &me, challenge).unwrap();
    assert!(server.step(now, &me, &master, response.clone()).is_ok());
    // The same response again: the exchange is over.
    assert_eq!(
        server.step(now, &me, &master, response.clone()),
        Err(Refusal::NoExchange)
    );
    // Replaying the whole exchange: the master's nonce is fresh, so the old proof fails.
    server
        .start(now, &me, &master, start, fresh_nonce())
        .unwrap();
    assert!(matches!(
        server.step(now, &me, &master, response.clone()),
        Err(Refusal::WrongSecret { .. })
    ));
    // The same proof from another pid fails too (pids are bound).
    let other = pid("scheduler-2@127.0.0.1:40001");
    let Gate::Hold(Some(start)) = Authenticatee::<()>::new(
        Credential::new("alice", "x"),
        Peer::Agent,
    )
    .gate(now, &master, (), fresh_nonce()) else {
        panic!()
    };
    server
        .start(now, &other, &master, start, fresh_nonce())
        .unwrap();
    assert!(server.step(now, &other, &master, response).is_err());
}

#[test]
fn a_late_response_is_refused() {
    let (mut server, master, me) = setup();
    let now = Instant::now();
    let mut client: Authenticatee<()> =
        Authenticatee::new(Credential::new("alice", "s3cret"), Peer::Agent);
    let Gate::Hold(Some(start)) = client.gate(now, &master, (), fresh_nonce()) else {
        panic!()
    };
    let challenge = server
        .start(now, &me, &master, start, fresh_nonce())
        .unwrap();
    let response = client.on_challenge(&master, &me, challenge).unwrap();
    let late = now + PENDING_TIMEOUT + Duration::from_secs(1);
    assert_eq!(
        server.step(late, &me, &master, response),
        Err(Refusal::NoExchange)
    );
}

#[test]
fn an_impostor_master_cannot_complete() {
    let (mut server, master, me) = setup();
    let now = Instant::now();
    let mut client: Authenticatee<()> =
        Authenticatee::new(Credential::new("alice", "s3cret"), Peer::Agent);
    let Gate::Hold(Some(start)) = client.gate(now, &master, (), fresh_nonce()) else {
        panic!()
    };
    let challenge = server
        .start(now, &me, &master, start, fresh_nonce())
        .unwrap();
    client.on_challenge(&master, &me, challenge).unwrap();
    let forged = AuthenticationCompletedMessage { proof: vec![0; 32] };
    let error = client.on_completed(&master, &me, forged).unwrap_err();
    assert!(error.contains("could not prove"), "{error}");
    assert!(!client.is_authenticated_with(&master));
}

#[test]
fn malformed_starts_and_challenges_are_refused() {
    let (mut server, master, me) = setup();
    let now = Instant::now();
    let short = AuthenticateMessage {
        principal: "alice".into(),
        nonce: vec![1; 5],
        peer: Peer::Framework,
    };
    assert!(matches!(
        server.start(now, &me, &master, short, fresh_nonce()),
        Err(Refusal::Malformed(_))
    ));
    let long_name = AuthenticateMessage {
        principal: "a".repeat(300),
        nonce: vec![1; NONCE_LEN],
        peer: Peer::Framework,
    };
    assert!(server
        .start(now, &me, &master, long_name, fresh_nonce())
        .is_err());
    let mut client: Authenticatee<()> =
        Authenticatee::new(Credential::new("alice", "s3cret"), Peer::Agent);
    client.gate(now, &master, (), fresh_nonce());
    let bad = AuthenticationChallengeMessage { nonce: vec![] };
    assert_eq!(client.on_challenge(&master, &me, bad), None);
    let stranger = pid("master@10.0.0.1:5050");
    let ok = AuthenticationChallengeMessage {
        nonce: vec![0; NONCE_LEN],
    };
    assert_eq!(client.on_challenge(&stranger, &me, ok), None);
}

#[test]
fn a_retry_within_the_window_holds_without_a_new_exchange() {
    let (_, master, _) = setup();
    let now = Instant::now();
    let mut client = Authenticatee::new(Credential::new("alice", "s3cret"), Peer::Agent);
    assert!(matches!(
        client.gate(now, &master, 1, fresh_nonce()),
        Gate::Hold(Some(_))
    ));
    assert_eq!(
        client.gate(now, &master, 2, fresh_nonce()),
        Gate::Hold(None)
    );
    let later = now + AUTHENTICATION_RETRY;
    assert!(matches!(
        client.gate(later, &master, 3, fresh_nonce()),
        Gate::Hold(Some(_))
    ));
    client.reset(&master);
    assert!(matches!(
        client.gate(later, &master, 4, fresh_nonce()),
        Gate::Hold(Some(_))
    ));
}

/// As the runtime decodes bodies: with a limit, so a garbage length prefix is an error.
fn decode<M: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<M> {
    let config =
        bincode::config::standard().with_limit::<{ process::transport::MAX_FRAME_LIMIT }>();
    bincode::serde::decode_from_slice(bytes, config)
        .ok()
        .map(|(m, _)| m)
}

proptest! {
    /// The handshake decoders and both state machines take any bytes without panicking, and
    /// garbage never authenticates.
    #[test]
    fn garbage_handshakes_never_panic_nor_authenticate(
        start in proptest::collection::vec(any::<u8>(), 0..120),
        response in proptest::collection::vec(any::<u8>(), 0..80),
        challenge in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let (mut server, master, me) = setup();
        let now = Instant::now();
        if let Some(m) = decode::<AuthenticateMessage>(&start) {
            let _ = server.start(now, &me, &master, m, fresh_nonce());
        }
        if let Some(m) = decode::<AuthenticationResponseMessage>(&response) {
            prop_assert!(server.step(now, &me, &master, m).is_err());
        }
        let mut client: Authenticatee<()> =
            Authenticatee::new(Credential::new("alice", "s3cret"), Peer::Agent);
        client.gate(now, &master, (), fresh_nonce());
        if let Some(m) = decode::<AuthenticationChallengeMessage>(&challenge) {
            let _ = client.on_challenge(&master, &me, m);
        }
        if let Some(m) = decode::<AuthenticationCompletedMessage>(&response) {
            prop_assert!(client.on_completed(&master, &me, m).map(|held| held.is_none()).unwrap_or(true));
        }
        prop_assert!(!client.is_authenticated_with(&master));
    }
}

#[test]
fn basic_credentials_parse_and_check() {
    use super::http::*;
    let header = basic_header("ops", "pa:ss");
    assert_eq!(parse_basic(&header), Ok(("ops".into(), "pa:ss".into())));
    assert!(parse_basic("Bearer xyz").unwrap_err().contains("'Bearer'"));
    assert!(parse_basic("Basic !!!").is_err());
    assert!(parse_basic(&format!("Basic {}", crate::base64_encode(b"nocolon"))).is_err());
    let auth = HttpAuth {
        credentials: Some("ops pa:ss\n".parse().unwrap()),
        readonly: true,
        ..HttpAuth::default()
    };
    let mut request = process::http::Request {
        method: "GET".into(),
        path: "/master/state".into(),
        query: String::new(),
        headers: vec![],
        body: vec![],
    };
    assert_eq!(auth.principal(&request), HttpPrincipal::Anonymous);
    request.headers.push(("Authorization".into(), header));
    assert_eq!(
        auth.principal(&request),
        HttpPrincipal::Authenticated("ops".into())
    );
    request.headers[0].1 = basic_header("ops", "nope");
    assert!(matches!(
        auth.principal(&request),
        HttpPrincipal::Invalid(_)
    ));
    let guard = auth.guard("mesos-master", |_| Realm::ReadOnly);
    let refusal = guard(&request).expect("refused");
    assert_eq!(refusal.status, 401);
    assert_eq!(
        refusal.header("WWW-Authenticate"),
        Some("Basic realm=\"mesos-master-readonly\"")
    );
}
