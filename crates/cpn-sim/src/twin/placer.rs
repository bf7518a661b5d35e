//! The scheduler's half of a twin run: arrivals placed, holds released and failures
//! recovered, in time order, each written down as a [`Step`] for the play-out to follow.
//!
//! Nothing the play-out does reaches back into the scheduler (a transfer or a queue never
//! changes a placement), so the scheduler's half can run ahead of the play-out, on a core of
//! its own: `Twin` reads the steps in batches, from this thread or from another, and the steps
//! are the same either way.

use cpn_model::Scenario;
use cpn_sched::{PlaceRequest, Placed, Recovery, ReservationId, Scheduler};

use super::{Arrival, NS, Policy, WhatIf};
use crate::queue::EventQueue;

/// What a request's reservation gives the play-out: its site and path, and the numbers the
/// scheduler estimated.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held {
    pub(super) site: u32,
    /// Its links, as `links[from..to]` of the batch that carries it.
    pub(super) links: (u32, u32),
    /// Round trip on its path, processing and the whole estimate, µs.
    pub(super) network_rtt_us: u64,
    pub(super) processing_us: u64,
    pub(super) total_us: u64,
    /// The compute it booked, GFLOPS.
    pub(super) units: u64,
}

/// One thing the scheduler did, at a time.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    /// A request was placed.
    Placed { req: u32, held: Held },
    /// A request's hold ended: its reservation was released.
    Released { req: u32 },
    /// A failure's recovery or a preemption moved a request to another reservation, or lost
    /// it (`None`); `failed_site` is the site that went down, if one did.
    Followed {
        req: u32,
        held: Option<Held>,
        failed_site: Option<u32>,
    },
    /// A what-if change, by index, before the scheduler recovers from it.
    ChangeBegins(u32),
    /// The same change once every recovery it caused was written down.
    ChangeEnds(u32),
}

/// Steps in time order, with the links their reservations name.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub(super) steps: Vec<(u64, Step)>,
    pub(super) links: Vec<u32>,
    /// Arrivals handled up to the end of this batch (for progress).
    pub(super) arrived: u64,
}

impl Batch {
    pub(super) fn clear(&mut self) {
        self.steps.clear();
        self.links.clear();
    }
}

/// The scheduler and the events it handles: changes, arrivals and hold ends.
pub(super) struct Placer<'a> {
    arrivals: &'a [Arrival],
    what_if: &'a [WhatIf],
    policy: Policy<'a>,
    sched: Scheduler,
    draws: u64,
    /// Hold ends, by request; first in first out at equal times, as they were scheduled.
    holds: EventQueue<u32>,
    next_arrival: usize,
    next_change: usize,
    /// Each request's reservation, and each reservation's request.
    held: Vec<Option<ReservationId>>,
    owner: Owners,
}

/// The request holding each reservation, by id: the scheduler numbers reservations one by
/// one, so a vector indexed by id is a map whose recent entries sit together in cache.
#[derive(Debug, Default)]
struct Owners(Vec<u32>);

impl Owners {
    const NONE: u32 = u32::MAX;

    fn insert(&mut self, id: ReservationId, req: u32) {
        let Ok(k) = usize::try_from(id.0) else {
            return;
        };
        if self.0.len() <= k {
            self.0.resize(k + 1, Owners::NONE);
        }
        self.0[k] = req;
    }

    fn remove(&mut self, id: ReservationId) -> Option<u32> {
        let slot = self.0.get_mut(usize::try_from(id.0).ok()?)?;
        let req = std::mem::replace(slot, Owners::NONE);
        (req != Owners::NONE).then_some(req)
    }
}

impl<'a> Placer<'a> {
    pub(super) fn new(
        scenario: &Scenario,
        arrivals: &'a [Arrival],
        what_if: &'a [WhatIf],
        policy: Policy<'a>,
        seed: u64,
    ) -> Placer<'a> {
        Placer {
            arrivals,
            what_if,
            policy,
            sched: Scheduler::new(scenario),
            draws: seed ^ 0x5eed_0f57_47e9,
            holds: EventQueue::new(),
            next_arrival: 0,
            next_change: 0,
            held: vec![None; arrivals.len()],
            owner: Owners::default(),
        }
    }

    pub(super) fn scheduler(&self) -> &Scheduler {
        &self.sched
    }

    /// Handles events until `out` holds at least `max` steps or none is left; `false` when
    /// none is left. At equal times a change comes first, then an arrival, then hold ends
    /// in the order they were scheduled (the order of one event queue fed in that order).
    pub(super) fn fill(&mut self, out: &mut Batch, max: usize) -> bool {
        loop {
            if out.steps.len() >= max {
                out.arrived = self.next_arrival as u64;
                return true;
            }
            let change = self
                .what_if
                .get(self.next_change)
                .map(|w| w.at_s().saturating_mul(NS));
            let arrival = self.arrivals.get(self.next_arrival).map(|a| a.at);
            let hold = self.holds.peek_time();
            let next = [change, arrival, hold].into_iter().flatten().min();
            let Some(t) = next else {
                out.arrived = self.next_arrival as u64;
                return false;
            };
            if change == Some(t) {
                self.next_change += 1;
                self.change(t, self.next_change as u32 - 1, out);
            } else if arrival == Some(t) {
                self.next_arrival += 1;
                self.arrive(t, self.next_arrival as u32 - 1, out);
            } else if let Some((t, i)) = self.holds.pop() {
                self.hold_ends(t, i, out);
            }
        }
    }

    fn arrive(&mut self, t: u64, i: u32, out: &mut Batch) {
        let a = &self.arrivals[i as usize];
        let start = t / NS;
        let hold = a.hold_s.max(1);
        let request = PlaceRequest {
            start,
            end: start + hold,
            ..a.request.clone()
        };
        let id = match self.policy {
            Policy::Online(strategy) => {
                match self.sched.place_by(strategy, request, &mut self.draws) {
                    Ok(Placed::Accepted {
                        reservation,
                        preempted,
                    }) => {
                        // The requests it displaced go where the scheduler put them, as
                        // after a failure: moved, or lost.
                        for p in &preempted {
                            self.follow(t, p.reservation, p.replaced_by, None, out);
                        }
                        reservation
                    }
                    _ => return,
                }
            }
            Policy::Plan(plan) => match plan.get(i as usize).copied().flatten() {
                Some(site) => match self.sched.place_among(&request, &[site]) {
                    Ok(Ok(reservation)) => reservation,
                    _ => return,
                },
                None => return,
            },
        };
        let Some(held) = self.snapshot(id, out) else {
            return;
        };
        self.owner.insert(id, i);
        self.held[i as usize] = Some(id);
        // Arrivals come in time order and start at 0: a hold end cannot be in the past.
        let _ = self.holds.push(t + hold * NS, i);
        out.steps.push((t, Step::Placed { req: i, held }));
    }

    fn hold_ends(&mut self, t: u64, i: u32, out: &mut Batch) {
        if let Some(id) = self.held[i as usize].take() {
            self.owner.remove(id);
            // A reservation is released once: recovery renames it, never frees it.
            let _ = self.sched.release(id);
            out.steps.push((t, Step::Released { req: i }));
        }
    }

    fn change(&mut self, t: u64, k: u32, out: &mut Batch) {
        out.steps.push((t, Step::ChangeBegins(k)));
        // What a failure moves or loses is the scheduler's recovery, as live.
        match self.what_if[k as usize] {
            WhatIf::LinkDown { link, .. } => {
                let recovered = self.sched.link_down(link).unwrap_or_default();
                self.recover(t, &recovered, None, out);
            }
            WhatIf::LinkUp { link, .. } => self.sched.link_up(link),
            WhatIf::SiteDown { site, .. } => {
                let recovered = self.sched.site_down(site).unwrap_or_default();
                self.recover(t, &recovered, Some(site.0), out);
            }
            WhatIf::SiteUp { site, .. } => self.sched.site_up(site),
        }
        out.steps.push((t, Step::ChangeEnds(k)));
    }

    fn recover(
        &mut self,
        t: u64,
        recovered: &[Recovery],
        failed_site: Option<u32>,
        out: &mut Batch,
    ) {
        for r in recovered {
            let (old, new) = match r {
                Recovery::Rerouted { old, new, .. } | Recovery::Moved { old, new, .. } => {
                    (*old, Some(*new))
                }
                Recovery::Lost { old, .. } => (*old, None),
            };
            self.follow(t, old, new, failed_site, out);
        }
    }

    /// The request holding reservation `old` now holds `new`, or nothing.
    fn follow(
        &mut self,
        t: u64,
        old: ReservationId,
        new: Option<ReservationId>,
        failed_site: Option<u32>,
        out: &mut Batch,
    ) {
        let Some(i) = self.owner.remove(old) else {
            return;
        };
        self.held[i as usize] = new;
        if let Some(new) = new {
            self.owner.insert(new, i);
        }
        let held = new.and_then(|id| self.snapshot(id, out));
        out.steps.push((
            t,
            Step::Followed {
                req: i,
                held,
                failed_site,
            },
        ));
    }

    /// What the play-out needs of a reservation, its links appended to `out`.
    fn snapshot(&self, id: ReservationId, out: &mut Batch) -> Option<Held> {
        let r = self.sched.reservation(id)?;
        let from = out.links.len() as u32;
        out.links.extend(r.links.iter().map(|l| l.0));
        Some(Held {
            site: r.site.0,
            links: (from, out.links.len() as u32),
            network_rtt_us: r.latency.network_rtt,
            processing_us: r.latency.processing,
            total_us: r.latency.total,
            units: r.compute_gflops(),
        })
    }
}
