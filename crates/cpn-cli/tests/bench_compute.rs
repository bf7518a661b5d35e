//! `cpn bench compute --json --quick` as a user runs it: the keys the issue names exist and
//! the figures are sane for any machine that can run the tests. Only sanity bounds, never
//! timings: how fast this machine is, is for BENCHMARKS.md.

use std::process::Command;

use serde_json::Value;

fn number(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is a number in {v}"))
}

#[test]
fn bench_compute_json_has_sane_figures() {
    let o = Command::new(env!("CARGO_BIN_EXE_cpn"))
        .args(["bench", "compute", "--json", "--quick"])
        .output()
        .expect("cpn runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON object");

    let fp64 = number(&v, "fp64_gflops");
    let fp32 = number(&v, "fp32_gflops");
    assert!(fp64 > 0.0 && fp32 > 0.0, "{fp64} {fp32}");
    // FP32 does at least as many operations per cycle as FP64; allow for noise.
    assert!(fp32 >= 0.7 * fp64, "fp32 {fp32} < fp64 {fp64}");
    assert!(number(&v, "int_gops") > 0.0);
    assert!(v["cores"].as_u64().expect("cores") >= 1);
    let bandwidth = number(&v, "mem_bandwidth_gbps");
    assert!((0.1..1000.0).contains(&bandwidth), "{bandwidth} GB/s");
    let hashes = number(&v, "sha256_hashes_per_s");
    assert!(hashes > 1e5, "{hashes} hashes/s");

    for key in [
        "fp64_gflops",
        "fp32_gflops",
        "int_gops",
        "sha256_hashes_per_s",
    ] {
        assert!(number(&v["single_core"], key) > 0.0, "single_core.{key}");
    }
    let kernels = v["kernels"].as_array().expect("kernels");
    assert_eq!(kernels.len(), 5);
    for k in kernels {
        let spread = number(&k["all_cores"], "spread");
        assert!(spread >= 0.0, "{k}");
    }
    assert!(v["system"]["gpus"].as_array().is_some());
    assert!(v["system"]["gpu_source"].is_string());

    let cats = &v["cats"];
    let l0 = cats["l0"].as_array().expect("cats.l0");
    assert!(l0.len() >= 6, "{l0:?}");
    assert!(
        l0.iter().all(|m| m["metric"]["source"] == "measured"),
        "{l0:?}"
    );
    assert_eq!(cats["l1"][0]["category"], "compute");
    let l2 = number(&cats["l2"], "score");
    assert!((0.0..=10.0).contains(&l2) && l2 > 0.0, "{l2}");
}

#[test]
fn bench_compute_prints_a_table() {
    let o = Command::new(env!("CARGO_BIN_EXE_cpn"))
        .args(["bench", "compute", "--quick"])
        .output()
        .expect("cpn runs");
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    for row in [
        "fp64_gemm",
        "fp32_gemm",
        "int32_muladd",
        "sha256_64b",
        "stream_triad",
        "CATS: L1 compute",
    ] {
        assert!(text.contains(row), "no `{row}` in\n{text}");
    }
}
