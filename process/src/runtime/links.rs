//! Links to processes on other runtimes, grouped by the peer's address so a broken connection can
//! notify every linker at once.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;

use parking_lot::Mutex;

use crate::transport::ConnectionGeneration;
use crate::upid::Upid;

/// Whether a new link is the first one to a process at its target's runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FirstAtPeer(pub(crate) bool);

/// Linkers by target, by the target's runtime address. Maps, not lists: one peer may host tens
/// of thousands of linked processes (agents linked to a master).
#[derive(Default)]
pub(crate) struct RemoteLinks {
    by_peer: Mutex<HashMap<SocketAddr, PeerLinks>>,
}

/// The links to processes at one runtime.
#[derive(Default)]
struct PeerLinks {
    targets: HashMap<Upid, BTreeSet<Upid>>,
    /// Set by a relink: the links ride the connection of this generation, and the loss of an
    /// older connection (the one it replaced, or an old one from the peer) is no longer news.
    since: ConnectionGeneration,
}

impl RemoteLinks {
    /// Records that local `linker` watches remote `target`: `None` if it already did, else
    /// whether it is the first link to a process at the target's runtime. Only the first needs a
    /// connection opened: while any link to a peer is held, its connection was asked for and has
    /// not been reported lost (a loss takes every link to the peer, see [`RemoteLinks::take_peer`]).
    pub(crate) fn add(&self, target: Upid, linker: Upid) -> Option<FirstAtPeer> {
        let mut by_peer = self.by_peer.lock();
        let links = &mut by_peer.entry(target.addr()).or_default().targets;
        let first = links.is_empty();
        links
            .entry(target)
            .or_default()
            .insert(linker)
            .then_some(FirstAtPeer(first))
    }

    /// Records that local `linker` watches remote `target` over a fresh connection: `reconnect`
    /// opens it (under this lock, so a loss reported meanwhile is judged against it) and returns
    /// its generation. Every link to the target's runtime moves to it (as in libprocess). True if
    /// the link is new.
    pub(crate) fn relink(
        &self,
        target: Upid,
        linker: Upid,
        reconnect: impl FnOnce() -> ConnectionGeneration,
    ) -> bool {
        let mut by_peer = self.by_peer.lock();
        let links = by_peer.entry(target.addr()).or_default();
        links.since = links.since.max(reconnect());
        links.targets.entry(target).or_default().insert(linker)
    }

    /// A connection of generation `generation` to or from `peer` broke: removes and returns every
    /// link to a process there, unless a relink moved them to a newer connection.
    pub(crate) fn take_peer(
        &self,
        peer: SocketAddr,
        generation: ConnectionGeneration,
    ) -> Vec<(Upid, Upid)> {
        let mut by_peer = self.by_peer.lock();
        if by_peer
            .get(&peer)
            .is_some_and(|links| generation < links.since)
        {
            return Vec::new();
        }
        let links = by_peer.remove(&peer).unwrap_or_default().targets;
        links
            .into_iter()
            .flat_map(|(target, linkers)| linkers.into_iter().map(move |l| (target.clone(), l)))
            .collect()
    }

    /// Removes the link of `linker` to `target` (the target terminated and told `linker`);
    /// true if it existed. Other linkers of `target` get their own notices.
    pub(crate) fn take_link(&self, target: &Upid, linker: &Upid) -> bool {
        let mut by_peer = self.by_peer.lock();
        let Some(PeerLinks { targets: links, .. }) = by_peer.get_mut(&target.addr()) else {
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
            .flat_map(|links| links.targets.values())
            .map(BTreeSet::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G0: ConnectionGeneration = ConnectionGeneration(0);

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
        assert_eq!(links.take_peer(b.addr(), G0), vec![(b, me.clone())]);
        assert_eq!(links.len(), 1);
        assert!(!links.take_link(&a, &other));
        // Once the peer's links are all gone (its connection broke), the next link connects.
        assert_eq!(links.take_peer(c.addr(), G0).len(), 1);
        assert_eq!(links.add(c, me), Some(FirstAtPeer(true)));
    }

    #[test]
    fn a_relink_moves_the_peer_s_links_past_older_connections() {
        let links = RemoteLinks::default();
        let a: Upid = "a@127.0.0.1:1".parse().unwrap();
        let b: Upid = "b@127.0.0.1:1".parse().unwrap();
        let me: Upid = "me@127.0.0.1:9".parse().unwrap();
        let other: Upid = "other@127.0.0.1:9".parse().unwrap();
        assert_eq!(links.add(a.clone(), other.clone()), Some(FirstAtPeer(true)));
        assert!(links.relink(b.clone(), me.clone(), || ConnectionGeneration(5)));
        assert!(
            !links.relink(b.clone(), me.clone(), || ConnectionGeneration(3)),
            "not a new link"
        );
        // Connections older than the newest relink's: no news, every link stays.
        assert!(links
            .take_peer(a.addr(), ConnectionGeneration(4))
            .is_empty());
        assert_eq!(links.len(), 2);
        // The relink's own connection (or a later one) breaking reports every link once.
        let mut lost = links.take_peer(a.addr(), ConnectionGeneration(5));
        lost.sort();
        assert_eq!(lost, vec![(a.clone(), other), (b, me.clone())]);
        assert_eq!(links.len(), 0);
        // Gone with its links: the next link starts afresh.
        assert_eq!(links.add(a.clone(), me.clone()), Some(FirstAtPeer(true)));
        assert_eq!(links.take_peer(a.addr(), G0), vec![(a, me)]);
    }
}
