//! [`to_json`]: any `Serialize` value straight to JSON bytes, dropping object fields on the way
//! as the views' tree passes did ([`Prune::Nulls`] as `mesos::json::strip_nulls`,
//! [`Prune::Unset`] as `mesos::v1::omit_unset`), without building a `serde_json::Value` first.
//!
//! The bytes are the ones `serde_json::to_vec` writes for the pruned tree: same escapes (with
//! `ascii`, every non-ASCII character as `\uXXXX`, as `mesos::v1::to_ascii_json`), same numbers
//! (an `f32` widened to `f64`, a non-finite float written as `null` and so pruned, as a tree
//! holds them).
//!
//! Whether a field is dropped is decided before its name is written, by a [`Probe`] that looks
//! at the value's outermost shape only (`None`, unit, a sequence with no element): the value is
//! never walked twice.

use std::fmt::Display;

use serde::ser::{self, Impossible, Serialize};

/// Which object fields [`to_json`] leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prune {
    /// None.
    Keep,
    /// Fields whose value is `null`.
    Nulls,
    /// Fields whose value is `null` or an empty array (protobuf's unset fields).
    Unset,
}

/// Why a value cannot be written: only what JSON cannot hold (a map key that is not a string or
/// a number, a 128-bit integer).
#[derive(Debug)]
pub(crate) struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Appends `value` as JSON to `out` (see the [module docs](self)).
///
/// # Errors
/// A value JSON cannot hold; `out` then holds a partial document.
pub(crate) fn write_json<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    prune: Prune,
    ascii: bool,
) -> Result<(), Error> {
    value.serialize(&mut Writer { out, prune, ascii })
}

/// `value` as JSON bytes (see the [module docs](self)).
#[cfg(test)]
///
/// # Errors
/// A value JSON cannot hold.
pub(crate) fn to_json<T: Serialize + ?Sized>(
    value: &T,
    prune: Prune,
    ascii: bool,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    write_json(&mut out, value, prune, ascii)?;
    Ok(out)
}

/// The JSON writer: a `serde` serializer appending to `out`.
pub(crate) struct Writer<'a> {
    out: &'a mut Vec<u8>,
    prune: Prune,
    ascii: bool,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The bytes JSON escapes: control characters, `"` and `\\`.
const ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

impl Writer<'_> {
    fn string(&mut self, s: &str) {
        let ascii = self.ascii;
        let out = &mut *self.out;
        out.reserve(s.len() + 2);
        out.push(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            // Most bytes need nothing: one table look-up each.
            if !ESCAPED[usize::from(b)] && (b < 0x80 || !ascii) {
                i += 1;
                continue;
            }
            out.extend_from_slice(&bytes[start..i]);
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                _ => b"",
            };
            let mut len = 1;
            if !escape.is_empty() {
                out.extend_from_slice(escape);
            } else {
                // A control character, or (ASCII only) a character past ASCII: UTF-16 units.
                let c = s[i..].chars().next().unwrap_or('\u{fffd}');
                len = c.len_utf8();
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.extend_from_slice(b"\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(HEX[usize::from((*unit >> shift) & 0xf)]);
                    }
                }
            }
            i += len;
            start = i;
        }
        out.extend_from_slice(&bytes[start..]);
        out.push(b'"');
    }

    fn float(&mut self, v: f64) {
        if v.is_finite() {
            let mut buffer = ryu::Buffer::new();
            self.out
                .extend_from_slice(buffer.format_finite(v).as_bytes());
        } else {
            self.out.extend_from_slice(b"null");
        }
    }

    fn integer(&mut self, v: impl itoa::Integer) {
        let mut buffer = itoa::Buffer::new();
        self.out.extend_from_slice(buffer.format(v).as_bytes());
    }

    fn keep(&self, value: Probe) -> bool {
        match value {
            Probe::Null => self.prune == Prune::Keep,
            Probe::EmptyArray => self.prune != Prune::Unset,
            Probe::Other => true,
        }
    }

    fn object(&mut self) -> Compound<'_> {
        self.out.push(b'{');
        self.compound(b'}')
    }

    fn compound(&mut self, close: u8) -> Compound<'_> {
        Compound {
            writer: self.reborrow(),
            first: true,
            close,
            key: String::new(),
        }
    }

    fn reborrow(&mut self) -> Writer<'_> {
        Writer {
            out: self.out,
            prune: self.prune,
            ascii: self.ascii,
        }
    }
}

/// The name [`V1`] gives its newtype: [`Writer`] prunes what it holds as [`Prune::Unset`].
const V1_MARKER: &str = "$mesos::v1";

/// A value in the v1 JSON mapping (as `mesos::v1::to_v1_json`): written by [`Writer`] with
/// [`Prune::Unset`], whatever the pruning around it; any other serializer sees the value itself.
pub(crate) struct V1<T>(pub(crate) T);

impl<T: Serialize> Serialize for V1<T> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(V1_MARKER, &self.0)
    }
}

/// What a field's value looks like from outside: enough to know whether it is pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    Null,
    EmptyArray,
    Other,
}

fn probe<T: Serialize + ?Sized>(value: &T) -> Probe {
    value.serialize(Prober).unwrap_or(Probe::Other)
}

/// A serializer that only tells the outermost shape of a value (see [`Probe`]).
struct Prober;

/// A sequence being probed: empty until its first element.
struct SeqProbe(bool);

impl ser::SerializeSeq for SeqProbe {
    type Ok = Probe;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Error> {
        self.0 = true;
        Ok(())
    }
    fn end(self) -> Result<Probe, Error> {
        Ok(if self.0 {
            Probe::Other
        } else {
            Probe::EmptyArray
        })
    }
}

impl ser::SerializeTuple for SeqProbe {
    type Ok = Probe;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Error> {
        self.0 = true;
        Ok(())
    }
    fn end(self) -> Result<Probe, Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqProbe {
    type Ok = Probe;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Error> {
        self.0 = true;
        Ok(())
    }
    fn end(self) -> Result<Probe, Error> {
        ser::SerializeSeq::end(self)
    }
}

fn other() -> Result<Probe, Error> {
    Ok(Probe::Other)
}

impl ser::Serializer for Prober {
    type Ok = Probe;
    type Error = Error;
    type SerializeSeq = SeqProbe;
    type SerializeTuple = SeqProbe;
    type SerializeTupleStruct = SeqProbe;
    type SerializeTupleVariant = Impossible<Probe, Error>;
    type SerializeMap = Impossible<Probe, Error>;
    type SerializeStruct = Impossible<Probe, Error>;
    type SerializeStructVariant = Impossible<Probe, Error>;

    fn serialize_bool(self, _: bool) -> Result<Probe, Error> {
        other()
    }
    fn serialize_i8(self, _: i8) -> Result<Probe, Error> {
        other()
    }
    fn serialize_i16(self, _: i16) -> Result<Probe, Error> {
        other()
    }
    fn serialize_i32(self, _: i32) -> Result<Probe, Error> {
        other()
    }
    fn serialize_i64(self, _: i64) -> Result<Probe, Error> {
        other()
    }
    fn serialize_u8(self, _: u8) -> Result<Probe, Error> {
        other()
    }
    fn serialize_u16(self, _: u16) -> Result<Probe, Error> {
        other()
    }
    fn serialize_u32(self, _: u32) -> Result<Probe, Error> {
        other()
    }
    fn serialize_u64(self, _: u64) -> Result<Probe, Error> {
        other()
    }
    fn serialize_f32(self, v: f32) -> Result<Probe, Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Probe, Error> {
        Ok(if v.is_finite() {
            Probe::Other
        } else {
            Probe::Null
        })
    }
    fn serialize_char(self, _: char) -> Result<Probe, Error> {
        other()
    }
    fn serialize_str(self, _: &str) -> Result<Probe, Error> {
        other()
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Probe, Error> {
        Ok(if v.is_empty() {
            Probe::EmptyArray
        } else {
            Probe::Other
        })
    }
    fn serialize_none(self) -> Result<Probe, Error> {
        Ok(Probe::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Probe, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Probe, Error> {
        Ok(Probe::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Probe, Error> {
        Ok(Probe::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<Probe, Error> {
        other()
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Probe, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Probe, Error> {
        other()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<SeqProbe, Error> {
        Ok(SeqProbe(false))
    }
    fn serialize_tuple(self, _: usize) -> Result<SeqProbe, Error> {
        Ok(SeqProbe(false))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<SeqProbe, Error> {
        Ok(SeqProbe(false))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error(String::new()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error(String::new()))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error(String::new()))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error(String::new()))
    }
}

/// An array or object being written.
pub(crate) struct Compound<'a> {
    writer: Writer<'a>,
    first: bool,
    close: u8,
    /// A map key waiting for its value (written only if the value is kept).
    key: String,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.writer.out.push(b',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut self.writer)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        if !self.writer.keep(probe(value)) {
            return Ok(());
        }
        self.comma();
        self.writer.string(key);
        self.writer.out.push(b':');
        value.serialize(&mut self.writer)
    }

    fn end(self) -> Result<(), Error> {
        self.writer.out.push(self.close);
        Ok(())
    }
}

macro_rules! compound {
    ($($trait:ident :: $method:ident => $how:ident),* $(,)?) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.$how(value)
            }
            fn end(self) -> Result<(), Error> {
                Compound::end(self)
            }
        }
    )*};
}

compound!(
    SerializeSeq::serialize_element => element,
    SerializeTuple::serialize_element => element,
    SerializeTupleStruct::serialize_field => element,
);

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        // The array, then the object naming the variant.
        self.writer.out.extend_from_slice(b"]}");
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), Error> {
        // The inner object, then the one naming the variant.
        self.writer.out.extend_from_slice(b"}}");
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = key.serialize(KeyWriter)?;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = std::mem::take(&mut self.key);
        self.field(&key, value)
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        let key = key.serialize(KeyWriter)?;
        self.field(&key, value)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

/// A map key as the string JSON writes (serde_json's rules: strings, chars, integers, bools).
struct KeyWriter;

fn key_error() -> Error {
    Error("a JSON object key must be a string or a number".into())
}

impl ser::Serializer for KeyWriter {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    fn serialize_bool(self, v: bool) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _: f32) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

impl<'w> ser::Serializer for &'w mut Writer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'w>;
    type SerializeTuple = Compound<'w>;
    type SerializeTupleStruct = Compound<'w>;
    type SerializeTupleVariant = Compound<'w>;
    type SerializeMap = Compound<'w>;
    type SerializeStruct = Compound<'w>;
    type SerializeStructVariant = Compound<'w>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(f64::from(v));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.out.push(b'[');
        for (i, b) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.integer(*b);
        }
        self.out.push(b']');
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.string(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if name == V1_MARKER {
            let outer = std::mem::replace(&mut self.prune, Prune::Unset);
            let written = value.serialize(&mut *self);
            self.prune = outer;
            return written;
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut object = self.object();
        object.field(variant, value)?;
        object.end()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'w>, Error> {
        self.out.push(b'[');
        Ok(self.compound(b']'))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'w>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'w>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'w>, Error> {
        self.out.push(b'{');
        self.string(variant);
        self.out.extend_from_slice(b":[");
        Ok(self.compound(b']'))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'w>, Error> {
        Ok(self.object())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'w>, Error> {
        Ok(self.object())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'w>, Error> {
        self.out.push(b'{');
        self.string(variant);
        self.out.push(b':');
        Ok(self.object())
    }
    fn serialize_i128(self, _: i128) -> Result<(), Error> {
        Err(Error("128-bit integers are not written".into()))
    }
    fn serialize_u128(self, _: u128) -> Result<(), Error> {
        Err(Error("128-bit integers are not written".into()))
    }
}
