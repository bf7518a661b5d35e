//! A controller's state moved and checked: `cpn data export` of a stopped controller, `import`
//! into an empty store (and only an empty one), `verify` by replay, and a controller started on
//! the imported store holding the same reservations. Also `cpn serve --config FILE`.

mod common;

use std::process::Output;

use common::{ADMIN, Server, cpn_command, place_body};
use serde_json::{Value, json};

fn cpn(args: &[&str]) -> Output {
    cpn_command().args(args).output().expect("cpn runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Reservations as (id, name, site, path), in id order.
fn held(server: &Server) -> Vec<(u64, String, String, String)> {
    let list = server
        .api()
        .get("/api/v1/reservations", Some(ADMIN))
        .expect(200)
        .json();
    let mut out: Vec<_> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|r: &Value| {
            (
                r["id"].as_u64().expect("id"),
                r["name"].as_str().expect("name").to_string(),
                r["site"].as_str().expect("site").to_string(),
                r["path"].to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn export_import_and_verify_carry_the_state_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let mut server = Server::national(&a);
    server.wait_ready();
    let api = server.api();
    let tenant = api.tenant_with_token("acme");
    let froms = ["beijing", "shanghai", "guangzhou", "chengdu", "wuhan"];
    for k in 0..20 {
        let body = place_body(json!({
            "id": format!("r{k}"), "from": froms[k % froms.len()],
            "service": "video-analytics", "duration": "1 h", "min_bandwidth": "100 Mbps"
        }));
        api.post("/api/v1/place", Some(&tenant), &body).expect(200);
    }
    let route = json!({"from": "xian", "service": "llm-inference"});
    api.post("/api/v1/route", Some(&tenant), &route).expect(200);
    api.delete("/api/v1/reservations/3", Some(&tenant))
        .expect(200);
    let before = held(&server);
    assert_eq!(before.len(), 19);
    let status = server.stop().expect("stops on SIGTERM");
    assert!(status.success(), "{status:?}\n{}", server.log());

    let export = dir.path().join("export.jsonl");
    let (a_s, b_s, export_s) = (
        a.to_str().expect("path"),
        b.to_str().expect("path"),
        export.to_str().expect("path"),
    );
    let out = cpn(&["data", "export", "--data", a_s, "--out", export_s]);
    assert!(out.status.success(), "{}", text(&out));
    let lines = std::fs::read_to_string(&export).expect("export written");
    assert!(lines.contains(r#""table":"log""#), "{lines}");
    assert!(
        !lines.contains(ADMIN),
        "an export holds token hashes, never secrets"
    );

    // The stopped controller's log replays in the twin too.
    let twin = dir.path().join("twin");
    let out = cpn(&[
        "sim",
        "--replay",
        a_s,
        "--out",
        twin.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(twin.join("replay.json")).expect("replay.json"),
    )
    .expect("json");
    assert_eq!(summary["by_kind"]["place"], 20, "{summary}");
    assert_eq!(summary["reservations"], 19, "{summary}");

    let out = cpn(&["data", "import", "--data", b_s, export_s]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("replayed identically"),
        "{}",
        text(&out)
    );
    // Importing again would mix two states: refused, and the store is unchanged.
    let out = cpn(&["data", "import", "--data", b_s, export_s]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not empty"), "{}", text(&out));
    let out = cpn(&["data", "verify", "--data", b_s]);
    assert!(out.status.success(), "{}", text(&out));

    let server = Server::start(&["--data", b_s]);
    server.wait_ready();
    assert_eq!(held(&server), before);
    // The imported tenant token still works.
    server
        .api()
        .get("/api/v1/reservations", Some(&tenant))
        .expect(200);
}

#[test]
fn a_broken_export_line_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.jsonl");
    std::fs::write(
        &file,
        "{\"table\":\"meta\",\"key\":\"k\",\"value\":\"v\"}\n{\"table\":\"nope\",\"key\":\"k\",\"value\":\"v\"}\n",
    )
    .expect("write");
    let data = dir.path().join("data");
    let out = cpn(&[
        "data",
        "import",
        "--data",
        data.to_str().expect("path"),
        file.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("bad.jsonl:2: table: no table `nope`"),
        "{}",
        text(&out)
    );
}

#[test]
fn serve_reads_a_config_file_and_names_an_unknown_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("cpn.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata = {:?}\nscenario = \"national\"\nheartbeat_interval = \"2 s\"\n",
            data.to_str().expect("path")
        ),
    )
    .expect("write");
    let mut c = cpn_command();
    c.args(["serve", "--config", config.to_str().expect("path")])
        .env("CPN_ADMIN_TOKEN", ADMIN);
    let server = Server::spawn(c);
    server.wait_ready();
    assert!(data.join("cpn.redb").exists());
    drop(server);

    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nport = 80\n").expect("write");
    let out = cpn(&["serve", "--config", config.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("port"), "{}", text(&out));
    assert!(text(&out).contains("cpn.toml"), "{}", text(&out));
}
