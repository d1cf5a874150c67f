//! [`Payload`]: a typed message on its way to a handler, stored inline when small.
//!
//! A `Box<dyn Any>` per message would cost an allocation (and, when the receiver runs on another
//! worker, a cross-thread free) for every message. Most messages are small — ids, counters, unit
//! structs — so values of up to two words live inside the payload itself; larger ones are boxed.

use std::any::TypeId;
use std::mem::{align_of, size_of, ManuallyDrop, MaybeUninit};
use std::ptr;

use crate::message::Message;

/// Inline capacity, in words.
type Storage = [MaybeUninit<usize>; 2];

struct VTable {
    type_id: fn() -> TypeId,
    name: &'static str,
    /// Drops the value held in the storage (inline or boxed).
    drop: unsafe fn(*mut Storage),
}

/// Whether `M` is stored inline.
const fn fits<M>() -> bool {
    size_of::<M>() <= size_of::<Storage>() && align_of::<M>() <= align_of::<Storage>()
}

unsafe fn drop_value<M>(storage: *mut Storage) {
    if fits::<M>() {
        ptr::drop_in_place(storage.cast::<M>());
    } else {
        drop(Box::from_raw(storage.cast::<*mut M>().read()));
    }
}

struct VTableOf<M>(std::marker::PhantomData<M>);

impl<M: Message> VTableOf<M> {
    const VTABLE: VTable = VTable {
        type_id: TypeId::of::<M>,
        name: M::NAME,
        drop: drop_value::<M>,
    };
}

/// One message of some [`Message`] type, owned.
pub(crate) struct Payload {
    vtable: &'static VTable,
    storage: Storage,
}

// SAFETY: only built from `M: Message`, which is `Send`.
unsafe impl Send for Payload {}

impl Payload {
    /// Wraps `message`, inline if it fits in two words.
    #[inline]
    pub(crate) fn new<M: Message>(message: M) -> Payload {
        let mut storage: Storage = [MaybeUninit::uninit(); 2];
        // SAFETY: the storage is large and aligned enough for `M` (checked by `fits`) or for a pointer.
        unsafe {
            if fits::<M>() {
                storage.as_mut_ptr().cast::<M>().write(message);
            } else {
                storage
                    .as_mut_ptr()
                    .cast::<*mut M>()
                    .write(Box::into_raw(Box::new(message)));
            }
        }
        Payload {
            vtable: &VTableOf::<M>::VTABLE,
            storage,
        }
    }

    /// The message's type.
    #[inline]
    pub(crate) fn type_id(&self) -> TypeId {
        (self.vtable.type_id)()
    }

    /// The address of the payload's type table: two payloads of one type built by the same code
    /// share it, which makes a cheap first comparison; it is not guaranteed for every payload of a
    /// type, so a mismatch falls back to the [`TypeId`].
    #[inline]
    pub(crate) fn table(&self) -> *const () {
        (self.vtable as *const VTable).cast()
    }

    /// The message, known to be an `M`.
    ///
    /// # Safety
    /// The payload holds an `M` (its [`Payload::type_id`] is `M`'s).
    #[inline]
    pub(crate) unsafe fn take_unchecked<M: Message>(self) -> M {
        debug_assert!(self.type_id() == TypeId::of::<M>());
        let this = ManuallyDrop::new(self);
        if fits::<M>() {
            this.storage.as_ptr().cast::<M>().read()
        } else {
            *Box::from_raw(this.storage.as_ptr().cast::<*mut M>().read())
        }
    }

    /// The message's wire name (for logs).
    pub(crate) fn name(&self) -> &'static str {
        self.vtable.name
    }

    /// The message, if it is an `M`.
    #[cfg(test)]
    pub(crate) fn take<M: Message>(self) -> Option<M> {
        if self.type_id() != TypeId::of::<M>() {
            return None;
        }
        let this = ManuallyDrop::new(self);
        // SAFETY: the type matches, so the storage holds an `M` (inline or boxed) that we now move
        // out; `ManuallyDrop` keeps the vtable's drop from running on it again.
        unsafe {
            if fits::<M>() {
                Some(this.storage.as_ptr().cast::<M>().read())
            } else {
                Some(*Box::from_raw(
                    this.storage.as_ptr().cast::<*mut M>().read(),
                ))
            }
        }
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        // SAFETY: the storage holds a live value of the vtable's type.
        unsafe { (self.vtable.drop)(&mut self.storage) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use std::sync::Arc;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Small(u64);
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Unit;
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Large(String, Vec<u8>);
    /// Counts drops through an `Arc` (never sent: it serialises as nothing).
    struct Tracked(#[allow(dead_code)] Option<Arc<()>>);
    impl Serialize for Tracked {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_unit()
        }
    }
    impl<'de> Deserialize<'de> for Tracked {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            <()>::deserialize(deserializer).map(|()| Tracked(None))
        }
    }
    crate::message!(
        Small = "t.Small",
        Unit = "t.Unit",
        Large = "t.Large",
        Tracked = "t.Tracked"
    );

    #[test]
    fn round_trips_inline_and_boxed_values() {
        assert!(fits::<Small>() && fits::<Unit>() && !fits::<Large>());
        assert_eq!(Payload::new(Small(7)).take::<Small>(), Some(Small(7)));
        assert_eq!(Payload::new(Unit).take::<Unit>(), Some(Unit));
        let large = Large("x".repeat(100), vec![1, 2, 3]);
        let payload = Payload::new(Large("x".repeat(100), vec![1, 2, 3]));
        assert_eq!(payload.name(), "t.Large");
        assert_eq!(payload.type_id(), TypeId::of::<Large>());
        assert_eq!(payload.take::<Large>(), Some(large));
        assert_eq!(Payload::new(Small(1)).take::<Unit>(), None);
    }

    #[test]
    fn drops_what_it_holds() {
        let counter = Arc::new(());
        drop(Payload::new(Tracked(Some(counter.clone()))));
        assert_eq!(Arc::strong_count(&counter), 1);
        let payload = Payload::new(Large(String::from("y"), vec![0; 64]));
        drop(payload);
        let taken = Payload::new(Tracked(Some(counter.clone()))).take::<Tracked>();
        assert_eq!(Arc::strong_count(&counter), 2);
        drop(taken);
        assert_eq!(Arc::strong_count(&counter), 1);
    }
}
