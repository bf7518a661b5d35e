//! The priority queue of Dijkstra's search: a monotone bucket queue (Dial's buckets on a
//! circular window) with a binary heap for the keys beyond the window.
//!
//! Dijkstra only ever asks for the least key, and every key it inserts is at least the key it
//! last took out, so the queue never needs to order keys in general: a key `d` within
//! `WINDOW` of the current one goes to bucket `d % WINDOW` in O(1), and the next key is the
//! next non-empty bucket, found with a bitmap. A bucket holds nodes only, because its key is
//! known. Keys that fall beyond the window (arcs longer than it) wait in a binary heap and
//! move into the window when it reaches them, so any `u64` key works and short arcs, the
//! common case, never touch the heap.
//!
//! A node may sit in the queue more than once (no decrease-key): the search skips the copies
//! whose key is no longer the node's distance.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Keys the window holds at once. A power of two, so that `d % WINDOW` is a mask; wide
/// enough for the arc weights of benchmarks and IGP metrics, small enough that finding the
/// next bucket scans at most 16 words.
const WINDOW: usize = 1024;
const MASK: u64 = WINDOW as u64 - 1;

#[derive(Debug, Clone)]
pub(crate) struct BucketQueue {
    /// Bucket `d % WINDOW` holds the nodes queued with key `d`, for `d` in
    /// `current..current + WINDOW`.
    window: Vec<Vec<u32>>,
    /// Bit `i` is set while bucket `i` is not empty.
    occupied: [u64; WINDOW / 64],
    in_window: usize,
    /// The least key still queued, or a lower bound of it; never decreases.
    current: u64,
    /// Entries with keys `current + WINDOW` or more.
    far: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Default for BucketQueue {
    fn default() -> BucketQueue {
        BucketQueue {
            window: vec![Vec::new(); WINDOW],
            occupied: [0; WINDOW / 64],
            in_window: 0,
            current: 0,
            far: BinaryHeap::new(),
        }
    }
}

impl BucketQueue {
    /// Empties the queue and restarts its keys at 0; keeps the memory.
    pub(crate) fn clear(&mut self) {
        // Only the occupied buckets, so that clearing after a short search stays short.
        for (w, bits) in self.occupied.iter_mut().enumerate() {
            while *bits != 0 {
                self.window[w * 64 + bits.trailing_zeros() as usize].clear();
                *bits &= *bits - 1;
            }
        }
        self.in_window = 0;
        self.far.clear();
        self.current = 0;
    }

    /// Queues `node` with key `key`, which must not be below the last key taken out.
    #[inline]
    pub(crate) fn push(&mut self, key: u64, node: u32) {
        debug_assert!(
            key >= self.current,
            "keys of a monotone queue never decrease"
        );
        if key - self.current < WINDOW as u64 {
            self.push_in_window(key, node);
        } else {
            self.far.push(Reverse((key, node)));
        }
    }

    #[inline]
    fn push_in_window(&mut self, key: u64, node: u32) {
        let i = (key & MASK) as usize;
        self.window[i].push(node);
        self.occupied[i / 64] |= 1 << (i % 64);
        self.in_window += 1;
    }

    /// Moves every node queued with the least key into `batch` (which must be empty) and
    /// returns that key, or `None` when the queue is empty. Taking a whole bucket at once lets
    /// the search read the arcs of many nodes before it acts on any of them.
    pub(crate) fn pop_batch(&mut self, batch: &mut Vec<u32>) -> Option<u64> {
        debug_assert!(batch.is_empty());
        if self.in_window == 0 {
            let &Reverse((key, _)) = self.far.peek()?;
            self.move_to(key);
        } else if self.window[(self.current & MASK) as usize].is_empty() {
            self.move_to(self.current + self.next_occupied());
        }
        let i = (self.current & MASK) as usize;
        std::mem::swap(batch, &mut self.window[i]);
        self.occupied[i / 64] &= !(1 << (i % 64));
        self.in_window -= batch.len();
        Some(self.current)
    }

    /// How far past `current` the next non-empty bucket is (the window must not be empty).
    fn next_occupied(&self) -> u64 {
        let start = (self.current & MASK) as usize;
        let (word, bit) = (start / 64, start % 64);
        // The rest of the first word, then whole words, wrapping round to the first word's
        // low bits, which come last in key order.
        let first = self.occupied[word] & (u64::MAX << bit);
        let found = if first != 0 {
            word * 64 + first.trailing_zeros() as usize
        } else {
            let words = self.occupied.len();
            (1..=words)
                .map(|k| (word + k) % words)
                .find_map(|w| {
                    let bits = self.occupied[w];
                    (bits != 0).then(|| w * 64 + bits.trailing_zeros() as usize)
                })
                .unwrap_or(start)
        };
        ((found + WINDOW - start) % WINDOW) as u64
    }

    /// Makes `key` the current key and brings the far entries that the window now covers
    /// into it.
    fn move_to(&mut self, key: u64) {
        self.current = key;
        while let Some(&Reverse((k, node))) = self.far.peek() {
            if k - self.current >= WINDOW as u64 {
                break;
            }
            self.far.pop();
            self.push_in_window(k, node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pops everything, checking that keys come out in order and returning (key, node) pairs
    /// sorted within a key.
    fn drain(q: &mut BucketQueue) -> Vec<(u64, u32)> {
        let mut out = Vec::new();
        let mut batch = Vec::new();
        while let Some(key) = q.pop_batch(&mut batch) {
            batch.sort_unstable();
            out.extend(batch.drain(..).map(|n| (key, n)));
        }
        out
    }

    #[test]
    fn keys_come_out_in_order_across_the_window_and_the_heap() {
        let mut q = BucketQueue::default();
        let keys = [5, 0, 3000, 1023, 1024, 5, 70_000, u64::MAX - 1, 64, 63];
        for (node, &k) in keys.iter().enumerate() {
            q.push(k, node as u32);
        }
        let mut want: Vec<(u64, u32)> = keys
            .iter()
            .enumerate()
            .map(|(n, &k)| (k, n as u32))
            .collect();
        want.sort_unstable();
        assert_eq!(drain(&mut q), want);
    }

    #[test]
    fn pushes_during_the_search_stay_monotone() {
        // A search-like pattern: a chain of nodes whose steps are zero, short, near the
        // window's size and beyond it, each node also queueing a leaf far ahead.
        const STEPS: [u64; 5] = [0, 1, 700, 1500, 3000];
        const LEAF: u32 = 1 << 20;
        let mut q = BucketQueue::default();
        let mut batch = Vec::new();
        q.push(0, 0);
        let (mut last, mut taken, mut pushed) = (0, 0, 1);
        while let Some(k) = q.pop_batch(&mut batch) {
            assert!(k >= last);
            last = k;
            taken += batch.len();
            for &n in &batch {
                if n < 5000 {
                    q.push(k + STEPS[n as usize % 5], n + 1);
                    q.push(k + 2500, n | LEAF);
                    pushed += 2;
                }
            }
            batch.clear();
        }
        assert_eq!(taken, pushed);
        q.clear();
        assert_eq!(q.pop_batch(&mut batch), None);
        q.push(7, 1);
        assert_eq!(drain(&mut q), vec![(7, 1)]);
    }
}
