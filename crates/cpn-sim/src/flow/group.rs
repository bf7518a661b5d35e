//! The flows bottlenecked at one link: one rate for all of them, a service counter that
//! grows at that rate, and the members in a binary min-heap by the counter value at which
//! each is done, so that a rate change costs O(1) and an arrival or a departure O(log n).

use super::NONE;

#[derive(Debug, Clone)]
pub(super) struct Group {
    /// Members as (tag, flow), a binary min-heap by (tag, flow).
    heap: Vec<(f64, u32)>,
    /// Bytes per second the link has for the members: its capacity less what the foreign
    /// flows (frozen at other links, slower) take. Each member gets `base / members`.
    pub(super) base: f64,
    /// Bytes per second of every member.
    pub(super) rate: f64,
    /// Bytes each member has received since the group's origin, as of `at` (ns).
    pub(super) service: f64,
    pub(super) at: u64,
    /// The fastest foreign flow crossing the link; the group's rate may not fall below it.
    pub(super) foreign_max: f64,
    /// The least `capacity / flows` over the other links the members cross (all members'
    /// flows when the group is simple): the group's rate may not rise above it. Between
    /// recomputes it only goes down, so it is a lower bound on the true one.
    pub(super) ceiling: f64,
    /// Every other link a member crosses carries members of this group only.
    pub(super) simple: bool,
}

impl Default for Group {
    fn default() -> Group {
        Group {
            heap: Vec::new(),
            base: 0.0,
            rate: 0.0,
            service: 0.0,
            at: 0,
            foreign_max: 0.0,
            ceiling: f64::INFINITY,
            simple: false,
        }
    }
}

fn before(a: (f64, u32), b: (f64, u32)) -> bool {
    a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
}

impl Group {
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The rate every member would get with `members` members.
    pub(super) fn rate_with(&self, members: usize) -> f64 {
        if members == 0 {
            0.0
        } else {
            self.base / members as f64
        }
    }

    /// Sets the rate for the current membership (after `advance`).
    pub(super) fn set_rate(&mut self) {
        self.rate = self.rate_with(self.heap.len());
    }

    /// The service counter at `now` (not before `at`).
    pub(super) fn service_at(&self, now: u64) -> f64 {
        if self.rate > 0.0 && now > self.at {
            self.service + self.rate * ((now - self.at) as f64 * 1e-9)
        } else {
            self.service
        }
    }

    /// Moves the counter to `now`, before a rate change.
    pub(super) fn advance(&mut self, now: u64) {
        self.service = self.service_at(now);
        self.at = self.at.max(now);
    }

    /// Empties the group and moves its origin to `now`, for a recompute.
    pub(super) fn reset(&mut self, now: u64) {
        self.heap.clear();
        self.base = 0.0;
        self.rate = 0.0;
        self.service = 0.0;
        self.at = now;
        self.foreign_max = 0.0;
        self.ceiling = f64::INFINITY;
        self.simple = false;
    }

    /// The first member to finish and when (ns); `u64::MAX` when none moves.
    pub(super) fn next(&self) -> (u64, u32) {
        match self.heap.first() {
            None => (u64::MAX, NONE),
            Some(&(tag, f)) if self.rate > 0.0 => {
                let ns = ((tag - self.service).max(0.0) / self.rate * 1e9).ceil();
                (self.at.saturating_add(ns.min(u64::MAX as f64) as u64), f)
            }
            Some(&(_, f)) => (u64::MAX, f),
        }
    }

    /// Appends a member without ordering; `heapify` orders them all at once.
    pub(super) fn push_unordered(&mut self, tag: f64, flow: u32) {
        self.heap.push((tag, flow));
    }

    pub(super) fn heapify(&mut self, pos: &mut [u32]) {
        for (i, &(_, f)) in self.heap.iter().enumerate() {
            pos[f as usize] = i as u32;
        }
        for i in (0..self.heap.len() / 2).rev() {
            self.sift_down(i, pos);
        }
    }

    pub(super) fn push(&mut self, tag: f64, flow: u32, pos: &mut [u32]) {
        self.heap.push((tag, flow));
        let i = self.heap.len() - 1;
        pos[flow as usize] = i as u32;
        self.sift_up(i, pos);
    }

    /// Removes the member at heap index `i`.
    pub(super) fn remove(&mut self, i: u32, pos: &mut [u32]) {
        let i = i as usize;
        let (_, gone) = self.heap.swap_remove(i);
        pos[gone as usize] = NONE;
        if i < self.heap.len() {
            pos[self.heap[i].1 as usize] = i as u32;
            let i = self.sift_up(i, pos);
            self.sift_down(i, pos);
        }
    }

    fn sift_up(&mut self, mut i: usize, pos: &mut [u32]) -> usize {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !before(self.heap[i], self.heap[parent]) {
                break;
            }
            self.swap(i, parent, pos);
            i = parent;
        }
        i
    }

    fn sift_down(&mut self, mut i: usize, pos: &mut [u32]) {
        loop {
            let left = 2 * i + 1;
            if left >= self.heap.len() {
                break;
            }
            let right = left + 1;
            let child = if right < self.heap.len() && before(self.heap[right], self.heap[left]) {
                right
            } else {
                left
            };
            if !before(self.heap[child], self.heap[i]) {
                break;
            }
            self.swap(i, child, pos);
            i = child;
        }
    }

    fn swap(&mut self, i: usize, j: usize, pos: &mut [u32]) {
        self.heap.swap(i, j);
        pos[self.heap[i].1 as usize] = i as u32;
        pos[self.heap[j].1 as usize] = j as u32;
    }
}
