//! `cpn sim` as a user runs it: the report files, the keys of report.json, the choice of
//! strategies, and a bad strategy named.

mod common;

use common::cpn_command;

#[test]
fn sim_writes_its_report_for_every_strategy_by_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    let o = cpn_command()
        .args([
            "sim",
            "national",
            "--duration",
            "20 s",
            "--seed",
            "7",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("cpn sim runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["report.json", "summary.csv", "outcomes.csv", "report.html"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("read"))
            .expect("json");
    let strategies = report["strategies"].as_object().expect("strategies");
    assert_eq!(strategies.len(), 7, "{report}");
    let cpn = &strategies["cpn"];
    for key in ["sla_satisfaction", "acceptance"] {
        let v = cpn[key].as_f64().expect(key);
        assert!((0.0..=1.0).contains(&v), "{key} {v}");
    }
    for p in ["p50", "p95", "p99"] {
        assert!(cpn["latency_ms"][p].as_f64().expect(p) > 0.0);
    }
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(html.contains("<svg") && !html.contains("http://") && !html.contains("https://"));
}

#[test]
fn sim_runs_only_the_strategies_asked_and_names_an_unknown_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = cpn_command()
        .args([
            "sim",
            "--duration",
            "10 s",
            "--strategies",
            "cpn,nearest",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .expect("cpn sim runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report.json")).expect("read"),
    )
    .expect("json");
    let names: Vec<&String> = report["strategies"]
        .as_object()
        .expect("obj")
        .keys()
        .collect();
    assert_eq!(names, ["cpn", "nearest"]);
    let o = cpn_command()
        .args(["sim", "--strategies", "cpn,best", "--out"])
        .arg(dir.path())
        .output()
        .expect("cpn sim runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no strategy `best`") && err.contains("kube-least-allocated"),
        "{err}"
    );
}

#[test]
fn what_if_changes_run_and_two_runs_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let run = |out: &std::path::Path, extra: &[&str]| {
        let o = cpn_command()
            .args(["sim", "--duration", "20 s", "--strategies", "cpn,nearest"])
            .args(extra)
            .arg("--out")
            .arg(out)
            .output()
            .expect("cpn sim runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(out.join("report.json")).expect("report");
        serde_json::from_str::<serde_json::Value>(&text).expect("json")
    };
    let before = run(&a, &[]);
    let after = run(
        &b,
        &[
            "--what-if",
            "demand:shanghai*3@5s",
            "--what-if",
            "site-down:shanghai-edge@10s",
        ],
    );
    assert!(
        after["requests"].as_u64() > before["requests"].as_u64(),
        "{before} {after}"
    );
    assert!(
        after["workload"]
            .as_str()
            .expect("workload")
            .contains("site-down:shanghai-edge@10s")
    );
    let o = cpn_command()
        .args(["sim", "--diff"])
        .arg(&a)
        .arg(b.join("report.json"))
        .output()
        .expect("cpn sim --diff");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("cpn ")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("nearest ")),
        "{text}"
    );
    let o = cpn_command()
        .args(["sim", "--what-if", "link-down:atlantis@1s", "--out"])
        .arg(dir.path().join("c"))
        .output()
        .expect("cpn sim runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no link `atlantis`"));
}

#[test]
fn a_site_added_late_and_random_site_failures_show_in_the_outcomes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("a");
    let o = cpn_command()
        .args(["sim", "--duration", "60 s", "--strategies", "nearest"])
        .args(["--what-if", "site-add:shanghai-edge@30s"])
        .args(["--site-failures", "60s,10s", "--out"])
        .arg(&out)
        .output()
        .expect("cpn sim runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("outcomes.csv")).expect("outcomes");
    let at_edge: Vec<f64> = csv
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(4) == Some("shanghai-edge"))
        .map(|l| l.split(',').nth(3).expect("at_s").parse().expect("a time"))
        .collect();
    assert!(!at_edge.is_empty(), "the added site took no work");
    assert!(
        at_edge.iter().all(|&t| t >= 30.0),
        "work before the site joined: {at_edge:?}"
    );
    let report = std::fs::read_to_string(out.join("report.json")).expect("report");
    assert!(report.contains("random site failures 60s,10s"), "{report}");
    let o = cpn_command()
        .args(["sim", "--site-failures", "60s", "--out"])
        .arg(dir.path().join("b"))
        .output()
        .expect("cpn sim runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--site-failures `60s`"));
}

#[test]
fn every_workload_and_the_background_load_run_from_the_data_directory() {
    let Some(eua) = cpn_testdata::data_dir("eua-melbourne") else {
        return;
    };
    let root = eua.parent().expect("the data directory");
    let dir = tempfile::tempdir().expect("tempdir");
    for (k, extra) in [
        &["--workload", "diurnal"][..],
        &["--workload", "bursty"],
        &["--workload", "openb"],
        &["--workload", "eua", "--edge-sites", "12"],
        &["--workload", "shanghai", "--edge-sites", "12"],
        &["--background", "mixed"],
    ]
    .iter()
    .enumerate()
    {
        let out = dir.path().join(k.to_string());
        let o = cpn_command()
            .env("CPN_DATA_DIR", root)
            .args(["sim", "--duration", "30 s", "--strategies", "cpn,nearest"])
            .args(*extra)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("cpn sim runs");
        assert!(
            o.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(out.join("report.json")).expect("report");
        let report: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert!(report["requests"].as_u64() > Some(0), "{extra:?}: {text}");
        let cpn = &report["strategies"]["cpn"];
        assert!(cpn["acceptance"].as_f64() > Some(0.0), "{extra:?}: {text}");
    }
    let o = cpn_command()
        .env("CPN_DATA_DIR", root)
        .args(["sim", "--background", "ibm", "--out"])
        .arg(dir.path().join("x"))
        .output()
        .expect("cpn sim runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no series `ibm`"));
}
