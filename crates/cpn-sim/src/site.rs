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
}
