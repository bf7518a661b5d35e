//! The queueing estimate of the joint decision: how long a request waits at a site before it
//! is processed, from the site's current load.
//!
//! Model: M/M/c. A site that has `capacity` FLOPS serves requests that each need `demand`
//! FLOPS for `processing` time, so it is `c = ⌊capacity / demand⌋` parallel servers with mean
//! service time `processing`. At utilisation `ρ` (the share of its capacity in use) the
//! probability that a request must wait is Erlang's C formula `P_W(c, a = cρ)`, and the mean
//! wait is `W_q = P_W · processing / (c · (1 − ρ))`.
//!
//! Erlang C is computed exactly through the stable Erlang B recurrence for up to
//! [`EXACT_SERVERS`] servers. Beyond that, where the exact sum would cost O(c) per decision, it
//! uses the Halfin-Whitt approximation `P_W ≈ 1 / (1 + β Φ(β) / φ(β))` with
//! `β = (1 − ρ)√c`, which is accurate for the many-server regime it is used in (a cloud
//! cluster is hundreds of thousands of servers for a typical demand).

/// Up to this many servers, Erlang C is computed exactly.
pub const EXACT_SERVERS: u64 = 256;

/// The mean wait in ns of a request needing `demand` FLOPS for `processing_ns` at a site of
/// `capacity` FLOPS at utilisation `rho` (0 ≤ ρ). `None` when the site is saturated (ρ ≥ 1) or
/// cannot serve the demand at all (capacity below demand).
pub fn mean_wait_ns(capacity: u128, demand: u128, processing_ns: u64, rho: f64) -> Option<u64> {
    if demand == 0 || capacity < demand || !(0.0..1.0).contains(&rho) {
        return None;
    }
    if rho == 0.0 {
        // An idle site: nobody waits. Skipping the 128-bit division matters when thousands
        // of candidates are judged per decision.
        return Some(0);
    }
    // Both fit 64 bits at any real site: a 64-bit division is several times quicker.
    let servers = match (u64::try_from(capacity), u64::try_from(demand)) {
        (Ok(c), Ok(d)) => c / d,
        _ => u64::try_from(capacity / demand).unwrap_or(u64::MAX),
    };
    let p_wait = erlang_c(servers, rho);
    let wait = p_wait * processing_ns as f64 / (servers as f64 * (1.0 - rho));
    Some(wait.round().clamp(0.0, u64::MAX as f64) as u64)
}

/// Probability of waiting in an M/M/c queue with `c` servers at utilisation `rho` (< 1).
pub fn erlang_c(c: u64, rho: f64) -> f64 {
    if rho <= 0.0 || c == 0 {
        return 0.0;
    }
    if c <= EXACT_SERVERS {
        let a = c as f64 * rho;
        // Erlang B by its reciprocal: B(k) = a B(k-1) / (k + a B(k-1)) is
        // 1/B(k) = 1 + (k / a) / B(k-1), from 1/B(0) = 1. No factorials, and no division in
        // the loop (a multiplication and an addition per server instead of a division that
        // waits for the one before). Where 1/B overflows, B is below the smallest float, as
        // the direct recurrence finds it too.
        let per_server = 1.0 / a;
        let mut inverse = 1.0f64;
        for k in 1..=c {
            inverse = 1.0 + (k as f64 * per_server) * inverse;
        }
        let b = 1.0 / inverse;
        b / (1.0 - rho * (1.0 - b))
    } else {
        let beta = (1.0 - rho) * (c as f64).sqrt();
        1.0 / (1.0 + beta * normal_cdf(beta) / normal_pdf(beta))
    }
}

fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Φ(x) through erfc, with the Abramowitz-Stegun 7.1.26 approximation (error < 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-z * z).exp();
    if z >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_by_hand() {
        // M/M/1: P_W = ρ.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        // M/M/2 at a = 1 (ρ = 0.5): C = (a²/2!)/(1-ρ) / (1 + a + (a²/2!)/(1-ρ)) = 1 / 3.
        assert!((erlang_c(2, 0.5) - 1.0 / 3.0).abs() < 1e-12);
    }

    /// The reciprocal recurrence gives Erlang C as the textbook recurrence of Erlang B does,
    /// to a few units in the last place, from one server to the last computed exactly.
    #[test]
    fn erlang_c_matches_the_direct_recurrence() {
        let direct = |c: u64, rho: f64| {
            let a = c as f64 * rho;
            let mut b = 1.0;
            for k in 1..=c {
                b = a * b / (k as f64 + a * b);
            }
            b / (1.0 - rho * (1.0 - b))
        };
        for c in 1..=EXACT_SERVERS {
            for step in 1..100 {
                let rho = f64::from(step) / 100.0;
                let (got, want) = (erlang_c(c, rho), direct(c, rho));
                let tolerance = 1e-12 * want.abs() + 1e-300;
                assert!(
                    (got - want).abs() <= tolerance,
                    "c {c}, ρ {rho}: {got} against {want}"
                );
            }
        }
    }

    #[test]
    fn halfin_whitt_is_close_to_exact_where_they_meet() {
        for rho in [0.5, 0.8, 0.9, 0.95, 0.99] {
            let exact = erlang_c(EXACT_SERVERS, rho);
            let beta = (1.0 - rho) * (EXACT_SERVERS as f64).sqrt();
            let approx = 1.0 / (1.0 + beta * normal_cdf(beta) / normal_pdf(beta));
            assert!(
                (exact - approx).abs() < 0.02,
                "ρ {rho}: exact {exact}, approx {approx}"
            );
        }
    }

    #[test]
    fn waits_grow_with_load_and_vanish_when_idle() {
        let (cap, demand, proc) = (10 * 20u128, 20u128, 4_000_000);
        assert_eq!(mean_wait_ns(cap, demand, proc, 0.0), Some(0));
        let w5 = mean_wait_ns(cap, demand, proc, 0.5).expect("stable");
        let w9 = mean_wait_ns(cap, demand, proc, 0.9).expect("stable");
        assert!(w9 > w5, "{w5} {w9}");
        assert_eq!(mean_wait_ns(cap, demand, proc, 1.0), None);
        assert_eq!(mean_wait_ns(10, 20, proc, 0.1), None);
        // M/M/1 at ρ = 0.5: W_q = ρ / (1 - ρ) × S = S.
        assert_eq!(mean_wait_ns(20, 20, proc, 0.5), Some(proc));
    }
}
