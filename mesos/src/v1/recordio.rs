//! RecordIO (Mesos's `docs/recordio.md`): `<decimal length>\n<exactly that many bytes>`,
//! records back to back, no trailing newline. Chunk boundaries of the HTTP stream carry no
//! meaning: the [`Decoder`] reassembles records across reads.

/// Frames one record.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 8);
    out.extend_from_slice(record.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(record);
    out
}

/// Why a stream is not RecordIO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    /// The length prefix is not a positive decimal number.
    #[error("bad record length prefix '{0}'")]
    BadLength(String),
    /// A record is longer than the decoder accepts.
    #[error("record of {len} bytes exceeds the maximum of {max}")]
    TooLong {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Splits a byte stream into records.
#[derive(Debug)]
pub struct Decoder {
    buffer: Vec<u8>,
    max_record: usize,
}

impl Decoder {
    /// A decoder refusing records longer than `max_record` bytes.
    pub fn new(max_record: usize) -> Decoder {
        Decoder {
            buffer: Vec::new(),
            max_record,
        }
    }

    /// Adds `data` and returns the records it completed.
    ///
    /// # Errors
    /// [`RecordIoError`] for a malformed prefix or an over-long record; the stream is then
    /// unusable.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<Vec<u8>>, RecordIoError> {
        self.buffer.extend_from_slice(data);
        let mut records = Vec::new();
        let mut start = 0;
        loop {
            let rest = &self.buffer[start..];
            let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
                if rest.len() > 20 {
                    return Err(RecordIoError::BadLength(
                        String::from_utf8_lossy(&rest[..20]).into_owned(),
                    ));
                }
                break;
            };
            let prefix = &rest[..newline];
            let len = std::str::from_utf8(prefix)
                .ok()
                .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<usize>().ok())
                .filter(|&len| len > 0)
                .ok_or_else(|| {
                    RecordIoError::BadLength(String::from_utf8_lossy(prefix).into_owned())
                })?;
            if len > self.max_record {
                return Err(RecordIoError::TooLong {
                    len,
                    max: self.max_record,
                });
            }
            if rest.len() < newline + 1 + len {
                break;
            }
            records.push(rest[newline + 1..newline + 1 + len].to_vec());
            start += newline + 1 + len;
        }
        self.buffer.drain(..start);
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_any_split() {
        let mut stream = encode(b"{\"type\":\"HEARTBEAT\"}");
        stream.extend(encode(b"hello world"));
        for cut in 0..stream.len() {
            let mut d = Decoder::new(1024);
            let mut got = d.feed(&stream[..cut]).unwrap();
            got.extend(d.feed(&stream[cut..]).unwrap());
            assert_eq!(
                got,
                vec![
                    b"{\"type\":\"HEARTBEAT\"}".to_vec(),
                    b"hello world".to_vec()
                ]
            );
        }
    }

    #[test]
    fn bad_prefixes_and_limits() {
        assert!(matches!(
            Decoder::new(10).feed(b"x\n"),
            Err(RecordIoError::BadLength(_))
        ));
        assert!(matches!(
            Decoder::new(10).feed(b"0\n"),
            Err(RecordIoError::BadLength(_))
        ));
        assert!(matches!(
            Decoder::new(10).feed(b"11\n"),
            Err(RecordIoError::TooLong { len: 11, max: 10 })
        ));
        assert!(Decoder::new(10).feed(&[b'1'; 30]).is_err());
    }
}
