//! The pending-event set: a monotone radix queue with 8-bit digits (a radix heap of base
//! 256, which is also a hierarchical timing wheel over the whole `u64` range).
//!
//! A discrete-event simulation never schedules into its past, so the queue only has to be
//! correct for keys at or after the last one popped (the *base*). An event whose time first
//! differs from the base in byte `L` (counting from the least significant) is kept at level
//! `L`, in the slot named by that byte of its time. Everything in level `L`, slot `s` is then
//! earlier than everything in a higher slot of the same level and than everything at higher
//! levels, so the smallest non-empty slot of the lowest non-empty level holds the minimum.
//! When the events at exactly the base time run out, that slot is emptied: its minimum
//! becomes the new base and its events move to lower levels (or to the ready list when they
//! are at the new base). An event moves at most eight times in its life, and only about
//! `log256(spread of pending times)` times in practice, each move a sequential append, where a
//! binary heap makes `log2(n)` random accesses per pop with a million events pending.
//!
//! Determinism: events of equal time pop in the order they were pushed. A slot is only ever
//! filled from above while every lower slot is empty, and a direct push is the latest push
//! yet, so every slot and the ready list stay in push order without sorting, and the queue
//! needs no sequence number at all (a binary heap must store one to break ties: 8 bytes more
//! per event to move).

use std::collections::VecDeque;

use thiserror::Error;

const LEVELS: usize = 8;
const SLOTS: usize = 256;

/// A push the queue refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueueError {
    /// The event's time is before the time of the last event popped.
    #[error("event at {at} ns is in the past: the queue has reached {base} ns")]
    Past { at: u64, base: u64 },
}

/// One pending event.
#[derive(Debug, Clone)]
struct Entry<E> {
    time: u64,
    payload: E,
}

/// A monotone priority queue of events keyed by time in ns, first in first out among equal
/// times.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// The time of the last event popped (0 before any); no event may be pushed before it.
    base: u64,
    /// Events at exactly `base`, in push order.
    ready: VecDeque<Entry<E>>,
    /// `LEVELS × SLOTS` buckets, level-major.
    slots: Vec<Vec<Entry<E>>>,
    /// One bit per non-empty slot, four words per level.
    occupied: [[u64; SLOTS / 64]; LEVELS],
    len: usize,
    /// The earliest pending time once [`EventQueue::peek_time`] found it, until a pop.
    peeked: Option<u64>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> EventQueue<E> {
        EventQueue {
            base: 0,
            ready: VecDeque::new(),
            slots: (0..LEVELS * SLOTS).map(|_| Vec::new()).collect(),
            occupied: [[0; SLOTS / 64]; LEVELS],
            len: 0,
            peeked: None,
        }
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The time of the last event popped; pushes before it are refused.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Adds an event at `time`; among events of equal time, it pops after those pushed
    /// before it.
    pub fn push(&mut self, time: u64, payload: E) -> Result<(), QueueError> {
        if time < self.base {
            return Err(QueueError::Past {
                at: time,
                base: self.base,
            });
        }
        self.len += 1;
        if self.peeked.is_some_and(|p| time < p) {
            self.peeked = Some(time);
        }
        self.place(Entry { time, payload });
        Ok(())
    }

    /// The time of the earliest pending event, without removing it (and without moving
    /// [`EventQueue::base`], so that earlier times can still be pushed).
    pub fn peek_time(&mut self) -> Option<u64> {
        if self.peeked.is_none() {
            self.peeked = match self.ready.front() {
                Some(e) => Some(e.time),
                None => {
                    // The first non-empty slot holds the earliest times (see `refill`).
                    let (level, slot) = self.first_slot()?;
                    self.slots[level * SLOTS + slot]
                        .iter()
                        .map(|e| e.time)
                        .min()
                }
            };
        }
        self.peeked
    }

    /// Removes the earliest event (the first pushed among equal times) and returns its time
    /// and payload.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        if self.ready.is_empty() {
            if self.len == 0 {
                return None;
            }
            self.refill();
        }
        let e = self.ready.pop_front()?;
        self.len -= 1;
        self.peeked = None;
        Some((e.time, e.payload))
    }

    fn place(&mut self, e: Entry<E>) {
        let diff = e.time ^ self.base;
        if diff == 0 {
            self.ready.push_back(e);
            return;
        }
        let level = (63 - diff.leading_zeros() as usize) / 8;
        let slot = ((e.time >> (level * 8)) & 0xff) as usize;
        self.occupied[level][slot / 64] |= 1 << (slot % 64);
        self.slots[level * SLOTS + slot].push(e);
    }

    /// Moves the earliest slot's events down so that the ready list holds the next time.
    /// Called only when the ready list is empty and some event is pending.
    fn refill(&mut self) {
        let Some((level, slot)) = self.first_slot() else {
            return;
        };
        let index = level * SLOTS + slot;
        self.occupied[level][slot / 64] &= !(1 << (slot % 64));
        if level == 0 {
            // A level-0 slot holds one time only, in push order: it becomes the ready list
            // as it is, by swapping buffers (both conversions keep the allocation, and the
            // ready list is empty here).
            let bucket = std::mem::take(&mut self.slots[index]);
            self.base = bucket.first().map_or(self.base, |e| e.time);
            let old = std::mem::replace(&mut self.ready, VecDeque::from(bucket));
            self.slots[index] = Vec::from(old);
            return;
        }
        let mut bucket = std::mem::take(&mut self.slots[index]);
        self.base = bucket.iter().map(|e| e.time).min().unwrap_or(self.base);
        // Every target is at a lower level than `level`, so the bucket is never refilled
        // while it is drained, and its capacity can be kept for later.
        for e in bucket.drain(..) {
            self.place(e);
        }
        self.slots[index] = bucket;
    }

    fn first_slot(&self) -> Option<(usize, usize)> {
        for (level, words) in self.occupied.iter().enumerate() {
            for (w, &bits) in words.iter().enumerate() {
                if bits != 0 {
                    return Some((level, w * 64 + bits.trailing_zeros() as usize));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn equal_times_pop_in_push_order() {
        let mut q = EventQueue::new();
        for (t, p) in [
            (5, 'a'),
            (3, 'b'),
            (5, 'c'),
            (3, 'd'),
            (1 << 40, 'e'),
            (5, 'f'),
        ] {
            q.push(t, p).expect("monotone");
        }
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, p)| p)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c', 'f', 'e']);
        assert!(q.is_empty());
    }

    #[test]
    fn pushing_into_the_past_is_an_error() {
        let mut q = EventQueue::new();
        q.push(10, ()).expect("monotone");
        q.push(20, ()).expect("monotone");
        assert_eq!(q.pop().map(|(t, _)| t), Some(10));
        assert_eq!(q.push(9, ()), Err(QueueError::Past { at: 9, base: 10 }));
        // The base itself is allowed, and pops after what is pending at the same time.
        q.push(10, ()).expect("at the base");
        assert_eq!(q.pop().map(|(t, _)| t), Some(10));
        assert_eq!(q.pop().map(|(t, _)| t), Some(20));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn extreme_times() {
        let mut q = EventQueue::new();
        q.push(u64::MAX, 1).expect("monotone");
        q.push(0, 0).expect("monotone");
        q.push(u64::MAX, 2).expect("monotone");
        assert_eq!(q.pop(), Some((0, 0)));
        assert_eq!(q.pop(), Some((u64::MAX, 1)));
        q.push(u64::MAX, 3).expect("at the base");
        assert_eq!(q.pop().map(|(_, p)| p), Some(2));
        assert_eq!(q.pop().map(|(_, p)| p), Some(3));
    }

    /// A push of `delay` after the current time, or a pop.
    #[derive(Debug, Clone)]
    enum Op {
        Push(u64),
        Pop,
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        let delay = prop_oneof![
            Just(0u64),
            0u64..4,
            0u64..300,
            0u64..100_000,
            any::<u32>().prop_map(u64::from),
            (0u64..1 << 62),
        ];
        prop::collection::vec(
            prop_oneof![3 => delay.prop_map(Op::Push), 2 => Just(Op::Pop)],
            0..400,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Random monotone pushes and pops give exactly the order of a binary heap keyed by
        /// (time, sequence): the payload is the sequence number.
        #[test]
        fn matches_a_binary_heap(ops in ops()) {
            let mut q = EventQueue::new();
            let mut heap = BinaryHeap::new();
            let mut now = 0u64;
            let mut seq = 0u64;
            for op in ops {
                match op {
                    Op::Push(delay) => {
                        let t = now.saturating_add(delay);
                        q.push(t, seq).expect("monotone");
                        heap.push(Reverse((t, seq)));
                        seq += 1;
                    }
                    Op::Pop => {
                        let got = q.pop();
                        let want = heap.pop().map(|Reverse(k)| k);
                        prop_assert_eq!(got, want);
                        if let Some((t, _)) = got { now = t; }
                    }
                }
                prop_assert_eq!(q.len(), heap.len());
                // Peeking shows the next time and changes nothing: a push at the time of
                // the last pop is still accepted.
                prop_assert_eq!(q.peek_time(), heap.peek().map(|Reverse((t, _))| *t));
                prop_assert!(q.base() <= now);
            }
            while let Some(Reverse(want)) = heap.pop() {
                prop_assert_eq!(q.pop(), Some(want));
            }
            prop_assert!(q.pop().is_none());
        }
    }
}
