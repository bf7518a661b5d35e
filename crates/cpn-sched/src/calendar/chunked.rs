//! The breakpoints of a step function, `(time, level)` sorted by time, in chunks that each
//! carry a pending addition and their least and most level.
//!
//! Why not a `BTreeMap`: booking a window adds its amount to the level at every breakpoint
//! inside it, and a busy calendar has a breakpoint at nearly every second of the next ten
//! minutes (each booking ends at its own second). With a map that is a walk over hundreds of
//! entries per booking, per release and per peak. Here a whole chunk takes an addition in
//! O(1) (its pending addition) and answers its most and least level in O(1), so a window
//! costs O(n / CHUNK + CHUNK) instead of O(n). Chunks hold between `CHUNK / 2` and `2 * CHUNK`
//! breakpoints (a lone chunk may hold fewer), so a calendar of a few breakpoints costs no more
//! than a map.
//!
//! Levels are `u64`, and so is everything a chunk stores: each level less the pending
//! addition, and the least and most level less the pending addition, all modulo 2^64
//! (wrapping arithmetic). Callers never take a level below zero or above `u64::MAX` (the
//! calendars check before they book or release), so every true level is in `0..2^64` and the
//! wrapping sum of a stored value and the pending addition is exactly that level, whatever
//! the stored values and the pending addition wrapped to on the way. The least and most are
//! kept as levels (compared as levels, then offset), never compared as stored values, which
//! wrapping does not order. Half the bytes of the `i128` this used to keep: a chunk's levels
//! are one or two cache lines fewer, and its min and max are plain `u64` compares.

use std::ops::Bound;

/// Breakpoints per chunk, half the most a chunk holds.
const CHUNK: usize = 32;

/// The most breakpoints a chunk holds, for an instant: one more than `2 * CHUNK`, until an
/// insertion splits it.
const CAP: usize = 2 * CHUNK + 1;

/// Up to [`CAP`] `u64`s kept inline: a chunk's times and levels live in the chunk itself, in
/// the calendar's one array of chunks, rather than behind two pointers of their own. A
/// lookup in a cold calendar then waits for one miss fewer (the chunk's header, then its
/// times, were two dependent misses; now the times follow the header), and a chunk costs no
/// allocation. The unused capacity is never read, so it costs memory, not cache.
#[derive(Clone)]
struct Inline {
    len: usize,
    items: [u64; CAP],
}

impl Inline {
    fn one(v: u64) -> Inline {
        let mut items = [0; CAP];
        items[0] = v;
        Inline { len: 1, items }
    }

    fn insert(&mut self, j: usize, v: u64) {
        assert!(
            j <= self.len && self.len < CAP,
            "inline insert out of bounds"
        );
        self.items.copy_within(j..self.len, j + 1);
        self.items[j] = v;
        self.len += 1;
    }

    fn remove(&mut self, j: usize) -> u64 {
        let v = self[j];
        self.items.copy_within(j + 1..self.len, j);
        self.len -= 1;
        v
    }

    /// Splits off everything from `at` on, as `Vec::split_off`.
    fn split_off(&mut self, at: usize) -> Inline {
        let mut tail = Inline {
            len: self.len - at,
            items: [0; CAP],
        };
        tail.items[..self.len - at].copy_from_slice(&self.items[at..self.len]);
        self.len = at;
        tail
    }

    /// Moves every element of `other` to the end, as `Vec::append`.
    fn append(&mut self, other: &mut Inline) {
        let n = other.len;
        self.items[self.len..self.len + n].copy_from_slice(&other.items[..n]);
        self.len += n;
        other.len = 0;
    }
}

impl std::ops::Deref for Inline {
    type Target = [u64];

    fn deref(&self) -> &[u64] {
        &self.items[..self.len]
    }
}

impl std::ops::DerefMut for Inline {
    fn deref_mut(&mut self) -> &mut [u64] {
        &mut self.items[..self.len]
    }
}

impl std::fmt::Debug for Inline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// `repr(C)`: the fields a whole-chunk addition or a range's least and most read (pending,
/// least, most) come first, in the chunk's first cache line with its first times.
#[derive(Debug, Clone)]
#[repr(C)]
struct Chunk {
    /// Added to every level of the chunk (modulo 2^64).
    pending: u64,
    /// The least and most level less `pending` (modulo 2^64).
    low: u64,
    high: u64,
    keys: Inline,
    /// Each level less `pending` (modulo 2^64).
    stored: Inline,
}

impl Chunk {
    fn level(&self, j: usize) -> u64 {
        self.stored[j].wrapping_add(self.pending)
    }

    fn low(&self) -> u64 {
        self.low.wrapping_add(self.pending)
    }

    fn high(&self) -> u64 {
        self.high.wrapping_add(self.pending)
    }

    /// Makes `low` and `high` the least and most level of the chunk again.
    fn refresh(&mut self) {
        let pending = self.pending;
        let (mut low, mut high) = (u64::MAX, 0);
        for &s in self.stored.iter() {
            let level = s.wrapping_add(pending);
            low = low.min(level);
            high = high.max(level);
        }
        if self.stored.is_empty() {
            (low, high) = (0, 0);
        }
        self.low = low.wrapping_sub(pending);
        self.high = high.wrapping_sub(pending);
    }

    /// Widens the least and most level to take in `level`.
    fn widen(&mut self, level: u64) {
        let pending = self.pending;
        self.low = self.low().min(level).wrapping_sub(pending);
        self.high = self.high().max(level).wrapping_sub(pending);
    }

    /// Folds the pending addition into the stored levels.
    fn settle(&mut self) {
        if self.pending != 0 {
            for s in self.stored.iter_mut() {
                *s = s.wrapping_add(self.pending);
            }
            self.low = self.low.wrapping_add(self.pending);
            self.high = self.high.wrapping_add(self.pending);
            self.pending = 0;
        }
    }
}

/// Sorted `(time, level)` pairs with additions over ranges of times.
#[derive(Debug, Clone, Default)]
pub(super) struct Chunked {
    chunks: Vec<Chunk>,
    /// The first time of each chunk, for the binary search.
    firsts: Vec<u64>,
}

impl Chunked {
    pub(super) const fn new() -> Chunked {
        Chunked {
            chunks: Vec::new(),
            firsts: Vec::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// What it holds on the heap, as laid out (capacities × element sizes).
    pub(super) fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Chunk>() + self.firsts.capacity() * 8
    }

    /// The chunk that holds `t` or would: the last whose first time is at most `t` (the
    /// first chunk when `t` precedes them all). `None` when there are no chunks.
    fn chunk_of(&self, t: u64) -> Option<usize> {
        match self.chunks.len() {
            0 => None,
            // Most calendars fit one chunk: no search.
            1 => Some(0),
            _ => Some(self.firsts.partition_point(|&f| f <= t).saturating_sub(1)),
        }
    }

    /// Where the first time at or after `t` is, as (chunk, index); `(chunks.len(), 0)` past
    /// the end.
    fn position(&self, t: u64) -> (usize, usize) {
        let Some(c) = self.chunk_of(t) else {
            return (0, 0);
        };
        let j = self.chunks[c].keys.partition_point(|&k| k < t);
        if j == self.chunks[c].keys.len() {
            (c + 1, 0)
        } else {
            (c, j)
        }
    }

    /// The position of the first time within `bound` from below.
    fn start_of(&self, bound: Bound<u64>) -> (usize, usize) {
        match bound {
            Bound::Unbounded => (0, 0),
            Bound::Included(t) => self.position(t),
            Bound::Excluded(t) => match t.checked_add(1) {
                Some(t) => self.position(t),
                None => (self.chunks.len(), 0),
            },
        }
    }

    /// The level at `t - 1` (zero at 0), the level at `t`, and whether `t` is a
    /// breakpoint: what a change starting or ending at `t` needs to know, in one search.
    pub(super) fn around(&self, t: u64) -> (u64, u64, bool) {
        let Some(c) = self.chunk_of(t) else {
            return (0, 0, false);
        };
        let chunk = &self.chunks[c];
        let Some(j) = chunk.keys.partition_point(|&k| k <= t).checked_sub(1) else {
            return (0, 0, false);
        };
        let at = chunk.level(j);
        if chunk.keys[j] != t {
            return (at, at, false);
        }
        let before = if j > 0 {
            chunk.level(j - 1)
        } else if c > 0 {
            let prev = &self.chunks[c - 1];
            prev.level(prev.keys.len() - 1)
        } else {
            0
        };
        (before, at, true)
    }

    /// Reads what a change at `t` will read first, and returns something of it: see
    /// [`super::Calendar::warm`].
    pub(super) fn warm(&self, t: u64) -> u64 {
        let Some(c) = self.chunk_of(t) else {
            return 0;
        };
        let chunk = &self.chunks[c];
        let mid = chunk.keys.len() / 2;
        chunk.keys[mid] ^ chunk.stored[mid]
    }

    /// The last breakpoint at or before `t`.
    pub(super) fn at_or_before(&self, t: u64) -> Option<(u64, u64)> {
        let c = self.chunk_of(t)?;
        let chunk = &self.chunks[c];
        let j = chunk.keys.partition_point(|&k| k <= t).checked_sub(1)?;
        Some((chunk.keys[j], chunk.level(j)))
    }

    /// The first breakpoint after `t`.
    pub(super) fn after(&self, t: u64) -> Option<(u64, u64)> {
        let (c, j) = self.start_of(Bound::Excluded(t));
        let chunk = self.chunks.get(c)?;
        Some((chunk.keys[j], chunk.level(j)))
    }

    pub(super) fn get(&self, t: u64) -> Option<u64> {
        self.at_or_before(t)
            .filter(|&(k, _)| k == t)
            .map(|(_, l)| l)
    }

    /// Adds a breakpoint at `t`, which must not be one already.
    pub(super) fn insert(&mut self, t: u64, level: u64) {
        let Some(c) = self.chunk_of(t) else {
            self.chunks.push(Chunk {
                keys: Inline::one(t),
                stored: Inline::one(level),
                pending: 0,
                low: level,
                high: level,
            });
            self.firsts.push(t);
            return;
        };
        let chunk = &mut self.chunks[c];
        let j = chunk.keys.partition_point(|&k| k < t);
        debug_assert!(chunk.keys.get(j) != Some(&t), "breakpoint {t} exists");
        chunk.keys.insert(j, t);
        chunk.stored.insert(j, level.wrapping_sub(chunk.pending));
        chunk.widen(level);
        self.firsts[c] = chunk.keys[0];
        if chunk.keys.len() > 2 * CHUNK {
            let keys = chunk.keys.split_off(CHUNK);
            let stored = chunk.stored.split_off(CHUNK);
            let pending = chunk.pending;
            chunk.refresh();
            let mut next = Chunk {
                keys,
                stored,
                pending,
                low: 0,
                high: 0,
            };
            next.refresh();
            self.firsts.insert(c + 1, next.keys[0]);
            self.chunks.insert(c + 1, next);
        }
    }

    /// Removes the breakpoint at `t`, if there is one.
    pub(super) fn remove(&mut self, t: u64) -> Option<u64> {
        let c = self.chunk_of(t)?;
        let chunk = &mut self.chunks[c];
        let j = chunk.keys.binary_search(&t).ok()?;
        let level = chunk.level(j);
        chunk.keys.remove(j);
        chunk.stored.remove(j);
        if chunk.keys.is_empty() {
            self.chunks.remove(c);
            self.firsts.remove(c);
            return Some(level);
        }
        if level == chunk.low() || level == chunk.high() {
            chunk.refresh();
        }
        self.firsts[c] = chunk.keys[0];
        if chunk.keys.len() < CHUNK / 2 {
            self.merge_around(c);
        }
        Some(level)
    }

    /// Joins a small chunk `c` with a neighbour when both fit in one.
    fn merge_around(&mut self, c: usize) {
        let with = if c + 1 < self.chunks.len() {
            c + 1
        } else if c > 0 {
            c - 1
        } else {
            return;
        };
        let (a, b) = (c.min(with), c.max(with));
        if self.chunks[a].keys.len() + self.chunks[b].keys.len() > 2 * CHUNK {
            return;
        }
        let mut tail = self.chunks.remove(b);
        self.firsts.remove(b);
        tail.settle();
        let head = &mut self.chunks[a];
        head.settle();
        // Both settled: stored values, least and most are levels, and compare as such.
        head.keys.append(&mut tail.keys);
        head.stored.append(&mut tail.stored);
        head.low = head.low.min(tail.low);
        head.high = head.high.max(tail.high);
    }

    /// Adds `delta` (modulo 2^64: a subtraction is its two's complement) to the level of
    /// every breakpoint in `[from, to)` (to the end when `to` is `u64::MAX`, where no
    /// breakpoint is). Returns the least level of those breakpoints before the addition
    /// (`u64::MAX` when there are none): a release checks that enough is booked in the same
    /// walk that takes it away (see `Steps::sub_checked`).
    pub(super) fn add(&mut self, from: u64, to: u64, delta: u64) -> u64 {
        let mut least = u64::MAX;
        if from >= to || delta == 0 {
            return least;
        }
        let (mut c, mut j) = self.position(from);
        let to_bound = Bound::Excluded(to);
        while c < self.chunks.len() {
            if j == 0 && self.all_below(c, to_bound) {
                // A whole chunk: one addition, and its keys are not even read.
                let chunk = &mut self.chunks[c];
                least = least.min(chunk.low());
                chunk.pending = chunk.pending.wrapping_add(delta);
                (c, j) = (c + 1, 0);
                continue;
            }
            let chunk = &mut self.chunks[c];
            if chunk.keys[j] >= to {
                break;
            }
            let end = chunk.keys.partition_point(|&k| k < to);
            let pending = chunk.pending;
            for s in &mut chunk.stored[j..end] {
                least = least.min(s.wrapping_add(pending));
                *s = s.wrapping_add(delta);
            }
            chunk.refresh();
            if end < chunk.keys.len() {
                break;
            }
            (c, j) = (c + 1, 0);
        }
        least
    }

    /// Whether every breakpoint of chunk `c` is within the upper bound. For all but the last
    /// chunk the next chunk's first time tells (times are whole numbers, so the last of `c`
    /// is at most one less), without reading the chunk's own times.
    fn all_below(&self, c: usize, to: Bound<u64>) -> bool {
        match self.firsts.get(c + 1) {
            Some(&next) => below(next - 1, to),
            None => self.chunks[c].keys.last().is_some_and(|&k| below(k, to)),
        }
    }

    /// The least and most level of the breakpoints within the bounds, if any.
    pub(super) fn low_high(&self, from: Bound<u64>, to: Bound<u64>) -> Option<(u64, u64)> {
        let (mut c, mut j) = self.start_of(from);
        let mut out: Option<(u64, u64)> = None;
        let mut widen = |low: u64, high: u64| {
            out = Some(out.map_or((low, high), |(l, h)| (l.min(low), h.max(high))));
        };
        while let Some(chunk) = self.chunks.get(c) {
            if j == 0 && self.all_below(c, to) {
                widen(chunk.low(), chunk.high());
                (c, j) = (c + 1, 0);
                continue;
            }
            if !below(chunk.keys[j], to) {
                break;
            }
            let end = chunk.keys.partition_point(|&k| below(k, to));
            for k in j..end {
                let l = chunk.level(k);
                widen(l, l);
            }
            if end < chunk.keys.len() {
                break;
            }
            (c, j) = (c + 1, 0);
        }
        out
    }

    /// The breakpoints within the bounds, in time order.
    pub(super) fn range(&self, from: Bound<u64>, to: Bound<u64>) -> Range<'_> {
        let (chunk, index) = self.start_of(from);
        Range {
            map: self,
            chunk,
            index,
            to,
        }
    }

    /// Removes every breakpoint in `[from, to)`.
    pub(super) fn remove_range(&mut self, from: u64, to: u64) {
        let doomed: Vec<u64> = self
            .range(Bound::Included(from), Bound::Excluded(to))
            .map(|(t, _)| t)
            .collect();
        for t in doomed {
            self.remove(t);
        }
    }
}

/// Whether `t` is within the upper bound.
fn below(t: u64, to: Bound<u64>) -> bool {
    match to {
        Bound::Unbounded => true,
        Bound::Included(x) => t <= x,
        Bound::Excluded(x) => t < x,
    }
}

/// Breakpoints in time order; see [`Chunked::range`].
#[derive(Debug, Clone)]
pub(super) struct Range<'a> {
    map: &'a Chunked,
    chunk: usize,
    index: usize,
    to: Bound<u64>,
}

impl Iterator for Range<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        let chunk = self.map.chunks.get(self.chunk)?;
        let t = chunk.keys[self.index];
        if !below(t, self.to) {
            self.chunk = self.map.chunks.len();
            return None;
        }
        let level = chunk.level(self.index);
        self.index += 1;
        if self.index == chunk.keys.len() {
            (self.chunk, self.index) = (self.chunk + 1, 0);
        }
        Some((t, level))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::ops::Bound::{Excluded, Included, Unbounded};

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64, u64),
        Remove(u64),
        Add(u64, u64, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u64..300, 0u64..1_000).prop_map(|(t, l)| Op::Insert(t, l)),
            2 => (0u64..300).prop_map(Op::Remove),
            3 => (0u64..300, 0u64..320, -50i64..50).prop_map(|(a, b, d)| Op::Add(a, b, d)),
        ]
    }

    fn bound() -> impl Strategy<Value = Bound<u64>> {
        prop_oneof![
            Just(Unbounded),
            (0u64..310).prop_map(Included),
            (0u64..310).prop_map(Excluded),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Against a `BTreeMap` of signed levels (kept high enough that none goes below
        /// zero), after every step: every lookup, range, least and most.
        #[test]
        fn behaves_as_a_sorted_map(ops in prop::collection::vec(op(), 1..400), probes in prop::collection::vec((bound(), bound()), 8)) {
            let mut map = Chunked::new();
            let mut model: BTreeMap<u64, i128> = BTreeMap::new();
            // Every level starts at 10_000 or more, so that no sequence of additions of
            // less than 50 in magnitude takes one below zero.
            for op in ops {
                match op {
                    Op::Insert(t, l) => {
                        if let std::collections::btree_map::Entry::Vacant(e) = model.entry(t) {
                            e.insert(i128::from(l) + 10_000);
                            map.insert(t, l + 10_000);
                        }
                    }
                    Op::Remove(t) => {
                        prop_assert_eq!(map.remove(t), model.remove(&t).map(|l| l as u64));
                    }
                    Op::Add(a, b, d) => {
                        let least = map.add(a, b, d as u64);
                        let model_least = if a < b && d != 0 {
                            model.range(a..b).map(|(_, &l)| l as u64).min()
                        } else {
                            None
                        };
                        prop_assert_eq!(least, model_least.unwrap_or(u64::MAX));
                        if a < b {
                            for l in model.range_mut(a..b).map(|(_, l)| l) {
                                *l += i128::from(d);
                            }
                        }
                    }
                }
                let all: Vec<(u64, u64)> = model.iter().map(|(&t, &l)| (t, l as u64)).collect();
                prop_assert_eq!(map.range(Unbounded, Unbounded).collect::<Vec<_>>(), all);
                prop_assert_eq!(map.is_empty(), model.is_empty());
            }
            for t in [0, 1, 150, 299, 300, u64::MAX] {
                let model_le = model.range(..=t).next_back().map(|(&k, &l)| (k, l as u64));
                prop_assert_eq!(map.at_or_before(t), model_le);
                let model_gt = model.range((Excluded(t), Unbounded)).next().map(|(&k, &l)| (k, l as u64));
                prop_assert_eq!(map.after(t), model_gt);
                prop_assert_eq!(map.get(t), model.get(&t).map(|&l| l as u64));
            }
            for (from, to) in probes {
                let valid = match (from, to) {
                    (Included(a) | Excluded(a), Included(b) | Excluded(b)) => a <= b && !(a == b && (matches!(from, Excluded(_)) || matches!(to, Excluded(_)))),
                    _ => true,
                };
                if !valid {
                    continue;
                }
                let inside: Vec<(u64, u64)> = model.range((from, to)).map(|(&k, &l)| (k, l as u64)).collect();
                prop_assert_eq!(map.range(from, to).collect::<Vec<_>>(), inside.clone());
                let low_high = inside.iter().map(|&(_, l)| l).fold(None, |acc: Option<(u64, u64)>, l| {
                    Some(acc.map_or((l, l), |(a, b)| (a.min(l), b.max(l))))
                });
                prop_assert_eq!(map.low_high(from, to), low_high);
            }
        }
    }

    #[test]
    fn levels_at_either_end_of_the_range_are_exact() {
        // Stored values and pending additions wrap; the levels they make must not.
        let mut map = Chunked::new();
        for t in 0..200 {
            map.insert(t, if t % 2 == 0 { u64::MAX - 7 } else { 5 });
        }
        map.add(0, 200, 4u64.wrapping_neg());
        map.add(50, 150, 2);
        assert_eq!(map.get(0), Some(u64::MAX - 11));
        assert_eq!(map.get(1), Some(1));
        assert_eq!(map.get(51), Some(3));
        assert_eq!(map.get(60), Some(u64::MAX - 9));
        assert_eq!(
            map.low_high(Included(0), Unbounded),
            Some((1, u64::MAX - 9))
        );
        map.add(0, 200, 4);
        map.remove(51);
        map.insert(51, 0);
        assert_eq!(
            map.low_high(Included(40), Excluded(60)),
            Some((0, u64::MAX - 5))
        );
    }

    #[test]
    fn a_window_over_whole_chunks_is_one_addition_each() {
        let mut map = Chunked::new();
        for t in 0..1_000 {
            map.insert(t, 5);
        }
        assert!(map.chunks.len() > 10);
        map.add(10, 990, 7);
        assert_eq!(map.get(9), Some(5));
        assert_eq!(map.get(10), Some(12));
        assert_eq!(map.get(989), Some(12));
        assert_eq!(map.get(990), Some(5));
        assert_eq!(map.low_high(Included(0), Unbounded), Some((5, 12)));
        map.remove_range(0, 1_000);
        assert!(map.is_empty());
    }
}
