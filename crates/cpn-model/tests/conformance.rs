//! Data-driven scenario tests. `scenarios/broken/X.toml` must fail with exactly the errors in
//! `X.expected`; `scenarios/valid/X.toml` must read, match the summary in `X.json`, and read
//! back unchanged from its own TOML export. `CPN_UPDATE_EXPECT=1` rewrites the expectations.

use std::path::{Path, PathBuf};

use cpn_model::{LatencyOrigin, Loader, Scenario};
use cpn_testdata::{check_expect, files_with_extension};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

/// Reads imports from the folder of the scenario, as the command line does.
struct DirLoader(PathBuf);

impl Loader for DirLoader {
    fn load(&mut self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| format!("{path}: {e}"))
    }
}

fn parse(file: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(file).expect("test file readable");
    let dir = file.parent().expect("in a folder").to_path_buf();
    let origin = format!(
        "{}/{}",
        dir.file_name().expect("named").to_string_lossy(),
        file.file_name().expect("named").to_string_lossy()
    );
    Scenario::parse(&origin, &text, &mut DirLoader(dir)).map_err(|e| e.to_string())
}

#[test]
fn broken_scenarios_fail_with_the_expected_errors() {
    let files = files_with_extension(&scenarios_dir().join("broken"), "toml");
    assert!(
        files.len() >= 20,
        "the issue asks for at least 20 broken scenarios, found {}",
        files.len()
    );
    for file in files {
        let errors = match parse(&file) {
            Ok(_) => panic!("{} was accepted", file.display()),
            Err(e) => e + "\n",
        };
        check_expect(&file.with_extension("expected"), &errors);
    }
}

#[test]
fn valid_scenarios_read_and_round_trip() {
    for file in files_with_extension(&scenarios_dir().join("valid"), "toml") {
        let scenario = parse(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let summary = serde_json::to_string_pretty(&scenario.summary()).expect("serialises") + "\n";
        check_expect(&file.with_extension("json"), &summary);
        let exported = scenario.to_toml();
        let again =
            Scenario::parse("export", &exported, &mut cpn_model::NoImports).unwrap_or_else(|e| {
                panic!(
                    "{}: export does not read back: {e}\n{exported}",
                    file.display()
                )
            });
        assert_eq!(
            again,
            stated_defaults(scenario),
            "{}: export reads back differently",
            file.display()
        );
    }
}

#[test]
fn the_national_scenario_has_ten_cloud_clusters_and_every_tier() {
    let national = cpn_model::built_in("national")
        .expect("exists")
        .unwrap_or_else(|e| panic!("{e}"));
    let summary = national.summary();
    let tier = |name: &str| {
        summary
            .sites_by_tier
            .iter()
            .find(|(t, _)| t.name() == name)
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(tier("cloud"), 10);
    assert!(
        tier("edge") > 0 && tier("end") > 0,
        "{:?}",
        summary.sites_by_tier
    );
    assert!(national.warnings.is_empty(), "{:?}", national.warnings);
    // Every site names its grid region, carbon intensity, PUE and price: the objectives of
    // the scheduler need all four.
    for site in &national.sites {
        assert!(
            site.carbon.is_some() && site.price.is_some(),
            "{} lacks carbon or price",
            site.name
        );
        assert!(site.region.is_some(), "{} lacks a grid region", site.name);
    }
    let exported = national.to_toml();
    let again =
        Scenario::parse("export", &exported, &mut cpn_model::NoImports).expect("export reads back");
    assert_eq!(again, national);
}

/// An export writes a default latency out as a stated one; the scenario read back from it
/// therefore says `Given` where the original said `Default`, and nothing else changes.
pub fn stated_defaults(mut scenario: Scenario) -> Scenario {
    for link in &mut scenario.links {
        if link.latency_origin == LatencyOrigin::Default {
            link.latency_origin = LatencyOrigin::Given;
        }
    }
    scenario
}

#[test]
fn the_documented_example_is_the_tested_one() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/scenario.md"),
    )
    .expect("docs/scenario.md");
    let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("closed");
    let example =
        std::fs::read_to_string(scenarios_dir().join("valid/example.toml")).expect("example");
    assert_eq!(
        &doc[start..end],
        example,
        "docs/scenario.md and valid/example.toml differ"
    );
}
