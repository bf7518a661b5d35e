//! A compute site as a queue: `c` identical servers and one first-come-first-served waiting
//! line, the M/M/c (or G/G/c) station the twin puts behind every site.
//!
//! The site does not schedule anything itself: it answers which job starts when, and the
//! caller schedules that job's completion. That keeps the model usable from any event loop
//! and testable without one.

use std::collections::VecDeque;

/// A job that has just taken a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub job: u64,
    /// When it took the server, in ns.
    pub start: u64,
    /// When it will leave, in ns: the caller schedules its departure then.
    pub finish: u64,
    /// How long it waited in line, in ns.
    pub waited: u64,
}

#[derive(Debug, Clone, Copy)]
struct Waiting {
    job: u64,
    arrived: u64,
    service: u64,
}

/// A multi-server FIFO queue with running statistics.
#[derive(Debug, Clone)]
pub struct FifoSite {
    servers: u32,
    busy: u32,
    line: VecDeque<Waiting>,
    started: u64,
    total_wait: u128,
    max_line: usize,
    busy_area: u128,
    since: u64,
}

impl FifoSite {
    /// A site of `servers` servers (at least one).
    pub fn new(servers: u32) -> FifoSite {
        FifoSite {
            servers: servers.max(1),
            busy: 0,
            line: VecDeque::new(),
            started: 0,
            total_wait: 0,
            max_line: 0,
            busy_area: 0,
            since: 0,
        }
    }

    pub fn servers(&self) -> u32 {
        self.servers
    }

    /// Servers in use.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Jobs waiting for a server.
    pub fn waiting(&self) -> usize {
        self.line.len()
    }

    /// Jobs that have started service so far.
    pub fn started(&self) -> u64 {
        self.started
    }

    /// Mean wait in line of the jobs started so far, in ns.
    pub fn mean_wait_ns(&self) -> f64 {
        if self.started == 0 {
            0.0
        } else {
            self.total_wait as f64 / self.started as f64
        }
    }

    /// The longest the line has been.
    pub fn max_waiting(&self) -> usize {
        self.max_line
    }

    /// The share of server time in use from 0 to `now`.
    pub fn utilisation(&self, now: u64) -> f64 {
        let area = self.busy_area + u128::from(self.busy) * u128::from(now - self.since.min(now));
        if now == 0 {
            0.0
        } else {
            area as f64 / (f64::from(self.servers) * now as f64)
        }
    }

    /// Forgets the statistics gathered so far (after a warm-up), keeping the jobs.
    pub fn reset_statistics(&mut self, now: u64) {
        self.started = 0;
        self.total_wait = 0;
        self.max_line = self.line.len();
        self.busy_area = 0;
        self.since = now;
    }

    fn account(&mut self, now: u64) {
        self.busy_area += u128::from(self.busy) * u128::from(now.saturating_sub(self.since));
        self.since = self.since.max(now);
    }

    fn start(&mut self, now: u64, w: Waiting) -> Started {
        self.busy += 1;
        self.started += 1;
        let waited = now - w.arrived;
        self.total_wait += u128::from(waited);
        Started {
            job: w.job,
            start: now,
            finish: now.saturating_add(w.service),
            waited,
        }
    }

    /// A job arrives at `now` needing `service` ns of one server. Returns it started when a
    /// server is free; otherwise it waits in line.
    pub fn arrive(&mut self, now: u64, job: u64, service: u64) -> Option<Started> {
        self.account(now);
        let w = Waiting {
            job,
            arrived: now,
            service,
        };
        if self.busy < self.servers {
            Some(self.start(now, w))
        } else {
            self.line.push_back(w);
            self.max_line = self.max_line.max(self.line.len());
            None
        }
    }

    /// A job leaves at `now` (the caller's departure event); returns the job that takes its
    /// server, if one is waiting.
    pub fn depart(&mut self, now: u64) -> Option<Started> {
        self.account(now);
        self.busy = self.busy.saturating_sub(1);
        let w = self.line.pop_front()?;
        Some(self.start(now, w))
    }
}

/// A site as a pool of `units` of compute served first come, first served: a job holds
/// `units` of them for its service time, and the job at the head of the line waits until
/// enough are free, with no overtaking (a FCFS batch cluster). With one unit per job it is
/// the c-server [`FifoSite`]. Units can also be held back (background load that is not the
/// twin's own work).
///
/// The twin keeps one per site, so it stays small: 56 bytes plus its waiting line.
#[derive(Debug, Clone, Default)]
pub struct UnitSite {
    units: u64,
    running: u64,
    held: u64,
    line: VecDeque<UnitJob>,
}

#[derive(Debug, Clone, Copy)]
struct UnitJob {
    job: u64,
    arrived: u64,
    units: u64,
    service: u64,
}

/// A job asked for more units than the site has: it could never start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a job of {asked} units cannot run on a site of {units}")]
pub struct TooBig {
    pub asked: u64,
    pub units: u64,
}

impl UnitSite {
    pub fn new(units: u64) -> UnitSite {
        UnitSite {
            units,
            ..UnitSite::default()
        }
    }

    pub fn units(&self) -> u64 {
        self.units
    }

    /// Units neither running a job nor held back (none while background load and running
    /// jobs together exceed the site).
    pub fn free(&self) -> u64 {
        self.units.saturating_sub(self.running + self.held)
    }

    /// Units held back for background load.
    pub fn held(&self) -> u64 {
        self.held
    }

    pub fn waiting(&self) -> usize {
        self.line.len()
    }

    /// A job arrives at `now` needing `units` for `service` ns: started now when they are free
    /// and nobody waits before it, otherwise it joins the line.
    pub fn arrive(
        &mut self,
        now: u64,
        job: u64,
        units: u64,
        service: u64,
    ) -> Result<Option<Started>, TooBig> {
        if units > self.units {
            return Err(TooBig {
                asked: units,
                units: self.units,
            });
        }
        let j = UnitJob {
            job,
            arrived: now,
            units,
            service,
        };
        if self.line.is_empty() && units <= self.free() {
            self.running += units;
            return Ok(Some(start(now, j)));
        }
        self.line.push_back(j);
        Ok(None)
    }

    /// A job holding `units` leaves at `now`: the jobs that can start then are appended to
    /// `started`, in line order.
    pub fn depart(&mut self, now: u64, units: u64, started: &mut Vec<Started>) {
        self.running = self.running.saturating_sub(units);
        self.start_waiting(now, started);
    }

    /// Holds back `held` units (0 gives them all back) for background load. Running jobs
    /// keep their units; what they free goes to the background first. Jobs that can start
    /// once less is held are appended to `started`.
    pub fn hold_back(&mut self, now: u64, held: u64, started: &mut Vec<Started>) {
        self.held = held.min(self.units);
        self.start_waiting(now, started);
    }

    fn start_waiting(&mut self, now: u64, started: &mut Vec<Started>) {
        while let Some(j) = self.line.front().copied() {
            if j.units > self.free() {
                break;
            }
            self.line.pop_front();
            self.running += j.units;
            started.push(start(now, j));
        }
    }
}

fn start(now: u64, j: UnitJob) -> Started {
    Started {
        job: j.job,
        start: now,
        finish: now.saturating_add(j.service),
        waited: now - j.arrived,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Simulation;

    #[test]
    fn fifo_by_hand() {
        let mut s = FifoSite::new(2);
        let a = s.arrive(0, 1, 10).expect("free");
        assert_eq!((a.finish, a.waited), (10, 0));
        assert!(s.arrive(1, 2, 10).is_some());
        assert_eq!(s.arrive(2, 3, 5), None);
        assert_eq!(s.arrive(3, 4, 5), None);
        assert_eq!(s.waiting(), 2);
        let c = s.depart(10).expect("job 3 waits");
        assert_eq!(
            c,
            Started {
                job: 3,
                start: 10,
                finish: 15,
                waited: 8
            }
        );
        assert_eq!(s.depart(11).map(|d| d.job), Some(4));
        assert_eq!(s.depart(15), None);
        assert_eq!(s.depart(16), None);
        assert_eq!(s.busy(), 0);
        // Busy: job 1 over 0..10, job 2 over 1..11, job 3 over 10..15, job 4 over 11..16.
        assert!((s.utilisation(20) - (10.0 + 10.0 + 5.0 + 5.0) / 40.0).abs() < 1e-12);
    }

    /// Erlang's C formula from its definition (an independent check of cpn-route's
    /// recurrence): P_W = (a^c / c!) / (1 − ρ) / (Σ_{k<c} a^k / k! + (a^c / c!) / (1 − ρ)).
    fn erlang_c(c: u32, rho: f64) -> f64 {
        let a = f64::from(c) * rho;
        let mut term = 1.0;
        let mut sum = 0.0;
        for k in 0..c {
            sum += term;
            term *= a / f64::from(k + 1);
        }
        let last = term / (1.0 - rho);
        last / (sum + last)
    }

    #[derive(Debug)]
    enum Ev {
        Arrive,
        Depart,
    }

    /// Mean wait in ns of an M/M/c site at utilisation `rho` with mean service `s` ns over
    /// `customers` customers after a warm-up of a tenth as many.
    fn simulate_mmc(c: u32, rho: f64, s: f64, customers: u64, seed: u64) -> f64 {
        let mut sim = Simulation::new(seed);
        let mut site = FifoSite::new(c);
        let mean_gap = s / (f64::from(c) * rho);
        let warmup = customers / 10;
        let mut arrived = 0u64;
        let first = sim.rng().exponential_ns(mean_gap);
        sim.schedule(first, Ev::Arrive).expect("future");
        while let Some((now, ev)) = sim.next() {
            let started = match ev {
                Ev::Arrive => {
                    arrived += 1;
                    if arrived == warmup {
                        site.reset_statistics(now);
                    }
                    if arrived < warmup + customers {
                        let gap = sim.rng().exponential_ns(mean_gap);
                        sim.schedule_in(gap, Ev::Arrive).expect("future");
                    }
                    let service = sim.rng().exponential_ns(s);
                    site.arrive(now, arrived, service)
                }
                Ev::Depart => site.depart(now),
            };
            if let Some(st) = started {
                sim.schedule(st.finish, Ev::Depart).expect("future");
            }
        }
        site.mean_wait_ns()
    }

    #[test]
    fn mm1_mean_wait_matches_the_textbook() {
        let (rho, s) = (0.7, 1e6);
        let want = rho / (1.0 - rho) * s;
        let got = simulate_mmc(1, rho, s, 3_000_000, 11);
        let err = (got - want).abs() / want;
        assert!(err < 0.02, "M/M/1: {got} ns against {want} ns ({err:.4})");
    }

    #[test]
    fn mmc_mean_wait_matches_erlang_c() {
        // With many servers most customers do not wait at all, so the mean wait is estimated
        // from fewer waits and needs a longer run.
        for (c, rho, customers, seed) in [(4, 0.7, 2_000_000, 12), (16, 0.8, 5_000_000, 13)] {
            let s = 1e6;
            let want = erlang_c(c, rho) * s / (f64::from(c) * (1.0 - rho));
            let got = simulate_mmc(c, rho, s, customers, seed);
            let err = (got - want).abs() / want;
            assert!(err < 0.02, "M/M/{c}: {got} ns against {want} ns ({err:.4})");
        }
    }

    #[test]
    fn erlang_c_by_hand() {
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        assert!((erlang_c(2, 0.5) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn units_first_come_first_served() {
        let mut s = UnitSite::new(10);
        let mut out = Vec::new();
        let a = s.arrive(0, 1, 6, 10).expect("fits").expect("free");
        assert_eq!((a.finish, a.waited), (10, 0));
        // 4 free: a job of 5 waits, and the job of 2 behind it does not overtake.
        assert_eq!(s.arrive(1, 2, 5, 10), Ok(None));
        assert_eq!(s.arrive(2, 3, 2, 10), Ok(None));
        assert_eq!(s.free(), 4);
        s.depart(10, 6, &mut out);
        let started: Vec<(u64, u64, u64)> =
            out.iter().map(|x| (x.job, x.start, x.waited)).collect();
        assert_eq!(started, [(2, 10, 9), (3, 10, 8)]);
        assert_eq!(s.free(), 3);
        assert_eq!(
            s.arrive(3, 4, 11, 1),
            Err(TooBig {
                asked: 11,
                units: 10
            })
        );
    }

    #[test]
    fn held_back_units_delay_jobs() {
        let mut s = UnitSite::new(10);
        let mut out = Vec::new();
        s.hold_back(0, 8, &mut out);
        assert_eq!(s.free(), 2);
        assert!(s.arrive(1, 1, 2, 5).expect("fits").is_some());
        assert_eq!(s.arrive(2, 2, 3, 5), Ok(None));
        // The background falls to 4 units: 10 - 2 running - 4 held = 4 free, job 2 starts.
        s.hold_back(3, 4, &mut out);
        assert_eq!(out.iter().map(|x| x.job).collect::<Vec<_>>(), [2]);
        assert_eq!(s.free(), 1);
        out.clear();
        s.depart(6, 2, &mut out);
        s.depart(8, 3, &mut out);
        s.hold_back(9, 0, &mut out);
        assert_eq!(s.free(), 10);
    }

    /// With one unit per job the unit site is the c-server FIFO site.
    #[test]
    fn one_unit_jobs_are_the_fifo_site() {
        let mut rng = crate::Rng::new(5);
        let mut fifo = FifoSite::new(3);
        let mut units = UnitSite::new(3);
        let mut t = 0;
        let mut pending: Vec<(u64, bool)> = Vec::new();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for job in 0..2_000u64 {
            t += rng.exponential_ns(300.0);
            // Departures due by t, earliest first, in both.
            loop {
                pending.sort_unstable();
                let Some(&(d, _)) = pending.first() else {
                    break;
                };
                if d > t {
                    break;
                }
                pending.remove(0);
                if let Some(x) = fifo.depart(d) {
                    a.push(x);
                    pending.push((x.finish, true));
                }
                units.depart(d, 1, &mut b);
            }
            let service = rng.exponential_ns(900.0);
            let x = fifo.arrive(t, job, service);
            let y = units.arrive(t, job, 1, service).expect("fits");
            assert_eq!(x, y);
            if let Some(x) = x {
                a.push(x);
                b.push(x);
                pending.push((x.finish, true));
            }
        }
        assert_eq!(a, b);
    }
}
