//! Property tests: no input makes the scenario parser panic, and every scenario it accepts
//! exports to TOML that reads back to the same scenario.

use cpn_model::{NoImports, Scenario, built_in};
use proptest::prelude::*;

const EXAMPLE: &str = include_str!("scenarios/valid/example.toml");

fn national() -> &'static str {
    cpn_model::BUILT_IN[0].1
}

/// Parses; when accepted, checks that the export reads back identically.
fn parse_and_round_trip(text: &str) -> Result<(), TestCaseError> {
    if let Ok(scenario) = Scenario::parse("fuzz.toml", text, &mut NoImports) {
        let exported = scenario.to_toml();
        let again = Scenario::parse("export", &exported, &mut NoImports);
        prop_assert!(
            again.is_ok(),
            "export of an accepted scenario fails: {:?}\n{exported}",
            again.err()
        );
        prop_assert_eq!(again.ok(), Some(scenario));
    }
    Ok(())
}

/// One edit of a text: cut a range, insert a string, repeat a range, or truncate.
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize, usize),
    Insert(usize, String),
    Repeat(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let fragment = prop_oneof![
        "\\PC{0,8}",
        Just("\n[[link]]\n".to_string()),
        Just("\n[[site]]\nid = \"x\"\n".to_string()),
        Just("\"".to_string()),
        Just(" = ".to_string()),
        Just("-1".to_string()),
        Just("1e999".to_string()),
        Just("nan".to_string()),
        Just("\"0 Gbps\"".to_string()),
        Just("\"99999999999999999999999 EFLOPS\"".to_string()),
    ];
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Edit::Cut(at, len)),
        (any::<usize>(), fragment).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 0usize..200).prop_map(|(at, len)| Edit::Repeat(at, len)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut t = text.to_string();
    let boundary = |t: &str, at: usize| {
        let mut at = at % (t.len() + 1);
        while !t.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    for e in edits {
        match e {
            Edit::Cut(at, len) => {
                let a = boundary(&t, *at);
                let b = boundary(&t, a.saturating_add(*len).min(t.len()));
                t.replace_range(a..b, "");
            }
            Edit::Insert(at, s) => {
                let a = boundary(&t, *at);
                t.insert_str(a, s);
            }
            Edit::Repeat(at, len) => {
                let a = boundary(&t, *at);
                let b = boundary(&t, a.saturating_add(*len).min(t.len()));
                let copy = t[a..b].to_string();
                t.insert_str(b, &copy);
            }
            Edit::Truncate(at) => {
                let a = boundary(&t, *at);
                t.truncate(a);
            }
        }
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}") {
        parse_and_round_trip(&text)?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        parse_and_round_trip(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn mutated_example_never_panics(edits in proptest::collection::vec(edit(), 1..6)) {
        parse_and_round_trip(&apply(EXAMPLE, &edits))?;
    }

    #[test]
    fn mutated_national_never_panics(edits in proptest::collection::vec(edit(), 1..4)) {
        parse_and_round_trip(&apply(national(), &edits))?;
    }

    /// Random well-formed scenarios, built as text from random values: they are accepted and
    /// round-trip through the export.
    #[test]
    fn random_scenarios_round_trip(
        routers in proptest::collection::vec((-90.0f64..=90.0, -180.0f64..=180.0), 2..12),
        links in proptest::collection::vec((any::<usize>(), any::<usize>(), 1u64..1_000_000, proptest::option::of(0u64..100_000_000), 0u64..100_000), 1..20),
        sites in proptest::collection::vec((any::<usize>(), 0usize..3, 0u64..1_000_000, 1u64..10_000_000, proptest::option::of(0u32..5_000_000), 1_000u32..3_000), 1..6),
    ) {
        let mut t = String::from("name = \"random\"\n");
        for (i, (lat, lon)) in routers.iter().enumerate() {
            t += &format!("[[router]]\nid = \"r{i}\"\nlat = {lat:?}\nlon = {lon:?}\n");
        }
        for (a, b, mbps, latency_us, loss_ppb) in &links {
            t += &format!("[[link]]\na = \"r{}\"\nb = \"r{}\"\nbandwidth = \"{mbps} Mbps\"\nloss = \"{loss_ppb} ppb\"\n", a % routers.len(), b % routers.len());
            if let Some(us) = latency_us {
                t += &format!("latency = \"{us} us\"\n");
            }
        }
        for (i, (router, tier, cores, gflops, price_micro, pue_milli)) in sites.iter().enumerate() {
            let tier = ["cloud", "edge", "end"][*tier];
            t += &format!("[[site]]\nid = \"s{i}\"\nrouter = \"r{}\"\ntier = \"{tier}\"\ncpu_cores = {cores}\ncompute = \"{gflops} GFLOPS\"\npue = {}\n", router % routers.len(), f64::from(*pue_milli) / 1000.0);
            if let Some(p) = price_micro {
                t += &format!("price = {}\n", f64::from(*p) / 1e6);
            }
        }
        let parsed = Scenario::parse("random", &t, &mut NoImports);
        prop_assert!(parsed.is_ok(), "{:?}\n{t}", parsed.err());
        parse_and_round_trip(&t)?;
    }
}

#[test]
fn the_built_in_scenarios_are_valid() {
    for (name, _) in cpn_model::BUILT_IN {
        let scenario = built_in(name)
            .expect("listed")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            scenario.warnings.is_empty(),
            "{name}: {:?}",
            scenario.warnings
        );
    }
}
