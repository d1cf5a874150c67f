//! Links to processes on other runtimes, grouped by the peer's address so a broken connection can
//! notify every linker at once.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;

use parking_lot::Mutex;

use crate::upid::Upid;

/// Whether a new link is the first one to a process at its target's runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FirstAtPeer(pub(crate) bool);

/// Linkers by target, by the target's runtime address. Maps, not lists: one peer may host tens
/// of thousands of linked processes (agents linked to a master).
#[derive(Default)]
pub(crate) struct RemoteLinks {
    by_peer: Mutex<HashMap<SocketAddr, HashMap<Upid, BTreeSet<Upid>>>>,
}

impl RemoteLinks {
    /// Records that local `linker` watches remote `target`: `None` if it already did, else
    /// whether it is the first link to a process at the target's runtime. Only the first needs a
    /// connection opened: while any link to a peer is held, its connection was asked for and has
    /// not been reported lost (a loss takes every link to the peer, see [`RemoteLinks::take_peer`]).
    pub(crate) fn add(&self, target: Upid, linker: Upid) -> Option<FirstAtPeer> {
        let mut by_peer = self.by_peer.lock();
        let links = by_peer.entry(target.addr()).or_default();
        let first = links.is_empty();
        links
            .entry(target)
            .or_default()
            .insert(linker)
            .then_some(FirstAtPeer(first))
    }

    /// Removes and returns every link to a process at `peer` (its connection broke).
    pub(crate) fn take_peer(&self, peer: SocketAddr) -> Vec<(Upid, Upid)> {
        let links = self.by_peer.lock().remove(&peer).unwrap_or_default();
        links
            .into_iter()
            .flat_map(|(target, linkers)| linkers.into_iter().map(move |l| (target.clone(), l)))
            .collect()
    }

    /// Removes the link of `linker` to `target` (the target terminated and told `linker`);
    /// true if it existed. Other linkers of `target` get their own notices.
    pub(crate) fn take_link(&self, target: &Upid, linker: &Upid) -> bool {
        let mut by_peer = self.by_peer.lock();
        let Some(links) = by_peer.get_mut(&target.addr()) else {
            return false;
        };
        let Some(linkers) = links.get_mut(target) else {
            return false;
        };
        let found = linkers.remove(linker);
        if linkers.is_empty() {
            links.remove(target);
        }
        if links.is_empty() {
            by_peer.remove(&target.addr());
        }
        found
    }

    /// The number of remote links.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_peer
            .lock()
            .values()
            .flat_map(HashMap::values)
            .map(BTreeSet::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_peer_and_target() {
        let links = RemoteLinks::default();
        let a: Upid = "a@127.0.0.1:1".parse().unwrap();
        let b: Upid = "b@127.0.0.1:1".parse().unwrap();
        let c: Upid = "c@127.0.0.1:2".parse().unwrap();
        let me: Upid = "me@127.0.0.1:9".parse().unwrap();
        assert_eq!(links.add(a.clone(), me.clone()), Some(FirstAtPeer(true)));
        assert_eq!(links.add(a.clone(), me.clone()), None);
        assert_eq!(links.add(b.clone(), me.clone()), Some(FirstAtPeer(false)));
        assert_eq!(links.add(c.clone(), me.clone()), Some(FirstAtPeer(true)));
        let other: Upid = "other@127.0.0.1:9".parse().unwrap();
        assert_eq!(
            links.add(a.clone(), other.clone()),
            Some(FirstAtPeer(false))
        );
        assert!(links.take_link(&a, &me));
        assert!(!links.take_link(&a, &me));
        assert!(
            links.take_link(&a, &other),
            "each linker keeps its own link"
        );
        assert_eq!(links.take_peer(b.addr()), vec![(b, me.clone())]);
        assert_eq!(links.len(), 1);
        assert!(!links.take_link(&a, &other));
        // Once the peer's links are all gone (its connection broke), the next link connects.
        assert_eq!(links.take_peer(c.addr()).len(), 1);
        assert_eq!(links.add(c, me), Some(FirstAtPeer(true)));
    }
}
