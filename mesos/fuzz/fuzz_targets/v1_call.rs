//! Feeds arbitrary bytes to the v1 call decoders (scheduler, executor and operator) and the RecordIO
//! decoder. Checks: no panic; a decoded scheduler call that is re-encoded as its events' JSON
//! stays ASCII; an error always has a message (it becomes a 400 body).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos::v1::{executor, operator, recordio, scheduler, to_ascii_json};

fuzz_target!(|data: &[u8]| {
    match scheduler::decode_call(data) {
        Ok(call) => {
            assert!(!call.kind.name().is_empty());
            if let scheduler::CallKind::Subscribe { framework_info, .. } = &call.kind {
                let out = to_ascii_json(&mesos::v1::to_v1_json(framework_info));
                assert!(out.is_ascii());
                let _: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
            }
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    match executor::decode_call(data) {
        Ok(call) => {
            // A decoded UPDATE passed Mesos's checks.
            if let executor::CallKind::Update(status) = &call.kind {
                assert!(status.uuid.is_some());
                assert_ne!(status.state, mesos::TaskState::Staging);
            }
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    if let Ok(call) = operator::decode_call(data) {
        let _ = call.teardown_framework();
    }
    let mut decoder = recordio::Decoder::new(1 << 16);
    let half = data.len() / 2;
    if let Ok(mut records) = decoder.feed(&data[..half]) {
        if let Ok(more) = decoder.feed(&data[half..]) {
            records.extend(more);
            assert!(records.iter().all(|r| !r.is_empty()));
        }
    }
});
