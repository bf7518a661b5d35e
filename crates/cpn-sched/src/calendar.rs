//! Reservations over time: how much of one resource is booked at every second of the
//! timeline, so that a future window can be booked, released at its end, and never
//! oversubscribed.
//!
//! A [`Calendar`] holds one resource with a capacity (a link's bandwidth, a site's cores).
//! What is booked is a step function of time kept as its breakpoints; windows are half-open,
//! `[start, end)` in seconds, and `end == u64::MAX` means open-ended. A [`MultiCalendar`]
//! books several resources of a site all or nothing, and a [`LinkCalendar`] adds slices with
//! guaranteed bandwidth and best effort on top of a link's capacity.
//!
//! Costs, with `n` breakpoints in the calendar and `k` of them inside the window asked
//! about: [`Calendar::usage_at`] is `O(log n)`; [`Calendar::peak`], [`Calendar::book`] and
//! [`Calendar::release`] are `O(log n + k)`, so they stay cheap however long the calendar
//! when few reservations overlap the window; [`Calendar::first_fit`] is `O(log n + k)` with
//! `k` the breakpoints it walks past before a window fits.
//!
//! The calendar never reads a clock and never forgets the past by itself: the caller decides
//! what "now" is.

mod chunked;
mod link;

use std::ops::Bound::{Excluded, Unbounded};

use chunked::Chunked;

pub use link::{Isolation, LinkCalendar};

use cpn_model::SliceId;

/// Why a booking, a release or a change of capacity or guarantee was refused. A refused
/// change leaves the calendar exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("window [{start}, {end}) is empty")]
    EmptyWindow { start: u64, end: u64 },
    #[error("booking {amount} in [{start}, {end}) exceeds what is free there ({free})")]
    Exceeded {
        start: u64,
        end: u64,
        amount: u64,
        free: u64,
    },
    #[error("releasing {amount} in [{start}, {end}) exceeds what is booked there ({booked})")]
    NotBooked {
        start: u64,
        end: u64,
        amount: u64,
        booked: u64,
    },
    #[error("{got} amounts given for {resources} resources")]
    ResourceCount { got: usize, resources: usize },
    #[error("resource {resource} is beyond the {resources} resources of the calendar")]
    UnknownResource { resource: usize, resources: usize },
    #[error("resource {resource}: {error}")]
    Resource {
        resource: usize,
        error: Box<CalendarError>,
    },
    #[error(
        "booking {amount} with hard isolation in [{start}, {end}) exceeds what is free of slice {slice}'s guarantee there ({free})"
    )]
    SliceExceeded {
        slice: SliceId,
        start: u64,
        end: u64,
        amount: u64,
        free: u64,
    },
    #[error(
        "growing slice {slice}'s guarantee to {amount} in [{start}, {end}) exceeds the capacity of the link"
    )]
    GuaranteeExceeded {
        slice: SliceId,
        start: u64,
        end: u64,
        amount: u64,
    },
    #[error(
        "shrinking slice {slice}'s guarantee to {amount} in [{start}, {end}) leaves less than the traffic booked in it"
    )]
    GuaranteeBelowTraffic {
        slice: SliceId,
        start: u64,
        end: u64,
        amount: u64,
    },
}

fn check_window(start: u64, end: u64) -> Result<(), CalendarError> {
    if start < end {
        Ok(())
    } else {
        Err(CalendarError::EmptyWindow { start, end })
    }
}

/// A window where what is booked exceeds the capacity, as left by a capacity drop: the
/// scheduler evicts or moves bookings until none is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Overload {
    pub start: u64,
    /// `u64::MAX` when the overload never ends.
    pub end: u64,
    /// The most booked at any time of the window.
    pub peak: u64,
}

/// A step function of time: the level from each key on, until the next key; zero before the
/// first key. Canonical: no key repeats the level before it, so equal functions are equal
/// maps and the breakpoints are exactly the changes.
///
/// Two bounds ride along, kept in O(1) per change and never wrong, only loose: `rise`, a time
/// from which the level never increases, and `ceiling`, a level the function never exceeds.
/// Bookings that start now and end later leave the future non-increasing, so a window that
/// starts at or after `rise` peaks at its first second: [`Calendar::peak`] is then one lookup
/// instead of a walk over every booking that ends inside the window. Both are reset exactly
/// when the function becomes zero. They are history, not content: equality ignores them.
#[derive(Debug, Clone, Default)]
struct Steps {
    levels: Chunked,
    /// For every `t > rise`, the level at `t` is at most the level at `t - 1`.
    rise: u64,
    /// No level exceeds it.
    ceiling: u64,
}

impl PartialEq for Steps {
    fn eq(&self, other: &Steps) -> bool {
        self.breakpoints().eq(other.breakpoints())
    }
}

impl Eq for Steps {}

impl Steps {
    const EMPTY: Steps = Steps {
        levels: Chunked::new(),
        rise: 0,
        ceiling: 0,
    };

    /// Resets the bounds exactly once nothing is left.
    fn settle_bounds(&mut self) {
        if self.levels.is_empty() {
            self.rise = 0;
            self.ceiling = 0;
        }
    }

    fn breakpoints(&self) -> chunked::Range<'_> {
        self.levels.range(Unbounded, Unbounded)
    }

    fn level_at(&self, t: u64) -> u64 {
        self.levels.at_or_before(t).map_or(0, |(_, l)| l)
    }

    /// The constant pieces of the function over `[start, end)`, clipped to the window.
    fn segments(&self, start: u64, end: u64) -> Segments<'_> {
        if start >= end {
            return Segments {
                next: None,
                end,
                rest: self.levels.range(Excluded(u64::MAX), Unbounded),
            };
        }
        Segments {
            next: Some((start, self.level_at(start))),
            end,
            rest: self.levels.range(Excluded(start), Excluded(end)),
        }
    }

    /// The least and most level over `[start, end)` (non-empty).
    fn low_high(&self, start: u64, end: u64) -> (u64, u64) {
        let first = self.level_at(start);
        self.levels
            .low_high(Excluded(start), Excluded(end))
            .map_or((first, first), |(l, h)| (l.min(first), h.max(first)))
    }

    fn max(&self, start: u64, end: u64) -> u64 {
        if start >= end {
            return 0;
        }
        if start >= self.rise {
            // Non-increasing from `start` on: the first second is the peak.
            return self.level_at(start);
        }
        self.low_high(start, end).1
    }

    fn min(&self, start: u64, end: u64) -> u64 {
        if start >= end {
            return 0;
        }
        self.low_high(start, end).0
    }

    /// Makes `t` a key, so that a change can start or stop there. No key is needed at
    /// `u64::MAX`: a window ending there never ends.
    fn split(&mut self, t: u64) {
        if t != u64::MAX && self.levels.get(t).is_none() {
            let level = self.level_at(t);
            self.levels.insert(t, level);
        }
    }

    /// Removes the key at `t` if it repeats the level before it.
    fn coalesce(&mut self, t: u64) {
        let before = if t == 0 { 0 } else { self.level_at(t - 1) };
        if self.levels.get(t) == Some(before) {
            self.levels.remove(t);
        }
    }

    /// Adds `delta` (modulo 2^64, see `chunked`) over `[start, end)`, keeping the breakpoints
    /// exactly the changes: only `start` and `end` can gain or lose one (inside the window
    /// every difference stays). With `floor`, only if no level of the window is below it
    /// before the addition; otherwise nothing changes and the least level is returned.
    fn add_over(&mut self, start: u64, end: u64, delta: u64, floor: u64) -> Result<(), u64> {
        if start >= end {
            return Ok(());
        }
        let (before_start, at_start, start_is_key) = self.levels.around(start);
        let (before_end, at_end, end_is_key) = if end == u64::MAX {
            (0, 0, false)
        } else {
            self.levels.around(end)
        };
        // The window's levels: `at_start` until its first breakpoint, then theirs.
        let least = self.levels.add(start, end, delta).min(at_start);
        if least < floor {
            self.levels.add(start, end, delta.wrapping_neg());
            return Err(least);
        }
        // Levels stay within `0..=u64::MAX` (see `add`), so these are exact.
        let new_start = at_start.wrapping_add(delta);
        match (new_start != before_start, start_is_key) {
            (true, false) => self.levels.insert(start, new_start),
            (false, true) => {
                self.levels.remove(start);
            }
            _ => {}
        }
        if end != u64::MAX {
            let new_before_end = before_end.wrapping_add(delta);
            match (at_end != new_before_end, end_is_key) {
                (true, false) => self.levels.insert(end, at_end),
                (false, true) => {
                    self.levels.remove(end);
                }
                _ => {}
            }
        }
        Ok(())
    }

    // Callers check for room before adding and for enough before subtracting, so no level
    // leaves `0..=u64::MAX`: the chunks' wrapping arithmetic is exact within it.
    //
    // The bounds: adding over `[start, end)` can only make `start` a rise (at `end` the level
    // falls by the amount) and raises no level by more than the amount; subtracting can only
    // make `end` a rise (the level before it drops) and raises nothing.
    fn add(&mut self, start: u64, end: u64, amount: u64) {
        if amount != 0 && start < end {
            let _ = self.add_over(start, end, amount, 0);
            self.rise = self.rise.max(start);
            self.ceiling = self.ceiling.saturating_add(amount);
            self.settle_bounds();
        }
    }

    fn sub(&mut self, start: u64, end: u64, amount: u64) {
        let _ = self.sub_checked(start, end, amount);
    }

    /// Subtracts `amount` over `[start, end)` if at least that much is at every second of
    /// it; otherwise changes nothing and returns the least there. The check is made in the
    /// walk that subtracts (undone if it fails), not in a walk of its own before it.
    fn sub_checked(&mut self, start: u64, end: u64, amount: u64) -> Result<(), u64> {
        if amount != 0 && start < end {
            self.add_over(start, end, amount.wrapping_neg(), amount)?;
            if end != u64::MAX {
                self.rise = self.rise.max(end);
            }
            self.settle_bounds();
        }
        Ok(())
    }

    /// The most of any level, exactly, which also tightens `ceiling` to it.
    fn tighten_ceiling(&mut self) -> u64 {
        self.ceiling = self
            .levels
            .low_high(Unbounded, Unbounded)
            .map_or(0, |(_, h)| h);
        self.ceiling
    }

    /// Sets the level to `value` over the window, whatever it was.
    fn set(&mut self, start: u64, end: u64, value: u64) {
        if start >= end {
            return;
        }
        self.split(start);
        self.split(end);
        self.levels.remove_range(start, end);
        self.levels.insert(start, value);
        self.coalesce(start);
        if end != u64::MAX {
            self.coalesce(end);
            self.rise = self.rise.max(end);
        }
        // The level may jump at either end of the window, and reaches `value` inside it.
        self.rise = self.rise.max(start);
        self.ceiling = self.ceiling.max(value);
        self.settle_bounds();
    }
}

/// The pieces `(start, end, level)` of a [`Steps`] over a window.
#[derive(Debug)]
struct Segments<'a> {
    next: Option<(u64, u64)>,
    end: u64,
    rest: chunked::Range<'a>,
}

impl Iterator for Segments<'_> {
    type Item = (u64, u64, u64);

    fn next(&mut self) -> Option<(u64, u64, u64)> {
        let (start, level) = self.next.take()?;
        match self.rest.next() {
            Some((t, l)) => {
                self.next = Some((t, l));
                Some((start, t, level))
            }
            None => Some((start, self.end, level)),
        }
    }
}

/// The pieces of several step functions over a window, cut wherever any of them changes:
/// `(start, end, [level of each])`. No allocation: it walks the functions side by side.
#[derive(Debug)]
struct Joint<'a, const N: usize> {
    iters: [Segments<'a>; N],
    current: [Option<(u64, u64, u64)>; N],
    at: u64,
    end: u64,
}

impl<'a, const N: usize> Joint<'a, N> {
    fn new(steps: [&'a Steps; N], start: u64, end: u64) -> Joint<'a, N> {
        let mut iters = steps.map(|s| s.segments(start, end));
        let current = std::array::from_fn(|i| iters[i].next());
        Joint {
            iters,
            current,
            at: start,
            end,
        }
    }
}

impl<const N: usize> Iterator for Joint<'_, N> {
    type Item = (u64, u64, [u64; N]);

    fn next(&mut self) -> Option<(u64, u64, [u64; N])> {
        if self.at >= self.end {
            return None;
        }
        let mut boundary = self.end;
        let mut levels = [0; N];
        for (current, level) in self.current.iter().zip(levels.iter_mut()) {
            let (_, e, l) = (*current)?;
            boundary = boundary.min(e);
            *level = l;
        }
        for (current, iter) in self.current.iter_mut().zip(self.iters.iter_mut()) {
            if current.is_some_and(|(_, e, _)| e == boundary) {
                *current = iter.next();
            }
        }
        let start = self.at;
        self.at = boundary;
        Some((start, boundary, levels))
    }
}

/// A level that every window starting in `[from, until)` peaks at; see [`Calendar::plateau`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plateau {
    pub from: u64,
    pub until: u64,
    pub level: u64,
}

/// One resource with a capacity and what is booked of it over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    capacity: u64,
    steps: Steps,
}

impl Calendar {
    /// An empty calendar.
    pub fn new(capacity: u64) -> Calendar {
        Calendar {
            capacity,
            steps: Steps::default(),
        }
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Reads the part of the calendar a booking or release starting at `t` reads first, and
    /// returns something of it. A caller about to change several calendars warms them all
    /// first: the reads of different calendars do not wait for each other, so their cache
    /// misses overlap instead of coming one after another.
    pub fn warm(&self, t: u64) -> u64 {
        self.steps.levels.warm(t)
    }

    /// The bytes the calendar holds on the heap, as laid out (its breakpoints and their
    /// chunks; the allocator's own overhead is not counted).
    pub fn heap_bytes(&self) -> usize {
        self.steps.levels.heap_bytes()
    }

    /// Nothing is booked at any time.
    pub fn is_empty(&self) -> bool {
        self.steps.levels.is_empty()
    }

    /// What is booked at second `t`.
    pub fn usage_at(&self, t: u64) -> u64 {
        self.steps.level_at(t)
    }

    /// The most booked at any second of `[start, end)`; zero for an empty window.
    pub fn peak(&self, start: u64, end: u64) -> u64 {
        self.steps.max(start, end)
    }

    /// The level at `t` and the span of starts around it, `[from, until)`, where every window
    /// peaks at that level: the level holds over the span and never rises after it. `None`
    /// when a booking may still raise the level after `t` (one that starts later, say); then
    /// ask [`Calendar::peak`]. The span lets a caller reuse one answer for many windows until
    /// the calendar changes.
    pub fn plateau(&self, t: u64) -> Option<Plateau> {
        let steps = &self.steps;
        if t < steps.rise {
            return None;
        }
        let (from, level) = steps.levels.at_or_before(t).unwrap_or((0, 0));
        let until = steps.levels.after(t).map_or(u64::MAX, |(k, _)| k);
        Some(Plateau {
            from: from.max(steps.rise),
            until,
            level,
        })
    }

    /// What can still be booked over the whole of `[start, end)`; zero for an empty window,
    /// where nothing can be booked, and zero where a capacity drop left an overload.
    pub fn free(&self, start: u64, end: u64) -> u64 {
        if start >= end {
            return 0;
        }
        self.capacity.saturating_sub(self.peak(start, end))
    }

    /// Whether [`Calendar::book`] would succeed.
    pub fn can_book(&self, start: u64, end: u64, amount: u64) -> bool {
        start < end
            && self
                .peak(start, end)
                .checked_add(amount)
                .is_some_and(|p| p <= self.capacity)
    }

    /// Books `amount` over `[start, end)`, or changes nothing if that would exceed the
    /// capacity at any second of the window.
    pub fn book(&mut self, start: u64, end: u64, amount: u64) -> Result<(), CalendarError> {
        check_window(start, end)?;
        if !self.can_book(start, end, amount) {
            return Err(CalendarError::Exceeded {
                start,
                end,
                amount,
                free: self.free(start, end),
            });
        }
        self.steps.add(start, end, amount);
        Ok(())
    }

    /// Releases `amount` over `[start, end)`, the inverse of a booking; changes nothing if
    /// less than `amount` is booked at some second of the window.
    pub fn release(&mut self, start: u64, end: u64, amount: u64) -> Result<(), CalendarError> {
        check_window(start, end)?;
        self.steps
            .sub_checked(start, end, amount)
            .map_err(|booked| CalendarError::NotBooked {
                start,
                end,
                amount,
                booked,
            })
    }

    /// Changes the capacity (an upgrade, a degraded link, a failure). Bookings stay; the
    /// windows where they now exceed the capacity are returned, in time order, so that the
    /// scheduler can evict. No booking succeeds in those windows until they are resolved.
    pub fn set_capacity(&mut self, capacity: u64) -> Vec<Overload> {
        self.capacity = capacity;
        self.overloads()
    }

    /// The windows, in time order and maximal, where more is booked than the capacity.
    pub fn overloads(&self) -> Vec<Overload> {
        let mut out: Vec<Overload> = Vec::new();
        for (start, end, level) in self.steps.segments(0, u64::MAX) {
            if level <= self.capacity {
                continue;
            }
            match out.last_mut() {
                Some(last) if last.end == start => {
                    last.end = end;
                    last.peak = last.peak.max(level);
                }
                _ => out.push(Overload {
                    start,
                    end,
                    peak: level,
                }),
            }
        }
        out
    }

    /// The changes of the booked amount, in time order: from each `time` on, `level` is
    /// booked (until the next change). Zero is booked before the first.
    pub fn breakpoints(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.steps.breakpoints()
    }

    /// The earliest start at or after `not_before` where `amount` can be booked for
    /// `duration` seconds (a window running past `u64::MAX` is open-ended), or `None` if no
    /// such window exists. A zero duration fits at `not_before`.
    pub fn first_fit(&self, duration: u64, amount: u64, not_before: u64) -> Option<u64> {
        if duration == 0 {
            return Some(not_before);
        }
        let room = self.capacity.checked_sub(amount)?;
        let mut candidate = not_before;
        for (_, end, level) in self.steps.segments(not_before, u64::MAX) {
            if level > room {
                // The window cannot hold this piece: the earliest start is after it.
                if end == u64::MAX {
                    return None;
                }
                candidate = end;
            } else if end == u64::MAX || candidate.checked_add(duration).is_some_and(|e| e <= end) {
                return Some(candidate);
            }
        }
        None
    }
}

/// Several resources of one site (cores, memory, compute, GPUs of each model), each with its
/// calendar, booked all or nothing. Resources are numbered by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiCalendar {
    calendars: Resources,
}

/// Resources kept inline up to this many (compute, cores, memory and one accelerator model).
const INLINE_RESOURCES: usize = 4;

/// A site's calendars: inline for the usual few resources, so that reading a site's compute
/// calendar in the array of sites is one dependent cache miss fewer than through a `Vec` of
/// its own (the decisions read it for many sites, each cold); on the heap beyond that.
// The inline variant is the large one on purpose: it is the point of the type, and nearly
// every site has it.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Resources {
    Inline([Calendar; INLINE_RESOURCES], usize),
    Heap(Vec<Calendar>),
}

impl Resources {
    fn new(capacities: &[u64]) -> Resources {
        if capacities.len() <= INLINE_RESOURCES {
            let calendars =
                std::array::from_fn(|i| Calendar::new(capacities.get(i).copied().unwrap_or(0)));
            Resources::Inline(calendars, capacities.len())
        } else {
            Resources::Heap(capacities.iter().map(|&c| Calendar::new(c)).collect())
        }
    }

    /// Heap bytes of the calendars' own array (none when inline).
    fn array_heap_bytes(&self) -> usize {
        match self {
            Resources::Inline(..) => 0,
            Resources::Heap(v) => v.capacity() * std::mem::size_of::<Calendar>(),
        }
    }
}

impl std::ops::Deref for Resources {
    type Target = [Calendar];

    fn deref(&self) -> &[Calendar] {
        match self {
            Resources::Inline(a, n) => &a[..*n],
            Resources::Heap(v) => v,
        }
    }
}

impl std::ops::DerefMut for Resources {
    fn deref_mut(&mut self) -> &mut [Calendar] {
        match self {
            Resources::Inline(a, n) => &mut a[..*n],
            Resources::Heap(v) => v,
        }
    }
}

impl PartialEq for Resources {
    fn eq(&self, other: &Resources) -> bool {
        **self == **other
    }
}

impl Eq for Resources {}

impl std::fmt::Debug for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl MultiCalendar {
    /// Empty calendars with these capacities, one per resource.
    pub fn new(capacities: &[u64]) -> MultiCalendar {
        MultiCalendar {
            calendars: Resources::new(capacities),
        }
    }

    pub fn resources(&self) -> usize {
        self.calendars.len()
    }

    /// The bytes the calendars hold on the heap; see [`Calendar::heap_bytes`].
    pub fn heap_bytes(&self) -> usize {
        self.calendars.array_heap_bytes()
            + self
                .calendars
                .iter()
                .map(Calendar::heap_bytes)
                .sum::<usize>()
    }

    pub fn calendar(&self, resource: usize) -> Option<&Calendar> {
        self.calendars.get(resource)
    }

    pub fn calendars(&self) -> &[Calendar] {
        &self.calendars
    }

    fn check_count(&self, amounts: &[u64]) -> Result<(), CalendarError> {
        if amounts.len() == self.calendars.len() {
            Ok(())
        } else {
            Err(CalendarError::ResourceCount {
                got: amounts.len(),
                resources: self.calendars.len(),
            })
        }
    }

    /// Whether [`MultiCalendar::book`] would succeed.
    pub fn can_book(&self, start: u64, end: u64, amounts: &[u64]) -> bool {
        amounts.len() == self.calendars.len()
            && self
                .calendars
                .iter()
                .zip(amounts)
                .all(|(c, &a)| c.can_book(start, end, a))
    }

    /// Books `amounts[i]` of every resource `i` over the window, or nothing at all.
    pub fn book(&mut self, start: u64, end: u64, amounts: &[u64]) -> Result<(), CalendarError> {
        check_window(start, end)?;
        self.check_count(amounts)?;
        for (resource, (c, &a)) in self.calendars.iter().zip(amounts).enumerate() {
            if !c.can_book(start, end, a) {
                return Err(CalendarError::Resource {
                    resource,
                    error: Box::new(CalendarError::Exceeded {
                        start,
                        end,
                        amount: a,
                        free: c.free(start, end),
                    }),
                });
            }
        }
        for (c, &a) in self.calendars.iter_mut().zip(amounts) {
            c.steps.add(start, end, a);
        }
        Ok(())
    }

    /// Releases `amounts[i]` of every resource `i` over the window, or nothing at all.
    pub fn release(&mut self, start: u64, end: u64, amounts: &[u64]) -> Result<(), CalendarError> {
        check_window(start, end)?;
        self.check_count(amounts)?;
        // The usual release gives back one resource (compute): its check is made in the walk
        // that releases it (see `Steps::sub_checked`). Otherwise every resource is checked
        // before any changes.
        let mut given = amounts.iter().enumerate().filter(|&(_, &a)| a != 0);
        if let (Some((resource, &a)), None) = (given.next(), given.next()) {
            return self.calendars[resource]
                .steps
                .sub_checked(start, end, a)
                .map_err(|booked| CalendarError::Resource {
                    resource,
                    error: Box::new(CalendarError::NotBooked {
                        start,
                        end,
                        amount: a,
                        booked,
                    }),
                });
        }
        for (resource, (c, &a)) in self.calendars.iter().zip(amounts).enumerate() {
            // Nothing to release is always booked.
            let booked = if a == 0 { 0 } else { c.steps.min(start, end) };
            if booked < a {
                return Err(CalendarError::Resource {
                    resource,
                    error: Box::new(CalendarError::NotBooked {
                        start,
                        end,
                        amount: a,
                        booked,
                    }),
                });
            }
        }
        for (c, &a) in self.calendars.iter_mut().zip(amounts) {
            c.steps.sub(start, end, a);
        }
        Ok(())
    }

    /// Changes one resource's capacity; see [`Calendar::set_capacity`].
    pub fn set_capacity(
        &mut self,
        resource: usize,
        capacity: u64,
    ) -> Result<Vec<Overload>, CalendarError> {
        let resources = self.calendars.len();
        let c = self
            .calendars
            .get_mut(resource)
            .ok_or(CalendarError::UnknownResource {
                resource,
                resources,
            })?;
        Ok(c.set_capacity(capacity))
    }

    /// The earliest start at or after `not_before` where every resource fits, or `None`.
    /// Each resource pushes the candidate to its own earliest fit until all agree; the
    /// candidate only moves forward, over breakpoints, so this ends.
    pub fn first_fit(&self, duration: u64, amounts: &[u64], not_before: u64) -> Option<u64> {
        if amounts.len() != self.calendars.len() {
            return None;
        }
        let mut candidate = not_before;
        loop {
            let mut moved = false;
            for (c, &a) in self.calendars.iter().zip(amounts) {
                let fit = c.first_fit(duration, a, candidate)?;
                if fit != candidate {
                    candidate = fit;
                    moved = true;
                }
            }
            if !moved {
                return Some(candidate);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn steps_stay_canonical() {
        let mut s = Steps::default();
        s.add(2, 5, 3);
        s.add(5, 8, 3);
        assert_eq!(s.breakpoints().collect::<Vec<_>>(), vec![(2, 3), (8, 0)]);
        s.sub(2, 8, 3);
        assert!(s.levels.is_empty());
        s.set(0, u64::MAX, 4);
        s.set(3, 6, 1);
        assert_eq!(
            s.breakpoints().collect::<Vec<_>>(),
            vec![(0, 4), (3, 1), (6, 4)]
        );
        s.set(3, 6, 4);
        assert_eq!(s.breakpoints().collect::<Vec<_>>(), vec![(0, 4)]);
    }

    #[test]
    fn bookings_that_start_now_leave_a_plateau() {
        // As in a live system: each booking starts when it is made and is released when it
        // ends, so the future never rises and a window's peak is its first second.
        let mut c = Calendar::new(100);
        c.book(0, 10, 5).unwrap();
        c.book(2, 30, 7).unwrap();
        c.book(4, 8, 1).unwrap();
        assert_eq!(c.plateau(3), None, "a booking at 4 rises after 3");
        let p = c.plateau(5).unwrap();
        assert_eq!((p.from, p.until, p.level), (4, 8, 13));
        assert_eq!(c.peak(5, 40), 13);
        c.release(4, 8, 1).unwrap();
        // Releasing [4, 8) makes 8 the latest possible rise.
        assert_eq!(c.plateau(7), None);
        let p = c.plateau(9).unwrap();
        assert_eq!((p.from, p.until, p.level), (8, 10, 12));
        c.release(0, 10, 5).unwrap();
        c.release(2, 30, 7).unwrap();
        assert!(c.is_empty());
        assert_eq!(
            c.plateau(0).map(|p| (p.from, p.until, p.level)),
            Some((0, u64::MAX, 0))
        );
    }

    #[test]
    fn joint_cuts_at_every_change() {
        let mut a = Steps::default();
        let mut b = Steps::default();
        a.add(2, 6, 1);
        b.add(4, 10, 2);
        let pieces: Vec<_> = Joint::new([&a, &b], 0, 8).collect();
        assert_eq!(
            pieces,
            vec![
                (0, 2, [0, 0]),
                (2, 4, [1, 0]),
                (4, 6, [1, 2]),
                (6, 8, [0, 2])
            ]
        );
    }
}
