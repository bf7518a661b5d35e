//! What the scheduler does when the network or a site fails: every reservation hit is placed
//! again (a backup path to the same site first, another site next) or reported lost, with why.

use cpn_model::{LinkId, RouterId, SiteId};

use super::{COMPUTE, Recovery, Reservation, ReservationId, SchedError, Scheduler};
use crate::calendar::MultiCalendar;

impl Scheduler {
    /// A link failed: every reservation across it is moved to a backup path to the same site
    /// first, to another site if none exists, and reported lost (with why) otherwise.
    pub fn link_down(&mut self, link: LinkId) -> Result<Vec<Recovery>, SchedError> {
        self.engine.graph_mut().set_up(link, false);
        let hit: Vec<ReservationId> = self
            .reservations
            .values()
            .filter(|r| r.links.contains(&link))
            .map(|r| r.id)
            .collect();
        let mut out = self.recover(hit)?;
        let circuits: Vec<ReservationId> = self
            .circuits
            .values()
            .filter(|c| c.links.contains(&link))
            .map(|c| c.id)
            .collect();
        for id in circuits {
            let c = self.release_bandwidth(id)?;
            let (from, to) = (RouterId(c.path.source()), RouterId(c.path.target()));
            out.push(
                match self.book_bandwidth(
                    &c.name,
                    from,
                    to,
                    c.bandwidth,
                    (c.start, c.end),
                    c.slice,
                    c.isolation,
                )? {
                    Ok(new) => Recovery::Rerouted {
                        old: c.id,
                        new,
                        name: c.name,
                    },
                    Err(reason) => Recovery::Lost {
                        old: c.id,
                        name: c.name,
                        reason,
                    },
                },
            );
        }
        Ok(out)
    }

    /// Telemetry measured `link` again (after [`Scheduler::set_link_metrics`]): every
    /// reservation across it whose path now loses more than its request's `max_loss` is
    /// placed again, as after a failure (a path to the same site that meets the bound first,
    /// another site next), or reported lost. Latency bounds are left alone: a reservation's
    /// latency includes its processing, which telemetry of a link does not change.
    pub fn link_measured(&mut self, link: LinkId) -> Result<Vec<Recovery>, SchedError> {
        let g = self.engine.graph();
        let hit: Vec<ReservationId> = self
            .reservations
            .values()
            .filter(|r| r.links.contains(&link))
            .filter(|r| {
                r.request.max_loss.is_some_and(|bound| {
                    // Loss along a path: 1 - Π(1 - loss), from the additive -ln(1 - loss).
                    let log: f64 = r.links.iter().map(|&l| g.loss_log(l)).sum();
                    1.0 - (-log).exp() > bound.as_fraction()
                })
            })
            .map(|r| r.id)
            .collect();
        self.recover(hit)
    }

    /// A link came back: it serves new placements again (nothing moves back by itself).
    pub fn link_up(&mut self, link: LinkId) {
        self.engine.graph_mut().set_up(link, true);
    }

    /// A site failed: every reservation on it is placed elsewhere, or reported lost.
    pub fn site_down(&mut self, site: SiteId) -> Result<Vec<Recovery>, SchedError> {
        self.engine.set_site_up(site, false);
        let hit: Vec<ReservationId> = self
            .reservations
            .values()
            .filter(|r| r.site == site)
            .map(|r| r.id)
            .collect();
        self.recover(hit)
    }

    pub fn site_up(&mut self, site: SiteId) {
        self.engine.set_site_up(site, true);
    }

    /// A site's compute dropped to `gflops`: the reservations that no longer fit (the lowest
    /// priority and latest first) are placed elsewhere, or reported lost.
    pub fn compute_drop(&mut self, site: SiteId, gflops: u64) -> Result<Vec<Recovery>, SchedError> {
        let capacities: Vec<u64> = self.sites[site.index()]
            .calendars()
            .iter()
            .enumerate()
            .map(|(i, c)| if i == COMPUTE { gflops } else { c.capacity() })
            .collect();
        let mut fresh = MultiCalendar::new(&capacities);
        // Rebuild the site's calendar, keeping reservations in priority order while they fit.
        let mut on_site: Vec<&Reservation> =
            self.reservations().filter(|r| r.site == site).collect();
        on_site.sort_by_key(|r| (std::cmp::Reverse(r.request.priority), r.id));
        let mut evicted = Vec::new();
        for r in on_site {
            if fresh
                .book(r.request.start, r.request.end, &self.amounts(r))
                .is_err()
            {
                evicted.push(r.id);
            }
        }
        // The evicted reservations' bookings are released from the old calendar before it is
        // replaced, so that links are released too; then the site keeps what still fits.
        let mut removed = Vec::new();
        for id in &evicted {
            removed.push(self.release(*id)?);
        }
        *self.sites.get_mut(site.index()) = fresh;
        let mut out = Vec::new();
        for r in removed {
            out.push(self.replace(r)?);
        }
        Ok(out)
    }

    fn recover(&mut self, mut hit: Vec<ReservationId>) -> Result<Vec<Recovery>, SchedError> {
        // The most important first, so that they get the backup capacity.
        hit.sort_by_key(|id| {
            (
                std::cmp::Reverse(self.reservations.get(id).map_or(0, |r| r.request.priority)),
                *id,
            )
        });
        let mut out = Vec::new();
        for id in hit {
            let r = self.release(id)?;
            out.push(self.replace(r)?);
        }
        Ok(out)
    }

    /// Places a released reservation's request again: its own site first (a backup path),
    /// then anywhere.
    fn replace(&mut self, old: Reservation) -> Result<Recovery, SchedError> {
        if let Ok(id) = self.try_place_among(&old.request, Some(&[old.site]))? {
            return Ok(Recovery::Rerouted {
                old: old.id,
                new: id,
                name: old.request.name,
            });
        }
        match self.try_place_among(&old.request, None)? {
            Ok(id) => {
                let to = self.reservations.get(&id).map_or(old.site, |r| r.site);
                Ok(Recovery::Moved {
                    old: old.id,
                    new: id,
                    name: old.request.name,
                    from: old.site,
                    to,
                })
            }
            Err(refusal) => Ok(Recovery::Lost {
                old: old.id,
                name: old.request.name,
                reason: refusal.reason,
            }),
        }
    }
}
