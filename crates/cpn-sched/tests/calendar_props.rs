//! The calendars against brute force: a per-second array over a small horizon (the last cell
//! stands for every second from the horizon on, which is where open-ended windows end).
//! Random sequences of bookings, releases (of earlier bookings and random ones), capacity
//! changes and guarantee changes: every answer equals brute force, a refused change changes
//! nothing, nothing is ever oversubscribed except where a capacity drop says so, and no
//! change to one slice moves another slice's guarantee or its free part.

#![allow(clippy::unwrap_used)]

use cpn_model::SliceId;
use cpn_sched::calendar::{Calendar, Isolation, LinkCalendar, MultiCalendar, Overload};
use proptest::prelude::*;

/// Seconds `0..H` are cells of their own; cell `H` is `[H, u64::MAX]`.
const H: u64 = 40;
const CELLS: usize = H as usize + 1;

fn cells(start: u64, end: u64) -> std::ops::Range<usize> {
    let from = start.min(H) as usize;
    let to = if end > H { CELLS } else { end as usize };
    from..to.max(from)
}

fn arb_window() -> impl Strategy<Value = (u64, u64)> {
    (0..H, 1..=H + 2, 0..5u8).prop_map(|(start, len, open)| {
        let end = if open == 0 {
            u64::MAX
        } else {
            (start + len).min(H)
        };
        (start, end)
    })
}

fn brute_overloads(usage: &[u64], capacity: u64) -> Vec<Overload> {
    let mut out: Vec<Overload> = Vec::new();
    for (t, &u) in usage.iter().enumerate() {
        if u <= capacity {
            continue;
        }
        let end = if t + 1 == CELLS {
            u64::MAX
        } else {
            t as u64 + 1
        };
        match out.last_mut() {
            Some(last) if last.end == t as u64 => {
                last.end = end;
                last.peak = last.peak.max(u);
            }
            _ => out.push(Overload {
                start: t as u64,
                end,
                peak: u,
            }),
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Op {
    Book(u64, u64, u64),
    Release(u64, u64, u64),
    ReleaseBooked(usize),
    SetCapacity(u64),
    FirstFit(u64, u64, u64),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (arb_window(), 0..8u64).prop_map(|((s, e), a)| Op::Book(s, e, a)),
        1 => (arb_window(), 0..8u64).prop_map(|((s, e), a)| Op::Release(s, e, a)),
        2 => any::<usize>().prop_map(Op::ReleaseBooked),
        1 => (0..16u64).prop_map(Op::SetCapacity),
        2 => (0..H + 3, 0..10u64, 0..H + 2).prop_map(|(d, a, n)| Op::FirstFit(d, a, n)),
    ]
}

struct Brute {
    capacity: u64,
    usage: Vec<u64>,
}

impl Brute {
    fn peak(&self, s: u64, e: u64) -> u64 {
        self.usage[cells(s, e)].iter().copied().max().unwrap_or(0)
    }
    fn first_fit(&self, d: u64, a: u64, not_before: u64) -> Option<u64> {
        if d == 0 {
            return Some(not_before);
        }
        if not_before >= H {
            return (self.usage[H as usize] + a <= self.capacity).then_some(not_before);
        }
        (not_before..=H).find(|&t| self.peak(t, t.saturating_add(d)) + a <= self.capacity)
    }
}

fn check_calendar(cal: &Calendar, brute: &Brute, window: (u64, u64)) {
    for t in 0..=H + 1 {
        assert_eq!(
            cal.usage_at(t),
            brute.usage[cells(t, t + 1).start],
            "usage at {t}"
        );
    }
    assert_eq!(cal.usage_at(u64::MAX), brute.usage[H as usize]);
    let (s, e) = window;
    assert_eq!(cal.peak(s, e), brute.peak(s, e));
    // Every start, short and long windows: the peak may be answered from the first second
    // when nothing rises after it.
    for start in 0..=H + 1 {
        for end in [start + 1, start + 5, H, u64::MAX] {
            assert_eq!(
                cal.peak(start, end),
                brute.peak(start, end),
                "peak of [{start}, {end})"
            );
        }
    }
    // A plateau holds for every window starting in its span.
    for t in [0, H / 2, H, H + 1, s] {
        let Some(p) = cal.plateau(t) else { continue };
        assert!(p.from <= t && t < p.until, "{p:?} around {t}");
        for start in p.from..p.until.min(H + 2) {
            for end in [start + 1, start + 7, H + 1, u64::MAX] {
                assert_eq!(
                    brute.peak(start, end),
                    p.level,
                    "[{start}, {end}) in {p:?} from {t}"
                );
            }
        }
    }
    assert_eq!(
        cal.free(s, e),
        brute.capacity.saturating_sub(brute.peak(s, e))
    );
    // Breakpoints are exactly the changes.
    let mut level = 0;
    for (t, l) in cal.breakpoints() {
        assert_ne!(l, level, "breakpoint at {t} repeats its level");
        assert_eq!(cal.usage_at(t), l);
        level = l;
    }
    assert_eq!(
        cal.overloads(),
        brute_overloads(&brute.usage, brute.capacity)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn calendar_matches_brute_force(capacity in 0..16u64, ops in prop::collection::vec(arb_op(), 1..40)) {
        let mut cal = Calendar::new(capacity);
        let mut brute = Brute { capacity, usage: vec![0; CELLS] };
        let mut booked: Vec<(u64, u64, u64)> = Vec::new();
        for op in ops {
            // Random releases may have taken part of an earlier booking, so releasing it
            // is checked like any release.
            let op = match op {
                Op::ReleaseBooked(i) => {
                    if booked.is_empty() {
                        continue;
                    }
                    let (s, e, a) = booked.swap_remove(i % booked.len());
                    Op::Release(s, e, a)
                }
                op => op,
            };
            let before = cal.clone();
            let overloaded_before = brute_overloads(&brute.usage, brute.capacity);
            let mut window = (0, H);
            match op {
                Op::Book(s, e, a) => {
                    window = (s, e);
                    let fits = brute.peak(s, e) + a <= brute.capacity;
                    prop_assert_eq!(cal.can_book(s, e, a), fits);
                    let r = cal.book(s, e, a);
                    prop_assert_eq!(r.is_ok(), fits, "{:?}", r);
                    if fits {
                        brute.usage[cells(s, e)].iter_mut().for_each(|u| *u += a);
                        booked.push((s, e, a));
                    } else {
                        prop_assert_eq!(&cal, &before);
                    }
                }
                Op::Release(s, e, a) => {
                    window = (s, e);
                    let ok = brute.usage[cells(s, e)].iter().all(|&u| u >= a);
                    let r = cal.release(s, e, a);
                    prop_assert_eq!(r.is_ok(), ok, "{:?}", r);
                    if ok {
                        brute.usage[cells(s, e)].iter_mut().for_each(|u| *u -= a);
                    } else {
                        prop_assert_eq!(&cal, &before);
                    }
                }
                Op::ReleaseBooked(_) => unreachable!(),
                Op::SetCapacity(c) => {
                    brute.capacity = c;
                    prop_assert_eq!(cal.set_capacity(c), brute_overloads(&brute.usage, c));
                }
                Op::FirstFit(d, a, n) => {
                    prop_assert_eq!(cal.first_fit(d, a, n), brute.first_fit(d, a, n));
                }
            }
            check_calendar(&cal, &brute, window);
            if !matches!(op, Op::SetCapacity(_)) {
                // Only a capacity change may oversubscribe, and only where it said so.
                for t in 0..CELLS {
                    let was = overloaded_before.iter().any(|o| o.start <= t as u64 && (t as u64) < o.end);
                    prop_assert!(was || brute.usage[t] <= brute.capacity, "oversubscribed at {}", t);
                }
            }
        }
    }

    #[test]
    fn releasing_every_booking_empties_the_calendar(
        bookings in prop::collection::vec((arb_window(), 0..5u64), 0..30),
    ) {
        let mut cal = Calendar::new(u64::MAX);
        for &((s, e), a) in &bookings {
            cal.book(s, e, a).unwrap();
        }
        for &((s, e), a) in bookings.iter().rev() {
            cal.release(s, e, a).unwrap();
        }
        prop_assert!(cal.is_empty());
    }

    #[test]
    fn multi_calendar_is_all_or_nothing(
        capacities in prop::collection::vec(0..10u64, 1..4),
        ops in prop::collection::vec((arb_window(), prop::collection::vec(0..6u64, 3), any::<bool>()), 1..30),
    ) {
        let mut multi = MultiCalendar::new(&capacities);
        let mut singles: Vec<Calendar> = capacities.iter().map(|&c| Calendar::new(c)).collect();
        let n = capacities.len();
        for ((s, e), amounts, release) in ops {
            let amounts = &amounts[..n];
            let before = multi.clone();
            let r = if release { multi.release(s, e, amounts) } else { multi.book(s, e, amounts) };
            let ok = singles.iter().zip(amounts).all(|(c, &a)| {
                if release { c.clone().release(s, e, a).is_ok() } else { c.can_book(s, e, a) }
            });
            prop_assert_eq!(r.is_ok(), ok, "{:?}", r);
            if ok {
                for (c, &a) in singles.iter_mut().zip(amounts) {
                    if release { c.release(s, e, a).unwrap() } else { c.book(s, e, a).unwrap() }
                }
            } else {
                prop_assert_eq!(&multi, &before);
            }
            prop_assert_eq!(multi.calendars(), &singles[..]);
            // The joint first fit is where every resource fits, and nothing earlier is.
            let fit = multi.first_fit(4, amounts, s);
            if let Some(t) = fit {
                prop_assert!(t >= s);
                prop_assert!(singles.iter().zip(amounts).all(|(c, &a)| c.can_book(t, t.saturating_add(4), a)));
            }
            for t in s..fit.unwrap_or(H + 1).min(H + 1) {
                prop_assert!(!multi.can_book(t, t + 4, amounts), "fits at {} before {:?}", t, fit);
            }
        }
    }
}

// ---------------------------------------------------------------- links

const SLICES: usize = 3;

/// A booking of traffic: slice, window, amount, hard isolation.
type Traffic = (Option<usize>, (u64, u64), u64, bool);

#[derive(Debug, Clone)]
enum LinkOp {
    Guarantee(usize, (u64, u64), u64),
    Book(Option<usize>, (u64, u64), u64, bool),
    Release(Option<usize>, (u64, u64), u64, bool),
    ReleaseBooked(usize),
    SetCapacity(u64),
}

fn arb_slice() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![1 => Just(None), 3 => (0..SLICES).prop_map(Some)]
}

fn arb_link_op() -> impl Strategy<Value = LinkOp> {
    prop_oneof![
        3 => (0..SLICES, arb_window(), 0..12u64).prop_map(|(s, w, a)| LinkOp::Guarantee(s, w, a)),
        5 => (arb_slice(), arb_window(), 0..8u64, any::<bool>()).prop_map(|(s, w, a, h)| LinkOp::Book(s, w, a, h)),
        1 => (arb_slice(), arb_window(), 0..8u64, any::<bool>()).prop_map(|(s, w, a, h)| LinkOp::Release(s, w, a, h)),
        2 => any::<usize>().prop_map(LinkOp::ReleaseBooked),
        1 => (0..24u64).prop_map(LinkOp::SetCapacity),
    ]
}

#[derive(Debug, Clone)]
struct BruteLink {
    capacity: u64,
    guarantee: [[u64; CELLS]; SLICES],
    traffic: [[u64; CELLS]; SLICES],
    hard: [[u64; CELLS]; SLICES],
    unsliced: [u64; CELLS],
}

impl BruteLink {
    fn occupied(&self, t: usize) -> u64 {
        (0..SLICES)
            .map(|s| self.traffic[s][t].max(self.guarantee[s][t]))
            .sum::<u64>()
            + self.unsliced[t]
    }

    fn free_for(&self, slice: Option<usize>, (s, e): (u64, u64), hard: bool) -> u64 {
        cells(s, e)
            .map(|t| {
                let Some(room) = self.capacity.checked_sub(self.occupied(t)) else {
                    return 0;
                };
                match slice {
                    None => room,
                    Some(i) => {
                        let unused = self.guarantee[i][t].saturating_sub(self.traffic[i][t]);
                        if hard { unused } else { unused + room }
                    }
                }
            })
            .min()
            .unwrap_or(0)
    }

    /// Applies a change second by second if every second allows it; whether it did.
    fn apply(&mut self, op: &LinkOp) -> bool {
        let mut next = self.clone();
        let ok = match *op {
            LinkOp::Guarantee(i, (s, e), a) => cells(s, e).all(|t| {
                let (g, tr) = (self.guarantee[i][t], self.traffic[i][t]);
                let growth = tr.max(a).saturating_sub(tr.max(g));
                next.guarantee[i][t] = a;
                (a >= g || a >= tr) && (growth == 0 || self.occupied(t) + growth <= self.capacity)
            }),
            LinkOp::Book(None, (s, e), a, _) => cells(s, e).all(|t| {
                next.unsliced[t] += a;
                self.occupied(t) + a <= self.capacity
            }),
            LinkOp::Book(Some(i), (s, e), a, hard) => cells(s, e).all(|t| {
                let (g, tr) = (self.guarantee[i][t], self.traffic[i][t]);
                next.traffic[i][t] += a;
                if hard {
                    next.hard[i][t] += a;
                }
                let growth = (tr + a).max(g) - tr.max(g);
                (!hard || tr + a <= g) && self.occupied(t) + growth <= self.capacity
            }),
            LinkOp::Release(None, (s, e), a, _) => cells(s, e).all(|t| {
                next.unsliced[t] = next.unsliced[t].wrapping_sub(a);
                self.unsliced[t] >= a
            }),
            LinkOp::Release(Some(i), (s, e), a, hard) => cells(s, e).all(|t| {
                let booked = if hard {
                    self.hard[i][t]
                } else {
                    self.traffic[i][t] - self.hard[i][t]
                };
                next.traffic[i][t] = next.traffic[i][t].wrapping_sub(a);
                if hard {
                    next.hard[i][t] = next.hard[i][t].wrapping_sub(a);
                }
                booked >= a
            }),
            LinkOp::SetCapacity(c) => {
                next.capacity = c;
                true
            }
            LinkOp::ReleaseBooked(_) => unreachable!(),
        };
        if ok {
            *self = next;
        }
        ok
    }
}

fn check_link(link: &LinkCalendar, brute: &BruteLink, window: (u64, u64)) {
    let ids = [SliceId(0), SliceId(1), SliceId(2)];
    for t in 0..CELLS {
        let time = t as u64;
        assert_eq!(link.occupied_at(time), brute.occupied(t), "occupied at {t}");
        assert_eq!(link.traffic_at(None, time), brute.unsliced[t]);
        let mut guaranteed = 0;
        let mut spill = 0;
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(
                link.guarantee_at(id, time),
                brute.guarantee[i][t],
                "guarantee of {i} at {t}"
            );
            assert_eq!(
                link.traffic_at(Some(id), time),
                brute.traffic[i][t],
                "traffic of {i} at {t}"
            );
            assert_eq!(
                link.hard_traffic_at(id, time),
                brute.hard[i][t],
                "hard traffic of {i} at {t}"
            );
            // Hard traffic never leaves its slice's guarantee.
            assert!(
                brute.hard[i][t] <= brute.guarantee[i][t],
                "hard traffic of {i} beyond its guarantee at {t}"
            );
            guaranteed += brute.guarantee[i][t];
            spill += brute.traffic[i][t].saturating_sub(brute.guarantee[i][t]);
        }
        assert_eq!(link.guaranteed_at(time), guaranteed);
        assert_eq!(link.best_effort_at(time), brute.unsliced[t] + spill);
        // The O(1) bound never promises more than any window has free.
        assert!(
            link.free_bound() <= link.free_for(None, time, time + 1, Isolation::Soft),
            "free bound {} above what is free at {t}",
            link.free_bound()
        );
    }
    let busiest = (0..CELLS).map(|t| brute.occupied(t)).max().unwrap_or(0);
    let mut tight = link.clone();
    assert_eq!(tight.tighten(), brute.capacity.saturating_sub(busiest));
    assert_eq!(tight.free_bound(), brute.capacity.saturating_sub(busiest));
    for slice in [None, Some(0), Some(1), Some(2)] {
        for hard in [false, true] {
            let iso = if hard {
                Isolation::Hard
            } else {
                Isolation::Soft
            };
            assert_eq!(
                link.free_for(slice.map(|i| ids[i]), window.0, window.1, iso),
                brute.free_for(slice, window, hard),
                "free for {slice:?} hard {hard} in {window:?}"
            );
        }
    }
}

fn overloaded(brute: &BruteLink) -> Vec<bool> {
    (0..CELLS)
        .map(|t| brute.occupied(t) > brute.capacity)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn link_calendar_matches_brute_force(capacity in 0..24u64, ops in prop::collection::vec(arb_link_op(), 1..40)) {
        let ids = [SliceId(0), SliceId(1), SliceId(2)];
        let iso = |hard: bool| if hard { Isolation::Hard } else { Isolation::Soft };
        let mut link = LinkCalendar::new(capacity);
        let mut brute = BruteLink {
            capacity,
            guarantee: [[0; CELLS]; SLICES],
            traffic: [[0; CELLS]; SLICES],
            hard: [[0; CELLS]; SLICES],
            unsliced: [0; CELLS],
        };
        let mut booked: Vec<Traffic> = Vec::new();
        for op in ops {
            let op = match op {
                LinkOp::ReleaseBooked(i) => {
                    if booked.is_empty() {
                        continue;
                    }
                    let (s, w, a, h) = booked.swap_remove(i % booked.len());
                    LinkOp::Release(s, w, a, h)
                }
                op => op,
            };
            let before = link.clone();
            let brute_before = brute.clone();
            let over_before = overloaded(&brute);
            let ok = brute.apply(&op);
            let (window, touched) = match op {
                LinkOp::Guarantee(i, (s, e), a) => {
                    let r = link.set_guarantee(ids[i], s, e, a);
                    prop_assert_eq!(r.is_ok(), ok, "{:?}", r);
                    ((s, e), Some(i))
                }
                LinkOp::Book(slice, (s, e), a, hard) => {
                    // What is free is what can be booked (a booking of nothing is still
                    // refused in an overloaded window, where nothing is free).
                    if a > 0 {
                        prop_assert_eq!(before.free_for(slice.map(|i| ids[i]), s, e, iso(hard)) >= a, ok);
                    }
                    let r = link.book_traffic(slice.map(|i| ids[i]), s, e, a, iso(hard));
                    prop_assert_eq!(r.is_ok(), ok, "{:?}", r);
                    if ok {
                        booked.push((slice, (s, e), a, hard));
                    }
                    ((s, e), slice)
                }
                LinkOp::Release(slice, (s, e), a, hard) => {
                    let r = link.release_traffic(slice.map(|i| ids[i]), s, e, a, iso(hard));
                    prop_assert_eq!(r.is_ok(), ok, "{:?}", r);
                    ((s, e), slice)
                }
                LinkOp::SetCapacity(c) => {
                    let reported = link.set_capacity(c);
                    let usage: Vec<u64> = (0..CELLS).map(|t| brute.occupied(t)).collect();
                    prop_assert_eq!(reported, brute_overloads(&usage, c));
                    ((0, u64::MAX), None)
                }
                LinkOp::ReleaseBooked(_) => unreachable!(),
            };
            if !ok {
                // Equal but for an empty book a refused change may not leave behind.
                for t in 0..CELLS as u64 {
                    prop_assert_eq!(link.occupied_at(t), before.occupied_at(t));
                }
            }
            check_link(&link, &brute, window);
            if matches!(op, LinkOp::SetCapacity(_)) {
                continue;
            }
            // Nothing becomes oversubscribed but by a capacity change.
            for (t, now) in overloaded(&brute).into_iter().enumerate() {
                prop_assert!(!now || over_before[t], "oversubscribed at {}", t);
            }
            // A change to one slice (or to traffic of no slice) leaves every other slice's
            // guarantee, traffic and free guarantee alone.
            for i in (0..SLICES).filter(|&i| Some(i) != touched) {
                prop_assert_eq!(brute.guarantee[i], brute_before.guarantee[i]);
                prop_assert_eq!(brute.traffic[i], brute_before.traffic[i]);
                // Where a capacity drop left an overload nothing is free, and resolving it
                // frees what was held, so only seconds that were not overloaded count.
                for t in (0..H).filter(|&t| !over_before[t as usize]) {
                    prop_assert_eq!(
                        link.free_for(Some(ids[i]), t, t + 1, Isolation::Hard),
                        before.free_for(Some(ids[i]), t, t + 1, Isolation::Hard),
                        "slice {} lost guarantee at {}", i, t
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------- bandwidth on demand

const HOUR: u64 = 3600;
const GBPS: u64 = 1000; // in Mbps

#[test]
fn bandwidth_on_demand_window() {
    // 20 Gbps from Beijing to Guiyang, 02:00 to 06:00, on a 100 Gbps link.
    let mut link = LinkCalendar::new(100 * GBPS);
    let (start, end) = (2 * HOUR, 6 * HOUR);
    link.book_traffic(None, start, end, 20 * GBPS, Isolation::Soft)
        .unwrap();
    let free = |link: &LinkCalendar, s, e| link.free_for(None, s, e, Isolation::Soft);
    assert_eq!(free(&link, 0, start), 100 * GBPS, "before");
    assert_eq!(free(&link, start, end), 80 * GBPS, "during");
    assert_eq!(
        free(&link, 5 * HOUR, 7 * HOUR),
        80 * GBPS,
        "overlapping the end"
    );
    assert_eq!(free(&link, end, 24 * HOUR), 100 * GBPS, "after");
    assert_eq!(link.occupied_at(start - 1), 0);
    assert_eq!(link.occupied_at(start), 20 * GBPS);
    assert_eq!(link.occupied_at(end - 1), 20 * GBPS);
    assert_eq!(link.occupied_at(end), 0, "released at its end");
    // 81 Gbps more does not fit during the window, but fits right after it.
    assert!(
        link.book_traffic(None, 3 * HOUR, 4 * HOUR, 81 * GBPS, Isolation::Soft)
            .is_err()
    );
    link.book_traffic(None, end, 8 * HOUR, 100 * GBPS, Isolation::Soft)
        .unwrap();
}

#[test]
fn bandwidth_on_demand_in_a_slice() {
    let gold = SliceId(7);
    let mut link = LinkCalendar::new(100 * GBPS);
    link.set_guarantee(gold, 0, u64::MAX, 30 * GBPS).unwrap();
    assert_eq!(link.free_for(None, 0, HOUR, Isolation::Soft), 70 * GBPS);
    // Hard traffic stays within the guarantee; soft traffic may spill.
    link.book_traffic(Some(gold), 2 * HOUR, 6 * HOUR, 20 * GBPS, Isolation::Hard)
        .unwrap();
    assert_eq!(
        link.free_for(Some(gold), 2 * HOUR, 6 * HOUR, Isolation::Hard),
        10 * GBPS
    );
    assert!(
        link.book_traffic(Some(gold), 2 * HOUR, 6 * HOUR, 11 * GBPS, Isolation::Hard)
            .is_err()
    );
    link.book_traffic(Some(gold), 2 * HOUR, 6 * HOUR, 15 * GBPS, Isolation::Soft)
        .unwrap();
    assert_eq!(link.best_effort_at(3 * HOUR), 5 * GBPS);
    assert_eq!(
        link.free_for(None, 2 * HOUR, 6 * HOUR, Isolation::Soft),
        65 * GBPS
    );
    // The guarantee cannot shrink below the traffic booked in it, and cannot outgrow the link.
    assert!(link.set_guarantee(gold, 0, u64::MAX, 10 * GBPS).is_err());
    assert!(link.set_guarantee(gold, 0, u64::MAX, 101 * GBPS).is_err());
    // A failure leaves an overload the scheduler must resolve.
    let over = link.set_capacity(0);
    assert_eq!(
        over,
        vec![Overload {
            start: 0,
            end: u64::MAX,
            peak: 35 * GBPS
        }]
    );
}

#[test]
fn first_fit_for_delay_tolerant_work() {
    let mut cal = Calendar::new(10);
    cal.book(0, 100, 8).unwrap();
    cal.book(150, 200, 5).unwrap();
    assert_eq!(cal.first_fit(50, 3, 0), Some(100));
    assert_eq!(cal.first_fit(60, 6, 0), Some(200));
    assert_eq!(cal.first_fit(10, 11, 0), None);
    let mut site = MultiCalendar::new(&[64, 256]);
    site.book(0, 10, &[60, 0]).unwrap();
    site.book(10, 20, &[0, 250]).unwrap();
    assert_eq!(site.first_fit(5, &[8, 16], 0), Some(20));
    assert!(site.book(5, 15, &[4, 10]).is_err());
    assert_eq!(site.calendar(0).unwrap().usage_at(12), 0, "all or nothing");
}
