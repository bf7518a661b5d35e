//! A link's calendar: its capacity shared between slices with guaranteed bandwidth and best
//! effort, over time.
//!
//! Per slice the calendar keeps the guarantee, the traffic booked in the slice and the part
//! of that traffic booked with hard isolation, each a step function of time. Traffic in a
//! slice fills that slice's guarantee first; soft traffic beyond it spills into best effort,
//! which also carries traffic of no slice. One number per second holds all the rules: the
//! link's *occupied* bandwidth, the sum over slices of the larger of guarantee and traffic
//! (a guarantee is held whether used or not; traffic beyond it is best effort), plus the
//! traffic of no slice. Keeping it at or below the capacity is exactly: guarantees never sum
//! above the capacity, and best effort fits in what guarantees leave. No slice can touch
//! another's guarantee because a change to one slice only changes that slice's term.
//!
//! Hard traffic must fit in what is free of its slice's guarantee when booked; soft traffic
//! uses that first and best effort for the rest.

use cpn_model::SliceId;

use super::{Calendar, CalendarError, Joint, Overload, Steps, check_window};

/// How traffic of a slice may use the link beyond the slice's guarantee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Isolation {
    /// Only within the guarantee: never more, so it never competes with best effort.
    Hard,
    /// Within the guarantee first, then in best effort.
    Soft,
}

/// What one slice holds on the link over time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct SliceBook {
    guarantee: Steps,
    traffic: Steps,
    /// The part of `traffic` booked with hard isolation, always within `guarantee`.
    hard: Steps,
}

static EMPTY_BOOK: SliceBook = SliceBook {
    guarantee: Steps::EMPTY,
    traffic: Steps::EMPTY,
    hard: Steps::EMPTY,
};

/// A slice's levels at one second.
#[derive(Debug, Clone, Copy)]
struct Levels {
    traffic: u64,
    hard: u64,
    guarantee: u64,
}

impl Levels {
    /// What the slice occupies of the link: its guarantee, or its traffic where that spills.
    fn footprint(self) -> u64 {
        self.traffic.max(self.guarantee)
    }
}

/// Why a change of one slice was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A rule of the slice itself (guarantee, traffic booked).
    Slice,
    /// The link's capacity.
    Capacity,
}

/// One link: capacity, per-slice guarantees and traffic, best effort, over time.
#[derive(Debug, Clone)]
pub struct LinkCalendar {
    /// Sum of slice footprints plus traffic of no slice, against the capacity.
    occupied: Calendar,
    /// Traffic of no slice; `None` while the link has seen no slice, when it is `occupied`
    /// itself (kept once instead of twice on the many links that carry no slice).
    unsliced: Option<Steps>,
    /// Sorted by slice; a link carries few slices, and a slice never seen has no guarantee.
    slices: Vec<(SliceId, SliceBook)>,
}

impl PartialEq for LinkCalendar {
    fn eq(&self, other: &LinkCalendar) -> bool {
        self.occupied == other.occupied
            && self.unsliced() == other.unsliced()
            && self.slices == other.slices
    }
}

impl Eq for LinkCalendar {}

impl LinkCalendar {
    /// A link with nothing guaranteed or booked.
    pub fn new(capacity: u64) -> LinkCalendar {
        LinkCalendar {
            occupied: Calendar::new(capacity),
            unsliced: None,
            slices: Vec::new(),
        }
    }

    pub fn capacity(&self) -> u64 {
        self.occupied.capacity()
    }

    /// Changes the capacity (a degraded or failed link); returns where guarantees and
    /// traffic now exceed it, for the scheduler to evict. No booking and no guarantee growth
    /// succeeds in those windows until then.
    pub fn set_capacity(&mut self, capacity: u64) -> Vec<Overload> {
        self.occupied.set_capacity(capacity)
    }

    /// A lower bound of what traffic of no slice finds free in any window (see
    /// [`LinkCalendar::free_for`]), in O(1); it only gets looser as bookings come and go, until
    /// [`LinkCalendar::tighten`].
    pub fn free_bound(&self) -> u64 {
        self.capacity().saturating_sub(self.occupied.steps.ceiling)
    }

    /// Makes [`LinkCalendar::free_bound`] exact for the busiest second of the calendar, with
    /// one walk over its breakpoints; returns it.
    pub fn tighten(&mut self) -> u64 {
        let most = self.occupied.steps.tighten_ceiling();
        self.capacity().saturating_sub(most)
    }

    /// The bytes the calendar holds on the heap; see [`Calendar::heap_bytes`].
    pub fn heap_bytes(&self) -> usize {
        let steps = |s: &Steps| s.levels.heap_bytes();
        self.occupied.heap_bytes()
            + self.unsliced.as_ref().map_or(0, steps)
            + self.slices.capacity() * std::mem::size_of::<(SliceId, SliceBook)>()
            + self
                .slices
                .iter()
                .map(|(_, b)| steps(&b.guarantee) + steps(&b.traffic) + steps(&b.hard))
                .sum::<usize>()
    }

    /// See [`Calendar::warm`].
    pub fn warm(&self, t: u64) -> u64 {
        self.occupied.warm(t)
    }

    /// The slices that have or had a guarantee or traffic on the link.
    pub fn slices(&self) -> impl Iterator<Item = SliceId> + '_ {
        self.slices.iter().map(|(s, _)| *s)
    }

    fn book_of(&self, slice: SliceId) -> &SliceBook {
        match self.slices.binary_search_by_key(&slice, |(s, _)| *s) {
            Ok(i) => &self.slices[i].1,
            Err(_) => &EMPTY_BOOK,
        }
    }

    fn index_or_insert(&mut self, slice: SliceId) -> usize {
        match self.slices.binary_search_by_key(&slice, |(s, _)| *s) {
            Ok(i) => i,
            Err(i) => {
                // From now on the traffic of no slice is no longer all that is occupied.
                if self.unsliced.is_none() {
                    self.unsliced = Some(self.occupied.steps.clone());
                }
                self.slices.insert(i, (slice, SliceBook::default()));
                i
            }
        }
    }

    /// The traffic of no slice.
    fn unsliced(&self) -> &Steps {
        self.unsliced.as_ref().unwrap_or(&self.occupied.steps)
    }

    /// The slice's guarantee at second `t`.
    pub fn guarantee_at(&self, slice: SliceId, t: u64) -> u64 {
        self.book_of(slice).guarantee.level_at(t)
    }

    /// The sum of all guarantees at second `t`.
    pub fn guaranteed_at(&self, t: u64) -> u64 {
        self.slices
            .iter()
            .map(|(_, b)| b.guarantee.level_at(t))
            .sum()
    }

    /// Traffic booked at second `t` in a slice (hard and soft), or of no slice.
    pub fn traffic_at(&self, slice: Option<SliceId>, t: u64) -> u64 {
        match slice {
            Some(s) => self.book_of(s).traffic.level_at(t),
            None => self.unsliced().level_at(t),
        }
    }

    /// Traffic booked with hard isolation in a slice at second `t`.
    pub fn hard_traffic_at(&self, slice: SliceId, t: u64) -> u64 {
        self.book_of(slice).hard.level_at(t)
    }

    /// Best effort at second `t`: traffic of no slice plus what soft slices spill beyond
    /// their guarantees.
    pub fn best_effort_at(&self, t: u64) -> u64 {
        let spill: u64 = self
            .slices
            .iter()
            .map(|(_, b)| {
                b.traffic
                    .level_at(t)
                    .saturating_sub(b.guarantee.level_at(t))
            })
            .sum();
        self.unsliced().level_at(t) + spill
    }

    /// What the link holds at second `t`: guarantees, spilled traffic and best effort.
    pub fn occupied_at(&self, t: u64) -> u64 {
        self.occupied.usage_at(t)
    }

    /// How much more traffic could be booked over the whole of `[start, end)` in `slice`
    /// (`None` is traffic of no slice, for which isolation does not matter). Zero for an
    /// empty window and in an overloaded one.
    pub fn free_for(
        &self,
        slice: Option<SliceId>,
        start: u64,
        end: u64,
        isolation: Isolation,
    ) -> u64 {
        let Some(slice) = slice else {
            return self.occupied.free(start, end);
        };
        let book = self.book_of(slice);
        let capacity = self.capacity();
        let pieces = Joint::new(
            [&book.traffic, &book.guarantee, &self.occupied.steps],
            start,
            end,
        );
        pieces
            .map(|(_, _, [traffic, guarantee, occupied])| {
                let Some(room) = capacity.checked_sub(occupied) else {
                    return 0;
                };
                let unused = guarantee.saturating_sub(traffic);
                match isolation {
                    Isolation::Hard => unused,
                    Isolation::Soft => unused + room,
                }
            })
            .min()
            .unwrap_or(0)
    }

    /// Checks a change of one slice over a window, second by second: `change` gives the
    /// slice's new levels or `None` if a rule of the slice forbids it. What the change adds
    /// to the slice's footprint must fit under the capacity; with `booking`, the window must
    /// not be overloaded even where the footprint stays (traffic is not added to an
    /// overloaded link), otherwise only growth is checked (so that shrinking a guarantee can
    /// resolve an overload).
    fn check(
        &self,
        slice: SliceId,
        start: u64,
        end: u64,
        booking: bool,
        change: &impl Fn(Levels) -> Option<Levels>,
    ) -> Result<(), Refusal> {
        let book = self.book_of(slice);
        let capacity = self.capacity();
        let pieces = Joint::new(
            [
                &book.traffic,
                &book.hard,
                &book.guarantee,
                &self.occupied.steps,
            ],
            start,
            end,
        );
        for (_, _, [traffic, hard, guarantee, occupied]) in pieces {
            let old = Levels {
                traffic,
                hard,
                guarantee,
            };
            let new = change(old).ok_or(Refusal::Slice)?;
            let growth = new.footprint().saturating_sub(old.footprint());
            if (booking || growth > 0) && occupied.checked_add(growth).is_none_or(|o| o > capacity)
            {
                return Err(Refusal::Capacity);
            }
        }
        Ok(())
    }

    /// Moves the occupied bandwidth by what a checked change does to the slice's footprint.
    /// The slice's own step functions are changed by the caller, after this.
    fn apply_footprint(
        &mut self,
        index: usize,
        start: u64,
        end: u64,
        change: &impl Fn(Levels) -> Option<Levels>,
    ) {
        let LinkCalendar {
            occupied, slices, ..
        } = self;
        let book = &slices[index].1;
        let pieces = Joint::new([&book.traffic, &book.hard, &book.guarantee], start, end);
        for (s, e, [traffic, hard, guarantee]) in pieces {
            let old = Levels {
                traffic,
                hard,
                guarantee,
            };
            let Some(new) = change(old) else { continue };
            let (before, after) = (old.footprint(), new.footprint());
            if after > before {
                occupied.steps.add(s, e, after - before);
            } else {
                occupied.steps.sub(s, e, before - after);
            }
        }
    }

    /// Sets `slice`'s guarantee on this link to `amount` over `[start, end)` (creating,
    /// growing or shrinking it). Growing needs room under the capacity; shrinking below the
    /// traffic booked in the slice is refused. Nothing changes on refusal.
    pub fn set_guarantee(
        &mut self,
        slice: SliceId,
        start: u64,
        end: u64,
        amount: u64,
    ) -> Result<(), CalendarError> {
        check_window(start, end)?;
        let change = |l: Levels| {
            (amount >= l.guarantee || amount >= l.traffic).then_some(Levels {
                guarantee: amount,
                ..l
            })
        };
        match self.check(slice, start, end, false, &change) {
            Ok(()) => {}
            Err(Refusal::Slice) => {
                return Err(CalendarError::GuaranteeBelowTraffic {
                    slice,
                    start,
                    end,
                    amount,
                });
            }
            Err(Refusal::Capacity) => {
                return Err(CalendarError::GuaranteeExceeded {
                    slice,
                    start,
                    end,
                    amount,
                });
            }
        }
        let index = self.index_or_insert(slice);
        self.apply_footprint(index, start, end, &change);
        self.slices[index].1.guarantee.set(start, end, amount);
        Ok(())
    }

    /// Books `amount` of traffic over `[start, end)` in `slice`, or of no slice (best
    /// effort, whatever the isolation). Nothing changes on refusal.
    pub fn book_traffic(
        &mut self,
        slice: Option<SliceId>,
        start: u64,
        end: u64,
        amount: u64,
        isolation: Isolation,
    ) -> Result<(), CalendarError> {
        check_window(start, end)?;
        let Some(slice) = slice else {
            self.occupied.book(start, end, amount)?;
            if let Some(unsliced) = &mut self.unsliced {
                unsliced.add(start, end, amount);
            }
            return Ok(());
        };
        let hard = isolation == Isolation::Hard;
        let change = |l: Levels| {
            let traffic = l.traffic.checked_add(amount)?;
            if hard && traffic > l.guarantee {
                return None;
            }
            Some(Levels {
                traffic,
                hard: if hard { l.hard + amount } else { l.hard },
                ..l
            })
        };
        if let Err(refusal) = self.check(slice, start, end, true, &change) {
            let free = self.free_for(Some(slice), start, end, isolation);
            return Err(if hard && refusal == Refusal::Slice {
                CalendarError::SliceExceeded {
                    slice,
                    start,
                    end,
                    amount,
                    free,
                }
            } else {
                CalendarError::Exceeded {
                    start,
                    end,
                    amount,
                    free,
                }
            });
        }
        let index = self.index_or_insert(slice);
        self.apply_footprint(index, start, end, &change);
        let book = &mut self.slices[index].1;
        book.traffic.add(start, end, amount);
        if hard {
            book.hard.add(start, end, amount);
        }
        Ok(())
    }

    /// Releases traffic booked with [`LinkCalendar::book_traffic`], with the same slice and
    /// isolation. Nothing changes if less than `amount` was booked so at some second.
    pub fn release_traffic(
        &mut self,
        slice: Option<SliceId>,
        start: u64,
        end: u64,
        amount: u64,
        isolation: Isolation,
    ) -> Result<(), CalendarError> {
        check_window(start, end)?;
        let Some(slice) = slice else {
            if self.unsliced.is_none() {
                // The traffic of no slice is all that is occupied: checked in the walk that
                // releases it.
                return self
                    .occupied
                    .steps
                    .sub_checked(start, end, amount)
                    .map_err(|booked| CalendarError::NotBooked {
                        start,
                        end,
                        amount,
                        booked,
                    });
            }
            let booked = self.unsliced().min(start, end);
            if booked < amount {
                return Err(CalendarError::NotBooked {
                    start,
                    end,
                    amount,
                    booked,
                });
            }
            if let Some(unsliced) = &mut self.unsliced {
                unsliced.sub(start, end, amount);
            }
            self.occupied.steps.sub(start, end, amount);
            return Ok(());
        };
        let hard = isolation == Isolation::Hard;
        let booked_of = |l: Levels| if hard { l.hard } else { l.traffic - l.hard };
        let change = |l: Levels| {
            (booked_of(l) >= amount).then(|| Levels {
                traffic: l.traffic - amount,
                hard: if hard { l.hard - amount } else { l.hard },
                ..l
            })
        };
        if self.check(slice, start, end, false, &change).is_err() {
            let book = self.book_of(slice);
            let booked = Joint::new([&book.traffic, &book.hard], start, end)
                .map(|(_, _, [traffic, hard])| {
                    booked_of(Levels {
                        traffic,
                        hard,
                        guarantee: 0,
                    })
                })
                .min()
                .unwrap_or(0);
            return Err(CalendarError::NotBooked {
                start,
                end,
                amount,
                booked,
            });
        }
        let index = self.index_or_insert(slice);
        self.apply_footprint(index, start, end, &change);
        let book = &mut self.slices[index].1;
        book.traffic.sub(start, end, amount);
        if hard {
            book.hard.sub(start, end, amount);
        }
        Ok(())
    }
}
