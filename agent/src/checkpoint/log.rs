//! The per-task status update log (`task.updates`): an append-only sequence of records, each
//! `[length: u32 LE][crc32 of the payload: u32 LE][payload]`, the payload a JSON
//! [`UpdateRecord`]. Pure: encoding and decoding bytes; the files are the writer's business.
//!
//! A crash can leave a *torn tail*: a record cut short, or (the page cache not having reached the
//! disk) its bytes garbled. Decoding stops at the first record that is incomplete or fails its
//! checksum *at the end of the file* and reports where the whole records end, so the reader drops
//! the tail instead of misreading it. A bad record followed by more data is corruption, not a torn
//! tail: that is an error.

use mesos::protocol::StatusUpdate;
use mesos::Uuid;
use serde::{Deserialize, Serialize};

/// One record of a task's update log.
// Records live only between the core and the disk; boxing each update would cost an allocation
// per record for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UpdateRecord {
    /// The agent took this update (appended before it is forwarded or acknowledged).
    Update(StatusUpdate),
    /// The master acknowledged the update with this uuid (appended before the stream moves on).
    Ack(Uuid),
}

/// Bytes before a record's payload: its length and its checksum.
pub const HEADER_LEN: usize = 8;
/// The largest payload accepted (a status update carries at most a few KB of data; anything
/// bigger is garbage, not a record).
pub const MAX_RECORD_LEN: usize = 16 * 1024 * 1024;

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// The bytes of one record, ready to append.
///
/// # Panics
/// Never: a record serializes to JSON without fail and is far below 4 GB.
pub fn encode(record: &UpdateRecord) -> Vec<u8> {
    let payload = serde_json::to_vec(record).unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// What a log's bytes hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The whole, valid records, in order.
    pub records: Vec<UpdateRecord>,
    /// Where the last whole record ends: a torn tail starts here (the file should be truncated to
    /// it). Equals the input's length when there is no torn tail.
    pub valid_len: usize,
}

/// A log that cannot be read past a point that is not its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt record at byte {offset}: {reason}")]
pub struct CorruptLog {
    /// Where the bad record starts.
    pub offset: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Decodes a whole log. A bad record at the end is a torn tail (dropped, see [`Decoded`]); a bad
/// record with data after it is [`CorruptLog`].
///
/// # Errors
/// [`CorruptLog`] naming the offset and the problem.
pub fn decode(bytes: &[u8]) -> Result<Decoded, CorruptLog> {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < HEADER_LEN {
            break; // a header cut short: torn tail
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD_LEN || HEADER_LEN + len > rest.len() {
            // Runs past the end: either the last record was cut short (torn tail) or its length
            // is garbage; neither leaves anything readable after it.
            break;
        }
        let payload = &rest[HEADER_LEN..HEADER_LEN + len];
        let end = at + HEADER_LEN + len;
        let problem = if len == 0 {
            Some("empty record".to_string())
        } else if crc32(payload) != crc {
            Some("checksum mismatch".to_string())
        } else {
            match serde_json::from_slice::<UpdateRecord>(payload) {
                Ok(record) => {
                    records.push(record);
                    None
                }
                Err(err) => Some(format!("undecodable payload: {err}")),
            }
        };
        if let Some(reason) = problem {
            // Nothing valid after it: the last record garbled (its length too, perhaps), or the
            // file extended with zeros never written (its size reached the disk before its data).
            // That is a torn tail. A valid record after it means damage in the middle.
            if !any_record_after(bytes, at + 1) {
                break;
            }
            return Err(CorruptLog { offset: at, reason });
        }
        at = end;
    }
    Ok(Decoded {
        records,
        valid_len: at,
    })
}

/// Whether a valid record starts at any offset from `from` on (used only on damaged logs).
fn any_record_after(bytes: &[u8], from: usize) -> bool {
    (from..bytes.len().saturating_sub(HEADER_LEN)).any(|at| {
        let rest = &bytes[at..];
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        len > 0
            && HEADER_LEN + len <= rest.len()
            && crc32(&rest[HEADER_LEN..HEADER_LEN + len]) == crc
            && serde_json::from_slice::<UpdateRecord>(&rest[HEADER_LEN..HEADER_LEN + len]).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use mesos::{FrameworkId, TaskId, TaskState, TaskStatus};

    use super::*;

    fn update(n: u8) -> UpdateRecord {
        UpdateRecord::Update(StatusUpdate {
            framework_id: FrameworkId::new("f"),
            executor_id: None,
            agent_id: None,
            status: TaskStatus {
                data: vec![n; 3],
                healthy: Some(true),
                ..TaskStatus::new(TaskId::new("t"), TaskState::Running)
                    .with_uuid(Uuid::v4_from([n; 16]))
                    .with_reason(mesos::Reason::Reconciliation)
            },
            timestamp: 1.5,
            uuid: Uuid::v4_from([n; 16]),
        })
    }

    fn log(records: &[UpdateRecord]) -> Vec<u8> {
        records.iter().flat_map(encode).collect()
    }

    #[test]
    fn crc32_matches_the_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn records_round_trip() {
        let records = vec![
            update(1),
            UpdateRecord::Ack(Uuid::v4_from([1; 16])),
            update(2),
        ];
        let bytes = log(&records);
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.records, records);
        assert_eq!(decoded.valid_len, bytes.len());
    }

    #[test]
    fn every_torn_tail_is_dropped_and_never_misread() {
        let records = vec![
            update(1),
            UpdateRecord::Ack(Uuid::v4_from([1; 16])),
            update(2),
        ];
        let bytes = log(&records);
        let whole_two = encode(&records[0]).len() + encode(&records[1]).len();
        // Cut anywhere inside the last record: the first two survive, nothing else.
        for cut in whole_two..bytes.len() {
            let decoded = decode(&bytes[..cut]).unwrap();
            assert_eq!(decoded.records, records[..2], "cut at {cut}");
            assert_eq!(decoded.valid_len, whole_two);
        }
        // The last record's bytes garbled (written but not persisted): dropped too.
        for at in whole_two..bytes.len() {
            let mut garbled = bytes.clone();
            garbled[at] ^= 0x5a;
            let decoded = decode(&garbled).unwrap();
            assert_eq!(decoded.records, records[..2], "garbled at {at}");
        }
        // Zeros appended (a file extended but never written): a torn tail, not a record.
        let mut zeros = bytes.clone();
        zeros.extend_from_slice(&[0u8; 64]);
        let decoded = decode(&zeros).unwrap();
        assert_eq!(decoded.records, records);
        assert_eq!(decoded.valid_len, bytes.len());
    }

    #[test]
    fn a_bad_record_in_the_middle_is_corruption() {
        let records = vec![update(1), update(2), update(3)];
        let mut bytes = log(&records);
        let second = encode(&records[0]).len();
        bytes[second + HEADER_LEN + 2] ^= 0xff;
        let err = decode(&bytes).unwrap_err();
        assert_eq!(err.offset, second);
        assert!(err.reason.contains("checksum"), "{err}");
        // A garbled length in the middle is corruption too (the records after it are still there).
        let mut bytes = log(&records);
        bytes[second] = bytes[second].wrapping_sub(7);
        assert_eq!(decode(&bytes).unwrap_err().offset, second);
    }
}
