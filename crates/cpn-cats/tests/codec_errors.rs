//! Malformed records from `golden/malformed.txt`: each must be rejected with an error naming
//! the field at fault and the bit where it starts.

mod common;

use common::hex;
use cpn_cats::{
    DecodeError, EncodeError, Field, L0Kind, L0Metric, L0Value, Metric, Problem, Source, Statistic,
    Unit, decode, encode,
};

#[test]
fn malformed_records_name_field_and_offset() {
    let cases = include_str!("golden/malformed.txt");
    let mut checked = 0;
    for line in cases.lines().filter(|l| !l.starts_with('#')) {
        let (input, expected) = line.split_once(" | ").expect("lines are `hex | message`");
        let got = decode(&hex(input)).map_err(|e| e.to_string());
        assert_eq!(got, Err(expected.to_owned()), "input {input:?}");
        checked += 1;
    }
    assert_eq!(checked, 19);
}

#[test]
fn errors_are_typed() {
    let err = decode(&hex("01 25 10")).expect_err("truncated");
    let problem = Problem::Truncated {
        needed: 32,
        available: 6,
    };
    assert_eq!(
        err,
        DecodeError {
            field: Field::Value,
            bit_offset: 18,
            problem
        }
    );
}

#[test]
fn unencodable_metrics_are_rejected() {
    let flops = L0Metric::nominal(L0Kind::ComputeFlops, Unit::Tflops, L0Value::Float(1.0));
    let mut m = flops;
    m.statistic = Some(Statistic::Cur);
    assert_eq!(
        encode(&Metric::L0(m)),
        Err(EncodeError::NominalWithStatistic)
    );
    let mut m = flops;
    m.source = Source::Estimated;
    let missing = EncodeError::MissingStatistic {
        metric_source: Source::Estimated,
    };
    assert_eq!(encode(&Metric::L0(m)), Err(missing));
    let mut m = flops;
    m.value = L0Value::Float(f32::INFINITY);
    assert_eq!(
        encode(&Metric::L0(m)),
        Err(EncodeError::NonFiniteValue(f32::INFINITY))
    );
}
