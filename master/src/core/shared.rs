//! [`SharedMap`]: the core's big record maps (tasks, agents, offers) with every record behind an
//! [`Arc`], so that a snapshot for the HTTP views is a copy of pointers taken between two inputs,
//! rendered on another thread while the core goes on (see `crate::snapshot`).
//!
//! The core reads and writes it as a `BTreeMap<K, V>`: a write to a record a snapshot still holds
//! copies that one record first (copy on write), so the snapshot keeps what it saw and the core
//! never waits for a renderer.

use std::borrow::Borrow;
use std::collections::{btree_map, BTreeMap};
use std::fmt;
use std::sync::Arc;

/// A `BTreeMap<K, V>` whose values are shared with snapshots (see the [module docs](self)).
#[derive(Clone, PartialEq)]
pub struct SharedMap<K, V> {
    map: BTreeMap<K, Arc<V>>,
}

impl<K, V> Default for SharedMap<K, V> {
    fn default() -> Self {
        SharedMap {
            map: BTreeMap::new(),
        }
    }
}

impl<K: Ord + fmt::Debug, V: fmt::Debug> fmt::Debug for SharedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The values of a [`SharedMap`].
pub type Values<'a, K, V> = std::iter::Map<btree_map::Values<'a, K, Arc<V>>, fn(&Arc<V>) -> &V>;
/// The entries of a [`SharedMap`].
pub type Iter<'a, K, V> =
    std::iter::Map<btree_map::Iter<'a, K, Arc<V>>, fn((&'a K, &'a Arc<V>)) -> (&'a K, &'a V)>;

fn deref<V>(value: &Arc<V>) -> &V {
    value
}

fn deref_entry<'a, K, V>((key, value): (&'a K, &'a Arc<V>)) -> (&'a K, &'a V) {
    (key, value)
}

impl<K: Ord, V> SharedMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The record under `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(key).map(deref)
    }

    /// Whether a record is under `key`.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(key)
    }

    /// The keys, in order.
    pub fn keys(&self) -> btree_map::Keys<'_, K, Arc<V>> {
        self.map.keys()
    }

    /// The records, in key order.
    pub fn values(&self) -> Values<'_, K, V> {
        self.map.values().map(deref as fn(&Arc<V>) -> &V)
    }

    /// Keys and records, in key order.
    pub fn iter<'a>(&'a self) -> Iter<'a, K, V> {
        self.map
            .iter()
            .map(deref_entry as fn((&'a K, &'a Arc<V>)) -> (&'a K, &'a V))
    }

    /// The records as shared pointers, in key order: what a snapshot keeps.
    pub fn shared(&self) -> btree_map::Values<'_, K, Arc<V>> {
        self.map.values()
    }

    /// The first entry.
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.map.first_key_value().map(deref_entry)
    }
}

impl<K: Ord, V: Clone> SharedMap<K, V> {
    /// The record under `key`, to change (copied first if a snapshot holds it).
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.map.get_mut(key).map(Arc::make_mut)
    }

    /// Puts `value` under `key`; returns the record it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.map
            .insert(key, Arc::new(value))
            .map(Arc::unwrap_or_clone)
    }

    /// Takes the record under `key` out.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.map.remove(key).map(Arc::unwrap_or_clone)
    }

    /// Every record, to change (each copied first if a snapshot holds it).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.map.values_mut().map(Arc::make_mut)
    }

    /// Every entry, its record to change (copied first if a snapshot holds it).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.map.iter_mut().map(|(k, v)| (k, Arc::make_mut(v)))
    }

    /// Keeps the entries `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.map.retain(|k, v| keep(k, Arc::make_mut(v)));
    }

    /// Takes every record out, in key order.
    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.map.into_values().map(Arc::unwrap_or_clone)
    }
}

impl<K: Ord, V: Clone> IntoIterator for SharedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::iter::Map<btree_map::IntoIter<K, Arc<V>>, fn((K, Arc<V>)) -> (K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        fn unwrap<K, V: Clone>((k, v): (K, Arc<V>)) -> (K, V) {
            (k, Arc::unwrap_or_clone(v))
        }
        self.map
            .into_iter()
            .map(unwrap as fn((K, Arc<V>)) -> (K, V))
    }
}

impl<'a, K: Ord, V> IntoIterator for &'a SharedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for SharedMap<K, V> {
    type Output = V;

    /// # Panics
    /// When no record is under `key`, as a `BTreeMap`.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry found for key")
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SharedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        SharedMap {
            map: iter.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_copies_only_the_record_a_snapshot_holds() {
        let mut map: SharedMap<u32, String> = [(1, "a".to_string()), (2, "b".to_string())]
            .into_iter()
            .collect();
        let snapshot: Vec<Arc<String>> = map.shared().cloned().collect();
        map.get_mut(&1).unwrap().push('!');
        assert_eq!(*snapshot[0], "a");
        assert_eq!(map[&1], "a!");
        // The record nobody else holds is changed in place.
        let before = Arc::as_ptr(map.shared().nth(1).unwrap());
        drop(snapshot);
        map.get_mut(&2).unwrap().push('?');
        assert_eq!(Arc::as_ptr(map.shared().nth(1).unwrap()), before);
        assert_eq!(map.remove(&2).as_deref(), Some("b?"));
        assert_eq!(map.values().collect::<Vec<_>>(), vec!["a!"]);
        assert_eq!(map.insert(1, "c".into()).as_deref(), Some("a!"));
        assert_eq!(map.len(), 1);
    }
}
