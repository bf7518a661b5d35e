//! Measuring this machine: dense FP64 and FP32 matrix multiply (GFLOPS), an integer
//! multiply-add kernel (GOPS), SHA-256 of 64-byte messages (hashes/s) and the STREAM triad
//! (GB/s), each on one core and on all cores, next to the facts the system states about
//! itself (cores, model, frequency, vector extensions, memory, disk, GPUs) and the
//! theoretical peak those facts imply.
//!
//! Every kernel is timed the same way (`time_kernel`): one untimed warm-up call that also
//! sizes a round (enough calls to last [`Config::round_ms`]), then [`Config::rounds`]
//! timed rounds. Each kernel reports the median round with its min, max and relative spread;
//! the figure a node advertises is the fastest round, as STREAM reports its best rate:
//! interference on a shared machine only ever slows a round down, so the fastest round is
//! the steadiest estimate of what the machine can do. Sizes adapt to the machine's speed,
//! which keeps a run short in debug builds and long enough to be stable in release builds.

mod gemm;
mod kernels;
mod peak;
mod system;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use peak::{Peak, flops_per_cycle_fp64};
pub use system::{
    CpuInfo, FrequencySource, Gpu, SystemFacts, VectorExtensions, parse_cpuinfo, parse_meminfo,
};

/// How hard to measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Timed rounds per kernel and thread count; the figure is the fastest of them.
    pub rounds: usize,
    /// How long one timed round should last, in milliseconds; a warm-up call tells how many
    /// calls of the kernel make a round this long.
    pub round_ms: u64,
    /// Side of the square matrices multiplied.
    pub gemm_n: usize,
    /// Elements in each of the three STREAM triad arrays (f64).
    pub triad_elements: usize,
    /// Threads of the all-cores figures: the logical cores the OS offers.
    pub threads: usize,
    /// Whether this is the quick configuration (recorded with the results).
    pub quick: bool,
}

impl Config {
    /// The full measurement: 5 rounds of about 0.25 s per kernel, 1024 x 1024 matrices (a
    /// size at which OpenBLAS and `gemm` both run at their steady rate) and three 64 MiB
    /// triad arrays, far beyond any cache of a 2020s CPU. About 15 s on two cores.
    pub fn full() -> Self {
        Config {
            rounds: 5,
            round_ms: 250,
            gemm_n: 1024,
            triad_elements: 8 << 20,
            threads: logical_cores(),
            quick: false,
        }
    }

    /// A quick measurement for tests and first contact: 3 short rounds, 512 x 512 matrices,
    /// three 32 MiB triad arrays (still beyond the last-level cache of most machines an
    /// agent runs on, though not of the largest server parts).
    pub fn quick() -> Self {
        Config {
            rounds: 3,
            round_ms: 40,
            gemm_n: 512,
            triad_elements: 4 << 20,
            threads: logical_cores(),
            quick: true,
        }
    }
}

/// The logical cores the OS lets this process use (at least one).
fn logical_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The median of timed rounds, with the fastest and slowest round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The median round's rate (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The slowest round's rate.
    pub min: f64,
    /// The fastest round's rate.
    pub max: f64,
    /// `(max - min) / median`: how much the rounds disagreed.
    pub spread: f64,
}

impl Stats {
    /// The statistics of some rates; all zero for none.
    pub fn of(rates: &[f64]) -> Stats {
        let mut sorted = rates.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return Stats {
                median: 0.0,
                min: 0.0,
                max: 0.0,
                spread: 0.0,
            };
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        let (min, max) = (sorted[0], sorted[n - 1]);
        let spread = if median > 0.0 {
            (max - min) / median
        } else {
            0.0
        };
        Stats {
            median,
            min,
            max,
            spread,
        }
    }
}

/// Throughput figures of one thread count, in the units of their names. These five are
/// what the CATS mapping scores, so they also make up a synthetic machine in tests.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Dense f64 matrix multiply, `2 n^3` floating point operations per product.
    pub fp64_gflops: f64,
    /// Dense f32 matrix multiply.
    pub fp32_gflops: f64,
    /// u32 multiply-add, two operations per element.
    pub int_gops: f64,
    /// SHA-256 digests of distinct 64-byte messages.
    pub sha256_hashes_per_s: f64,
    /// STREAM triad, 24 bytes per element (two reads, one write), in 10^9 bytes/s.
    pub mem_bandwidth_gbps: f64,
}

/// One kernel's figures: the rounds on one core and on all cores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelReport {
    /// `fp64_gemm`, `fp32_gemm`, `int32_muladd`, `sha256_64b`, `stream_triad`.
    pub name: String,
    /// Unit of the rates: `GFLOPS`, `GOPS`, `hashes/s`, `GB/s`.
    pub unit: String,
    /// One thread.
    pub one_core: Stats,
    /// [`Config::threads`] threads.
    pub all_cores: Stats,
    /// The theoretical peak of all cores, for the floating point kernels.
    pub peak: Option<f64>,
    /// `all_cores.max / peak`.
    pub efficiency: Option<f64>,
}

/// Everything one measurement found. The top-level throughput keys (`fp64_gflops` ...)
/// are the all-cores fastest rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The all-cores fastest rounds.
    #[serde(flatten)]
    pub all_cores: Throughput,
    /// Logical cores, the thread count of the all-cores figures.
    pub cores: usize,
    /// The one-core fastest rounds.
    pub single_core: Throughput,
    /// Every kernel with its spread, peak and efficiency.
    pub kernels: Vec<KernelReport>,
    /// What the system's facts promise.
    pub peak: Peak,
    /// What the system states about itself.
    pub system: SystemFacts,
    /// How the figures were taken.
    pub config: Config,
}

/// Measures this machine. Takes about `2 * 5 * rounds * round_ms` plus warm-ups and
/// reading the system's facts; it cannot fail, since a fact the system does not state is
/// reported as absent.
pub fn measure(config: &Config) -> Measurement {
    let system = SystemFacts::read();
    let peak = Peak::of(&system);
    let threads = config.threads.max(1);
    let n = config.gemm_n.max(16);

    let fp64 = both(threads, |t| gemm::f64_rate(config, n, t));
    let fp32 = both(threads, |t| gemm::f32_rate(config, n, t));
    let int = both(threads, |t| kernels::int_rate(config, t));
    let sha = both(threads, |t| kernels::sha256_rate(config, t));
    let triad = both(threads, |t| kernels::triad_rate(config, t));

    let report =
        |name: &str, unit: &str, (one, all): (Stats, Stats), peak: Option<f64>| KernelReport {
            name: name.to_string(),
            unit: unit.to_string(),
            one_core: one,
            all_cores: all,
            peak,
            efficiency: peak.filter(|p| *p > 0.0).map(|p| all.max / p),
        };
    let kernels = vec![
        report("fp64_gemm", "GFLOPS", fp64, peak.fp64_gflops),
        report("fp32_gemm", "GFLOPS", fp32, peak.fp32_gflops),
        report("int32_muladd", "GOPS", int, None),
        report("sha256_64b", "hashes/s", sha, None),
        report("stream_triad", "GB/s", triad, None),
    ];
    let fastest = |side: fn(&(Stats, Stats)) -> Stats| Throughput {
        fp64_gflops: side(&fp64).max,
        fp32_gflops: side(&fp32).max,
        int_gops: side(&int).max,
        sha256_hashes_per_s: side(&sha).max,
        mem_bandwidth_gbps: side(&triad).max,
    };
    let (all_cores, single_core) = (fastest(|s| s.1), fastest(|s| s.0));
    Measurement {
        all_cores,
        cores: threads,
        single_core,
        kernels,
        peak,
        system,
        config: config.clone(),
    }
}

/// A kernel's statistics on one thread and on `threads` threads.
fn both(threads: usize, mut rates: impl FnMut(usize) -> Vec<f64>) -> (Stats, Stats) {
    let one = Stats::of(&rates(1));
    let all = Stats::of(&rates(threads));
    (one, all)
}

/// Times `run(calls)`, which makes `calls` calls of a kernel (on as many threads as it
/// likes) and returns the work done, in the unit of the rate. One warm-up call sizes a
/// round to last about `round_ms`; then `rounds` rounds run that many calls each.
/// Returns the rate of each round.
fn time_kernel(config: &Config, mut run: impl FnMut(u64) -> f64) -> Vec<f64> {
    let start = Instant::now();
    run(1);
    let once = start.elapsed().max(Duration::from_micros(1));
    let calls = (config.round_ms as f64 / 1e3 / once.as_secs_f64())
        .ceil()
        .clamp(1.0, 1e9) as u64;
    (0..config.rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            let work = run(calls);
            work / start.elapsed().as_secs_f64().max(1e-9)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_take_the_median_and_spread() {
        let s = Stats::of(&[10.0, 8.0, 12.0]);
        assert_eq!((s.median, s.min, s.max), (10.0, 8.0, 12.0));
        assert!((s.spread - 0.4).abs() < 1e-12);
        let even = Stats::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(even.median, 2.5);
        assert_eq!(Stats::of(&[]).median, 0.0);
    }
}
