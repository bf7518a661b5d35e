//! Kept shortest-path searches, one per ingress: made once for the graph as it is (its
//! version) and reused by every decision from that ingress until a weight or a loss changes.

use std::sync::Arc;

use super::super::Engine;
use super::UNREACHED;
use crate::graph::Metric;
use crate::path::Path;

/// How many node labels the kept searches may hold together (12 bytes each): every ingress
/// of a 2,000-router network, or the latest few hundred of a 20,000-router one.
const TREE_BUDGET: usize = 1 << 23;

/// How far a search reached a service's sites.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reach {
    pub(super) reached: usize,
    pub(super) farthest: u32,
}

/// One plain shortest-path search from an ingress, kept.
#[derive(Debug)]
pub(super) struct Tree {
    /// One-way latency per node, µs ([`UNREACHED`] when not reached).
    pub(super) dist: Vec<u32>,
    /// The arc each node was reached by (`u32::MAX` for the ingress and the unreached).
    pub(super) pred: Vec<u32>,
    /// The reached nodes, nearest first (as the search settled them).
    pub(super) order: Vec<u32>,
    /// Per service, its reached sites as (distance, index in the service's list), nearest
    /// first: those of service `s` are `by_service[service_start[s]..service_start[s + 1]]`.
    by_service: Vec<(u32, u32)>,
    service_start: Vec<u32>,
    /// Per node, the sum of `-ln(1 - loss)` along its path, added up in path order as
    /// [`Path::stats`] does; empty when no link loses anything (every path's loss is 0).
    loss_log: Vec<f64>,
}

impl Tree {
    /// The loss of the path to `node`, as [`Path::stats`] computes it.
    /// A service's reached sites as (distance, index in the service's list), nearest first.
    pub(super) fn service_order(&self, svc: usize) -> &[(u32, u32)] {
        let (lo, hi) = (self.service_start[svc], self.service_start[svc + 1]);
        &self.by_service[lo as usize..hi as usize]
    }

    /// How many of a service's sites the search reached, and the farthest one's distance.
    pub(super) fn service_reach(&self, svc: usize) -> Reach {
        let order = self.service_order(svc);
        Reach {
            reached: order.len(),
            farthest: order.last().map_or(0, |&(d, _)| d),
        }
    }

    /// What the search holds on the heap, as laid out.
    pub(super) fn heap_bytes(&self) -> usize {
        self.dist.capacity() * 4
            + self.pred.capacity() * 4
            + self.order.capacity() * 4
            + self.by_service.capacity() * 8
            + self.service_start.capacity() * 4
            + self.loss_log.capacity() * 8
    }

    /// Whether no link lost anything when the search was made: every path's loss is 0.
    pub(super) fn lossless(&self) -> bool {
        self.loss_log.is_empty()
    }

    pub(super) fn loss(&self, node: u32) -> f64 {
        match self.loss_log.get(node as usize) {
            Some(&loss_log) => 1.0 - (-loss_log).exp(),
            // No link loses anything: 1 - e^0, exactly.
            None => 0.0,
        }
    }
}

impl Engine {
    /// The kept search from `ingress`, made now if there is none for the graph as it is.
    pub(super) fn tree(&mut self, ingress: u32) -> Option<Arc<Tree>> {
        let nodes = self.graph.node_count();
        let s = &mut self.shortlist;
        if s.version != self.graph.version() || s.trees.len() != nodes {
            s.version = self.graph.version();
            s.trees = vec![None; nodes];
            s.kept.clear();
            s.labels = 0;
        }
        if let Some(t) = &s.trees[ingress as usize] {
            return Some(Arc::clone(t));
        }
        let search = &mut self.unconstrained;
        // The search settles nodes nearest first: their order is the one wanted.
        let mut order = Vec::with_capacity(nodes);
        search.run_until(
            &self.graph,
            ingress,
            Metric::Latency,
            |_| true,
            |v, _| {
                order.push(v);
                false
            },
        );
        let mut dist = vec![UNREACHED; nodes];
        let mut pred = vec![u32::MAX; nodes];
        for &v in &order {
            let d = search.distance(v).unwrap_or(u64::MAX);
            // A distance beyond the labels' range: leave it to the full decision.
            dist[v as usize] = u32::try_from(d).ok().filter(|&d| d != UNREACHED)?;
            pred[v as usize] = search.pred_arc(v).unwrap_or(u32::MAX);
        }
        let g = &self.graph;
        let lossy = (0..g.link_count() as u32).any(|l| g.loss_log(cpn_model::LinkId(l)) != 0.0);
        let mut loss_log = Vec::new();
        if lossy {
            // Each node's sum from its predecessor's, predecessors first (a zero-latency arc
            // may lead to a node listed before its predecessor, so follow the chain).
            loss_log = vec![0.0; nodes];
            let mut done = vec![false; nodes];
            done[ingress as usize] = true;
            let mut chain = Vec::new();
            for &v in &order {
                let mut u = v;
                while !done[u as usize] {
                    chain.push(u);
                    u = g.tail(pred[u as usize]);
                }
                while let Some(w) = chain.pop() {
                    let arc = pred[w as usize];
                    loss_log[w as usize] = loss_log[g.tail(arc) as usize] + g.loss_log(g.link(arc));
                    done[w as usize] = true;
                }
            }
        }
        let mut by_service = Vec::new();
        let mut service_start = vec![0];
        for svc in &self.services {
            let from = by_service.len();
            for (k, site) in svc.sites.iter().enumerate() {
                let d = self
                    .sites
                    .router
                    .get(site.index())
                    .map_or(UNREACHED, |&node| dist[node as usize]);
                if d != UNREACHED {
                    by_service.push((d, k as u32));
                }
            }
            by_service[from..].sort_unstable();
            service_start.push(by_service.len() as u32);
        }
        let tree = Arc::new(Tree {
            dist,
            pred,
            order,
            loss_log,
            by_service,
            service_start,
        });
        while s.labels + nodes > TREE_BUDGET {
            let Some(old) = s.kept.pop_front() else { break };
            s.trees[old as usize] = None;
            s.labels -= nodes;
        }
        s.trees[ingress as usize] = Some(Arc::clone(&tree));
        s.kept.push_back(ingress);
        s.labels += nodes;
        Some(tree)
    }

    /// The path to `node` in a kept search, as [`crate::ShortestPaths::path_to`] builds it.
    pub(super) fn tree_path(&self, tree: &Tree, ingress: u32, node: u32) -> Option<Path> {
        if tree.dist.get(node as usize).is_none_or(|&d| d == UNREACHED) {
            return None;
        }
        // Counted first, so that each of the path's two lists is allocated once.
        let mut hops = 0;
        let mut v = node;
        while v != ingress {
            hops += 1;
            v = self.graph.tail(tree.pred[v as usize]);
        }
        let mut arcs = vec![0; hops];
        let mut v = node;
        for slot in arcs.iter_mut().rev() {
            *slot = tree.pred[v as usize];
            v = self.graph.tail(*slot);
        }
        let mut nodes = Vec::with_capacity(arcs.len() + 1);
        nodes.push(ingress);
        nodes.extend(arcs.iter().map(|&a| self.graph.head(a)));
        Some(Path { nodes, arcs })
    }
}
