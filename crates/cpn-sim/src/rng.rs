//! Seeded random variates: xoshiro256++ (Blackman and Vigna 2019), seeded through
//! SplitMix64 as its authors recommend, and the samplers a simulation draws from.
//!
//! Everything here is specified down to the bit, so the same seed gives the same run on every
//! machine and build; nothing reads the operating system's entropy.

/// The generator of a simulation: fast, 256 bits of state, passes BigCrush; not for secrets.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

/// SplitMix64's step, used only to spread a 64-bit seed over xoshiro's state.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        Rng {
            s: [
                splitmix64(&mut sm),
                splitmix64(&mut sm),
                splitmix64(&mut sm),
                splitmix64(&mut sm),
            ],
        }
    }

    /// An independent stream for a part of the model (a site, a source), so that adding a
    /// draw in one part does not shift the numbers every other part sees.
    pub fn fork(&mut self, stream: u64) -> Rng {
        Rng::new(self.next_u64() ^ stream.wrapping_mul(0xD605_BBB5_8C8A_BBD5))
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`, 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `(0, 1]`: safe under a logarithm.
    fn open_unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` without modulo bias (Lemire's multiply-shift with rejection); 0 when
    /// `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform in `[lo, hi)` as reals.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// True with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponential with the given mean (inversion).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * self.open_unit().ln()
    }

    /// An exponential duration in whole ns with the given mean in ns, rounded to nearest.
    pub fn exponential_ns(&mut self, mean_ns: f64) -> u64 {
        to_ns(self.exponential(mean_ns))
    }

    /// Standard normal (Box-Muller; one of the pair is dropped so that a draw is always two
    /// uniforms, which keeps streams aligned however the draws interleave).
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let r = (-2.0 * self.open_unit().ln()).sqrt();
        let theta = std::f64::consts::TAU * self.unit();
        mean + sd * r * theta.cos()
    }

    /// Log-normal whose underlying normal has parameters `mu` and `sigma`.
    pub fn lognormal(&mut self, mu: f64, sigma: f64) -> f64 {
        self.normal(mu, sigma).exp()
    }

    /// Pareto with scale `xm` (the minimum) and shape `alpha`: heavy-tailed sizes.
    pub fn pareto(&mut self, xm: f64, alpha: f64) -> f64 {
        xm / self.open_unit().powf(1.0 / alpha)
    }

    /// Erlang-k with the given mean: the sum of `k` exponentials of mean `mean / k`.
    pub fn erlang(&mut self, k: u32, mean: f64) -> f64 {
        let k = k.max(1);
        let product: f64 = (0..k).map(|_| self.open_unit()).product();
        -mean / f64::from(k) * product.ln()
    }
}

/// A non-negative real duration in ns as whole ns, rounded to nearest and saturating.
pub fn to_ns(x: f64) -> u64 {
    x.round().clamp(0.0, u64::MAX as f64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_first_outputs() {
        // xoshiro256++ from the state SplitMix64(0) gives; the first SplitMix64 output of 0
        // is 0xE220A8397B1DCDAF (the reference value of Vigna's splitmix64.c).
        let mut sm = 0;
        assert_eq!(splitmix64(&mut sm), 0xE220_A839_7B1D_CDAF);
        let a: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, {
            let mut r = Rng::new(43);
            (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
        });
    }

    #[test]
    fn sample_means() {
        let mut r = Rng::new(7);
        let n = 200_000;
        let mean = |f: &mut dyn FnMut() -> f64| (0..n).map(|_| f()).sum::<f64>() / n as f64;
        let close = |got: f64, want: f64| (got - want).abs() < 0.02 * want.abs().max(1.0);
        assert!(close(mean(&mut || r.exponential(3.0)), 3.0));
        assert!(close(mean(&mut || r.normal(5.0, 2.0)), 5.0));
        assert!(close(mean(&mut || r.erlang(4, 2.0)), 2.0));
        assert!(close(mean(&mut || r.uniform(1.0, 3.0)), 2.0));
        assert!(close(mean(&mut || r.pareto(1.0, 3.0)), 1.5));
        assert!(close(mean(&mut || r.lognormal(0.0, 0.5)), (0.125f64).exp()));
        assert!(close(mean(&mut || r.below(10) as f64), 4.5));
        assert!((0..1000).all(|_| r.below(7) < 7));
        assert_eq!(r.below(0), 0);
    }
}
