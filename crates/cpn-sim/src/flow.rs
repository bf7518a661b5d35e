//! Network transfers at flow level: every flow crosses a path of links and gets the max-min
//! fair share of their bandwidth, computed by progressive filling (Bertsekas and Gallager,
//! *Data Networks*, 6.5.2): raise every rate together until a link fills, freeze the flows on
//! it, and go on with the rest.
//!
//! **Groups.** Progressive filling freezes every flow at one link, its bottleneck, and all the
//! flows frozen at one link get the same rate: what the link had left after the flows frozen
//! earlier (its *base*), divided by their number. The network keeps the flows in those groups,
//! one group per bottleneck link, and keeps rates per group rather than per flow. Each group
//! has a service counter, the bytes every member has received since the group's origin; a
//! member records the counter value at which it is done (its *tag*: the counter when it joined
//! plus its bytes), so its remaining bytes are `tag - counter` and the group's next completion
//! is its least tag, at the top of a binary heap. A rate change moves the counter's slope, not
//! the tags: a group of 100,000 flows changes rate in O(1), where settling every flow would
//! cost O(100,000).
//!
//! **The fast path.** An arrival or a departure usually changes one group's size and nothing
//! else: a transfer joins or leaves the flows already bottlenecked at a shared link. The
//! network checks that in O(path length) and then only sets that group's rate to
//! `base / size` and pushes or pops one heap entry (O(log n)). The check is the max-min
//! condition itself (every flow crosses a saturated link on which no flow is faster) restricted
//! to what the change can touch. It holds when the group is *simple*: every other link its
//! members cross carries members of this group only, so the new rate changes the load of no
//! link that another group depends on. What remains to check is that
//! - the new rate stays within what those other links can carry (the group's *ceiling*, the
//!   least `capacity / flows` over them, kept as a lower bound between recomputes), and
//! - after an arrival, no flow of another group that crosses the bottleneck link (a foreign
//!   flow, frozen earlier) is now faster than the group: such a flow would have to join it.
//!
//! An arrival takes the fast path when its path crosses a link that has a simple group and
//! every other link of its path is empty or carries that group only, or when every link of
//! its path is empty (it is then a group of its own, at its least capacity). A departure
//! takes it when its group is simple and the group's new rate stays within the ceiling.
//!
//! **The slow path.** Anything else (a first flow, a path over two bottlenecks, a group whose
//! rate would pass its ceiling, a capacity change) recomputes progressive filling over the
//! connected component of the flow/link graph that holds the changed links (two flows are
//! connected when they share a link): max-min rates of one component do not depend on any
//! other. A departure may split its component; starting from every link of the departed
//! flow covers all the pieces. The recompute settles the component's flows, regroups them,
//! and works out which groups are simple again. Its bottleneck search keeps the links in a
//! binary heap by share, so a component with many bottlenecks costs
//! O((flows x path length + links) log links) rather than O(links) per bottleneck.
//!
//! **Completions.** The network schedules nothing itself: a min-tree over the links holds
//! each group's next completion, and [`FlowNet::next_completion`] gives the earliest.
//! The event loop keeps one wake-up event for the network at that time and calls
//! [`FlowNet::finish_due`] when it fires. One change can move the finishing time of every flow
//! that shares a link with it; issuing an event per moved flow would fill the event queue with
//! stale events, so the tree absorbs those moves and the event loop sees at most one.

mod fill;
mod group;

use thiserror::Error;

use group::Group;

/// A flow, by its slot; slots are reused after a flow finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(pub u32);

/// No flow, no group, no link: an empty leaf of the tournament tree, an empty link.
const NONE: u32 = u32::MAX;
/// A link whose flows belong to more than one group (or may: see `FlowNet::sole`).
const MIXED: u32 = u32::MAX - 1;

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

/// How the network absorbed its changes: for benchmarks, and for tests that the fast path is
/// taken where it should be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Arrivals and departures that changed one group's size and nothing else.
    pub fast: u64,
    /// Changes that recomputed progressive filling over a component.
    pub recomputed: u64,
    /// Flows those recomputes regrouped, summed over them.
    pub recomputed_flows: u64,
}

#[derive(Debug, Clone)]
struct Flow {
    path: Vec<u32>,
    /// Where the flow sits in `link_flows[path[i]]`, for removal in O(1).
    at_link: Vec<u32>,
    /// In a group: the group's service counter value at which the flow is done. Not yet in
    /// one (between an arrival and the recompute that places it): the bytes to send.
    tag: f64,
    /// The bottleneck link whose group holds the flow (`NONE` before the first placement).
    group: u32,
    live: bool,
}

/// Links with capacities and the flows crossing them, with max-min fair rates kept current.
#[derive(Debug, Clone)]
pub struct FlowNet {
    /// Bytes per second.
    capacity: Vec<f64>,
    /// The flows crossing each link, in no particular order.
    link_flows: Vec<Vec<u32>>,
    /// For each link: the group of every flow on it, `NONE` when it carries none, `MIXED`
    /// otherwise. Exact after a recompute; between recomputes `MIXED` may be stale (a
    /// departure can leave one group behind), which only sends changes to the slow path.
    sole: Vec<u32>,
    /// For each link, the flows whose bottleneck it is.
    groups: Vec<Group>,
    /// A min-tree over the groups' next completions, keyed `time << 32 | flow` (`u128::MAX`
    /// for none): node `k` holds the least key under it, the leaf of link `l` is at
    /// `leaves + l`, and `tree[1]` is the earliest completion of all.
    tree: Vec<u128>,
    leaves: usize,
    flows: Vec<Flow>,
    /// Each flow's index in its group's heap.
    heap_pos: Vec<u32>,
    free: Vec<u32>,
    live: usize,
    stats: FlowStats,
    work: fill::Work,
}

impl FlowNet {
    /// A network of links with the given capacities in bit/s.
    pub fn new(capacities_bps: &[u64]) -> FlowNet {
        let n = capacities_bps.len();
        let leaves = n.next_power_of_two().max(1);
        FlowNet {
            capacity: capacities_bps.iter().map(|&c| c as f64 / 8.0).collect(),
            link_flows: vec![Vec::new(); n],
            sole: vec![NONE; n],
            groups: vec![Group::default(); n],
            tree: vec![u128::MAX; 2 * leaves],
            leaves,
            flows: Vec::new(),
            heap_pos: Vec::new(),
            free: Vec::new(),
            live: 0,
            stats: FlowStats::default(),
            work: fill::Work::new(n),
        }
    }

    pub fn links(&self) -> usize {
        self.capacity.len()
    }

    /// Flows in progress.
    pub fn active(&self) -> usize {
        self.live
    }

    /// How many changes took the fast path and how many recomputed.
    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    fn live_flow(&self, flow: FlowId) -> Option<&Flow> {
        self.flows.get(flow.0 as usize).filter(|f| f.live)
    }

    /// The current rate of a flow in bytes per second.
    pub fn rate(&self, flow: FlowId) -> Option<f64> {
        self.live_flow(flow)
            .map(|f| self.groups[f.group as usize].rate)
    }

    /// Every live flow with its rate in bytes per second, by id.
    pub fn rates(&self) -> impl Iterator<Item = (FlowId, f64)> + '_ {
        self.flows
            .iter()
            .enumerate()
            .filter(|(_, f)| f.live)
            .map(|(i, f)| (FlowId(i as u32), self.groups[f.group as usize].rate))
    }

    /// The path of a live flow.
    pub fn path(&self, flow: FlowId) -> Option<&[u32]> {
        self.live_flow(flow).map(|f| f.path.as_slice())
    }

    /// Bytes a flow still has to send at `now` (not before its group's last change).
    pub fn remaining(&self, now: u64, flow: FlowId) -> Option<f64> {
        let f = self.live_flow(flow)?;
        Some((f.tag - self.groups[f.group as usize].service_at(now)).max(0.0))
    }

    /// The flow that finishes first at the current rates, and when (ns); `None` when no flow
    /// is moving. Flows of one group finish in the order of their tags (equal tags: lowest id
    /// first); between groups finishing at the same ns, the lowest id goes first.
    pub fn next_completion(&self) -> Option<(u64, FlowId)> {
        let key = self.tree[1];
        (key != u128::MAX).then_some(((key >> 32) as u64, FlowId(key as u32)))
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
        let join = self.fast_join(path);
        let id = self.new_slot(path, bytes as f64);
        for (i, &l) in path.iter().enumerate() {
            let on = &mut self.link_flows[l as usize];
            self.flows[id as usize].at_link[i] = on.len() as u32;
            on.push(id);
        }
        self.live += 1;
        match join {
            Some((g, ceiling)) => {
                for &l in path {
                    if self.link_flows[l as usize].len() == 1 {
                        self.sole[l as usize] = g;
                    }
                }
                let group = &mut self.groups[g as usize];
                if group.is_empty() {
                    // A new group (see `alone`): nothing crosses its link but this flow.
                    group.reset(now);
                    group.base = self.capacity[g as usize];
                    group.simple = true;
                }
                group.advance(now);
                group.ceiling = ceiling;
                let tag = group.service + bytes as f64;
                self.flows[id as usize].tag = tag;
                self.flows[id as usize].group = g;
                group.push(tag, id, &mut self.heap_pos);
                group.set_rate();
                self.refresh(g);
                self.stats.fast += 1;
            }
            None => self.recompute(now, path),
        }
        Ok(FlowId(id))
    }

    /// The group an arrival over `path` joins without changing any other group, and that
    /// group's ceiling afterwards; `None` when the arrival needs a recompute.
    fn fast_join(&self, path: &[u32]) -> Option<(u32, f64)> {
        let Some(&g) = path.iter().find(|&&l| !self.groups[l as usize].is_empty()) else {
            return self.alone(path);
        };
        let group = &self.groups[g as usize];
        if !group.simple {
            return None;
        }
        let mut ceiling = group.ceiling;
        for &m in path {
            if m == g {
                continue;
            }
            let on = self.link_flows[m as usize].len();
            if on > 0 && self.sole[m as usize] != g {
                return None;
            }
            ceiling = ceiling.min(self.capacity[m as usize] / (on + 1) as f64);
        }
        let rate = group.rate_with(group.len() + 1);
        (rate <= ceiling && group.foreign_max <= rate).then_some((g, ceiling))
    }

    /// An arrival over links that carry no flow is a component of its own: it gets the least
    /// capacity on its path, in the group of that link (the lowest index on a tie, as
    /// progressive filling picks), and the rest of its path is the group's ceiling.
    fn alone(&self, path: &[u32]) -> Option<(u32, f64)> {
        if path
            .iter()
            .any(|&l| !self.link_flows[l as usize].is_empty())
        {
            return None;
        }
        let key = |l: u32| (self.capacity[l as usize], l);
        let g = path.iter().copied().min_by(|&a, &b| {
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
        let ceiling = path
            .iter()
            .filter(|&&l| l != g)
            .map(|&l| self.capacity[l as usize])
            .fold(f64::INFINITY, f64::min);
        Some((g, ceiling))
    }

    /// A free slot holding a new flow (not yet on its links), its buffers reused.
    fn new_slot(&mut self, path: &[u32], bytes: f64) -> u32 {
        let id = match self.free.pop() {
            Some(i) => i,
            None => {
                self.flows.push(Flow {
                    path: Vec::new(),
                    at_link: Vec::new(),
                    tag: 0.0,
                    group: NONE,
                    live: false,
                });
                self.heap_pos.push(NONE);
                self.work.grow_flows(self.flows.len());
                (self.flows.len() - 1) as u32
            }
        };
        let f = &mut self.flows[id as usize];
        f.path.clear();
        f.path.extend_from_slice(path);
        f.at_link.clear();
        f.at_link.resize(path.len(), 0);
        f.tag = bytes;
        f.group = NONE;
        f.live = true;
        id
    }

    /// Stops a flow before it finishes (a cancelled transfer, a failed endpoint).
    pub fn remove(&mut self, now: u64, flow: FlowId) -> Result<(), FlowError> {
        let f = self.live_flow(flow).ok_or(FlowError::NoSuchFlow(flow.0))?;
        let g = f.group;
        let group = &self.groups[g as usize];
        let left = group.len() - 1;
        let fast = group.simple && (left == 0 || group.rate_with(left) <= group.ceiling);
        let id = flow.0;
        self.groups[g as usize].remove(self.heap_pos[id as usize], &mut self.heap_pos);
        let f = &mut self.flows[id as usize];
        f.live = false;
        let path = std::mem::take(&mut f.path);
        let at_link = std::mem::take(&mut f.at_link);
        for (&l, &i) in path.iter().zip(&at_link) {
            let on = &mut self.link_flows[l as usize];
            on.swap_remove(i as usize);
            if let Some(&moved) = on.get(i as usize) {
                let m = &mut self.flows[moved as usize];
                let k = m.path.iter().position(|&x| x == l).unwrap_or(0);
                m.at_link[k] = i;
            } else if on.is_empty() {
                self.sole[l as usize] = NONE;
            }
        }
        self.live -= 1;
        self.free.push(id);
        if fast {
            let group = &mut self.groups[g as usize];
            group.advance(now);
            group.set_rate();
            self.refresh(g);
            self.stats.fast += 1;
        } else {
            self.recompute(now, &path);
        }
        // Give the buffers back to the slot, for its next flow.
        let f = &mut self.flows[id as usize];
        f.path = path;
        f.at_link = at_link;
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
        self.recompute(now, &[link]);
        Ok(())
    }

    /// Group `l`'s next completion as a key of the tree.
    fn key(&self, l: u32) -> u128 {
        match self.groups[l as usize].next() {
            (u64::MAX, _) => u128::MAX,
            (at, flow) => (u128::from(at) << 32) | u128::from(flow),
        }
    }

    /// Recomputes group `l`'s next completion and the tree above it, up to the first node
    /// that keeps its key.
    fn refresh(&mut self, l: u32) {
        let mut k = self.leaves + l as usize;
        self.tree[k] = self.key(l);
        while k > 1 {
            k /= 2;
            let least = self.tree[2 * k].min(self.tree[2 * k + 1]);
            if self.tree[k] == least {
                break;
            }
            self.tree[k] = least;
        }
    }

    /// Sets the leaves of `links` and rebuilds every node above the leaves.
    fn rebuild_tree(&mut self, links: &[u32]) {
        for &l in links {
            self.tree[self.leaves + l as usize] = self.key(l);
        }
        for k in (1..self.leaves).rev() {
            self.tree[k] = self.tree[2 * k].min(self.tree[2 * k + 1]);
        }
    }
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
