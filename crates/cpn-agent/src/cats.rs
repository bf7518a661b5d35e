//! CATS metrics from a measurement (`docs/cats-metrics.md`, "From measurements"): the
//! measured figures as L0 metrics, a compute score per figure, the compute L1 score and
//! the L2 score. Everything here is a pure function of a [`Measurement`] or of its
//! [`Throughput`], so scores can be checked on synthetic machines.
//!
//! Each throughput is scored on a log scale: `s = sigmoid(log10(x))` with its midpoint at a
//! reference node's figure ([`REFERENCE`], which scores 5) and a steepness of
//! [`STEEPNESS_PER_DECADE`]. Computing power across a network spans six orders of magnitude
//! (a single-board computer to a GPU server), and what matters is ratios: a log scale gives
//! a 4x faster node the same score step wherever it stands, and makes the score barely
//! move with the 10-20 % noise of a measurement on a shared machine (at most 0.1 score
//! points for 20 %, at the midpoint where the curve is steepest).

use cpn_cats::{
    AggregateError, Aggregation, Category, L0Kind, L0Metric, L0Value, L1Metric, L2Metric,
    Normalisation, NormaliseError, Normaliser, Score, Statistic, Unit, aggregate,
};
use serde::Serialize;
use thiserror::Error;

use crate::measure::{Measurement, Throughput};

/// The reference node, which scores 5 on every figure: a 32-core AVX2/FMA server with
/// eight DDR4-3200 channels (a 2021 two-socket EPYC or Xeon class machine). Its figures
/// are 32 times the per-core figures of such cores (about 40 GFLOPS FP64 per core at 80 %
/// of peak, 30 GOPS, 9 M SHA-256 digests/s with SHA extensions) and 150 GB/s, what STREAM
/// typically reaches on eight channels (205 GB/s theoretical).
pub const REFERENCE: Throughput = Throughput {
    fp64_gflops: 1000.0,
    fp32_gflops: 2000.0,
    int_gops: 1000.0,
    sha256_hashes_per_s: 3.0e8,
    mem_bandwidth_gbps: 150.0,
};

/// Steepness of the sigmoid per decade of the raw figure: a node 10 times the reference
/// scores 10 / (1 + e^-0.4) = 5.99, 100 times 6.90, 1000 times 7.69; a tenth of it 4.01, a
/// thousandth 2.31. The slope is at most 0.4 x 10 / 4 = 1 point per decade, so a factor
/// of 1.25 (0.097 decades) moves a score by less than 0.1 anywhere on the scale.
pub const STEEPNESS_PER_DECADE: f64 = 0.4;

/// Weights of the figures in the compute L1 score: FP64, FP32, integer, SHA-256, memory
/// bandwidth. Floating point weighs most (it is what scientific and AI workloads buy),
/// memory bandwidth as much as FP32 because it bounds most real kernels; hashing least, as
/// the narrowest workload.
pub const WEIGHTS: [f64; 5] = [0.3, 0.2, 0.2, 0.1, 0.2];

/// Names of the figures, in the order of [`WEIGHTS`]; also the keys of the measurement.
pub const FIGURES: [&str; 5] = [
    "fp64_gflops",
    "fp32_gflops",
    "int_gops",
    "sha256_hashes_per_s",
    "mem_bandwidth_gbps",
];

/// Why a measurement could not be scored.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum CatsError {
    #[error("cannot score {figure}: {source}")]
    Normalise {
        figure: &'static str,
        source: NormaliseError,
    },
    #[error("cannot aggregate scores: {0}")]
    Aggregate(#[from] AggregateError),
}

/// An L0 metric with the name of the figure it carries: the draft's L0 kinds cannot tell
/// FP64 from FP32 FLOPS, or integer operations and hashes from FLOPS, so the name does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NamedL0 {
    /// The figure, such as `fp64_gflops`.
    pub name: &'static str,
    /// The metric.
    pub metric: L0Metric,
}

/// One figure's score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FigureScore {
    /// The figure, such as `fp64_gflops`.
    pub name: &'static str,
    /// The measured value, in the figure's unit.
    pub raw: f64,
    /// The reference node's value, which scores 5.
    pub reference: f64,
    /// Its weight in the compute L1 score.
    pub weight: f64,
    /// The score.
    pub score: Score,
}

/// The CATS view of a measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatsReport {
    /// The raw metrics, all directly measured.
    pub l0: Vec<NamedL0>,
    /// Each throughput figure's score.
    pub figures: Vec<FigureScore>,
    /// The category scores: compute only, since a measurement of the node says nothing of
    /// its network or services.
    pub l1: Vec<L1Metric>,
    /// The instance score.
    pub l2: L2Metric,
}

/// The normaliser of a figure whose reference value is `reference`: a sigmoid over
/// `log10(x)` with midpoint `log10(reference)`.
pub fn normaliser(reference: f64) -> Normaliser {
    Normaliser {
        function: Normalisation::Sigmoid {
            midpoint: reference.log10(),
            steepness: STEEPNESS_PER_DECADE,
        },
        direction: cpn_cats::Direction::HigherIsBetter,
    }
}

fn values(t: &Throughput) -> [f64; 5] {
    [
        t.fp64_gflops,
        t.fp32_gflops,
        t.int_gops,
        t.sha256_hashes_per_s,
        t.mem_bandwidth_gbps,
    ]
}

/// The score of each figure of `t`. A figure of zero (a kernel that did no work) scores 0.
pub fn figure_scores(t: &Throughput) -> Result<Vec<FigureScore>, CatsError> {
    values(t)
        .into_iter()
        .zip(values(&REFERENCE))
        .zip(FIGURES.into_iter().zip(WEIGHTS))
        .map(|((raw, reference), (name, weight))| {
            let score = if raw == 0.0 {
                Score::MIN
            } else {
                // A negative or non-finite raw value gives a NaN or infinite logarithm,
                // which the normaliser rejects.
                let log = if raw > 0.0 { raw.log10() } else { f64::NAN };
                normaliser(reference)
                    .apply(log)
                    .map_err(|source| CatsError::Normalise {
                        figure: name,
                        source,
                    })?
            };
            Ok(FigureScore {
                name,
                raw,
                reference,
                weight,
                score,
            })
        })
        .collect()
}

/// The compute L1 score: the weighted mean of the figures' scores.
pub fn compute_l1(t: &Throughput) -> Result<L1Metric, CatsError> {
    let scores: Vec<Score> = figure_scores(t)?.iter().map(|f| f.score).collect();
    let weights = Aggregation::WeightedMean {
        weights: WEIGHTS.to_vec(),
    };
    Ok(L1Metric::new(
        Category::Compute,
        aggregate(&weights, &scores)?,
    ))
}

/// The L2 score: the mean of the category scores given. With compute alone it equals the
/// compute score; network and service scores join when the agent measures them.
pub fn l2(l1: &[L1Metric]) -> Result<L2Metric, CatsError> {
    let scores: Vec<Score> = l1.iter().map(|m| m.score).collect();
    Ok(L2Metric::new(aggregate(&Aggregation::Mean, &scores)?))
}

/// The L0 metrics of a measurement. Throughputs are all-core fastest rounds
/// (`Statistic::Max`); system facts are current values
/// (`Statistic::Cur`). Units the draft lacks are carried in the closest one it has; see
/// `docs/cats-metrics.md`.
pub fn l0_metrics(m: &Measurement) -> Vec<NamedL0> {
    let float = |v: f64| L0Value::Float(v as f32);
    let measured = |name, kind, unit, value, statistic| NamedL0 {
        name,
        metric: L0Metric::measured(kind, unit, value, statistic),
    };
    let t = &m.all_cores;
    let mut l0 = vec![
        measured(
            "fp64_gflops",
            L0Kind::ComputeFlops,
            Unit::Tflops,
            float(t.fp64_gflops / 1e3),
            Statistic::Max,
        ),
        measured(
            "fp32_gflops",
            L0Kind::ComputeFlops,
            Unit::Tflops,
            float(t.fp32_gflops / 1e3),
            Statistic::Max,
        ),
        // Tera integer operations per second, in the FLOPS kind and unit.
        measured(
            "int_gops",
            L0Kind::ComputeFlops,
            Unit::Tflops,
            float(t.int_gops / 1e3),
            Statistic::Max,
        ),
        // Hashes per second, unitless.
        measured(
            "sha256_hashes_per_s",
            L0Kind::ComputeFlops,
            Unit::None,
            float(t.sha256_hashes_per_s),
            Statistic::Max,
        ),
        // Bytes per second times eight, since the draft's rates are bits per second.
        measured(
            "mem_bandwidth_gbps",
            L0Kind::ComputeMemoryBandwidth,
            Unit::Gbps,
            float(t.mem_bandwidth_gbps * 8.0),
            Statistic::Max,
        ),
        measured(
            "cores",
            L0Kind::ComputeCpuCores,
            Unit::None,
            L0Value::Unsigned(u32::try_from(m.cores).unwrap_or(u32::MAX)),
            Statistic::Cur,
        ),
    ];
    let s = &m.system;
    if let Some(mhz) = s.frequency_mhz {
        l0.push(measured(
            "frequency_mhz",
            L0Kind::ComputeCpuFrequency,
            Unit::Mhz,
            float(mhz),
            Statistic::Cur,
        ));
    }
    if let Some(bytes) = s.memory_total_bytes {
        l0.push(measured(
            "memory_total_gb",
            L0Kind::ComputeMemorySize,
            Unit::Gbyte,
            float(bytes as f64 / 1e9),
            Statistic::Cur,
        ));
    }
    if let Some(bytes) = s.disk_free_bytes {
        l0.push(measured(
            "disk_free_gb",
            L0Kind::StorageAvailableSpace,
            Unit::Gbyte,
            float(bytes as f64 / 1e9),
            Statistic::Cur,
        ));
    }
    l0
}

/// The whole CATS view of a measurement.
pub fn report(m: &Measurement) -> Result<CatsReport, CatsError> {
    let compute = compute_l1(&m.all_cores)?;
    Ok(CatsReport {
        l0: l0_metrics(m),
        figures: figure_scores(&m.all_cores)?,
        l1: vec![compute],
        l2: l2(&[compute])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This crate's development machine (2-core AMD EPYC VM), all cores.
    const SMALL_VM: Throughput = Throughput {
        fp64_gflops: 87.0,
        fp32_gflops: 175.0,
        int_gops: 66.0,
        sha256_hashes_per_s: 1.7e7,
        mem_bandwidth_gbps: 33.0,
    };

    fn scaled(t: &Throughput, k: f64) -> Throughput {
        Throughput {
            fp64_gflops: t.fp64_gflops * k,
            fp32_gflops: t.fp32_gflops * k,
            int_gops: t.int_gops * k,
            sha256_hashes_per_s: t.sha256_hashes_per_s * k,
            mem_bandwidth_gbps: t.mem_bandwidth_gbps * k,
        }
    }

    fn l1(t: &Throughput) -> f64 {
        compute_l1(t).expect("scores").score.get()
    }

    #[test]
    fn the_reference_node_scores_five() {
        assert!((l1(&REFERENCE) - 5.0).abs() < 1e-9);
        for f in figure_scores(&REFERENCE).expect("scores") {
            assert!((f.score.get() - 5.0).abs() < 1e-9, "{}", f.name);
        }
    }

    #[test]
    fn worked_values() {
        // One decade above the reference on every figure: 10 / (1 + e^-0.4).
        let ten_x = l1(&scaled(&REFERENCE, 10.0));
        assert!((ten_x - 10.0 / (1.0 + (-0.4f64).exp())).abs() < 1e-9);
        // The development VM: about a decade below the reference.
        let vm = l1(&SMALL_VM);
        assert!((3.8..4.1).contains(&vm), "{vm}");
    }

    #[test]
    fn a_four_times_faster_machine_scores_clearly_higher() {
        for base in [SMALL_VM, REFERENCE, scaled(&SMALL_VM, 0.01)] {
            let (slow, fast) = (l1(&base), l1(&scaled(&base, 4.0)));
            // 0.6 decades is 0.6 points at the steepest point, 0.4 three decades below it:
            // several times the 0.1 that noise may move a score.
            assert!(fast - slow > 0.35, "{slow} -> {fast}");
        }
    }

    #[test]
    fn twenty_percent_noise_moves_a_score_by_less_than_a_tenth() {
        for base in [SMALL_VM, REFERENCE, scaled(&REFERENCE, 100.0)] {
            let mid = l1(&base);
            for k in [0.8, 1.2] {
                let moved = l1(&scaled(&base, k));
                assert!((moved - mid).abs() < 0.1, "x{k}: {mid} -> {moved}");
            }
        }
    }

    #[test]
    fn zero_scores_zero_and_nonsense_is_an_error() {
        let zero = scaled(&SMALL_VM, 0.0);
        assert_eq!(l1(&zero), 0.0);
        let mut bad = SMALL_VM;
        bad.int_gops = -1.0;
        assert!(matches!(
            compute_l1(&bad),
            Err(CatsError::Normalise {
                figure: "int_gops",
                ..
            })
        ));
        bad.int_gops = f64::NAN;
        assert!(compute_l1(&bad).is_err());
    }

    #[test]
    fn l2_is_the_mean_of_the_categories() {
        let compute = compute_l1(&SMALL_VM).expect("scores");
        assert_eq!(l2(&[compute]).expect("l2").score, compute.score);
        let other = L1Metric::new(Category::Communication, Score::MAX);
        let both = l2(&[compute, other]).expect("l2").score.get();
        assert!((both - (compute.score.get() + 10.0) / 2.0).abs() < 1e-9);
        assert!(l2(&[]).is_err());
    }
}
