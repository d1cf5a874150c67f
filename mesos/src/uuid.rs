//! 16-byte UUIDs for status updates (Mesos's `TaskStatus.uuid`).

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encoding::{base64_encode, BytesVisitor};

/// A 16-byte UUID. Printed hyphenated (`0f1e...-...`); base64 in JSON (as
/// Mesos's JSON encodes `bytes`); raw bytes in binary formats.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Uuid([u8; 16]);

impl Uuid {
    /// Wraps 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Uuid {
        Uuid(bytes)
    }

    /// A version-4 UUID from 16 random bytes supplied by the caller (pure
    /// code takes them from its seeded generator).
    pub fn v4_from(mut bytes: [u8; 16]) -> Uuid {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Uuid(bytes)
    }

    /// A fresh random version-4 UUID (std's per-process random hash keys
    /// plus a counter: unique, not for cryptography). Pure cores should use
    /// [`v4_from`](Uuid::v4_from) with their own seeded randomness instead.
    pub fn random() -> Uuid {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 16];
        for (i, half) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(n);
            h.write_usize(i);
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        Uuid::v4_from(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Builds from a byte slice.
    ///
    /// # Errors
    /// The length, if it is not 16.
    pub fn from_slice(bytes: &[u8]) -> Result<Uuid, usize> {
        <[u8; 16]>::try_from(bytes)
            .map(Uuid)
            .map_err(|_| bytes.len())
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&base64_encode(&self.0))
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
        let bytes = if d.is_human_readable() {
            d.deserialize_str(BytesVisitor)?
        } else {
            d.deserialize_byte_buf(BytesVisitor)?
        };
        Uuid::from_slice(&bytes)
            .map_err(|n| serde::de::Error::custom(format!("uuid must be 16 bytes, got {n}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_uuids_differ_and_are_v4() {
        let a = Uuid::random();
        let b = Uuid::random();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes()[6] >> 4, 4);
        assert_eq!(a.to_string().len(), 36);
    }

    #[test]
    fn serde_round_trips() {
        let u = Uuid::v4_from([7; 16]);
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<Uuid>(&json).unwrap(), u);
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(u, cfg).unwrap();
        assert_eq!(
            bincode::serde::decode_from_slice::<Uuid, _>(&bytes, cfg)
                .unwrap()
                .0,
            u
        );
        assert!(serde_json::from_str::<Uuid>(r#""AAAA""#)
            .unwrap_err()
            .to_string()
            .contains("16 bytes"));
    }
}
