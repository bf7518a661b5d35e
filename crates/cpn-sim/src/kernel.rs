//! The simulation loop's state: the clock, the pending events and the random stream.
//!
//! The kernel knows nothing of what an event means. The caller pops the next event, which
//! moves the clock to its time, handles it and schedules what follows:
//!
//! ```
//! use cpn_sim::Simulation;
//! let mut sim = Simulation::new(1);
//! sim.schedule(10, "hello").unwrap();
//! while let Some((t, e)) = sim.next() {
//!     if e == "hello" { sim.schedule_in(5, "bye").unwrap(); }
//!     assert_eq!(sim.now(), t);
//! }
//! assert_eq!(sim.now(), 15);
//! ```

use thiserror::Error;

use crate::queue::{EventQueue, QueueError};
use crate::rng::Rng;

/// A scheduling request the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimError {
    #[error("cannot schedule at {at} ns: the simulation is at {now} ns")]
    Past { at: u64, now: u64 },
    #[error("cannot schedule {delay} ns after {now} ns: beyond the end of simulated time")]
    Overflow { now: u64, delay: u64 },
}

/// A deterministic discrete-event simulation over events of type `E`: the same seed and the
/// same handling give the same sequence of events, bit for bit.
#[derive(Debug)]
pub struct Simulation<E> {
    now: u64,
    queue: EventQueue<E>,
    rng: Rng,
    handled: u64,
}

impl<E> Simulation<E> {
    pub fn new(seed: u64) -> Simulation<E> {
        Simulation {
            now: 0,
            queue: EventQueue::new(),
            rng: Rng::new(seed),
            handled: 0,
        }
    }

    /// Simulated time in ns: the time of the last event returned by [`Simulation::next`].
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Events still pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Events returned so far.
    pub fn handled(&self) -> u64 {
        self.handled
    }

    /// The random stream of the run.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Schedules `event` at the absolute time `at` (not before now). Events at equal times
    /// are returned in the order they were scheduled.
    pub fn schedule(&mut self, at: u64, event: E) -> Result<(), SimError> {
        match self.queue.push(at, event) {
            Ok(()) => Ok(()),
            Err(QueueError::Past { at, .. }) => Err(SimError::Past { at, now: self.now }),
        }
    }

    /// Schedules `event` `delay` ns from now.
    pub fn schedule_in(&mut self, delay: u64, event: E) -> Result<(), SimError> {
        let at = self.now.checked_add(delay).ok_or(SimError::Overflow {
            now: self.now,
            delay,
        })?;
        self.schedule(at, event)
    }

    /// The next event and its time, moving the clock there; `None` when nothing is pending.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<(u64, E)> {
        let (t, e) = self.queue.pop()?;
        self.now = t;
        self.handled += 1;
        Some((t, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_follows_events_and_refuses_the_past() {
        let mut sim = Simulation::new(0);
        sim.schedule(100, 'a').expect("future");
        sim.schedule(50, 'b').expect("future");
        assert_eq!(sim.next(), Some((50, 'b')));
        assert_eq!(sim.now(), 50);
        assert_eq!(
            sim.schedule(49, 'c'),
            Err(SimError::Past { at: 49, now: 50 })
        );
        assert_eq!(
            sim.schedule_in(u64::MAX, 'c'),
            Err(SimError::Overflow {
                now: 50,
                delay: u64::MAX
            })
        );
        sim.schedule_in(0, 'd').expect("now");
        assert_eq!(sim.next(), Some((50, 'd')));
        assert_eq!(sim.next(), Some((100, 'a')));
        assert_eq!(sim.next(), None);
        assert_eq!(sim.handled(), 3);
    }

    /// Same seed, same trace; a different seed, a different one.
    #[test]
    fn runs_are_reproducible() {
        let run = |seed| {
            let mut sim = Simulation::new(seed);
            for i in 0..100u32 {
                let d = sim.rng().exponential_ns(1e6);
                sim.schedule(d, i).expect("future");
            }
            let mut trace = Vec::new();
            while let Some((t, i)) = sim.next() {
                trace.push((t, i));
                if sim.handled() < 10_000 {
                    let d = sim.rng().exponential_ns(1e6);
                    sim.schedule_in(d, i).expect("future");
                }
            }
            trace
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }
}
