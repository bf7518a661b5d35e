//! Network transfers at flow level: every flow crosses a path of links and gets the max-min
//! fair share of their bandwidth, computed by progressive filling (Bertsekas and Gallager,
//! *Data Networks*, 6.5.2): raise every rate together until a link fills, freeze the flows on
//! it, and go on with the rest.
//!
//! Rates are recomputed incrementally. Max-min rates of one connected component of the
//! flow/link graph (two flows are connected when they share a link) do not depend on any
//! other component, so an arrival, a departure or a capacity change only recomputes the
//! component that holds the changed links, after the change. A departure may split its
//! component; starting from every link of the departed flow covers all the pieces.
//!
//! The network schedules nothing itself: it keeps every flow's finishing time at its current
//! rate in a tournament tree, and [`FlowNet::next_completion`] gives the earliest. The event
//! loop keeps one wake-up event for the network at that time and calls
//! [`FlowNet::finish_due`] when it fires. One change can move the finishing time of every flow
//! that shares a link with it; issuing an event per moved flow would fill the event queue
//! with stale events (a thousand per change with a thousand flows on one link), so the tree
//! absorbs those moves and the event loop sees at most one.

use thiserror::Error;

/// A flow, by its slot; slots are reused after a flow finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(pub u32);

/// No flow: an empty leaf of the tournament tree.
const NONE: u32 = u32::MAX;

/// A change the network refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FlowError {
    #[error("flow path is empty")]
    EmptyPath,
    #[error("flow path names link {link}, but the network has {links} links")]
    NoSuchLink { link: u32, links: usize },
    #[error("flow path crosses link {link} twice")]
    RepeatedLink { link: u32 },
    #[error("no flow {0}")]
    NoSuchFlow(u32),
}

#[derive(Debug, Clone)]
struct Flow {
    path: Vec<u32>,
    /// Bytes still to send at `updated`.
    remaining: f64,
    /// Bytes per second.
    rate: f64,
    updated: u64,
    live: bool,
}

/// Links with capacities and the flows crossing them, with max-min fair rates kept current.
#[derive(Debug, Clone)]
pub struct FlowNet {
    /// Bytes per second.
    capacity: Vec<f64>,
    link_flows: Vec<Vec<u32>>,
    flows: Vec<Flow>,
    free: Vec<u32>,
    live: usize,
    /// Finishing time in ns of each slot at its current rate (`u64::MAX`: never, or free).
    finish_at: Vec<u64>,
    /// Tournament tree over the slots: node `k` holds the slot finishing first under it,
    /// leaves at `leaves + slot`; `tree[1]` is the earliest of all.
    tree: Vec<u32>,
    leaves: usize,
    // Working memory of a recompute, reused so that a change allocates nothing.
    epoch: u32,
    link_seen: Vec<u32>,
    flow_seen: Vec<u32>,
    comp_links: Vec<u32>,
    comp_flows: Vec<u32>,
    residual: Vec<f64>,
    unfrozen: Vec<u32>,
    frozen: Vec<u32>,
    changed: Vec<u32>,
}

impl FlowNet {
    /// A network of links with the given capacities in bit/s.
    pub fn new(capacities_bps: &[u64]) -> FlowNet {
        let n = capacities_bps.len();
        FlowNet {
            capacity: capacities_bps.iter().map(|&c| c as f64 / 8.0).collect(),
            link_flows: vec![Vec::new(); n],
            flows: Vec::new(),
            free: Vec::new(),
            live: 0,
            finish_at: Vec::new(),
            tree: vec![NONE; 2],
            leaves: 1,
            epoch: 0,
            link_seen: vec![0; n],
            flow_seen: Vec::new(),
            comp_links: Vec::new(),
            comp_flows: Vec::new(),
            residual: vec![0.0; n],
            unfrozen: vec![0; n],
            frozen: Vec::new(),
            changed: Vec::new(),
        }
    }

    pub fn links(&self) -> usize {
        self.capacity.len()
    }

    /// Flows in progress.
    pub fn active(&self) -> usize {
        self.live
    }

    /// The current rate of a flow in bytes per second.
    pub fn rate(&self, flow: FlowId) -> Option<f64> {
        self.flows
            .get(flow.0 as usize)
            .filter(|f| f.live)
            .map(|f| f.rate)
    }

    /// Every live flow with its rate in bytes per second, by id.
    pub fn rates(&self) -> impl Iterator<Item = (FlowId, f64)> + '_ {
        self.flows
            .iter()
            .enumerate()
            .filter(|(_, f)| f.live)
            .map(|(i, f)| (FlowId(i as u32), f.rate))
    }

    /// The path of a live flow.
    pub fn path(&self, flow: FlowId) -> Option<&[u32]> {
        self.flows
            .get(flow.0 as usize)
            .filter(|f| f.live)
            .map(|f| f.path.as_slice())
    }

    /// Bytes a flow still has to send at `now` (not before its last change).
    pub fn remaining(&self, now: u64, flow: FlowId) -> Option<f64> {
        let f = self.flows.get(flow.0 as usize).filter(|f| f.live)?;
        Some(settled(f, now))
    }

    /// The flow that finishes first at the current rates, and when (ns); `None` when no flow
    /// is moving. Ties go to the lowest id.
    pub fn next_completion(&self) -> Option<(u64, FlowId)> {
        let f = self.tree[1];
        (f != NONE && self.finish_at[f as usize] != u64::MAX)
            .then(|| (self.finish_at[f as usize], FlowId(f)))
    }

    /// Removes every flow due by `now`, earliest first, appending them to `done`.
    pub fn finish_due(&mut self, now: u64, done: &mut Vec<FlowId>) {
        while let Some((t, f)) = self.next_completion() {
            if t > now {
                break;
            }
            if self.remove(now, f).is_err() {
                break;
            }
            done.push(f);
        }
    }

    /// Starts a flow of `bytes` over `path` (link indices) at `now`.
    pub fn add_flow(&mut self, now: u64, path: &[u32], bytes: u64) -> Result<FlowId, FlowError> {
        if path.is_empty() {
            return Err(FlowError::EmptyPath);
        }
        for (i, &l) in path.iter().enumerate() {
            if l as usize >= self.capacity.len() {
                return Err(FlowError::NoSuchLink {
                    link: l,
                    links: self.capacity.len(),
                });
            }
            if path[..i].contains(&l) {
                return Err(FlowError::RepeatedLink { link: l });
            }
        }
        let flow = Flow {
            path: path.to_vec(),
            remaining: bytes as f64,
            rate: f64::NAN,
            updated: now,
            live: true,
        };
        let id = match self.free.pop() {
            Some(i) => {
                self.flows[i as usize] = flow;
                i
            }
            None => {
                self.flows.push(flow);
                self.flow_seen.push(0);
                self.finish_at.push(u64::MAX);
                if self.flows.len() > self.leaves {
                    self.grow_tree();
                }
                let id = self.flows.len() - 1;
                self.tree[self.leaves + id] = id as u32;
                id as u32
            }
        };
        self.live += 1;
        for &l in path {
            self.link_flows[l as usize].push(id);
        }
        self.recompute_from(now, path.iter().copied());
        Ok(FlowId(id))
    }

    /// Stops a flow before it finishes (a cancelled transfer, a failed endpoint).
    pub fn remove(&mut self, now: u64, flow: FlowId) -> Result<(), FlowError> {
        let f = self
            .flows
            .get_mut(flow.0 as usize)
            .filter(|f| f.live)
            .ok_or(FlowError::NoSuchFlow(flow.0))?;
        f.live = false;
        let path = std::mem::take(&mut f.path);
        for &l in &path {
            let on = &mut self.link_flows[l as usize];
            if let Some(pos) = on.iter().position(|&x| x == flow.0) {
                on.remove(pos);
            }
        }
        self.live -= 1;
        self.free.push(flow.0);
        self.finish_at[flow.0 as usize] = u64::MAX;
        self.tree_update(flow.0);
        self.recompute_from(now, path.into_iter());
        Ok(())
    }

    /// Changes a link's capacity (0 for a failed link: its flows stall at rate 0 and have no
    /// completion until it is repaired).
    pub fn set_capacity(&mut self, now: u64, link: u32, bps: u64) -> Result<(), FlowError> {
        let links = self.capacity.len();
        let c = self
            .capacity
            .get_mut(link as usize)
            .ok_or(FlowError::NoSuchLink { link, links })?;
        *c = bps as f64 / 8.0;
        self.recompute_from(now, std::iter::once(link));
        Ok(())
    }

    /// Recomputes the component reachable from `seeds` and the finishing times of the flows
    /// whose rate changed.
    fn recompute_from(&mut self, now: u64, seeds: impl Iterator<Item = u32>) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // After 2^32 changes the marks wrap; clear them once so none looks current.
            self.link_seen.fill(0);
            self.flow_seen.fill(0);
            self.epoch = 1;
        }
        let epoch = self.epoch;
        self.comp_links.clear();
        self.comp_flows.clear();
        for l in seeds {
            if self.link_seen[l as usize] != epoch {
                self.link_seen[l as usize] = epoch;
                self.comp_links.push(l);
            }
        }
        // Breadth-first over links: comp_links doubles as the queue.
        let mut head = 0;
        while head < self.comp_links.len() {
            let l = self.comp_links[head] as usize;
            head += 1;
            for &f in &self.link_flows[l] {
                if self.flow_seen[f as usize] == epoch {
                    continue;
                }
                self.flow_seen[f as usize] = epoch;
                self.comp_flows.push(f);
                for &m in &self.flows[f as usize].path {
                    if self.link_seen[m as usize] != epoch {
                        self.link_seen[m as usize] = epoch;
                        self.comp_links.push(m);
                    }
                }
            }
        }
        self.changed.clear();
        self.fill(now);
        // Updating a leaf costs the tree's height; past a point, rebuilding it is cheaper.
        let height = self.leaves.trailing_zeros() as usize + 1;
        if self.changed.len() * height > self.leaves {
            self.rebuild_tree();
        } else {
            for i in 0..self.changed.len() {
                self.tree_update(self.changed[i]);
            }
        }
    }

    /// The slot of `a` and `b` that finishes first (the lower on a tie).
    fn earlier(&self, a: u32, b: u32) -> u32 {
        let key = |x: u32| {
            if x == NONE {
                (u64::MAX, NONE)
            } else {
                (self.finish_at[x as usize], x)
            }
        };
        if key(b) < key(a) { b } else { a }
    }

    fn tree_update(&mut self, slot: u32) {
        let mut k = (self.leaves + slot as usize) / 2;
        while k >= 1 {
            self.tree[k] = self.earlier(self.tree[2 * k], self.tree[2 * k + 1]);
            k /= 2;
        }
    }

    fn rebuild_tree(&mut self) {
        for k in (1..self.leaves).rev() {
            self.tree[k] = self.earlier(self.tree[2 * k], self.tree[2 * k + 1]);
        }
    }

    fn grow_tree(&mut self) {
        self.leaves = (self.leaves * 2).max(self.flows.len().next_power_of_two());
        self.tree = vec![NONE; 2 * self.leaves];
        for i in 0..self.flows.len() {
            self.tree[self.leaves + i] = i as u32;
        }
        self.rebuild_tree();
    }

    /// Progressive filling over the current component.
    fn fill(&mut self, now: u64) {
        for &l in &self.comp_links {
            let l = l as usize;
            self.residual[l] = self.capacity[l];
            self.unfrozen[l] = self.link_flows[l].len() as u32;
        }
        // Settle every flow of the component at its old rate before the rate changes.
        for &f in &self.comp_flows {
            let flow = &mut self.flows[f as usize];
            flow.remaining = settled(flow, now);
            flow.updated = now;
        }
        let mut left = self.comp_flows.len();
        // A flow is frozen when `frozen[f] == epoch`.
        if self.frozen.len() < self.flows.len() {
            self.frozen.resize(self.flows.len(), 0);
        }
        let epoch = self.epoch;
        while left > 0 {
            // The bottleneck: the least share per unfrozen flow; ties go to the lowest link
            // index so that the result never depends on the component's discovery order.
            let mut best: Option<(f64, u32)> = None;
            for &l in &self.comp_links {
                let n = self.unfrozen[l as usize];
                if n == 0 {
                    continue;
                }
                let share = (self.residual[l as usize] / f64::from(n)).max(0.0);
                if best.is_none_or(|(s, bl)| share < s || (share == s && l < bl)) {
                    best = Some((share, l));
                }
            }
            let Some((share, l)) = best else { break };
            for i in 0..self.link_flows[l as usize].len() {
                let f = self.link_flows[l as usize][i] as usize;
                if self.frozen[f] == epoch {
                    continue;
                }
                self.frozen[f] = epoch;
                left -= 1;
                for &m in &self.flows[f].path {
                    self.residual[m as usize] -= share;
                    self.unfrozen[m as usize] -= 1;
                }
                let flow = &mut self.flows[f];
                if flow.rate.to_bits() != share.to_bits() {
                    flow.rate = share;
                    self.finish_at[f] = if share > 0.0 {
                        finish_time(now, flow.remaining, share)
                    } else {
                        u64::MAX
                    };
                    self.changed.push(f as u32);
                }
            }
        }
    }
}

/// Bytes left at `now` at the flow's current rate.
fn settled(f: &Flow, now: u64) -> f64 {
    if f.rate.is_nan() {
        return f.remaining;
    }
    let elapsed = now.saturating_sub(f.updated) as f64 * 1e-9;
    (f.remaining - f.rate * elapsed).max(0.0)
}

fn finish_time(now: u64, remaining: f64, rate: f64) -> u64 {
    let ns = (remaining / rate * 1e9).ceil();
    now.saturating_add(ns.clamp(0.0, u64::MAX as f64) as u64)
}

/// Max-min fair rates in bytes per second computed from scratch, the textbook way: the
/// reference the incremental computation is tested against. `paths[i]` is flow `i`'s links.
pub fn max_min_rates(capacities_bps: &[u64], paths: &[&[u32]]) -> Vec<f64> {
    let mut residual: Vec<f64> = capacities_bps.iter().map(|&c| c as f64 / 8.0).collect();
    let mut rate = vec![f64::NAN; paths.len()];
    let mut unfrozen: Vec<usize> = (0..paths.len()).collect();
    while !unfrozen.is_empty() {
        let mut best: Option<(f64, u32)> = None;
        for (l, &r) in residual.iter().enumerate() {
            let n = unfrozen
                .iter()
                .filter(|&&f| paths[f].contains(&(l as u32)))
                .count();
            if n == 0 {
                continue;
            }
            let share = (r / n as f64).max(0.0);
            if best.is_none_or(|(s, _)| share < s) {
                best = Some((share, l as u32));
            }
        }
        let Some((share, l)) = best else { break };
        let (now_frozen, rest): (Vec<usize>, Vec<usize>) =
            unfrozen.iter().partition(|&&f| paths[f].contains(&l));
        for f in now_frozen {
            rate[f] = share;
            for &m in paths[f] {
                residual[m as usize] -= share;
            }
        }
        unfrozen = rest;
    }
    rate
}

#[cfg(test)]
mod tests;
