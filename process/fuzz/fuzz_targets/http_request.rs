//! Feeds arbitrary bytes to the HTTP request parser, whole and as growing prefixes (as a connection sees
//! them). Checks: no panic; a complete request never claims more bytes than given, and its body length
//! matches; every prefix of a complete request is either partial or the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use process::http::{ParseOutcome, RequestParser};

const PARSER: RequestParser = RequestParser {
    max_header_bytes: 4096,
    max_body_bytes: 4096,
};

fuzz_target!(|data: &[u8]| {
    let Ok(outcome) = PARSER.parse(data) else {
        let _ = PARSER.parse(data).unwrap_err().response();
        return;
    };
    if let ParseOutcome::Complete {
        request, consumed, ..
    } = &outcome
    {
        assert!(*consumed <= data.len());
        assert!(request.body.len() <= *consumed);
        let _ = request.query_param("a");
        for cut in 0..*consumed {
            match PARSER.parse(&data[..cut]) {
                Ok(ParseOutcome::Partial { .. }) => {}
                Ok(ParseOutcome::Complete { consumed: c, .. }) => {
                    panic!("prefix of {cut} bytes parsed as a complete request of {c} bytes")
                }
                Err(e) => {
                    panic!("prefix of {cut} bytes rejected ({e}) but the whole request parsed")
                }
            }
        }
    }
});
