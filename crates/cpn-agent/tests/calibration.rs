//! Calibration (the draft's target for a normalised metric): measuring the same machine
//! again must give the same L1 and L2 scores within 0.1, while a machine four times faster
//! must score clearly higher. Three quick measurements of this machine, in whatever build
//! `cargo test` makes; the scores are on a log scale, so ordinary noise of a shared
//! machine (10-20 %) stays within the bound, and a real regression of the measuring code
//! (a kernel that sometimes runs single-threaded, a timer bug) does not.

use cpn_agent::cats;
use cpn_agent::measure::{self, Config, Throughput};

fn times(t: &Throughput, k: f64) -> Throughput {
    Throughput {
        fp64_gflops: t.fp64_gflops * k,
        fp32_gflops: t.fp32_gflops * k,
        int_gops: t.int_gops * k,
        sha256_hashes_per_s: t.sha256_hashes_per_s * k,
        mem_bandwidth_gbps: t.mem_bandwidth_gbps * k,
    }
}

#[test]
fn repeated_measurements_score_within_a_tenth() {
    let config = Config::quick();
    let reports: Vec<cats::CatsReport> = (0..3)
        .map(|_| cats::report(&measure::measure(&config)).expect("a measurement scores"))
        .collect();
    let spread = |score: fn(&cats::CatsReport) -> f64| {
        let scores: Vec<f64> = reports.iter().map(score).collect();
        let max = scores.iter().copied().fold(f64::MIN, f64::max);
        let min = scores.iter().copied().fold(f64::MAX, f64::min);
        (max - min, scores)
    };
    let (l1_spread, l1) = spread(|r| r.l1[0].score.get());
    let (l2_spread, l2) = spread(|r| r.l2.score.get());
    eprintln!("L1 compute {l1:?}, L2 {l2:?}");
    assert!(l1_spread < 0.1, "L1 scores {l1:?} differ by {l1_spread}");
    assert!(l2_spread < 0.1, "L2 scores {l2:?} differ by {l2_spread}");
    // Something was measured: a machine that runs these tests does some work.
    assert!(l2.iter().all(|s| *s > 0.5), "{l2:?}");
}

#[test]
fn a_machine_four_times_faster_scores_clearly_higher() {
    // Synthetic, so it holds whatever machine runs the test.
    let base = Throughput {
        fp64_gflops: 80.0,
        fp32_gflops: 160.0,
        int_gops: 60.0,
        sha256_hashes_per_s: 1.6e7,
        mem_bandwidth_gbps: 30.0,
    };
    let score = |t: &Throughput| cats::compute_l1(t).expect("scores").score.get();
    let (slow, fast) = (score(&base), score(&times(&base, 4.0)));
    // Clearly means several times the 0.1 that calibration allows between measurements.
    assert!(fast - slow > 0.5, "{slow} -> {fast}");
}
