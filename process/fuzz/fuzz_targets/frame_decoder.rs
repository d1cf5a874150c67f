//! Feeds arbitrary bytes to the incremental frame decoder, split into arbitrary chunks.
//!
//! Checks: no panic; the partial buffer never exceeds one maximal frame; chunking does not change the
//! result (same envelopes, same error); every decoded envelope re-encodes to a frame that decodes back to
//! itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use process::transport::{decode_payload, encode_frame, Envelope, FrameDecoder, FrameError};

fn decode(max: usize, input: &[u8], chunk: usize) -> (Vec<Envelope>, Option<FrameError>) {
    let mut decoder = FrameDecoder::new(max);
    let mut got = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        let result = decoder.feed(piece, |e| got.push(e));
        assert!(
            decoder.buffered() <= max + 4,
            "decoder buffered more than one frame"
        );
        if let Err(e) = result {
            return (got, Some(e));
        }
    }
    (got, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&[max_byte, chunk_byte], input)) = data.split_first_chunk::<2>() else {
        return;
    };
    // Small maxima reach the "too long" path; large ones let real envelopes through.
    let max = usize::from(max_byte) * 64;
    let whole = decode(max, input, input.len());
    let chunked = decode(max, input, usize::from(chunk_byte));
    assert_eq!(whole, chunked, "chunking changed the decoded result");
    for envelope in whole.0 {
        let mut frame = Vec::new();
        encode_frame(&envelope, usize::MAX, &mut frame).expect("a decoded envelope re-encodes");
        assert_eq!(decode_payload(&frame[4..]).as_ref(), Ok(&envelope));
    }
});
