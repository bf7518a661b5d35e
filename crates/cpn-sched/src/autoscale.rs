//! Replica scaling of a service with load: how many replicas it should run, decided the way
//! operators expect from Kubernetes' horizontal autoscaler, with two guards against flapping.
//!
//! - **Hysteresis.** The fleet's utilisation (load over what its replicas can serve) moves
//!   the replica count only when it leaves a band around the target: above `scale_up_above`
//!   it scales up, below `scale_down_below` it scales down, in between it holds. The new count
//!   is the one that brings utilisation back to `target` (`ceil(load / (per_replica ×
//!   target))`), within `min..=max`.
//! - **Cooldown.** After a change, no scale-up for `up_cooldown` seconds and no scale-down for
//!   `down_cooldown` seconds (longer: removing capacity too early is the costlier mistake).
//!
//! Pure: time and load come in as values; placing or releasing the replicas is the
//! scheduler's job.

use serde::Serialize;

/// The thresholds and limits of a service's scaling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScalePolicy {
    pub target: f64,
    pub scale_up_above: f64,
    pub scale_down_below: f64,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub up_cooldown: u64,
    pub down_cooldown: u64,
}

impl Default for ScalePolicy {
    /// Target 60 %, band 40-80 %, 1 to 100 replicas, cooldowns of 30 s up and 300 s down
    /// (the horizontal autoscaler's default stabilisation window for scaling down).
    fn default() -> Self {
        ScalePolicy {
            target: 0.6,
            scale_up_above: 0.8,
            scale_down_below: 0.4,
            min_replicas: 1,
            max_replicas: 100,
            up_cooldown: 30,
            down_cooldown: 300,
        }
    }
}

/// What the autoscaler decided at one observation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Scale {
    Hold { replicas: u32, reason: String },
    Up { from: u32, to: u32, reason: String },
    Down { from: u32, to: u32, reason: String },
}

/// The scaling state of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaler {
    pub policy: ScalePolicy,
    replicas: u32,
    last_change: Option<u64>,
}

impl Autoscaler {
    pub fn new(policy: ScalePolicy, replicas: u32) -> Autoscaler {
        Autoscaler {
            policy,
            replicas: replicas.clamp(policy.min_replicas, policy.max_replicas),
            last_change: None,
        }
    }

    pub fn replicas(&self) -> u32 {
        self.replicas
    }

    /// One observation at time `now`: `load` in requests/s (or any unit), `per_replica` what
    /// one replica serves in the same unit at 100 %.
    pub fn observe(&mut self, now: u64, load: f64, per_replica: f64) -> Scale {
        let p = self.policy;
        let current = self.replicas;
        let hold = |reason: String| Scale::Hold {
            replicas: current,
            reason,
        };
        if !(load.is_finite() && per_replica.is_finite() && per_replica > 0.0 && load >= 0.0) {
            return hold(format!(
                "ignored: load {load} or capacity {per_replica} per replica is not usable"
            ));
        }
        let utilisation = load / (f64::from(current) * per_replica);
        let desired =
            ((load / (per_replica * p.target)).ceil() as u32).clamp(p.min_replicas, p.max_replicas);
        let since = self.last_change.map_or(u64::MAX, |t| now.saturating_sub(t));
        let pct = utilisation * 100.0;
        if utilisation > p.scale_up_above && desired > current {
            if since < p.up_cooldown {
                return hold(format!(
                    "utilisation {pct:.0}% is high, but the last change was {since} s ago (cooldown {} s)",
                    p.up_cooldown
                ));
            }
            self.change(now, desired);
            return Scale::Up {
                from: current,
                to: desired,
                reason: format!("utilisation {pct:.0}% > {:.0}%", p.scale_up_above * 100.0),
            };
        }
        if utilisation < p.scale_down_below && desired < current {
            if since < p.down_cooldown {
                return hold(format!(
                    "utilisation {pct:.0}% is low, but the last change was {since} s ago (cooldown {} s)",
                    p.down_cooldown
                ));
            }
            self.change(now, desired);
            return Scale::Down {
                from: current,
                to: desired,
                reason: format!("utilisation {pct:.0}% < {:.0}%", p.scale_down_below * 100.0),
            };
        }
        hold(format!(
            "utilisation {pct:.0}% within {:.0}-{:.0}%",
            p.scale_down_below * 100.0,
            p.scale_up_above * 100.0
        ))
    }

    fn change(&mut self, now: u64, to: u32) {
        self.replicas = to;
        self.last_change = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_inside_the_band_never_changes_the_count() {
        let mut a = Autoscaler::new(ScalePolicy::default(), 10);
        // 10 replicas of 100 req/s; load wobbling 450..750 is 45..75 %: inside 40..80 %.
        for (t, load) in [600.0, 450.0, 750.0, 500.0, 700.0, 610.0]
            .into_iter()
            .enumerate()
        {
            assert!(matches!(
                a.observe(t as u64 * 60, load, 100.0),
                Scale::Hold { replicas: 10, .. }
            ));
        }
    }

    #[test]
    fn a_spike_scales_up_once_then_cooldowns_hold() {
        let mut a = Autoscaler::new(ScalePolicy::default(), 10);
        // 1200 req/s is 120 %: desired ceil(1200 / 60) = 20.
        assert_eq!(
            a.observe(0, 1200.0, 100.0),
            Scale::Up {
                from: 10,
                to: 20,
                reason: "utilisation 120% > 80%".into()
            }
        );
        // Load falls right away: 200 req/s is 10 %, but the down cooldown (300 s) holds.
        assert!(matches!(
            a.observe(60, 200.0, 100.0),
            Scale::Hold { replicas: 20, .. }
        ));
        // After the cooldown it scales down to ceil(200 / 60) = 4.
        assert!(matches!(
            a.observe(301, 200.0, 100.0),
            Scale::Down {
                from: 20,
                to: 4,
                ..
            }
        ));
        assert_eq!(a.replicas(), 4);
    }

    #[test]
    fn counts_stay_within_limits_and_bad_input_is_ignored() {
        let policy = ScalePolicy {
            max_replicas: 8,
            ..ScalePolicy::default()
        };
        let mut a = Autoscaler::new(policy, 2);
        assert!(matches!(
            a.observe(0, 10_000.0, 100.0),
            Scale::Up { to: 8, .. }
        ));
        assert!(matches!(
            a.observe(1_000, f64::NAN, 100.0),
            Scale::Hold { replicas: 8, .. }
        ));
        assert!(matches!(
            a.observe(2_000, 0.0, 100.0),
            Scale::Down { to: 1, .. }
        ));
    }
}
