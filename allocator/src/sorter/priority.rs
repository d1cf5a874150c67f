//! Strict priority: clients with a higher weight always come first, ties by path.
//!
//! Allocations are recorded but never change the order, so a high-priority client is offered
//! everything it does not filter before anyone else. Paths are treated as flat names (no subtree
//! grouping). This sorter exists to prove that the allocator's policy is a real seam.

use super::{ClientId, Sorter};
use crate::quantities::ScalarQuantities;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;
use std::sync::Arc;

#[derive(Debug)]
struct Entry {
    path: Arc<str>,
    weight: f64,
    active: bool,
    allocation: ScalarQuantities,
}

#[derive(Clone, Debug)]
struct PriorityKey {
    weight: f64,
    path: Arc<str>,
    id: u32,
}

impl Ord for PriorityKey {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .weight
            .total_cmp(&self.weight)
            .then_with(|| self.path.cmp(&other.path))
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for PriorityKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PriorityKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PriorityKey {}

/// Orders active clients by descending weight (priority), then by path.
#[derive(Debug, Default)]
pub struct PrioritySorter {
    clients: Vec<Option<Entry>>,
    free: Vec<u32>,
    index: HashMap<Arc<str>, ClientId>,
    weights: HashMap<String, f64>,
    order: BTreeSet<PriorityKey>,
}

impl PrioritySorter {
    fn entry(&self, client: ClientId) -> &Entry {
        self.clients[client.index()]
            .as_ref()
            .expect("unknown sorter client")
    }

    fn key(&self, client: ClientId) -> PriorityKey {
        let e = self.entry(client);
        PriorityKey {
            weight: e.weight,
            path: e.path.clone(),
            id: client.0,
        }
    }
}

impl Sorter for PrioritySorter {
    fn new() -> Self {
        Self::default()
    }

    fn add_client(&mut self, path: &str) -> ClientId {
        if let Some(&c) = self.index.get(path) {
            return c;
        }
        let path: Arc<str> = Arc::from(path);
        let entry = Entry {
            weight: self.weights.get(&*path).copied().unwrap_or(1.0),
            path: path.clone(),
            active: false,
            allocation: ScalarQuantities::new(),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.clients[id as usize] = Some(entry);
                id
            }
            None => {
                self.clients.push(Some(entry));
                u32::try_from(self.clients.len() - 1).expect("too many sorter clients")
            }
        };
        self.index.insert(path, ClientId(id));
        ClientId(id)
    }

    fn remove_client(&mut self, client: ClientId) {
        self.deactivate(client);
        let e = self.clients[client.index()]
            .take()
            .expect("unknown sorter client");
        self.index.remove(&e.path);
        self.free.push(client.0);
    }

    fn client(&self, path: &str) -> Option<ClientId> {
        self.index.get(path).copied()
    }

    fn path(&self, client: ClientId) -> &str {
        &self.entry(client).path
    }

    fn activate(&mut self, client: ClientId) {
        if !self.entry(client).active {
            let key = self.key(client);
            self.order.insert(key);
            if let Some(e) = self.clients[client.index()].as_mut() {
                e.active = true;
            }
        }
    }

    fn deactivate(&mut self, client: ClientId) {
        if self.entry(client).active {
            let key = self.key(client);
            self.order.remove(&key);
            if let Some(e) = self.clients[client.index()].as_mut() {
                e.active = false;
            }
        }
    }

    fn is_active(&self, client: ClientId) -> bool {
        self.entry(client).active
    }

    fn update_weight(&mut self, path: &str, weight: f64) {
        self.weights.insert(path.to_string(), weight);
        if let Some(client) = self.client(path) {
            let active = self.is_active(client);
            self.deactivate(client);
            if let Some(e) = self.clients[client.index()].as_mut() {
                e.weight = weight;
            }
            if active {
                self.activate(client);
            }
        }
    }

    fn add_total(&mut self, _quantities: &ScalarQuantities) {}

    fn remove_total(&mut self, _quantities: &ScalarQuantities) {}

    fn allocated(&mut self, client: ClientId, quantities: &ScalarQuantities) {
        if let Some(e) = self.clients[client.index()].as_mut() {
            e.allocation.add(quantities);
        }
    }

    fn unallocated(&mut self, client: ClientId, quantities: &ScalarQuantities) {
        if let Some(e) = self.clients[client.index()].as_mut() {
            e.allocation.subtract(quantities);
        }
    }

    fn allocation(&self, client: ClientId) -> &ScalarQuantities {
        &self.entry(client).allocation
    }

    /// `1 / weight`: lower comes first, and allocations do not matter.
    fn share(&self, client: ClientId) -> f64 {
        1.0 / self.entry(client).weight
    }

    fn sort_into(&mut self, out: &mut Vec<ClientId>) {
        out.clear();
        out.extend(self.order.iter().map(|k| ClientId(k.id)));
    }

    fn visit_in_order<F>(&mut self, mut visit: F)
    where
        F: FnMut(ClientId) -> ControlFlow<()>,
    {
        for key in &self.order {
            if visit(ClientId(key.id)).is_break() {
                return;
            }
        }
    }

    fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantities::ResourceNames;

    #[test]
    fn higher_weight_first_regardless_of_allocation() {
        let mut names = ResourceNames::new();
        let mut s = PrioritySorter::new();
        let a = s.add_client("a");
        let b = s.add_client("b");
        s.activate(a);
        s.activate(b);
        s.update_weight("b", 5.0);
        s.allocated(b, &names.quantities(&[("cpus", 90.0)]));
        assert_eq!(s.sort(), vec![b, a]);
        s.deactivate(b);
        assert_eq!(s.sort(), vec![a]);
        s.remove_client(a);
        s.activate(b);
        assert_eq!(s.sort(), vec![b]);
        assert_eq!(s.len(), 1);
    }
}
