//! Normalisation against values worked out by hand (e^2 = 7.38905609893065).

use cpn_cats::{Direction, Normalisation, NormaliseError, Normaliser, normalise};
use proptest::prelude::*;

const UP: Direction = Direction::HigherIsBetter;
const DOWN: Direction = Direction::LowerIsBetter;

fn sigmoid(midpoint: f64, steepness: f64) -> Normalisation {
    Normalisation::Sigmoid {
        midpoint,
        steepness,
    }
}

fn min_max(min: f64, max: f64) -> Normalisation {
    Normalisation::MinMax { min, max }
}

fn z_score(mean: f64, std_dev: f64) -> Normalisation {
    Normalisation::ZScore { mean, std_dev }
}

fn run(function: Normalisation, direction: Direction, raw: f64) -> Result<f64, NormaliseError> {
    normalise(
        &Normaliser {
            function,
            direction,
        },
        raw,
    )
    .map(|s| s.get())
}

fn check(function: Normalisation, direction: Direction, raw: f64, expected: f64) {
    let got = run(function, direction, raw).expect("valid parameters and input");
    assert!(
        (got - expected).abs() < 1e-9,
        "{function:?} at {raw}: {got} != {expected}"
    );
}

#[test]
fn sigmoid_by_hand() {
    let f = sigmoid(100.0, 0.05);
    check(f, UP, 100.0, 5.0); // exponent 0: 10 / (1 + 1)
    // 0.05 * (140 - 100) = 2: 10 / (1 + e^-2) = 10 / 1.1353352832366127 = 8.807970779778824.
    check(f, UP, 140.0, 8.807_970_779_778_824);
    // 0.05 * (60 - 100) = -2: 10 / (1 + e^2) = 10 / 8.38905609893065 = 1.1920292202211755.
    check(f, UP, 60.0, 1.192_029_220_221_175_5);
    check(f, DOWN, 140.0, 1.192_029_220_221_176); // 10 - 8.807970779778824
    // Far from the midpoint the exponential saturates instead of overflowing.
    check(f, UP, f64::MAX, 10.0);
    check(f, UP, -f64::MAX, 0.0);
}

#[test]
fn min_max_by_hand() {
    // Memory bandwidth in GB/s on a 0..400 GB/s scale.
    check(min_max(0.0, 400.0), UP, 0.0, 0.0); // 10 * 0 / 400
    check(min_max(0.0, 400.0), UP, 400.0, 10.0); // 10 * 400 / 400
    check(min_max(0.0, 400.0), UP, 200.0, 5.0); // 10 * 200 / 400
    check(min_max(0.0, 400.0), UP, 100.0, 2.5); // 10 * 100 / 400
    check(min_max(0.0, 400.0), UP, 500.0, 10.0); // 12.5 clamps to 10
    check(min_max(0.0, 400.0), UP, -50.0, 0.0); // -1.25 clamps to 0
    check(min_max(0.0, 200.0), DOWN, 50.0, 7.5); // delay: 10 - 10 * 50 / 200
    check(min_max(-10.0, 10.0), UP, 0.0, 5.0); // 10 * (0 + 10) / 20
}

#[test]
fn z_score_by_hand() {
    let f = z_score(50.0, 10.0);
    check(f, UP, 50.0, 5.0); // z = 0: 10 * (0 + 3) / 6
    check(f, UP, 65.0, 7.5); // z = 1.5: 10 * 4.5 / 6
    check(f, UP, 30.0, 10.0 / 6.0); // z = -2: 10 * 1 / 6 = 1.6666666666666667
    check(f, UP, 20.0, 0.0); // z = -3, the bottom of the span
    check(f, UP, 90.0, 10.0); // z = 4 is beyond the top and clamps
    check(f, DOWN, 65.0, 2.5); // 10 - 7.5
}

#[test]
fn bad_parameters_and_inputs_are_errors() {
    use NormaliseError::{BadRange, NonFiniteInput, NonFiniteParameter, NotPositive};
    assert_eq!(
        run(min_max(5.0, 5.0), UP, 1.0),
        Err(BadRange { min: 5.0, max: 5.0 })
    );
    assert_eq!(
        run(min_max(9.0, 1.0), UP, 1.0),
        Err(BadRange { min: 9.0, max: 1.0 })
    );
    let (lo, hi) = (-f64::MAX, f64::MAX); // the width overflows
    assert_eq!(
        run(min_max(lo, hi), UP, 1.0),
        Err(BadRange { min: lo, max: hi })
    );
    let zero_steepness = NotPositive {
        name: "steepness",
        value: 0.0,
    };
    assert_eq!(run(sigmoid(0.0, 0.0), UP, 1.0), Err(zero_steepness));
    let nan_midpoint = run(sigmoid(f64::NAN, 1.0), UP, 1.0);
    assert!(matches!(
        nan_midpoint,
        Err(NonFiniteParameter {
            name: "midpoint",
            ..
        })
    ));
    let negative_std_dev = NotPositive {
        name: "std_dev",
        value: -1.0,
    };
    assert_eq!(run(z_score(0.0, -1.0), UP, 1.0), Err(negative_std_dev));
    let inf = f64::INFINITY;
    assert_eq!(
        run(min_max(0.0, 1.0), UP, inf),
        Err(NonFiniteInput { value: inf })
    );
    assert!(matches!(
        run(min_max(0.0, 1.0), UP, f64::NAN),
        Err(NonFiniteInput { .. })
    ));
    assert_eq!(
        BadRange { min: 5.0, max: 5.0 }.to_string(),
        "min-max range needs a finite min < max, got min 5 and max 5"
    );
}

fn arb_normaliser() -> impl Strategy<Value = Normaliser> {
    let (param, positive) = (-1e12f64..1e12, 1e-12f64..1e12);
    let function = prop_oneof![
        (param.clone(), positive.clone()).prop_map(|(m, k)| sigmoid(m, k)),
        (param.clone(), positive.clone()).prop_map(|(lo, width)| min_max(lo, lo + width)),
        (param, positive).prop_map(|(mean, std_dev)| z_score(mean, std_dev)),
    ];
    let direction = prop_oneof![Just(UP), Just(DOWN)];
    (function, direction).prop_map(|(function, direction)| Normaliser {
        function,
        direction,
    })
}

proptest! {
    #[test]
    fn valid_parameters_always_give_a_score(n in arb_normaliser(), raw in any::<f64>()) {
        match normalise(&n, raw) {
            Ok(score) => prop_assert!(raw.is_finite() && (0.0..=10.0).contains(&score.get())),
            Err(e) => prop_assert!(!raw.is_finite(), "{e}"),
        }
    }
}
