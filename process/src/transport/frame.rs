//! The frame codec: a pure, I/O-free encoder and incremental decoder.
//!
//! A frame is a 4-byte big-endian length `n`, then `n` bytes holding the bincode 2.x (serde, standard
//! config) encoding of an [`Envelope`]: four length-prefixed fields (`from` and `to` as their
//! `id@ip:port` text, `name`, `body`), each length a bincode varint. The codec below writes and reads that
//! layout by hand (byte-identical to `bincode::serde::encode_to_vec`, checked by the tests) because the
//! hot path must not format or parse a [`Upid`] per message: both sides cache the last `from`/`to` pids.
//!
//! The length is checked against the maximum *before* anything is buffered for the frame, so a peer
//! cannot make us allocate more than `max_frame_bytes` per connection.

use std::str;

use super::error::FrameError;
use super::{BorrowedEnvelope, Envelope, Parts};
use crate::upid::Upid;

/// Bytes of the big-endian length prefix.
pub const LENGTH_PREFIX_BYTES: usize = 4;

/// The largest `max_frame_bytes` a transport accepts: a frame's first byte (the top byte of its length)
/// then stays below `b'A'`, so it can never be mistaken for the first letter of an HTTP method.
pub const MAX_FRAME_LIMIT: usize = 0x40FF_FFFF;

/// bincode's varint markers: values below 251 are one byte; these announce a wider little-endian integer.
const VARINT_U16: u8 = 251;
const VARINT_U32: u8 = 252;
const VARINT_U64: u8 = 253;

/// Encodes envelopes into frames, remembering the text of the last `from` and `to` pids so a stream of
/// messages between the same two processes formats each pid once.
#[derive(Debug, Default)]
pub struct FrameEncoder {
    from: PidText,
    to: PidText,
}

#[derive(Debug, Default)]
struct PidText {
    pid: Option<Upid>,
    text: String,
}

impl PidText {
    fn text_of(&mut self, pid: &Upid) -> &str {
        if self.pid.as_ref() != Some(pid) {
            self.text = pid.to_string();
            self.pid = Some(pid.clone());
        }
        &self.text
    }
}

impl FrameEncoder {
    /// A fresh encoder with empty pid caches.
    pub fn new() -> FrameEncoder {
        FrameEncoder::default()
    }

    /// Appends one frame for `envelope` to `out` and returns the frame's payload length.
    ///
    /// # Errors
    /// [`FrameError::TooLong`] if the encoded envelope exceeds `max_frame_bytes`; `out` is then left as it
    /// was.
    pub fn encode(
        &mut self,
        envelope: &Envelope,
        max_frame_bytes: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, FrameError> {
        self.encode_parts(envelope.parts(), max_frame_bytes, out)
    }

    /// [`FrameEncoder::encode`] from borrowed fields.
    pub(crate) fn encode_parts(
        &mut self,
        envelope: Parts<'_>,
        max_frame_bytes: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, FrameError> {
        let start = out.len();
        out.reserve(
            LENGTH_PREFIX_BYTES + 4 * 9 + envelope.name.len() + envelope.body.len() + 2 * 48,
        );
        out.extend_from_slice(&[0; LENGTH_PREFIX_BYTES]);
        write_bytes(out, self.from.text_of(envelope.from).as_bytes());
        write_bytes(out, self.to.text_of(envelope.to).as_bytes());
        write_bytes(out, envelope.name.as_bytes());
        write_bytes(out, envelope.body);
        let len = out.len() - start - LENGTH_PREFIX_BYTES;
        let max = max_frame_bytes.min(MAX_FRAME_LIMIT);
        if len > max {
            out.truncate(start);
            return Err(FrameError::TooLong { len, max });
        }
        // `len <= MAX_FRAME_LIMIT < u32::MAX`, so the cast is lossless.
        out[start..start + LENGTH_PREFIX_BYTES].copy_from_slice(&(len as u32).to_be_bytes());
        Ok(len)
    }
}

/// Appends one frame for `envelope` to `out` without a pid cache (for tests and one-off frames).
///
/// # Errors
/// [`FrameError::TooLong`] if the encoded envelope exceeds `max_frame_bytes`.
pub fn encode_frame(
    envelope: &Envelope,
    max_frame_bytes: usize,
    out: &mut Vec<u8>,
) -> Result<usize, FrameError> {
    FrameEncoder::new().encode(envelope, max_frame_bytes, out)
}

fn write_varint(out: &mut Vec<u8>, value: usize) {
    let value = value as u64;
    if value < u64::from(VARINT_U16) {
        out.push(value as u8);
    } else if value <= u64::from(u16::MAX) {
        out.push(VARINT_U16);
        out.extend_from_slice(&(value as u16).to_le_bytes());
    } else if value <= u64::from(u32::MAX) {
        out.push(VARINT_U32);
        out.extend_from_slice(&(value as u32).to_le_bytes());
    } else {
        out.push(VARINT_U64);
        out.extend_from_slice(&value.to_le_bytes());
    }
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_varint(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// The incremental frame decoder: feed it whatever a socket read returned, get whole envelopes back.
///
/// Whole frames inside the fed slice are decoded in place; only the unfinished tail of the last frame is
/// copied into an internal buffer, which never grows past one frame (`max_frame_bytes` + 4).
///
/// After [`feed`](FrameDecoder::feed) returns an error the stream is out of sync: close the connection.
#[derive(Debug)]
pub struct FrameDecoder {
    max_frame_bytes: usize,
    partial: Vec<u8>,
    from: PidBytes,
    to: PidBytes,
}

/// The last decoded pid and its wire text, so repeated pids are neither parsed nor allocated again.
#[derive(Debug, Default)]
struct PidBytes {
    text: Vec<u8>,
    pid: Option<Upid>,
}

impl PidBytes {
    /// The pid `text` names, borrowed from this cache: a stream between two processes then costs
    /// one comparison per pid and frame, and no reference counting.
    fn decode(&mut self, text: &[u8]) -> Result<&Upid, FrameError> {
        if self.pid.is_none() || self.text != text {
            let s = str::from_utf8(text)
                .map_err(|_| FrameError::Undecodable("process id is not utf-8".into()))?;
            let pid: Upid = s
                .parse()
                .map_err(|e| FrameError::Undecodable(format!("{e}")))?;
            self.text.clear();
            self.text.extend_from_slice(text);
            self.pid = Some(pid);
        }
        match &self.pid {
            Some(pid) => Ok(pid),
            None => unreachable!("set above"),
        }
    }
}

/// Partial-frame buffers above this capacity are released once the frame is done.
const KEEP_PARTIAL_CAPACITY: usize = 1 << 20;

impl FrameDecoder {
    /// A decoder that rejects frames longer than `max_frame_bytes` (capped at [`MAX_FRAME_LIMIT`]).
    pub fn new(max_frame_bytes: usize) -> FrameDecoder {
        FrameDecoder {
            max_frame_bytes: max_frame_bytes.min(MAX_FRAME_LIMIT),
            partial: Vec::new(),
            from: PidBytes::default(),
            to: PidBytes::default(),
        }
    }

    /// Bytes of an unfinished frame held between calls.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Decodes every complete frame in `input` (after any bytes buffered by earlier calls), calling
    /// `on_envelope` for each in order, and buffers the unfinished rest.
    ///
    /// # Errors
    /// [`FrameError::TooLong`] as soon as a length prefix exceeds the maximum (before its bytes arrive);
    /// [`FrameError::Undecodable`] for a frame that is not exactly one envelope. Envelopes decoded before
    /// the bad frame have already been passed to `on_envelope`.
    pub fn feed(
        &mut self,
        input: &[u8],
        mut on_envelope: impl FnMut(Envelope),
    ) -> Result<(), FrameError> {
        self.feed_borrowed(input, |envelope| on_envelope(envelope.to_owned()))
    }

    /// As [`feed`](FrameDecoder::feed), but each envelope's name and body are borrowed from the
    /// input (or the partial-frame buffer): the receive path then allocates nothing per frame
    /// beyond what the message itself needs.
    ///
    /// # Errors
    /// As [`feed`](FrameDecoder::feed).
    pub fn feed_borrowed(
        &mut self,
        mut input: &[u8],
        mut on_envelope: impl FnMut(BorrowedEnvelope<'_>),
    ) -> Result<(), FrameError> {
        if !self.partial.is_empty() {
            if self.partial.len() < LENGTH_PREFIX_BYTES {
                let take = (LENGTH_PREFIX_BYTES - self.partial.len()).min(input.len());
                self.partial.extend_from_slice(&input[..take]);
                input = &input[take..];
                if self.partial.len() < LENGTH_PREFIX_BYTES {
                    return Ok(());
                }
            }
            let len = self.frame_len(&self.partial)?;
            let missing = LENGTH_PREFIX_BYTES + len - self.partial.len();
            let take = missing.min(input.len());
            self.partial.extend_from_slice(&input[..take]);
            input = &input[take..];
            if take < missing {
                return Ok(());
            }
            let envelope = decode_envelope(
                &self.partial[LENGTH_PREFIX_BYTES..],
                &mut self.from,
                &mut self.to,
            )?;
            on_envelope(envelope);
            if self.partial.capacity() > KEEP_PARTIAL_CAPACITY {
                self.partial = Vec::new();
            } else {
                self.partial.clear();
            }
        }
        while input.len() >= LENGTH_PREFIX_BYTES {
            let len = self.frame_len(input)?;
            let end = LENGTH_PREFIX_BYTES + len;
            if input.len() < end {
                break;
            }
            let envelope = decode_envelope(
                &input[LENGTH_PREFIX_BYTES..end],
                &mut self.from,
                &mut self.to,
            )?;
            on_envelope(envelope);
            input = &input[end..];
        }
        // The unfinished tail (its length prefix, if complete, was checked above).
        self.partial.extend_from_slice(input);
        Ok(())
    }

    /// The payload length announced by the prefix at the start of `bytes` (which holds at least 4 bytes).
    fn frame_len(&self, bytes: &[u8]) -> Result<usize, FrameError> {
        let len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        if len > self.max_frame_bytes {
            return Err(FrameError::TooLong {
                len,
                max: self.max_frame_bytes,
            });
        }
        Ok(len)
    }
}

/// Decodes one frame payload (without its length prefix) that must hold exactly one envelope.
///
/// # Errors
/// [`FrameError::Undecodable`] if the bytes are not exactly one envelope.
pub fn decode_payload(payload: &[u8]) -> Result<Envelope, FrameError> {
    decode_envelope(payload, &mut PidBytes::default(), &mut PidBytes::default())
        .map(|envelope| envelope.to_owned())
}

fn decode_envelope<'a>(
    payload: &'a [u8],
    from_cache: &'a mut PidBytes,
    to_cache: &'a mut PidBytes,
) -> Result<BorrowedEnvelope<'a>, FrameError> {
    let mut reader = Reader { rest: payload };
    let from = from_cache.decode(reader.bytes("from")?)?;
    let to = to_cache.decode(reader.bytes("to")?)?;
    let name = str::from_utf8(reader.bytes("name")?)
        .map_err(|_| FrameError::Undecodable("message name is not utf-8".into()))?;
    let body = reader.bytes("body")?;
    if !reader.rest.is_empty() {
        return Err(FrameError::Undecodable(format!(
            "{} trailing bytes after the envelope",
            reader.rest.len()
        )));
    }
    Ok(BorrowedEnvelope {
        from,
        to,
        name,
        body,
    })
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], FrameError> {
        if self.rest.len() < n {
            return Err(FrameError::Undecodable(format!(
                "{field} is truncated: needs {n} bytes, {} left",
                self.rest.len()
            )));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn varint(&mut self, field: &str) -> Result<u64, FrameError> {
        let marker = self.take(1, field)?[0];
        Ok(match marker {
            m if m < VARINT_U16 => u64::from(m),
            VARINT_U16 => {
                let b = self.take(2, field)?;
                u64::from(u16::from_le_bytes([b[0], b[1]]))
            }
            VARINT_U32 => {
                let b = self.take(4, field)?;
                u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            VARINT_U64 => {
                let b = self.take(8, field)?;
                let mut a = [0; 8];
                a.copy_from_slice(b);
                u64::from_le_bytes(a)
            }
            other => {
                return Err(FrameError::Undecodable(format!(
                    "{field} has an invalid length marker {other}"
                )))
            }
        })
    }

    fn bytes(&mut self, field: &str) -> Result<&'a [u8], FrameError> {
        let len = self.varint(field)?;
        let len = usize::try_from(len).map_err(|_| {
            FrameError::Undecodable(format!("{field} length {len} does not fit in memory"))
        })?;
        self.take(len, field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(text: &str) -> Upid {
        text.parse().unwrap()
    }

    fn envelope(body_len: usize, name: &str) -> Envelope {
        Envelope {
            from: pid("sender(1)@127.0.0.1:5051"),
            to: pid("master@[::1]:5050"),
            name: name.to_string(),
            body: (0..body_len).map(|i| (i * 7) as u8).collect(),
        }
    }

    fn frames(envelopes: &[Envelope]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = FrameEncoder::new();
        for e in envelopes {
            encoder.encode(e, MAX_FRAME_LIMIT, &mut out).unwrap();
        }
        out
    }

    fn decode_all(decoder: &mut FrameDecoder, bytes: &[u8]) -> Result<Vec<Envelope>, FrameError> {
        let mut got = Vec::new();
        decoder.feed(bytes, |e| got.push(e))?;
        Ok(got)
    }

    #[test]
    fn payload_is_byte_identical_to_bincode_serde_standard() {
        let cfg = bincode::config::standard();
        // Lengths around every varint boundary, for the body and for the name.
        for body_len in [0, 1, 250, 251, 252, 65_535, 65_536, 70_000] {
            for name_len in [0, 5, 250, 251, 300] {
                let e = envelope(body_len, &"n".repeat(name_len));
                let ours = frames(std::slice::from_ref(&e));
                let theirs = bincode::serde::encode_to_vec(&e, cfg).unwrap();
                assert_eq!(&ours[LENGTH_PREFIX_BYTES..], &theirs[..], "body {body_len}");
                assert_eq!(
                    u32::from_be_bytes(ours[..4].try_into().unwrap()) as usize,
                    theirs.len()
                );
                let (back, used): (Envelope, usize) =
                    bincode::serde::decode_from_slice(&ours[4..], cfg).unwrap();
                assert_eq!((back, used), (e.clone(), theirs.len()));
                assert_eq!(decode_payload(&theirs).unwrap(), e);
            }
        }
    }

    #[test]
    fn round_trips_many_frames_split_at_every_offset() {
        let sent: Vec<Envelope> = (0..20)
            .map(|i| envelope(i * 37 % 300, &format!("msg{i}")))
            .collect();
        let bytes = frames(&sent);
        for chunk in [1, 2, 3, 4, 5, 7, 64, 1000, bytes.len()] {
            let mut decoder = FrameDecoder::new(1 << 20);
            let mut got = Vec::new();
            for piece in bytes.chunks(chunk) {
                decoder.feed(piece, |e| got.push(e)).unwrap();
            }
            assert_eq!(got, sent, "chunk size {chunk}");
            assert_eq!(decoder.buffered(), 0);
        }
    }

    #[test]
    fn pid_caches_follow_changing_pids() {
        let mut a = envelope(3, "a");
        let mut b = envelope(3, "b");
        b.from = pid("other@10.0.0.1:1");
        a.to = pid("x@1.2.3.4:5");
        let sent = vec![a.clone(), a.clone(), b.clone(), a, b];
        let mut decoder = FrameDecoder::new(1 << 20);
        assert_eq!(decode_all(&mut decoder, &frames(&sent)).unwrap(), sent);
    }

    #[test]
    fn rejects_a_too_long_prefix_before_its_bytes_arrive() {
        let mut decoder = FrameDecoder::new(1000);
        let err = decode_all(&mut decoder, &1001u32.to_be_bytes()).unwrap_err();
        assert_eq!(
            err,
            FrameError::TooLong {
                len: 1001,
                max: 1000
            }
        );
        // Also when the prefix itself arrives in pieces.
        let mut decoder = FrameDecoder::new(1000);
        assert!(decode_all(&mut decoder, &[0, 0]).unwrap().is_empty());
        assert!(matches!(
            decode_all(&mut decoder, &[0x10, 0]),
            Err(FrameError::TooLong { len: 4096, .. })
        ));
        // A frame of exactly the maximum is fine.
        let e = envelope(10, "m");
        let bytes = frames(std::slice::from_ref(&e));
        let mut decoder = FrameDecoder::new(bytes.len() - 4);
        assert_eq!(decode_all(&mut decoder, &bytes).unwrap(), vec![e]);
    }

    #[test]
    fn encoder_refuses_envelopes_over_the_maximum_and_leaves_out_untouched() {
        let mut out = vec![9];
        let err = encode_frame(&envelope(100, "m"), 50, &mut out).unwrap_err();
        assert!(matches!(err, FrameError::TooLong { max: 50, .. }));
        assert_eq!(out, vec![9]);
    }

    #[test]
    fn rejects_undecodable_frames() {
        let good = frames(&[envelope(4, "m")]);
        let payload = &good[4..];
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty frame", vec![]),
            ("garbage", b"hello".to_vec()),
            ("truncated field", payload[..payload.len() - 1].to_vec()),
            ("bad varint marker", vec![255]),
            ("u128 marker", vec![254, 0, 0]),
        ];
        let mut trailing = payload.to_vec();
        trailing.push(0);
        cases.push(("trailing byte", trailing));
        let mut bad_pid = Vec::new();
        write_bytes(&mut bad_pid, b"no-at-sign");
        bad_pid.extend_from_slice(&payload[payload[0] as usize + 1..]);
        cases.push(("invalid pid", bad_pid));
        let mut bad_utf8 = payload.to_vec();
        bad_utf8[1] = 0xFF;
        cases.push(("non-utf-8 pid", bad_utf8));
        for (what, payload) in cases {
            let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
            frame.extend_from_slice(&payload);
            let mut decoder = FrameDecoder::new(1 << 20);
            let err = decode_all(&mut decoder, &frame).unwrap_err();
            assert!(matches!(err, FrameError::Undecodable(_)), "{what}: {err:?}");
            assert!(decode_payload(&payload).is_err(), "{what}");
        }
    }

    #[test]
    fn delivers_frames_before_a_bad_one_then_stops() {
        let good = envelope(2, "ok");
        let mut bytes = frames(std::slice::from_ref(&good));
        bytes.extend_from_slice(&[0, 0, 0, 1, 0xFF]);
        let mut decoder = FrameDecoder::new(1 << 20);
        let mut got = Vec::new();
        assert!(decoder.feed(&bytes, |e| got.push(e)).is_err());
        assert_eq!(got, vec![good]);
    }

    #[test]
    fn first_byte_of_any_legal_frame_is_below_http_method_letters() {
        assert!((MAX_FRAME_LIMIT as u32).to_be_bytes()[0] < b'A');
        assert_eq!(((MAX_FRAME_LIMIT + 1) as u32).to_be_bytes()[0], b'A');
    }
}
