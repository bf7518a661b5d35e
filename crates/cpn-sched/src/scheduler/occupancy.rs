//! The calendars of every site and link, with what the shortlist decision asks of them kept
//! cheap to answer (see `cpn_route::Occupancy`).
//!
//! - A site's compute in use over a window: the last [`Plateau`] of its compute calendar is
//!   kept, so that the windows of later requests that start within it need no lookup at all
//!   until the site's calendar changes.
//! - The least free bandwidth of any link: each link's O(1) lower bound
//!   ([`LinkCalendar::free_bound`]) sits in a min-tree, refreshed for the links changed since
//!   the last question; a link whose bound falls short of a request's need is tightened
//!   (one walk over its calendar) before the answer is given.
//!
//! Mutable access to a calendar goes through `get_mut` only, which forgets what was kept of
//! it: nothing kept can outlive a change.

use cpn_model::SiteId;
use cpn_route::{Load, Occupancy};
use cpn_units::Bandwidth;

use super::{COMPUTE, GFLOPS};
use crate::calendar::{LinkCalendar, MultiCalendar, Plateau};

/// The sites' calendars, with the last plateau of each one's compute and the sites changed
/// since the engine last asked.
#[derive(Debug, Clone)]
pub(super) struct Sites {
    calendars: Vec<MultiCalendar>,
    plateaus: Vec<Option<Plateau>>,
    changed: Vec<u32>,
    is_changed: Vec<bool>,
    /// Per changed site, the end of the times its changes touched: windows that start at or
    /// after it find the same load as before.
    changed_until: Vec<u64>,
}

impl Sites {
    pub(super) fn new(calendars: Vec<MultiCalendar>) -> Sites {
        Sites {
            plateaus: vec![None; calendars.len()],
            changed: Vec::new(),
            is_changed: vec![false; calendars.len()],
            changed_until: vec![0; calendars.len()],
            calendars,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.calendars.len()
    }

    /// A site's calendars, for any change.
    pub(super) fn get_mut(&mut self, i: usize) -> &mut MultiCalendar {
        self.change_before(i, u64::MAX)
    }

    /// A site's calendars, for a change of its levels before `until` only (a booking or
    /// release of a window that ends there): what is known of windows that start at or after
    /// it stays known. A release at the end of its window, as the twin makes them, then
    /// changes nothing a later window can see.
    pub(super) fn change_before(&mut self, i: usize, until: u64) -> &mut MultiCalendar {
        if self.plateaus[i].is_some_and(|p| p.from < until) {
            self.plateaus[i] = None;
        }
        if self.is_changed[i] {
            self.changed_until[i] = self.changed_until[i].max(until);
        } else {
            self.is_changed[i] = true;
            self.changed_until[i] = until;
            self.changed.push(i as u32);
        }
        &mut self.calendars[i]
    }

    /// The compute in use at site `i` over `[start, end)` (non-empty), in GFLOPS: what
    /// `Calendar::peak` says, from the kept plateau when the window starts within it. With
    /// the plateau it came from (a span of the window's start alone when there is none).
    pub(super) fn used(&mut self, i: usize, start: u64, end: u64) -> Plateau {
        if let Some(p) = self.plateaus[i]
            && p.from <= start
            && start < p.until
        {
            return p;
        }
        let Some(cal) = self.calendars[i].calendar(COMPUTE) else {
            return Plateau {
                from: 0,
                until: u64::MAX,
                level: 0,
            };
        };
        match cal.plateau(start) {
            Some(p) => {
                self.plateaus[i] = Some(p);
                p
            }
            // Only this window is known to peak there: an empty span.
            None => Plateau {
                from: start,
                until: start,
                level: cal.peak(start, end),
            },
        }
    }
}

impl std::ops::Index<usize> for Sites {
    type Output = MultiCalendar;

    fn index(&self, i: usize) -> &MultiCalendar {
        &self.calendars[i]
    }
}

/// The links' calendars, with the least of their free-bandwidth bounds.
#[derive(Debug, Clone)]
pub(super) struct Links {
    calendars: Vec<LinkCalendar>,
    bounds: MinTree,
    /// Whether a link's bound in the tree is exact (tightened since its last change).
    exact: Vec<bool>,
    /// Links changed since the tree last saw them.
    dirty: Vec<u32>,
    is_dirty: Vec<bool>,
}

impl Links {
    pub(super) fn new(calendars: Vec<LinkCalendar>) -> Links {
        let bounds = MinTree::new(calendars.iter().map(LinkCalendar::free_bound).collect());
        Links {
            exact: vec![true; calendars.len()],
            is_dirty: vec![false; calendars.len()],
            dirty: Vec::new(),
            bounds,
            calendars,
        }
    }

    pub(super) fn iter(&self) -> std::slice::Iter<'_, LinkCalendar> {
        self.calendars.iter()
    }

    pub(super) fn get_mut(&mut self, i: usize) -> &mut LinkCalendar {
        if !self.is_dirty[i] {
            self.is_dirty[i] = true;
            self.dirty.push(i as u32);
        }
        &mut self.calendars[i]
    }

    /// A lower bound of the bandwidth free for traffic of no slice on every link in any
    /// window, at least `need` whenever every link truly has `need` free at every second.
    pub(super) fn least_free(&mut self, need: u64) -> u64 {
        for l in self.dirty.drain(..) {
            let l = l as usize;
            self.is_dirty[l] = false;
            self.exact[l] = false;
            self.bounds.set(l, self.calendars[l].free_bound());
        }
        loop {
            let (least, l) = self.bounds.least();
            if least >= need || self.exact[l] {
                return least;
            }
            let tight = self.calendars[l].tighten();
            self.exact[l] = true;
            self.bounds.set(l, tight);
        }
    }
}

impl std::ops::Index<usize> for Links {
    type Output = LinkCalendar;

    fn index(&self, i: usize) -> &LinkCalendar {
        &self.calendars[i]
    }
}

/// A binary tree of minimums over a fixed number of values.
#[derive(Debug, Clone)]
struct MinTree {
    /// Leaves from `size`; node `k` holds the least of nodes `2k` and `2k + 1`.
    nodes: Vec<u64>,
    size: usize,
}

impl MinTree {
    fn new(values: Vec<u64>) -> MinTree {
        let size = values.len().next_power_of_two();
        let mut nodes = vec![u64::MAX; 2 * size];
        nodes[size..size + values.len()].copy_from_slice(&values);
        for k in (1..size).rev() {
            nodes[k] = nodes[2 * k].min(nodes[2 * k + 1]);
        }
        MinTree { nodes, size }
    }

    fn set(&mut self, i: usize, value: u64) {
        let mut k = self.size + i;
        if self.nodes[k] == value {
            return;
        }
        self.nodes[k] = value;
        while k > 1 {
            k /= 2;
            let least = self.nodes[2 * k].min(self.nodes[2 * k + 1]);
            // A minimum that stays is the same for every node above it too.
            if self.nodes[k] == least {
                break;
            }
            self.nodes[k] = least;
        }
    }

    /// The least value and where it is (the first such leaf); `u64::MAX` when empty.
    fn least(&self) -> (u64, usize) {
        let least = self.nodes[1.min(self.nodes.len() - 1)];
        let mut k = 1;
        while k < self.size {
            k = if self.nodes[2 * k] == least {
                2 * k
            } else {
                2 * k + 1
            };
        }
        (least, k - self.size)
    }
}

/// The sites and links as they are over one request's window, for the shortlist.
#[derive(Debug)]
pub(super) struct Window<'a> {
    pub(super) sites: &'a mut Sites,
    pub(super) links: &'a mut Links,
    pub(super) start: u64,
    pub(super) end: u64,
}

impl Occupancy for Window<'_> {
    fn least_free(&mut self, need: Bandwidth) -> Bandwidth {
        Bandwidth(self.links.least_free(need.0))
    }

    fn used(&mut self, site: SiteId) -> Load {
        let p = self.sites.used(site.index(), self.start, self.end);
        Load {
            used: u128::from(p.level) * GFLOPS,
            from: p.from,
            until: p.until,
        }
    }

    fn changed(&mut self, mut report: impl FnMut(SiteId, u64)) {
        let sites = &mut *self.sites;
        for i in sites.changed.drain(..) {
            sites.is_changed[i as usize] = false;
            report(SiteId(i), sites.changed_until[i as usize]);
        }
    }

    fn start(&self) -> u64 {
        self.start
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::calendar::Isolation;

    #[test]
    fn the_least_free_bandwidth_follows_every_change() {
        let mut links = Links::new(vec![LinkCalendar::new(100), LinkCalendar::new(50)]);
        assert_eq!(links.least_free(10), 50);
        let book = |l: &mut LinkCalendar, s, e, a| l.book_traffic(None, s, e, a, Isolation::Soft);
        book(links.get_mut(1), 0, 10, 30).unwrap();
        book(links.get_mut(1), 20, 30, 30).unwrap();
        // The O(1) bound counts both bookings (60 of 50); asked for 10, the link is walked
        // and found to have 20 free at its busiest.
        assert_eq!(links.least_free(10), 20);
        assert_eq!(links.least_free(30), 20);
        links
            .get_mut(1)
            .release_traffic(None, 0, 10, 30, Isolation::Soft)
            .unwrap();
        book(links.get_mut(0), 5, 6, 90).unwrap();
        assert_eq!(links.least_free(1), 10);
        links
            .get_mut(0)
            .release_traffic(None, 5, 6, 90, Isolation::Soft)
            .unwrap();
        assert_eq!(links.least_free(25), 20);
    }

    #[test]
    fn a_site_s_load_is_forgotten_when_its_calendar_changes() {
        let mut sites = Sites::new(vec![MultiCalendar::new(&[100, 0, 0])]);
        let level = |sites: &mut Sites, s, e| sites.used(0, s, e).level;
        assert_eq!(level(&mut sites, 5, 10), 0);
        sites.get_mut(0).book(0, 20, &[30, 0, 0]).unwrap();
        assert_eq!(level(&mut sites, 5, 10), 30);
        sites.get_mut(0).book(8, 20, &[5, 0, 0]).unwrap();
        assert_eq!(sites.changed, vec![0]);
        // A booking that starts later: the window [5, 10) peaks at 35, and only it is known
        // to (an empty span).
        let p = sites.used(0, 5, 10);
        assert_eq!((p.level, p.from, p.until), (35, 5, 5));
        assert_eq!(level(&mut sites, 9, 10), 35);
        sites.get_mut(0).release(0, 20, &[30, 0, 0]).unwrap();
        assert_eq!(level(&mut sites, 9, 12), 5);
    }

    #[test]
    fn the_tree_finds_the_least_and_where() {
        let mut t = MinTree::new(vec![5, 3, 9]);
        assert_eq!(t.least(), (3, 1));
        t.set(1, 10);
        assert_eq!(t.least(), (5, 0));
        t.set(2, 1);
        assert_eq!(t.least(), (1, 2));
        let one = MinTree::new(vec![7]);
        assert_eq!(one.least(), (7, 0));
        let none = MinTree::new(Vec::new());
        assert_eq!(none.least().0, u64::MAX);
    }

    proptest::proptest! {
        /// After any changes the tree's least value and its place are the first least of the
        /// values themselves (a change that leaves a subtree's minimum stops climbing early).
        #[test]
        fn the_tree_matches_the_values(
            n in 1usize..40,
            changes in proptest::collection::vec((0usize..40, 0u64..8), 0..200),
        ) {
            let mut values = vec![4u64; n];
            let mut t = MinTree::new(values.clone());
            for (i, v) in changes {
                let i = i % n;
                values[i] = v;
                t.set(i, v);
                let least = *values.iter().min().expect("not empty");
                let at = values.iter().position(|&x| x == least).expect("present");
                proptest::prop_assert_eq!(t.least(), (least, at));
            }
        }
    }
}
