//! Bandwidth without compute: circuits booked between two routers for a window (bandwidth on
//! demand), and slices' guarantees on links.

use cpn_model::{LinkId, RouterId, SliceId};
use cpn_route::{Metric, ShortestPaths};
use cpn_units::Bandwidth;

use super::{Circuit, ReservationId, SchedError, Scheduler};
use crate::calendar::Isolation;

impl Scheduler {
    /// Books `bandwidth` from `from` to `to` over `[start, end)` (bandwidth on demand): the
    /// least-latency path whose every link has it free in the whole window, all links or none.
    /// The booking ends by itself at `end`: the calendars hold it only within its window.
    #[allow(clippy::too_many_arguments)]
    pub fn book_bandwidth(
        &mut self,
        name: &str,
        from: RouterId,
        to: RouterId,
        bandwidth: Bandwidth,
        (start, end): (u64, u64),
        slice: Option<SliceId>,
        isolation: Isolation,
    ) -> Result<Result<ReservationId, String>, SchedError> {
        if start >= end {
            return Err(SchedError::EmptyWindow { start, end });
        }
        let g = self.engine.graph();
        let links = &self.links;
        let need = bandwidth.0;
        let mut search = ShortestPaths::new();
        search.run(g, from.0, Some(to.0), Metric::Latency, |arc| {
            links[g.link(arc).index()].free_for(slice, start, end, isolation) >= need
        });
        let Some(path) = search.path_to(g, to.0) else {
            return Ok(Err(format!(
                "no path from router `{}` to router `{}` with {bandwidth} free over [{start}, {end})",
                self.name(from),
                self.name(to)
            )));
        };
        let path_links: Vec<LinkId> = path.links(g).collect();
        for (i, link) in path_links.iter().enumerate() {
            if let Err(e) = self
                .links
                .get_mut(link.index())
                .book_traffic(slice, start, end, need, isolation)
            {
                for undo in &path_links[..i] {
                    let _ = self
                        .links
                        .get_mut(undo.index())
                        .release_traffic(slice, start, end, need, isolation);
                }
                return Ok(Err(format!("booking failed: {e}")));
            }
        }
        let id = ReservationId(self.next_id);
        self.next_id += 1;
        self.circuits.insert(
            id,
            Circuit {
                id,
                name: name.to_string(),
                path,
                links: path_links,
                bandwidth,
                slice,
                isolation,
                start,
                end,
            },
        );
        Ok(Ok(id))
    }

    pub fn circuit(&self, id: ReservationId) -> Option<&Circuit> {
        self.circuits.get(&id)
    }

    pub fn circuits(&self) -> impl Iterator<Item = &Circuit> {
        self.circuits.values()
    }

    /// Releases a bandwidth-on-demand booking before its end.
    pub fn release_bandwidth(&mut self, id: ReservationId) -> Result<Circuit, SchedError> {
        let c = self
            .circuits
            .remove(&id)
            .ok_or(SchedError::UnknownReservation(id.0))?;
        for link in &c.links {
            self.links.get_mut(link.index()).release_traffic(
                c.slice,
                c.start,
                c.end,
                c.bandwidth.0,
                c.isolation,
            )?;
        }
        Ok(c)
    }

    /// Sets a slice's guaranteed bandwidth on `links` over `[start, end)`: creating, resizing
    /// (to any amount not below what the slice has booked) or deleting it (amount zero). All
    /// links or none; a guarantee never makes the link's guarantees exceed its capacity.
    pub fn set_slice(
        &mut self,
        slice: SliceId,
        links: &[LinkId],
        guaranteed: Bandwidth,
        start: u64,
        end: u64,
    ) -> Result<(), SchedError> {
        let mut before = Vec::with_capacity(links.len());
        for (i, link) in links.iter().enumerate() {
            let cal = self.links.get_mut(link.index());
            before.push(cal.clone());
            if let Err(e) = cal.set_guarantee(slice, start, end, guaranteed.0) {
                for (undo, saved) in links[..i].iter().zip(before) {
                    *self.links.get_mut(undo.index()) = saved;
                }
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// A slice between two routers: its guarantee on every link of the least-latency path
    /// that has room for it over the window. Returns the links.
    pub fn slice_between(
        &mut self,
        slice: SliceId,
        from: RouterId,
        to: RouterId,
        guaranteed: Bandwidth,
        start: u64,
        end: u64,
    ) -> Result<Result<Vec<LinkId>, String>, SchedError> {
        let g = self.engine.graph();
        let links = &self.links;
        let mut search = ShortestPaths::new();
        // Room for a guarantee: what neither other guarantees nor booked traffic occupy.
        search.run(g, from.0, Some(to.0), Metric::Latency, |arc| {
            links[g.link(arc).index()].free_for(None, start, end, Isolation::Soft) >= guaranteed.0
        });
        let Some(path) = search.path_to(g, to.0) else {
            return Ok(Err(format!(
                "no path from router `{}` to router `{}` with room for {guaranteed}",
                self.name(from),
                self.name(to)
            )));
        };
        let path_links: Vec<LinkId> = path.links(g).collect();
        self.set_slice(slice, &path_links, guaranteed, start, end)?;
        Ok(Ok(path_links))
    }
}
