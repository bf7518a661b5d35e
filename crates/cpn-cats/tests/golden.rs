//! Golden vectors: the draft's figures decode to the expected metrics and the metrics encode
//! to exactly the hand-derived bytes.

mod common;

use common::{GOLDEN, hex};
use cpn_cats::{
    Category, L0Kind, L0Metric, L0Value, L1Metric, L2Metric, Metric, Score, Source, Statistic,
    Unit, decode, decode_prefix, encode, encoded_len,
};

fn score(v: u8) -> Score {
    Score::new(f64::from(v)).expect("test scores are within 0..=10")
}

/// The metric each golden file holds, transcribed from the draft's figure.
fn expected(name: &str) -> Metric {
    match name {
        "l0_compute_cpu_frequency" => Metric::L0(L0Metric::nominal(
            L0Kind::ComputeCpuFrequency,
            Unit::Ghz,
            L0Value::Float(2.2),
        )),
        "l0_communication_tx_bytes" => Metric::L0(L0Metric::measured(
            L0Kind::CommunicationTxBytes,
            Unit::Mbyte,
            L0Value::Unsigned(100),
            Statistic::Mean,
        )),
        "l0_delay_raw" => Metric::L0(L0Metric {
            kind: L0Kind::DelayRaw,
            unit: Unit::Microsecond,
            value: L0Value::Float(231.5),
            source: Source::Aggregated,
            statistic: Some(Statistic::Max),
        }),
        "l1_compute_norm" => Metric::L1(L1Metric::new(Category::Compute, score(5))),
        "l1_communication_norm" => Metric::L1(L1Metric::new(Category::Communication, score(1))),
        "l1_composed_norm" => Metric::L1(L1Metric::new(Category::Composed, score(8))),
        "l2_norm_fi" => Metric::L2(L2Metric::new(score(1))),
        other => panic!("no expectation for golden file {other}"),
    }
}

#[test]
fn golden_vectors_decode_to_the_figures() {
    for (name, text) in GOLDEN {
        assert_eq!(decode(&hex(text)), Ok(expected(name)), "{name}");
    }
}

#[test]
fn figures_encode_to_golden_vectors() {
    for (name, text) in GOLDEN {
        let metric = expected(name);
        let bytes = encode(&metric).expect("figures are encodable");
        assert_eq!(bytes, hex(text), "{name}");
        assert_eq!(bytes.len(), encoded_len(&metric), "{name}");
    }
}

#[test]
fn concatenated_records_decode_one_by_one() {
    let stream: Vec<u8> = GOLDEN.iter().flat_map(|(_, text)| hex(text)).collect();
    let mut rest = stream.as_slice();
    for (name, _) in GOLDEN {
        let (metric, used) = decode_prefix(rest).expect("stream holds valid records");
        assert_eq!(metric, expected(name), "{name}");
        rest = rest.get(used..).expect("used never exceeds the buffer");
    }
    assert!(rest.is_empty());
}

#[test]
fn metrics_round_trip_through_json() {
    for (name, _) in GOLDEN {
        let metric = expected(name);
        let json = serde_json::to_string(&metric).expect("metrics serialise");
        let back: Metric = serde_json::from_str(&json).expect("metrics deserialise");
        assert_eq!(back, metric, "{name}: {json}");
    }
    let l2 = serde_json::to_string(&Metric::L2(L2Metric::new(score(7)))).expect("serialises");
    assert_eq!(l2, r#"{"l2":{"score":7.0,"source":"normalised"}}"#);
    assert!(serde_json::from_str::<Score>("10.5").is_err());
    assert!(serde_json::from_str::<Score>("-1").is_err());
    // The wire rounds halves up.
    let wire = |x: f64| Score::new(x).map(Score::to_wire);
    assert_eq!((wire(4.5), wire(4.49), wire(10.0)), (Ok(5), Ok(4), Ok(10)));
}
