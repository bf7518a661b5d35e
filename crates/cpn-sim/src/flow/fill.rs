//! The slow path: progressive filling over the component a change touches, and the groups,
//! `sole` marks, ceilings and completions rebuilt from it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{FlowNet, MIXED, NONE};

/// Working memory of a recompute, reused so that a change allocates nothing once the
/// network has grown to its size.
#[derive(Debug, Clone)]
pub(super) struct Work {
    epoch: u32,
    link_seen: Vec<u32>,
    flow_seen: Vec<u32>,
    frozen: Vec<u32>,
    comp_links: Vec<u32>,
    comp_flows: Vec<u32>,
    residual: Vec<f64>,
    unfrozen: Vec<u32>,
    /// Links whose share changed in the current round of filling.
    dirty: Vec<u32>,
    /// Links by share (as bits: shares are never negative, so their bits order as they do),
    /// then index; entries whose share has changed since are skipped when popped.
    shares: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Work {
    pub(super) fn new(links: usize) -> Work {
        Work {
            epoch: 0,
            link_seen: vec![0; links],
            flow_seen: Vec::new(),
            frozen: Vec::new(),
            comp_links: Vec::new(),
            comp_flows: Vec::new(),
            residual: vec![0.0; links],
            unfrozen: vec![0; links],
            dirty: Vec::new(),
            shares: BinaryHeap::new(),
        }
    }

    pub(super) fn grow_flows(&mut self, flows: usize) {
        self.flow_seen.resize(flows, 0);
        self.frozen.resize(flows, 0);
    }

    /// A link's fair share of what is left for its unfrozen flows, never negative (nor -0).
    fn share(&self, l: usize) -> f64 {
        let s = self.residual[l] / f64::from(self.unfrozen[l]);
        if s > 0.0 { s } else { 0.0 }
    }
}

impl FlowNet {
    /// Recomputes the component reachable from `seeds`: settles its flows, regroups them by
    /// progressive filling, and rebuilds the groups' heaps, `sole` marks, simplicity,
    /// ceilings and completions.
    pub(super) fn recompute(&mut self, now: u64, seeds: &[u32]) {
        self.stats.recomputed += 1;
        let w = &mut self.work;
        w.epoch = w.epoch.wrapping_add(1);
        if w.epoch == 0 {
            // After 2^32 changes the marks wrap; clear them once so none looks current.
            w.link_seen.fill(0);
            w.flow_seen.fill(0);
            w.frozen.fill(0);
            w.epoch = 1;
        }
        let epoch = w.epoch;
        w.comp_links.clear();
        w.comp_flows.clear();
        for &l in seeds {
            if w.link_seen[l as usize] != epoch {
                w.link_seen[l as usize] = epoch;
                w.comp_links.push(l);
            }
        }
        // Breadth-first over links: comp_links doubles as the queue.
        let mut head = 0;
        while head < w.comp_links.len() {
            let l = w.comp_links[head] as usize;
            head += 1;
            for &f in &self.link_flows[l] {
                if w.flow_seen[f as usize] == epoch {
                    continue;
                }
                w.flow_seen[f as usize] = epoch;
                w.comp_flows.push(f);
                for &m in &self.flows[f as usize].path {
                    if w.link_seen[m as usize] != epoch {
                        w.link_seen[m as usize] = epoch;
                        w.comp_links.push(m);
                    }
                }
            }
        }
        self.stats.recomputed_flows += w.comp_flows.len() as u64;

        // Settle every flow at its old rate: its tag becomes the bytes it has left.
        for &f in &w.comp_flows {
            let flow = &mut self.flows[f as usize];
            if flow.group != NONE {
                let g = &self.groups[flow.group as usize];
                flow.tag = (flow.tag - g.service_at(now)).max(0.0);
            }
        }
        for &l in &w.comp_links {
            self.groups[l as usize].reset(now);
        }

        self.fill();

        let w = &mut self.work;
        for &f in &w.comp_flows {
            let flow = &self.flows[f as usize];
            self.groups[flow.group as usize].push_unordered(flow.tag, f);
        }
        for &l in &w.comp_links {
            let l = l as usize;
            self.groups[l].heapify(&mut self.heap_pos);
            let on = &self.link_flows[l];
            self.sole[l] = match on.first() {
                None => NONE,
                Some(&f) => {
                    let g = self.flows[f as usize].group;
                    if on.iter().all(|&x| self.flows[x as usize].group == g) {
                        g
                    } else {
                        MIXED
                    }
                }
            };
            let group = &mut self.groups[l];
            group.simple = !group.is_empty();
        }
        for &f in &w.comp_flows {
            let flow = &self.flows[f as usize];
            let g = flow.group;
            for &m in &flow.path {
                if m == g {
                    continue;
                }
                if self.sole[m as usize] == g {
                    let cap = self.capacity[m as usize] / self.link_flows[m as usize].len() as f64;
                    let group = &mut self.groups[g as usize];
                    group.ceiling = group.ceiling.min(cap);
                } else {
                    self.groups[g as usize].simple = false;
                }
            }
        }

        // Updating a leaf costs the tree's height; past a point, rebuilding it is cheaper.
        let comp_links = std::mem::take(&mut self.work.comp_links);
        let height = self.leaves.trailing_zeros() as usize + 1;
        if comp_links.len() * height > self.leaves {
            self.rebuild_tree(&comp_links);
        } else {
            for &l in &comp_links {
                self.refresh(l);
            }
        }
        self.work.comp_links = comp_links;
    }

    /// Progressive filling over the current component: each round takes the link with the
    /// least share (ties to the lowest index, so that the result never depends on the order
    /// the component was found in) and freezes its unfrozen flows at that share, in its group.
    fn fill(&mut self) {
        let w = &mut self.work;
        w.shares.clear();
        for &l in &w.comp_links {
            let l = l as usize;
            w.residual[l] = self.capacity[l];
            w.unfrozen[l] = self.link_flows[l].len() as u32;
            if w.unfrozen[l] > 0 {
                w.shares.push(Reverse((w.share(l).to_bits(), l as u32)));
            }
        }
        let epoch = w.epoch;
        let mut left = w.comp_flows.len();
        while left > 0 {
            let Some(Reverse((bits, l))) = w.shares.pop() else {
                break;
            };
            let li = l as usize;
            if w.unfrozen[li] == 0 || w.share(li).to_bits() != bits {
                continue;
            }
            let share = f64::from_bits(bits);
            let group = &mut self.groups[li];
            group.base = w.residual[li].max(0.0);
            group.rate = share;
            for &f in &self.link_flows[li] {
                if w.frozen[f as usize] == epoch {
                    continue;
                }
                w.frozen[f as usize] = epoch;
                left -= 1;
                let flow = &mut self.flows[f as usize];
                flow.group = l;
                for &m in &flow.path {
                    let mi = m as usize;
                    w.residual[mi] -= share;
                    w.unfrozen[mi] -= 1;
                    if m != l {
                        let other = &mut self.groups[mi];
                        other.foreign_max = other.foreign_max.max(share);
                        w.dirty.push(m);
                    }
                }
            }
            // A link appears once per flow that changed it; push its new share once.
            w.dirty.sort_unstable();
            w.dirty.dedup();
            for i in 0..w.dirty.len() {
                let m = w.dirty[i] as usize;
                if w.unfrozen[m] > 0 {
                    w.shares.push(Reverse((w.share(m).to_bits(), m as u32)));
                }
            }
            w.dirty.clear();
        }
    }
}
