//! Feeds arbitrary bytes to the authentication handshake's decoders (the runtime's own decoding of
//! the five `mesos.internal.Authentication*` bodies) and to both state machines, the master's
//! `Authenticator` and the client's `Authenticatee`. Checks: no panic, and garbage never
//! authenticates either side.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use mesos::auth::{
    fresh_nonce, AuthenticateMessage, AuthenticationChallengeMessage,
    AuthenticationCompletedMessage, AuthenticationFailedMessage, AuthenticationResponseMessage,
    Authenticatee, Authenticator, Credential, Credentials, Peer,
};
use process::{decode_message, Upid};

/// Splits `data` into three parts at the positions its first two bytes give.
fn parts(data: &[u8]) -> [&[u8]; 3] {
    let (Some(&a), Some(&b)) = (data.first(), data.get(1)) else {
        return [data, data, data];
    };
    let rest = &data[2..];
    let first = usize::from(a).min(rest.len());
    let second = (first + usize::from(b)).min(rest.len());
    [&rest[..first], &rest[first..second], &rest[second..]]
}

fuzz_target!(|data: &[u8]| {
    let [start, response, challenge] = parts(data);
    let master: Upid = "master@127.0.0.1:5050".parse().unwrap();
    let me: Upid = "scheduler-1@127.0.0.1:40000".parse().unwrap();
    let credentials: Credentials = "alice s3cret\nbob hunter2\n".parse().unwrap();
    let mut server = Authenticator::new(credentials);
    let now = Instant::now();

    // The master's side: a start, then a response that cannot carry a valid proof.
    if let Ok(message) = decode_message::<AuthenticateMessage>(start) {
        match server.start(now, &me, &master, message, fresh_nonce()) {
            Ok(challenge) => assert_eq!(challenge.nonce.len(), mesos::auth::NONCE_LEN),
            Err(refusal) => assert!(!refusal.client_reason().is_empty()),
        }
    }
    if let Ok(message) = decode_message::<AuthenticationResponseMessage>(response) {
        assert!(server.step(now, &me, &master, message).is_err());
    }

    // The client's side: a challenge, then a completion whose proof is garbage, then a failure.
    let mut client: Authenticatee<()> =
        Authenticatee::new(Credential::new("alice", "s3cret"), Peer::Framework);
    client.gate(now, &master, (), fresh_nonce());
    if let Ok(message) = decode_message::<AuthenticationChallengeMessage>(challenge) {
        let _ = client.on_challenge(&master, &me, message);
    }
    if let Ok(message) = decode_message::<AuthenticationCompletedMessage>(response) {
        let held = client.on_completed(&master, &me, message);
        assert!(held.map(|held| held.is_none()).unwrap_or(true));
    }
    assert!(!client.is_authenticated_with(&master));
    if let Ok(message) = decode_message::<AuthenticationFailedMessage>(start) {
        let _ = client.on_failed(&master, message);
    }
    assert!(!client.is_authenticated_with(&master));
});
