//! Properties of the codec: every metric round-trips, and no byte string makes the decoder
//! panic. Because decoding is strict (exact lengths, zero padding, known codes), any buffer
//! it accepts must also be the one canonical encoding of what it returned.

mod common;

use common::{GOLDEN, hex};
use cpn_cats::{
    Category, L0Kind, L0Metric, L0Value, L1Metric, L2Metric, Metric, Score, Source, Statistic,
    Unit, decode, decode_prefix, encode, encoded_len,
};
use proptest::prelude::*;
use proptest::sample::select;

fn arb_score() -> impl Strategy<Value = Score> {
    (0u8..=10).prop_map(|v| Score::new(f64::from(v)).expect("0..=10 is a score"))
}

fn arb_l0() -> impl Strategy<Value = L0Metric> {
    let value = prop_oneof![
        any::<u32>().prop_map(L0Value::Unsigned),
        any::<f32>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(L0Value::Float),
    ];
    (
        select(L0Kind::ALL),
        select(Unit::ALL),
        value,
        select(Source::ALL),
        select(Statistic::ALL),
    )
        .prop_map(|(kind, unit, value, source, statistic)| L0Metric {
            kind,
            unit,
            value,
            source,
            statistic: (source != Source::Nominal).then_some(statistic),
        })
}

fn arb_metric() -> impl Strategy<Value = Metric> {
    prop_oneof![
        arb_l0().prop_map(Metric::L0),
        (select(Category::ALL), arb_score(), select(Source::ALL)).prop_map(
            |(category, score, source)| Metric::L1(L1Metric {
                category,
                score,
                source
            })
        ),
        (arb_score(), select(Source::ALL))
            .prop_map(|(score, source)| Metric::L2(L2Metric { score, source })),
    ]
}

/// Decodes `bytes`; if they are accepted, they must be the canonical encoding.
fn decode_is_canonical(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(metric) = decode(bytes) {
        prop_assert_eq!(encode(&metric), Ok(bytes.to_vec()));
    }
    if let Ok((_, used)) = decode_prefix(bytes) {
        prop_assert!(used <= bytes.len());
    }
    Ok(())
}

proptest! {
    #[test]
    fn encode_then_decode_round_trips(metric in arb_metric()) {
        let bytes = encode(&metric).expect("generated metrics are encodable");
        prop_assert_eq!(bytes.len(), encoded_len(&metric));
        prop_assert_eq!(decode(&bytes), Ok(metric));
    }

    #[test]
    fn fractional_scores_arrive_quantised(category in select(Category::ALL), x in 0.0f64..=10.0) {
        let score = Score::new(x).expect("0..=10 is a score");
        let bytes = encode(&Metric::L1(L1Metric::new(category, score))).expect("encodable");
        let back = Metric::L1(L1Metric::new(category, score.quantised()));
        prop_assert_eq!(decode(&bytes), Ok(back));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
        decode_is_canonical(&bytes)?;
    }

    #[test]
    fn mutated_golden_vectors_never_panic(
        which in 0..GOLDEN.len(),
        flips in proptest::collection::vec(any::<usize>(), 0..4),
        cut in any::<usize>(),
        extra in proptest::collection::vec(any::<u8>(), 0..3),
    ) {
        let mut bytes = GOLDEN.get(which).map(|(_, text)| hex(text)).unwrap_or_default();
        let bits = bytes.len() * 8;
        for flip in flips {
            let bit = flip % bits;
            if let Some(byte) = bytes.get_mut(bit / 8) {
                *byte ^= 0x80 >> (bit % 8);
            }
        }
        decode_is_canonical(&bytes)?;
        bytes.truncate(cut % (bytes.len() + 1));
        decode_is_canonical(&bytes)?;
        bytes.extend(extra);
        decode_is_canonical(&bytes)?;
    }
}
