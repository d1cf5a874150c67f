//! The registry: process id -> cell, for sends by [`Upid`](crate::Upid), remote delivery and HTTP.
//!
//! Sharded so that lookups from several workers rarely touch the same lock word; FNV hashing because
//! ids are short and only local spawns insert (remote input can only look up).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::cell::AnyCell;

const SHARDS: usize = 16;

/// 64-bit FNV-1a.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type Shard = HashMap<Arc<str>, Arc<dyn AnyCell>, BuildHasherDefault<Fnv>>;

/// Live processes by id.
pub(crate) struct Registry {
    shards: Vec<RwLock<Shard>>,
}

fn shard_of(id: &str) -> usize {
    let mut hasher = Fnv::default();
    hasher.write(id.as_bytes());
    (hasher.finish() as usize) % SHARDS
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
        }
    }

    /// Adds a cell; false if the id is taken by a live process.
    pub(crate) fn insert(&self, cell: Arc<dyn AnyCell>) -> bool {
        let id: Arc<str> = Arc::from(cell.upid().id());
        let mut shard = self.shards[shard_of(&id)].write();
        if shard.contains_key(&id) {
            return false;
        }
        shard.insert(id, cell);
        true
    }

    /// The live process with this id.
    #[inline]
    pub(crate) fn get(&self, id: &str) -> Option<Arc<dyn AnyCell>> {
        self.shards[shard_of(id)].read().get(id).cloned()
    }

    /// Removes `cell` (only if the id still maps to that very cell).
    pub(crate) fn remove(&self, cell: &dyn AnyCell) {
        let id = cell.upid().id();
        let mut shard = self.shards[shard_of(id)].write();
        if let Some(current) = shard.get(id) {
            if std::ptr::addr_eq(Arc::as_ptr(current), cell as *const dyn AnyCell) {
                shard.remove(id);
            }
        }
    }

    /// Every live cell (a snapshot).
    pub(crate) fn all(&self) -> Vec<Arc<dyn AnyCell>> {
        self.shards
            .iter()
            .flat_map(|shard| shard.read().values().cloned().collect::<Vec<_>>())
            .collect()
    }

    /// The ids of live processes, sorted.
    pub(crate) fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .shards
            .iter()
            .flat_map(|shard| {
                shard
                    .read()
                    .keys()
                    .map(|id| id.to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        ids.sort();
        ids
    }

    /// The number of live processes.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.read().len()).sum()
    }

    /// Forgets every cell (at shutdown, to break cell -> runtime reference cycles).
    pub(crate) fn clear(&self) -> Vec<Arc<dyn AnyCell>> {
        self.shards
            .iter()
            .flat_map(|shard| {
                shard
                    .write()
                    .drain()
                    .map(|(_, cell)| cell)
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
