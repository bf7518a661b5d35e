//! `/metrics` of a controller that has made decisions passes `promtool check metrics`.
//! Without `/usr/bin/promtool` it says SKIPPED and passes, except under CI, where it fails.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{ADMIN, Server, have, place_body};
use serde_json::json;

const PROMTOOL: &str = "/usr/bin/promtool";

#[test]
fn metrics_pass_promtool() {
    if !have(
        "promtool",
        Path::new(PROMTOOL),
        "apt-get install prometheus",
    ) {
        return;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::national(data.path());
    server.wait_ready();
    let api = server.api();
    // Decisions of every outcome, refusals and errors, so that every family has samples.
    let route = json!({"from": "beijing", "service": "ar-cloud-gaming"});
    api.post("/api/v1/route", Some(ADMIN), &route).expect(200);
    let impossible =
        json!({"from": "beijing", "service": "ar-cloud-gaming", "max_latency": "1 us"});
    api.post("/api/v1/route", Some(ADMIN), &impossible)
        .expect(200);
    let place = place_body(json!({
        "id": "p1", "from": "shanghai", "service": "llm-inference", "duration": "1 min"
    }));
    api.post("/api/v1/place", Some(ADMIN), &place).expect(200);
    api.post("/api/v1/route", Some("cpn_wrong"), &route)
        .expect(401);
    api.post_bytes("/api/v1/route", Some(ADMIN), b"{".to_vec())
        .expect(400);

    let metrics = api.get("/metrics", None).expect(200).text;
    assert!(metrics.contains("cpn_decisions_total"), "{metrics}");
    let mut promtool = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(metrics.as_bytes())
        .expect("write the metrics");
    let out = promtool.wait_with_output().expect("promtool's verdict");
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\nthe metrics:\n{metrics}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
