//! The `cpn` binary as a user runs it: output, exit codes (0 ok, 2 bad input, 1 internal),
//! the Topology Zoo round trip through `cpn topo import` and `cpn scenario show --json`, and
//! `cpn bench` checked against a brute-force shortest-path computation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cpn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cpn"))
        .args(args)
        .output()
        .expect("cpn runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn model_tests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cpn-model/tests/scenarios")
}

#[test]
fn units_convert_prints_the_exact_value() {
    let o = cpn(&["units", "convert", "93.015 PFLOPS", "--to", "TFLOPS"]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "93015 TFLOPS\n")
    );
    let o = cpn(&["units", "convert", "200 EH/s", "--to", "PH/s"]);
    assert_eq!(stdout(&o), "200000 PH/s\n");
    let o = cpn(&["units", "convert", "2 TiB", "--to", "GiB"]);
    assert_eq!(stdout(&o), "2048 GiB\n");
}

#[test]
fn bad_quantities_exit_2_and_say_what_is_accepted() {
    let o = cpn(&["units", "convert", "5 furlongs", "--to", "TFLOPS"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("`5 furlongs`")
            && err.contains("unknown unit `furlongs`")
            && err.contains("Gbps"),
        "{err}"
    );
    let o = cpn(&["units", "convert", "312 TFLOPS fp16", "--to", "TFLOPS"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("precisions are never converted silently"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(cpn(&["units", "convert", "1 Gbps"]).status.code(), Some(2));
    assert_eq!(cpn(&["no-such-command"]).status.code(), Some(2));
    let help = cpn(&["scenario", "show", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--json"));
}

#[test]
fn national_json_lists_ten_cloud_clusters_and_every_tier() {
    let o = cpn(&["scenario", "show", "national", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    for key in ["routers", "links", "sites"] {
        assert!(json[key].as_u64().is_some_and(|n| n > 0), "{key}: {json}");
    }
    assert_eq!(json["sites_by_tier"]["cloud"], 10);
    assert!(
        json["sites_by_tier"]["edge"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    assert!(json["sites_by_tier"]["end"].as_u64().is_some_and(|n| n > 0));
    assert_eq!(
        json["tiers"]["cloud"]["names"].as_array().map(Vec::len),
        Some(10)
    );
}

#[test]
fn national_exports_as_a_file_that_validates() {
    let dir = scratch("export");
    let o = cpn(&["scenario", "show", "national", "--toml"]);
    assert_eq!(o.status.code(), Some(0));
    let file = dir.join("national.toml");
    std::fs::write(&file, o.stdout).expect("write");
    let v = cpn(&["scenario", "validate", file.to_str().expect("utf-8")]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    assert!(stdout(&v).contains(": ok ("), "{}", stdout(&v));
}

#[test]
fn broken_scenario_exits_2_with_file_line_column() {
    let file = model_tests().join("broken/link-unknown-router.toml");
    let o = cpn(&["scenario", "validate", file.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(
            "link-unknown-router.toml:15:5: link `beijing-atlantis`: unknown router `atlantis`"
        ),
        "{err}"
    );
    let o = cpn(&["scenario", "validate", "/no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read scenario `/no/such/file.toml`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn scenario_imports_resolve_against_the_scenario_folder() {
    let file = model_tests().join("valid/imported.toml");
    let o = cpn(&["scenario", "show", file.to_str().expect("utf-8"), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(
        (json["routers"].as_u64(), json["links"].as_u64()),
        (Some(4), Some(4))
    );
}

/// Counts `<node` and `<edge` elements by text, independently of any XML reader.
fn count_elements(text: &str, tag: &str) -> u64 {
    let open = format!("<{tag}");
    text.match_indices(&open)
        .filter(|(i, _)| text[i + open.len()..].starts_with([' ', '>', '/', '\n', '\t']))
        .count() as u64
}

#[test]
fn every_zoo_file_imports_and_shows_its_counts() {
    let Some(dir) = cpn_testdata::data_dir("topology-zoo/graphml") else {
        return;
    };
    let out = scratch("zoo");
    let files = cpn_testdata::files_with_extension(&dir, "graphml");
    assert_eq!(files.len(), 276);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let (nodes, edges) = (count_elements(&text, "node"), count_elements(&text, "edge"));
        let toml = out.join(file.with_extension("toml").file_name().expect("named"));
        let o = cpn(&[
            "topo",
            "import",
            file.to_str().expect("utf-8"),
            "-o",
            toml.to_str().expect("utf-8"),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            file.display(),
            stderr(&o)
        );
        let o = cpn(&["scenario", "show", toml.to_str().expect("utf-8"), "--json"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            toml.display(),
            stderr(&o)
        );
        let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
        assert_eq!(json["routers"].as_u64(), Some(nodes), "{}", file.display());
        assert_eq!(json["links"].as_u64(), Some(edges), "{}", file.display());
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cpn-cli-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn route_prints_site_path_and_latency_breakdown() {
    let o = cpn(&[
        "route",
        "--scenario",
        "national",
        "--from",
        "beijing",
        "--service",
        "llm-inference",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert!(json["site"].is_string(), "{json}");
    assert_eq!(json["path"][0], "beijing");
    for key in ["network_rtt", "processing", "queueing", "total"] {
        assert!(json["latency_us"][key].is_u64(), "{key}: {json}");
    }
    let l = &json["latency_us"];
    assert_eq!(
        l["total"].as_u64(),
        Some(
            l["network_rtt"].as_u64().unwrap_or(0)
                + l["processing"].as_u64().unwrap_or(0)
                + l["queueing"].as_u64().unwrap_or(0)
        )
    );
    assert!(json["candidates"].as_array().is_some_and(|c| !c.is_empty()));
    let sids = json["sids"].as_array().expect("sids");
    assert!(!sids.is_empty(), "{json}");
    assert!(
        sids.iter().all(|s| s
            .as_str()
            .is_some_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok())),
        "{json}"
    );
    assert!(
        json["headend_command"]
            .as_str()
            .is_some_and(|c| c.starts_with("ip -6 route add ")),
        "{json}"
    );
}

#[test]
fn route_with_no_feasible_site_exits_3_with_reasons() {
    let o = cpn(&[
        "route",
        "--from",
        "beijing",
        "--demand",
        "20 TFLOPS",
        "--processing",
        "1ms",
        "--max-latency",
        "500us",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("no feasible site") && out.contains("over latency budget by"),
        "{out}"
    );
    let o = cpn(&["route", "--from", "atlantis", "--service", "llm-inference"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no router `atlantis`"),
        "{}",
        stderr(&o)
    );
    let o = cpn(&["route", "--from", "beijing", "--demand", "20 furlongs"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Bellman-Ford on the arcs of a CSV file, read here with `split` and nothing of cpn's:
/// (nodes reached, sum of their distances).
fn brute_force_checksum(csv: &str, source: usize) -> (u64, u64) {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("src,dst,weight"));
    let arcs: Vec<[usize; 3]> = lines
        .map(|l| {
            let f: Vec<usize> = l.split(',').map(|x| x.parse().expect("integer")).collect();
            [f[0], f[1], f[2]]
        })
        .collect();
    let nodes = arcs.iter().map(|a| a[0].max(a[1]) + 1).max().unwrap_or(0);
    let mut dist = vec![u64::MAX; nodes];
    dist[source] = 0;
    for _ in 0..nodes {
        for &[a, b, w] in &arcs {
            if dist[a] != u64::MAX && dist[a] + (w as u64) < dist[b] {
                dist[b] = dist[a] + w as u64;
            }
        }
    }
    let reached: Vec<u64> = dist.into_iter().filter(|&d| d != u64::MAX).collect();
    (reached.len() as u64, reached.iter().sum())
}

#[test]
fn bench_grid_and_sssp_agree_with_brute_force() {
    let dir = scratch("bench");
    let csv = dir.join("grid.csv");
    let path = csv.to_str().expect("utf-8");
    let o = cpn(&["bench", "graph", "--grid", "7", "--seed", "5", "-o", path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).expect("written");
    // 7 x 7 grid: 4 * 7 * 6 arcs, plus the header.
    assert_eq!(text.lines().count(), 1 + 168);
    let (reached, checksum) = brute_force_checksum(&text, 10);

    let o = cpn(&[
        "bench", "sssp", "--edges", path, "--source", "10", "--repeat", "3", "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(json["nodes"], 49);
    assert_eq!(json["arcs"], 168);
    assert_eq!(json["reached"].as_u64(), Some(reached));
    assert_eq!(json["checksum"].as_u64(), Some(checksum));
    assert_eq!(json["runs_ms"].as_array().map(Vec::len), Some(3));
    for key in ["ms", "min_ms", "max_ms"] {
        assert!(
            json[key].as_f64().is_some_and(|ms| ms >= 0.0),
            "{key}: {json}"
        );
    }

    let o = cpn(&["bench", "sssp", "--edges", path, "--source", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("checksum {checksum}")),
        "{}",
        stdout(&o)
    );

    // The same seed gives the same file; standard output works too.
    let o = cpn(&["bench", "graph", "--grid", "7", "--seed", "5", "-o", "-"]);
    assert_eq!(stdout(&o), text);
}

#[test]
fn bench_bad_input_exits_2_with_file_and_line() {
    let dir = scratch("bench-bad");
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "src,dst,weight\n0,1,2\n0,x,1\n").expect("write");
    let path = bad.to_str().expect("utf-8");
    let o = cpn(&["bench", "sssp", "--edges", path]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!(
            "{path}:3: expected `dst` to be an integer from 0 to 4294967294, found `x`"
        )),
        "{}",
        stderr(&o)
    );

    let good = dir.join("good.csv");
    std::fs::write(&good, "src,dst,weight\n0,1,2\n").expect("write");
    let o = cpn(&[
        "bench",
        "sssp",
        "--edges",
        good.to_str().expect("utf-8"),
        "--source",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("source 2 is not a node"),
        "{}",
        stderr(&o)
    );

    let o = cpn(&["bench", "sssp", "--edges", "/no/such/file.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read `/no/such/file.csv`"));
    let o = cpn(&["bench", "graph", "--grid", "40000", "-o", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("too large"), "{}", stderr(&o));
    let o = cpn(&["bench", "sssp", "--edges", path, "--repeat", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn place_reads_json_lines_and_reports_every_request() {
    let dir = scratch("place");
    let file = dir.join("requests.jsonl");
    std::fs::write(
        &file,
        concat!(
            "{\"id\": \"q1\", \"from\": \"beijing\", \"service\": \"llm-inference\", \"min_bandwidth\": \"1 Gbps\", \"max_latency\": \"30 ms\", \"priority\": 0, \"slice\": null}\n",
            "# a comment line\n",
            "{\"id\": \"q2\", \"from\": \"guangzhou\", \"demand\": \"20 TFLOPS\", \"processing\": \"4 ms\", \"max_latency\": \"1 ms\"}\n",
        ),
    )
    .expect("write");
    for strategy in ["online", "heuristic", "optimal"] {
        let o = cpn(&[
            "place",
            "--requests",
            file.to_str().expect("utf-8"),
            "--strategy",
            strategy,
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{strategy}: {}", stderr(&o));
        let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
        assert_eq!(json["summary"]["accepted"], 1, "{strategy}: {json}");
        assert_eq!(json["summary"]["rejected"], 1, "{strategy}: {json}");
        assert!(
            json["summary"]["objective"]
                .as_f64()
                .is_some_and(|v| v > 900.0),
            "{json}"
        );
        assert_eq!(json["outcomes"][0]["id"], "q1");
        assert_eq!(json["outcomes"][0]["path"][0], "beijing");
        assert!(json["outcomes"][0]["site"].is_string());
        assert!(json["outcomes"][1]["reason"].is_string(), "{json}");
    }
    std::fs::write(
        &file,
        "{\"id\": \"x\", \"from\": \"beijing\", \"demand\": \"1 TFLOPS\", \"colour\": 1}\n",
    )
    .expect("write");
    let o = cpn(&["place", "--requests", file.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("requests.jsonl:1:") && stderr(&o).contains("unknown field `colour`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn slice_plan_shows_the_links_and_exits_3_without_room() {
    let o = cpn(&[
        "slice",
        "plan",
        "--slice",
        "gold",
        "--from",
        "beijing",
        "--to",
        "guiyang",
        "--guaranteed",
        "100Gbps",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(json["path"][0], "beijing");
    assert_eq!(
        json["path"]
            .as_array()
            .and_then(|p| p.last())
            .and_then(|v| v.as_str()),
        Some("guiyang")
    );
    assert!(
        json["links"].as_array().is_some_and(|l| !l.is_empty()),
        "{json}"
    );
    let o = cpn(&[
        "slice",
        "plan",
        "--slice",
        "x",
        "--from",
        "beijing",
        "--to",
        "guiyang",
        "--guaranteed",
        "10Tbps",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o)
            .contains("no path from router `beijing` to router `guiyang` with room for 10 Tbps"),
        "{}",
        stderr(&o)
    );
}
