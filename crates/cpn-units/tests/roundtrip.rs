//! Property tests: every quantity printed and read again is the same quantity, every unit
//! symbol reads back what it wrote, and no input makes the parser panic.

use cpn_units::{Dimension, Precision, Quantity, Unit};
use proptest::prelude::*;

fn dimension() -> impl Strategy<Value = Dimension> {
    prop_oneof![
        Just(Dimension::Time),
        Just(Dimension::DataRate),
        Just(Dimension::Data),
        Just(Dimension::Frequency),
        Just(Dimension::Ratio),
        Just(Dimension::Carbon),
        Just(Dimension::HashRate),
        proptest::sample::select(Precision::ALL.to_vec()).prop_map(Dimension::Compute),
    ]
}

/// Values spread over every order of magnitude up to the whole u128 range, so that the exa
/// prefixes and the edge of what can be held are covered as often as small values.
fn base_value() -> impl Strategy<Value = u128> {
    prop_oneof![
        0u128..10_000,
        (0u32..=38, any::<u128>()).prop_map(|(exp, v)| v % 10u128.pow(exp).max(1)),
        any::<u128>(),
        (0u32..=38).prop_map(|exp| 10u128.pow(exp)),
        (1u32..=127).prop_map(|shift| 1u128 << shift),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn printed_quantities_read_back_identically(dimension in dimension(), base in base_value()) {
        let q = Quantity::new(dimension, base);
        let text = q.to_string();
        prop_assert_eq!(Quantity::parse(&text), Ok(q), "printed as {}", text);
    }

    #[test]
    fn every_unit_reads_what_it_writes(
        index in 0..Unit::all().len(),
        whole in 0u64..1_000_000,
        frac in 0u32..1000,
    ) {
        let unit = Unit::all()[index];
        let text = format!("{whole}.{frac:03} {}", unit.symbol);
        match Quantity::parse(&text) {
            Ok(q) => {
                prop_assert_eq!(q.dimension.family(), unit.dimension.family());
                prop_assert_eq!(Quantity::parse(&q.to_string()), Ok(q));
                // Converting back into the unit it was written in gives the number written.
                let back = q.convert(unit.symbol).expect("same dimension");
                let written = Quantity::parse(&text).expect("parsed above");
                prop_assert_eq!(Quantity::parse(back.trim_start_matches('~')).ok(), Some(written));
            }
            // Only finer-than-base-unit values may be refused (such as 0.001 ns).
            Err(e) => prop_assert!(e.to_string().contains("more precise"), "{text}: {e}"),
        }
    }

    #[test]
    fn parser_never_panics(text in "\\PC{0,24}") {
        let _ = Quantity::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_near_misses(
        number in "[-+]?[0-9]{0,30}(\\.[0-9]{0,30})?([eE][-+]?[0-9]{0,4})?",
        space in "[ \t]{0,2}",
        unit in proptest::sample::select(Unit::all().iter().map(|u| u.symbol).collect::<Vec<_>>()),
        suffix in "( ?\\(?(fp64|fp16|int8|bf16|xx)\\)?)?",
    ) {
        let _ = Quantity::parse(&format!("{number}{space}{unit}{suffix}"));
    }
}

#[test]
fn exa_range_and_the_edge_of_u128() {
    let max =
        Quantity::parse("340282366920938463463.374607431768211455 EFLOPS").expect("u128::MAX fits");
    assert_eq!(max.base, u128::MAX);
    assert_eq!(
        max.to_string(),
        "340282366920938463463.374607431768211455 EFLOPS"
    );
    let over =
        Quantity::parse("340282366920938463463.374607431768211456 EFLOPS").expect_err("one past");
    assert!(over.to_string().contains("too large"), "{over}");
    assert_eq!(
        Quantity::parse("1.5 EH/s").expect("valid").base,
        1_500_000_000_000_000_000
    );
    assert_eq!(
        Quantity::parse("0.000000000000000001 EFLOPS")
            .expect("1 FLOPS")
            .base,
        1
    );
    assert!(Quantity::parse("0.0000000000000000001 EFLOPS").is_err());
}
