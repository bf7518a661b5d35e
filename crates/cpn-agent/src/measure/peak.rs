//! The theoretical peak FLOPS that a machine's facts imply: cores x clock x FLOPs per
//! cycle. FLOPs per cycle per core assume two fused multiply-add units, each doing one
//! vector FMA (two FLOPs per lane) per cycle, as on Intel since Haswell and AMD since
//! Zen 2. Parts with one FMA unit (some Xeon Silver/Bronze for AVX-512, Zen 1 for 256-bit)
//! reach half of this, so their efficiency reads low; a VM's `cpu MHz` is often the
//! host's nominal clock, below its boost clock, so its efficiency can read above 1.

use serde::{Deserialize, Serialize};

use super::system::{SystemFacts, VectorExtensions};

/// FP64 FLOPs per cycle per core: AVX-512 with FMA 32 (8 lanes x 2 x 2 units), AVX2 or
/// AVX with FMA 16, AVX without FMA 8 (an add and a multiply unit, 4 lanes each), SSE2 4,
/// nothing known 0. FP32 is twice this.
pub fn flops_per_cycle_fp64(ext: &VectorExtensions) -> u32 {
    match ext {
        VectorExtensions {
            avx512f: true,
            fma: true,
            ..
        } => 32,
        VectorExtensions {
            fma: true,
            avx: true,
            ..
        }
        | VectorExtensions {
            fma: true,
            avx2: true,
            ..
        } => 16,
        VectorExtensions { avx: true, .. } => 8,
        VectorExtensions { sse2: true, .. } => 4,
        _ => 0,
    }
}

/// The peak of a machine, and what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    /// Cores counted: physical cores when known (hyper-threads share their core's FMA
    /// units), else logical.
    pub cores: usize,
    /// Clock used, GHz.
    pub frequency_ghz: Option<f64>,
    /// FP64 FLOPs per cycle per core.
    pub fp64_flops_per_cycle: u32,
    /// FP32 FLOPs per cycle per core.
    pub fp32_flops_per_cycle: u32,
    /// All cores, FP64; `None` without a clock or known extensions.
    pub fp64_gflops: Option<f64>,
    /// All cores, FP32.
    pub fp32_gflops: Option<f64>,
    /// One core, FP64.
    pub one_core_fp64_gflops: Option<f64>,
    /// One core, FP32.
    pub one_core_fp32_gflops: Option<f64>,
    /// The assumption behind FLOPs per cycle.
    pub assumption: String,
}

impl Peak {
    /// The peak of this machine's facts.
    pub fn of(system: &SystemFacts) -> Peak {
        Peak::from_parts(
            system.physical_cores.unwrap_or(system.logical_cores),
            system.frequency_mhz,
            &system.vector_extensions,
        )
    }

    /// The peak of `cores` cores at `mhz` with extensions `ext`.
    pub fn from_parts(cores: usize, mhz: Option<f64>, ext: &VectorExtensions) -> Peak {
        let fp64 = flops_per_cycle_fp64(ext);
        let ghz = mhz.filter(|m| *m > 0.0).map(|m| m / 1000.0);
        let gflops = |per_cycle: u32, cores: usize| {
            ghz.filter(|_| per_cycle > 0)
                .map(|g| g * f64::from(per_cycle) * cores as f64)
        };
        Peak {
            cores,
            frequency_ghz: ghz,
            fp64_flops_per_cycle: fp64,
            fp32_flops_per_cycle: 2 * fp64,
            fp64_gflops: gflops(fp64, cores),
            fp32_gflops: gflops(2 * fp64, cores),
            one_core_fp64_gflops: gflops(fp64, 1),
            one_core_fp32_gflops: gflops(2 * fp64, 1),
            assumption: "two FMA units per core, one vector FMA each per cycle".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(flags: &str) -> VectorExtensions {
        VectorExtensions::from_flags(flags.split_whitespace())
    }

    #[test]
    fn flops_per_cycle_follow_the_widest_fma() {
        let cases = [
            ("sse2 avx avx2 fma avx512f", 32),
            ("sse2 avx avx2 fma", 16),
            ("sse2 avx fma", 16),
            ("sse2 avx", 8),
            ("sse2", 4),
            ("asimd", 0),
            // AVX-512 without FMA does not exist, but must not be counted as FMA.
            ("sse2 avx avx512f", 8),
        ];
        for (flags, want) in cases {
            assert_eq!(flops_per_cycle_fp64(&ext(flags)), want, "{flags}");
        }
    }

    #[test]
    fn peak_is_cores_times_clock_times_flops_per_cycle() {
        let p = Peak::from_parts(2, Some(2500.0), &ext("sse2 avx avx2 fma"));
        assert_eq!(p.fp64_gflops, Some(80.0));
        assert_eq!(p.fp32_gflops, Some(160.0));
        assert_eq!(p.one_core_fp64_gflops, Some(40.0));
        let p = Peak::from_parts(64, Some(2000.0), &ext("sse2 avx avx2 fma avx512f"));
        assert_eq!(p.fp64_gflops, Some(4096.0));
        assert_eq!(Peak::from_parts(2, None, &ext("avx fma")).fp64_gflops, None);
        assert_eq!(
            Peak::from_parts(2, Some(2000.0), &ext("asimd")).fp64_gflops,
            None
        );
    }
}
