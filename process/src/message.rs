//! Typed messages and their stable wire names.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A message a process can receive: any serde type with a stable wire name.
///
/// Local sends move the value into the receiver's mailbox (no serialisation); remote sends encode it with
/// bincode and tag it with [`Message::NAME`], which the receiving runtime uses to find the handler. The name
/// must therefore be the same on both ends and unique among the messages one process handles. Implement it
/// with the [`message!`](crate::message!) macro.
pub trait Message: Serialize + DeserializeOwned + Send + 'static {
    /// The wire name, e.g. `"mesos.internal.RegisterSlaveMessage"`.
    const NAME: &'static str;
}

/// Gives types a [`Message`] implementation with a wire name.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// #[derive(Serialize, Deserialize)]
/// struct RegisterAgent { hostname: String }
/// #[derive(Serialize, Deserialize)]
/// struct Ping;
/// process::message!(RegisterAgent = "mesos.internal.RegisterSlaveMessage", Ping = "ping");
/// assert_eq!(<Ping as process::Message>::NAME, "ping");
/// ```
#[macro_export]
macro_rules! message {
    ($($ty:ty = $name:expr),+ $(,)?) => {
        $(impl $crate::Message for $ty {
            const NAME: &'static str = $name;
        })+
    };
}

/// The bincode configuration used for message bodies on the wire.
pub(crate) fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes a message body for the wire.
pub(crate) fn encode<M: Serialize>(message: &M) -> Result<Vec<u8>, bincode::error::EncodeError> {
    bincode::serde::encode_to_vec(message, bincode_config())
}

/// Appends a message body's wire encoding to `out` (the send path reuses one buffer).
pub(crate) fn encode_into<M: Serialize>(
    message: &M,
    out: &mut Vec<u8>,
) -> Result<(), bincode::error::EncodeError> {
    bincode::serde::encode_into_std_write(message, out, bincode_config()).map(|_| ())
}

/// Decodes a message body from the wire; trailing bytes are an error (a truncated or padded body is
/// not the message its name claims).
///
/// Decoding is limited to a frame's largest size: without a limit bincode allocates whatever
/// length a string's prefix claims before reading it, so one garbage frame claiming an
/// exabyte-long string would abort the whole node.
pub(crate) fn decode<M: DeserializeOwned>(body: &[u8]) -> Result<M, String> {
    const LIMIT: usize = crate::transport::MAX_FRAME_LIMIT;
    let config = bincode_config().with_limit::<LIMIT>();
    let (message, used) =
        bincode::serde::decode_from_slice::<M, _>(body, config).map_err(|e| e.to_string())?;
    if used != body.len() {
        return Err(format!(
            "{} trailing bytes after the message",
            body.len() - used
        ));
    }
    Ok(message)
}

/// The runtime's decoding of a remote message's body: what a handler for `M` is given, or why the
/// message is dropped. Public for fuzz targets and tools that must decode exactly as a node does.
///
/// # Errors
/// The bincode error, or trailing bytes after the message.
pub fn decode_message<M: Message>(body: &[u8]) -> Result<M, String> {
    decode(body)
}

/// Copies a message through its wire encoding: how a test filter hands out a message that is also
/// delivered, without requiring `Clone`.
pub(crate) fn copy_via_wire<M: Message>(message: &M) -> Result<M, String> {
    let bytes = encode(message).map_err(|e| e.to_string())?;
    decode(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Greeting {
        text: String,
        count: u32,
    }
    crate::message!(Greeting = "test.Greeting");

    #[test]
    fn round_trips_and_rejects_trailing_bytes() {
        let greeting = Greeting {
            text: "hi".into(),
            count: 3,
        };
        let mut bytes = encode(&greeting).unwrap();
        assert_eq!(decode::<Greeting>(&bytes).unwrap(), greeting);
        bytes.push(0);
        assert!(decode::<Greeting>(&bytes).unwrap_err().contains("trailing"));
        assert!(decode::<Greeting>(&[0xff, 0xff]).is_err());
        assert_eq!(copy_via_wire(&greeting).unwrap(), greeting);
        assert_eq!(Greeting::NAME, "test.Greeting");
    }

    #[test]
    fn a_garbage_length_prefix_is_an_error_not_an_abort() {
        // A string claiming u64::MAX bytes (varint marker 253 + 8 bytes), then nothing.
        let mut bytes = vec![253];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        bytes.push(3);
        assert!(decode::<Greeting>(&bytes).is_err());
        let mut bytes = vec![253];
        bytes.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(decode::<Greeting>(&bytes).is_err());
    }
}
