//! Aggregation against values worked out by hand, and one full L0 -> L1 -> L2 -> wire run.

use cpn_cats::{
    AggregateError, Aggregation, Category, Direction, L1Metric, L2Metric, Metric, Normalisation,
    Normaliser, Score, aggregate, aggregate_values, encode, normalise,
};

fn agg(function: Aggregation, values: &[f64]) -> Result<f64, AggregateError> {
    let scores: Vec<Score> = values
        .iter()
        .map(|v| Score::new(*v).expect("0..=10"))
        .collect();
    aggregate(&function, &scores).map(Score::get)
}

fn weighted(weights: &[f64]) -> Aggregation {
    Aggregation::WeightedMean {
        weights: weights.to_vec(),
    }
}

#[test]
fn mean_min_max_by_hand() {
    assert_eq!(agg(Aggregation::Mean, &[2.0, 5.0, 8.0]), Ok(5.0)); // (2 + 5 + 8) / 3
    assert_eq!(agg(Aggregation::Min, &[2.0, 5.0, 8.0]), Ok(2.0));
    assert_eq!(agg(Aggregation::Max, &[2.0, 5.0, 8.0]), Ok(8.0));
    assert_eq!(agg(Aggregation::Mean, &[7.0]), Ok(7.0));
    // Raw FLOPS of three accelerators: (100 + 200 + 600) / 3 = 300.
    let flops = [100.0, 200.0, 600.0];
    assert_eq!(aggregate_values(&Aggregation::Mean, &flops), Ok(300.0));
}

#[test]
fn weighted_mean_by_hand() {
    // (1*2 + 1*5 + 2*8) / (1 + 1 + 2) = 23 / 4 = 5.75.
    assert_eq!(agg(weighted(&[1.0, 1.0, 2.0]), &[2.0, 5.0, 8.0]), Ok(5.75));
    // A zero weight drops its value: (0*2 + 1*5 + 0*8) / 1 = 5.
    assert_eq!(agg(weighted(&[0.0, 1.0, 0.0]), &[2.0, 5.0, 8.0]), Ok(5.0));
    // Weights need not sum to one: (3*10 + 1*6) / 4 = 9.
    assert_eq!(agg(weighted(&[3.0, 1.0]), &[10.0, 6.0]), Ok(9.0));
}

#[test]
fn bad_inputs_are_errors() {
    use AggregateError::{BadWeight, Empty, Overflow, WeightCount, ZeroWeights};
    assert_eq!(agg(Aggregation::Mean, &[]), Err(Empty));
    let count = WeightCount {
        weights: 1,
        values: 2,
    };
    assert_eq!(agg(weighted(&[1.0]), &[1.0, 2.0]), Err(count));
    let negative = BadWeight {
        index: 1,
        weight: -1.0,
    };
    assert_eq!(agg(weighted(&[1.0, -1.0]), &[1.0, 2.0]), Err(negative));
    let nan = agg(weighted(&[f64::NAN, 1.0]), &[1.0, 2.0]);
    assert!(matches!(nan, Err(BadWeight { index: 0, .. })));
    assert_eq!(agg(weighted(&[0.0, 0.0]), &[1.0, 2.0]), Err(ZeroWeights));
    assert_eq!(
        agg(weighted(&[f64::MAX, f64::MAX]), &[1.0, 2.0]),
        Err(Overflow)
    );
    assert_eq!(
        aggregate_values(&Aggregation::Mean, &[f64::MAX, f64::MAX]),
        Err(Overflow)
    );
    let message = aggregate_values(&Aggregation::Max, &[1.0, f64::NAN]).map_err(|e| e.to_string());
    assert_eq!(
        message,
        Err("value NaN at index 1 is not a finite number".to_owned())
    );
}

#[test]
fn scoring_pipeline_by_hand() {
    let up = Direction::HigherIsBetter;
    let down = Direction::LowerIsBetter;
    let min_max = |min, max| Normalisation::MinMax { min, max };
    // Compute: 150 TFLOPS on 0..300 scores 5; 30% memory use, lower better, scores 10 - 3 = 7.
    let flops = normalise(
        &Normaliser {
            function: min_max(0.0, 300.0),
            direction: up,
        },
        150.0,
    );
    let memory = normalise(
        &Normaliser {
            function: min_max(0.0, 100.0),
            direction: down,
        },
        30.0,
    );
    let compute = aggregate(
        &Aggregation::Mean,
        &[flops.expect("ok"), memory.expect("ok")],
    );
    let compute = L1Metric::new(Category::Compute, compute.expect("ok"));
    assert_eq!(compute.score.get(), 6.0); // (5 + 7) / 2
    // Communication: 50 ms delay at a sigmoid midpoint of 50 ms scores 5, mirrored to 5.
    let function = Normalisation::Sigmoid {
        midpoint: 50.0,
        steepness: 0.1,
    };
    let delay = normalise(
        &Normaliser {
            function,
            direction: down,
        },
        50.0,
    )
    .expect("ok");
    let communication = L1Metric::new(Category::Communication, delay);
    assert_eq!(communication.score.get(), 5.0);
    // L2 with compute weighted twice: (2*6 + 1*5) / 3 = 17 / 3 = 5.667, sent as 6.
    let l2 = aggregate(
        &weighted(&[2.0, 1.0]),
        &[compute.score, communication.score],
    );
    let l2 = l2.expect("ok");
    assert!((l2.get() - 17.0 / 3.0).abs() < 1e-12);
    // Figure 8 layout with value 6: 01010000 | 10|0|001|00 | 000110|01 | 1|0000000.
    assert_eq!(
        encode(&Metric::L2(L2Metric::new(l2))),
        Ok(vec![0x50, 0x84, 0x19, 0x80])
    );
}
