//! Weighted Dominant Resource Fairness over a tree of `/`-separated client paths, with exactly
//! Mesos's semantics (`sorter/drf/sorter.cpp`): subtree allocations, virtual `./` leaves, weights
//! by full path, and the (share, allocation count, path) tie-break.
//!
//! Unlike Mesos, which re-sorts every node's children on every `sort()`, each internal node keeps
//! its listed children in a `BTreeSet` keyed by (share, count, path) that is updated in place on
//! every allocation. An allocation therefore costs O(depth · log siblings) and finding the first
//! eligible client costs O(depth · log siblings) instead of a full sort. Changes that move every
//! share at once (the total, a weight) only mark the tree stale; it is rebuilt lazily, once, the
//! next time an order is needed.
//!
//! The final tie-break, the path, is not compared as a string: every node carries a `rank` that
//! orders it among its siblings exactly like its path does (order-maintenance labels, renumbered
//! when a gap runs out). Keys are then four integers, compared without touching the heap.

use super::{ClientId, Sorter};
use crate::quantities::ScalarQuantities;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::ops::ControlFlow;
use std::sync::Arc;

const ROOT: u32 = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeKind {
    Internal,
    Leaf { active: bool },
}

#[derive(Debug)]
struct Node {
    path: Arc<str>,
    parent: Option<u32>,
    kind: NodeKind,
    client: Option<ClientId>,
    /// All children by path (their lexicographic order defines sibling ranks).
    children: BTreeMap<Arc<str>, u32>,
    /// Position among siblings consistent with the path order.
    rank: u64,
    /// Listed children (internal nodes and active leaves) in allocation order.
    order: BTreeSet<OrderKey>,
    allocation: ScalarQuantities,
    count: u64,
    share: f64,
    weight: f64,
}

/// The position of a node among its siblings: lower share, then fewer allocations, then path
/// (as `rank`).
#[derive(Clone, Copy, Debug)]
struct OrderKey {
    share: f64,
    count: u64,
    rank: u64,
    node: u32,
}

impl Ord for OrderKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.share
            .total_cmp(&other.share)
            .then(self.count.cmp(&other.count))
            .then(self.rank.cmp(&other.rank))
            .then(self.node.cmp(&other.node))
    }
}

impl PartialOrd for OrderKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for OrderKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for OrderKey {}

/// Mesos's weighted DRF sorter over a tree of `/`-separated client paths.
///
/// Semantics are Mesos's (`sorter/drf/sorter.cpp`): allocations count for the client and every
/// ancestor, a client that gains children moves to a virtual leaf `path/.`, weights apply by full
/// path, and siblings are ordered by (share / weight, allocation count, path).
///
/// The data structure differs: each internal node keeps its listed children in an ordered set
/// updated in place on every allocation, so an allocation costs O(depth · log siblings) and
/// finding the first eligible client costs about the same, instead of a full sort. Changes that
/// move every share at once (the total, a weight) mark the tree stale; it is rebuilt once, the
/// next time an order is needed.
#[derive(Debug)]
pub struct DrfSorter {
    nodes: Vec<Option<Node>>,
    free_nodes: Vec<u32>,
    by_path: HashMap<Arc<str>, u32>,
    clients: Vec<Option<u32>>,
    client_paths: Vec<Arc<str>>,
    client_index: HashMap<Arc<str>, ClientId>,
    free_clients: Vec<u32>,
    client_count: usize,
    weights: HashMap<String, f64>,
    /// Sum over all agents, in thousandths, indexed by `ResourceKind::index`.
    total: Vec<i64>,
    /// Shares and order sets are out of date (total or weights changed); rebuilt lazily.
    stale: bool,
}

impl Default for DrfSorter {
    fn default() -> Self {
        let root = Node {
            path: Arc::from(""),
            parent: None,
            kind: NodeKind::Internal,
            client: None,
            children: BTreeMap::new(),
            rank: 0,
            order: BTreeSet::new(),
            allocation: ScalarQuantities::new(),
            count: 0,
            share: 0.0,
            weight: 1.0,
        };
        Self {
            nodes: vec![Some(root)],
            free_nodes: Vec::new(),
            by_path: HashMap::new(),
            clients: Vec::new(),
            client_paths: Vec::new(),
            client_index: HashMap::new(),
            free_clients: Vec::new(),
            client_count: 0,
            weights: HashMap::new(),
            total: Vec::new(),
            stale: false,
        }
    }
}

impl DrfSorter {
    fn node(&self, i: u32) -> &Node {
        self.nodes[i as usize].as_ref().expect("live sorter node")
    }

    fn node_mut(&mut self, i: u32) -> &mut Node {
        self.nodes[i as usize].as_mut().expect("live sorter node")
    }

    fn leaf_of(&self, client: ClientId) -> u32 {
        self.clients
            .get(client.index())
            .copied()
            .flatten()
            .expect("unknown sorter client")
    }

    fn weight_of(&self, path: &str) -> f64 {
        self.weights.get(path).copied().unwrap_or(1.0)
    }

    fn compute_share(total: &[i64], allocation: &ScalarQuantities, weight: f64) -> f64 {
        let mut share = 0.0f64;
        for (kind, amount) in allocation.iter() {
            let t = total.get(kind.index()).copied().unwrap_or(0);
            if t > 0 {
                share = share.max(amount as f64 / t as f64);
            }
        }
        share / weight
    }

    fn is_listed(&self, i: u32) -> bool {
        let n = self.node(i);
        n.parent.is_some() && matches!(n.kind, NodeKind::Internal | NodeKind::Leaf { active: true })
    }

    fn key(&self, i: u32) -> OrderKey {
        let n = self.node(i);
        OrderKey {
            share: n.share,
            count: n.count,
            rank: n.rank,
            node: i,
        }
    }

    fn unlist(&mut self, i: u32) {
        if self.stale || !self.is_listed(i) {
            return;
        }
        let key = self.key(i);
        let parent = self.node(i).parent.expect("listed node has a parent");
        let removed = self.node_mut(parent).order.remove(&key);
        debug_assert!(removed, "order set out of sync");
    }

    fn list(&mut self, i: u32) {
        if self.stale || !self.is_listed(i) {
            return;
        }
        let key = self.key(i);
        let parent = self.node(i).parent.expect("listed node has a parent");
        self.node_mut(parent).order.insert(key);
    }

    /// Applies `change` to a node and moves it to its new place among its siblings.
    fn update_node(&mut self, i: u32, change: impl FnOnce(&mut Node)) {
        if self.stale {
            change(self.node_mut(i));
            return;
        }
        self.unlist(i);
        let total = std::mem::take(&mut self.total);
        let n = self.node_mut(i);
        change(n);
        n.share = Self::compute_share(&total, &n.allocation, n.weight);
        self.total = total;
        self.list(i);
    }

    fn new_node(&mut self, path: Arc<str>, parent: u32, kind: NodeKind) -> u32 {
        let weight = self.weight_of(&path);
        let node = Node {
            path: path.clone(),
            parent: Some(parent),
            kind,
            client: None,
            children: BTreeMap::new(),
            rank: 0,
            order: BTreeSet::new(),
            allocation: ScalarQuantities::new(),
            count: 0,
            share: 0.0,
            weight,
        };
        let i = match self.free_nodes.pop() {
            Some(i) => {
                self.nodes[i as usize] = Some(node);
                i
            }
            None => {
                self.nodes.push(Some(node));
                u32::try_from(self.nodes.len() - 1).expect("too many sorter nodes")
            }
        };
        self.by_path.insert(path.clone(), i);
        self.node_mut(parent).children.insert(path.clone(), i);
        self.node_mut(i).rank = self.rank_between_siblings(parent, &path);
        self.list(i);
        i
    }

    /// A rank for the child at `path` between its lexicographic neighbours; renumbers all
    /// siblings (and marks the tree stale) when there is no room left.
    fn rank_between_siblings(&mut self, parent: u32, path: &Arc<str>) -> u64 {
        const STEP: u64 = 1 << 32;
        let children = &self.node(parent).children;
        let prev = children
            .range::<Arc<str>, _>(..path)
            .next_back()
            .map(|(_, &n)| self.node(n).rank);
        let next = children
            .range::<Arc<str>, _>((Bound::Excluded(path), Bound::Unbounded))
            .next()
            .map(|(_, &n)| self.node(n).rank);
        let candidate = match (prev, next) {
            (None, None) => Some(u64::MAX / 2),
            (Some(p), None) => p.checked_add(STEP),
            (None, Some(n)) => n.checked_sub(STEP),
            (Some(p), Some(n)) => (n - p >= 2).then(|| p + (n - p) / 2),
        };
        if let Some(rank) = candidate {
            return rank;
        }
        // Out of room: spread all siblings evenly, in path order.
        let siblings: Vec<u32> = self.node(parent).children.values().copied().collect();
        let spacing = u64::MAX / (siblings.len() as u64 + 1);
        let mut rank_of_new = 0;
        for (k, &child) in siblings.iter().enumerate() {
            let rank = spacing * (k as u64 + 1);
            self.node_mut(child).rank = rank;
            if *self.node(child).path == **path {
                rank_of_new = rank;
            }
        }
        // Listed siblings' keys changed: rebuild the order sets lazily.
        self.stale = true;
        rank_of_new
    }

    fn free_node(&mut self, i: u32) {
        self.unlist(i);
        let node = self.nodes[i as usize].take().expect("live sorter node");
        if let Some(parent) = node.parent {
            self.node_mut(parent).children.remove(&node.path);
        }
        self.by_path.remove(&node.path);
        self.free_nodes.push(i);
    }

    /// Turns leaf `i` into an internal node whose client moves to a new virtual leaf `i/.`.
    fn convert_to_internal(&mut self, i: u32) {
        let (path, kind, client, allocation, count) = {
            let n = self.node(i);
            (
                n.path.clone(),
                n.kind,
                n.client,
                n.allocation.clone(),
                n.count,
            )
        };
        self.unlist(i);
        {
            let n = self.node_mut(i);
            n.kind = NodeKind::Internal;
            n.client = None;
        }
        self.list(i);
        let virtual_path: Arc<str> = Arc::from(format!("{path}/."));
        let v = self.new_node(virtual_path, i, NodeKind::Internal);
        self.unlist(v);
        {
            let total = std::mem::take(&mut self.total);
            let vn = self.node_mut(v);
            vn.kind = kind;
            vn.client = client;
            vn.allocation = allocation;
            vn.count = count;
            vn.share = Self::compute_share(&total, &vn.allocation, vn.weight);
            self.total = total;
        }
        self.list(v);
        if let Some(c) = client {
            self.clients[c.index()] = Some(v);
        }
    }

    /// Recomputes every share and rebuilds every order set.
    fn refresh(&mut self) {
        if !self.stale {
            return;
        }
        self.stale = false;
        let total = std::mem::take(&mut self.total);
        let weights = std::mem::take(&mut self.weights);
        for n in self.nodes.iter_mut().flatten() {
            n.weight = weights.get(&*n.path).copied().unwrap_or(1.0);
            n.share = Self::compute_share(&total, &n.allocation, n.weight);
            n.order.clear();
        }
        self.total = total;
        self.weights = weights;
        for i in 0..self.nodes.len() as u32 {
            if self.nodes[i as usize].is_some() {
                self.list(i);
            }
        }
    }

    fn collect(&self, i: u32, out: &mut Vec<ClientId>) {
        for key in &self.node(i).order {
            let child = self.node(key.node);
            match child.kind {
                NodeKind::Leaf { .. } => out.extend(child.client),
                NodeKind::Internal => self.collect(key.node, out),
            }
        }
    }

    fn visit<F>(&self, i: u32, visit: &mut F) -> ControlFlow<()>
    where
        F: FnMut(ClientId) -> ControlFlow<()>,
    {
        for key in &self.node(i).order {
            let child = self.node(key.node);
            match child.kind {
                NodeKind::Leaf { .. } => {
                    if let Some(c) = child.client {
                        visit(c)?;
                    }
                }
                NodeKind::Internal => self.visit(key.node, visit)?,
            }
        }
        ControlFlow::Continue(())
    }

    /// The number of `allocated` calls recorded on the client's node (the tie-break count).
    pub fn allocation_count(&self, client: ClientId) -> u64 {
        self.node(self.leaf_of(client)).count
    }
}

impl Sorter for DrfSorter {
    fn new() -> Self {
        Self::default()
    }

    fn add_client(&mut self, path: &str) -> ClientId {
        if let Some(&c) = self.client_index.get(path) {
            return c;
        }
        let mut current = ROOT;
        let mut created_last = false;
        let mut end = 0;
        let segments: Vec<&str> = path.split('/').collect();
        for (i, segment) in segments.iter().enumerate() {
            end += segment.len() + usize::from(i > 0);
            let prefix = &path[..end];
            if let Some(&child) = self.by_path.get(prefix) {
                current = child;
                continue;
            }
            if current != ROOT && matches!(self.node(current).kind, NodeKind::Leaf { .. }) {
                self.convert_to_internal(current);
            }
            let last = i + 1 == segments.len();
            let kind = if last {
                NodeKind::Leaf { active: false }
            } else {
                NodeKind::Internal
            };
            current = self.new_node(Arc::from(prefix), current, kind);
            created_last = last;
        }
        if !created_last {
            // The path exists as an internal node: the client becomes its virtual leaf.
            let virtual_path: Arc<str> = Arc::from(format!("{path}/."));
            current = self.new_node(virtual_path, current, NodeKind::Leaf { active: false });
        }
        let id = match self.free_clients.pop() {
            Some(id) => id,
            None => {
                self.clients.push(None);
                self.client_paths.push(Arc::from(""));
                u32::try_from(self.clients.len() - 1).expect("too many sorter clients")
            }
        };
        let client = ClientId(id);
        let path: Arc<str> = Arc::from(path);
        self.clients[client.index()] = Some(current);
        self.client_paths[client.index()] = path.clone();
        self.client_index.insert(path, client);
        self.node_mut(current).client = Some(client);
        self.client_count += 1;
        client
    }

    fn remove_client(&mut self, client: ClientId) {
        let leaf = self.leaf_of(client);
        self.clients[client.index()] = None;
        let path = std::mem::replace(&mut self.client_paths[client.index()], Arc::from(""));
        self.client_index.remove(&path);
        self.free_clients.push(client.0);
        self.client_count -= 1;

        let allocation = self.node(leaf).allocation.clone();
        let mut current = leaf;
        while current != ROOT {
            let parent = self
                .node(current)
                .parent
                .expect("non-root node has a parent");
            if parent != ROOT {
                self.update_node(parent, |p| p.allocation.subtract(&allocation));
            }
            let children = &self.node(current).children;
            if children.is_empty() {
                self.free_node(current);
            } else if children.len() == 1 {
                let child = *children.values().next().expect("one child");
                let c = self.node(child);
                if matches!(c.kind, NodeKind::Leaf { .. }) && c.path.ends_with("/.") {
                    let (kind, moved_client) = (c.kind, c.client);
                    self.free_node(child);
                    self.unlist(current);
                    {
                        let n = self.node_mut(current);
                        n.kind = kind;
                        n.client = moved_client;
                        n.children.clear();
                        n.order.clear();
                    }
                    self.list(current);
                    if let Some(mc) = moved_client {
                        self.clients[mc.index()] = Some(current);
                    }
                }
            }
            current = parent;
        }
    }

    fn client(&self, path: &str) -> Option<ClientId> {
        self.client_index.get(path).copied()
    }

    fn path(&self, client: ClientId) -> &str {
        let _ = self.leaf_of(client);
        &self.client_paths[client.index()]
    }

    fn activate(&mut self, client: ClientId) {
        let leaf = self.leaf_of(client);
        if self.node(leaf).kind == (NodeKind::Leaf { active: false }) {
            self.node_mut(leaf).kind = NodeKind::Leaf { active: true };
            self.list(leaf);
        }
    }

    fn deactivate(&mut self, client: ClientId) {
        let leaf = self.leaf_of(client);
        if self.node(leaf).kind == (NodeKind::Leaf { active: true }) {
            self.unlist(leaf);
            self.node_mut(leaf).kind = NodeKind::Leaf { active: false };
        }
    }

    fn is_active(&self, client: ClientId) -> bool {
        self.node(self.leaf_of(client)).kind == NodeKind::Leaf { active: true }
    }

    fn update_weight(&mut self, path: &str, weight: f64) {
        self.weights.insert(path.to_string(), weight);
        self.stale = true;
    }

    fn add_total(&mut self, quantities: &ScalarQuantities) {
        for (kind, amount) in quantities.iter() {
            if self.total.len() <= kind.index() {
                self.total.resize(kind.index() + 1, 0);
            }
            self.total[kind.index()] += amount;
        }
        self.stale = true;
    }

    fn remove_total(&mut self, quantities: &ScalarQuantities) {
        for (kind, amount) in quantities.iter() {
            if let Some(t) = self.total.get_mut(kind.index()) {
                *t -= amount;
            }
        }
        self.stale = true;
    }

    fn allocated(&mut self, client: ClientId, quantities: &ScalarQuantities) {
        let mut current = self.leaf_of(client);
        while current != ROOT {
            self.update_node(current, |n| {
                n.allocation.add(quantities);
                n.count += 1;
            });
            current = self
                .node(current)
                .parent
                .expect("non-root node has a parent");
        }
    }

    fn unallocated(&mut self, client: ClientId, quantities: &ScalarQuantities) {
        let mut current = self.leaf_of(client);
        while current != ROOT {
            self.update_node(current, |n| n.allocation.subtract(quantities));
            current = self
                .node(current)
                .parent
                .expect("non-root node has a parent");
        }
    }

    fn allocation(&self, client: ClientId) -> &ScalarQuantities {
        &self.node(self.leaf_of(client)).allocation
    }

    fn share(&self, client: ClientId) -> f64 {
        let n = self.node(self.leaf_of(client));
        Self::compute_share(&self.total, &n.allocation, self.weight_of(&n.path))
    }

    fn sort_into(&mut self, out: &mut Vec<ClientId>) {
        self.refresh();
        out.clear();
        self.collect(ROOT, out);
    }

    fn visit_in_order<F>(&mut self, mut visit: F)
    where
        F: FnMut(ClientId) -> ControlFlow<()>,
    {
        self.refresh();
        let _ = self.visit(ROOT, &mut visit);
    }

    fn len(&self) -> usize {
        self.client_count
    }
}
