//! Links to processes on other runtimes, grouped by the peer's address so a broken connection can
//! notify every linker at once.

use std::collections::HashMap;
use std::net::SocketAddr;

use parking_lot::Mutex;

use crate::upid::Upid;

/// `(target, linker)` pairs by the target's runtime address.
#[derive(Default)]
pub(crate) struct RemoteLinks {
    by_peer: Mutex<HashMap<SocketAddr, Vec<(Upid, Upid)>>>,
}

impl RemoteLinks {
    /// Records that local `linker` watches remote `target`; false if it already did.
    pub(crate) fn add(&self, target: Upid, linker: Upid) -> bool {
        let mut by_peer = self.by_peer.lock();
        let links = by_peer.entry(target.addr()).or_default();
        if links.iter().any(|(t, l)| *t == target && *l == linker) {
            return false;
        }
        links.push((target, linker));
        true
    }

    /// Removes and returns every link to a process at `peer` (its connection broke).
    pub(crate) fn take_peer(&self, peer: SocketAddr) -> Vec<(Upid, Upid)> {
        self.by_peer.lock().remove(&peer).unwrap_or_default()
    }

    /// Removes and returns the linkers of `target` (it terminated).
    pub(crate) fn take_target(&self, target: &Upid) -> Vec<Upid> {
        let mut by_peer = self.by_peer.lock();
        let Some(links) = by_peer.get_mut(&target.addr()) else {
            return Vec::new();
        };
        let mut linkers = Vec::new();
        links.retain(|(t, l)| {
            if t == target {
                linkers.push(l.clone());
                false
            } else {
                true
            }
        });
        if links.is_empty() {
            by_peer.remove(&target.addr());
        }
        linkers
    }

    /// The number of remote links.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_peer.lock().values().map(Vec::len).sum()
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
        assert!(links.add(a.clone(), me.clone()));
        assert!(!links.add(a.clone(), me.clone()));
        assert!(links.add(b.clone(), me.clone()));
        assert!(links.add(c.clone(), me.clone()));
        assert_eq!(links.take_target(&a), vec![me.clone()]);
        assert_eq!(links.take_peer(b.addr()), vec![(b, me.clone())]);
        assert_eq!(links.len(), 1);
        assert!(links.take_target(&a).is_empty());
    }
}
