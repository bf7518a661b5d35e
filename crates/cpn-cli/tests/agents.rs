//! A real controller and three real agent processes on loopback: the agents register (signed)
//! and heartbeat; a task (a real command) is placed on a site with a live agent, run there as
//! a child process under its limits, and reported with its exit status and usage; killing one
//! agent marks its site down within three heartbeat intervals and its running task is placed
//! again and run by another agent.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{ADMIN, Api, KillOnDrop, Server, cpn_command};
use serde_json::{Value, json};

/// The heartbeat interval of the controller and the agents.
const INTERVAL_MS: u64 = 500;

fn agent(server: &str, token: &str, site: &str, dir: &Path) -> KillOnDrop {
    let capabilities = dir.join("capabilities.json");
    std::fs::write(&capabilities, r#"{"cores": 2, "note": "test"}"#).expect("write");
    KillOnDrop(
        cpn_command()
            .args([
                "agent", "--server", server, "--token", token, "--site", site,
            ])
            .args(["--name", &format!("{site}-agent")])
            .arg("--key")
            .arg(dir.join("agent.key"))
            .arg("--work-dir")
            .arg(dir.join("work"))
            .arg("--capabilities")
            .arg(&capabilities)
            .args(["--interval", &format!("{INTERVAL_MS} ms")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cpn agent runs"),
    )
}

fn task(api: &Api, token: &str, id: &str) -> Value {
    api.get(&format!("/api/v1/tasks/{id}"), Some(token))
        .expect(200)
        .json()
}

fn site_up(api: &Api, site: &str) -> bool {
    let map = api.get("/api/v1/map", Some(ADMIN)).expect(200).json();
    map["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["name"] == site)
        .map(|s| s["up"] == true)
        .expect("the site")
}

#[test]
fn agents_run_tasks_and_a_dead_agents_work_moves() {
    let data = tempfile::tempdir().expect("tempdir");
    let interval = format!("{INTERVAL_MS} ms");
    let server = Server::start(&[
        "--data",
        data.path().to_str().expect("path"),
        "--scenario",
        "national",
        "--heartbeat-interval",
        &interval,
    ]);
    server.wait_ready();
    let api = server.api();
    api.post("/api/v1/tenants", Some(ADMIN), &json!({"name": "edgeco"}))
        .expect(201);
    let agent_token = api.token("edgeco", "agent")["token"]
        .as_str()
        .expect("secret")
        .to_string();
    let tenant = api.tenant_with_token("acme");

    let sites = ["shenzhen-edge", "guangzhou-edge", "shanghai-edge"];
    let mut agents: Vec<(String, KillOnDrop, tempfile::TempDir)> = sites
        .iter()
        .map(|site| {
            let dir = tempfile::tempdir().expect("tempdir");
            let a = agent(&server.url, &agent_token, site, dir.path());
            (site.to_string(), a, dir)
        })
        .collect();
    common::wait_for(Duration::from_secs(20), "three live agents", || {
        let list = api.get("/api/v1/agents", Some(ADMIN)).expect(200).json();
        let alive = list
            .as_array()
            .expect("agents")
            .iter()
            .filter(|a| a["alive"] == true)
            .count();
        (alive == 3).then_some(())
    });

    // A real command: output, an exit status, some CPU time.
    let submit = json!({
        "request": {"id": "t1", "from": "shenzhen", "service": "llm-inference", "duration": "1 h"},
        "command": ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo hello from $PWD; exit 3"],
        "limits": {"cpu_seconds": 30, "memory_mib": 512, "wall_seconds": 60}
    });
    let placed = api
        .post("/api/v1/tasks", Some(&tenant), &submit)
        .expect(201)
        .json();
    assert!(
        sites.contains(&placed["site"].as_str().expect("a site")),
        "{placed}"
    );
    let done = common::wait_for(Duration::from_secs(30), "t1 to exit", || {
        let t = task(&api, &tenant, "t1");
        (t["state"] == "exited").then_some(t)
    });
    let report = &done["report"];
    assert_eq!(report["exit_code"], 3, "{done}");
    assert!(report["cpu_seconds"].as_f64().expect("cpu") > 0.0, "{done}");
    assert!(
        report["wall_seconds"].as_f64().expect("wall") > 0.0,
        "{done}"
    );
    assert!(
        ["rlimit", "cgroup"].contains(&report["isolation"].as_str().expect("isolation")),
        "{done}"
    );
    let ran_at = done["agent"].as_str().expect("agent").to_string();
    let (_, _, dir) = agents
        .iter()
        .find(|(site, _, _)| format!("{site}-agent") == ran_at)
        .expect("the agent that ran it");
    let out = std::fs::read_to_string(dir.path().join("work/t1-1/stdout")).expect("its output");
    assert!(out.contains("hello from"), "{out}");
    // Its reservation was given back when it ended.
    let reservation = done["reservation"].as_u64().expect("reservation");
    api.get(
        &format!("/api/v1/reservations/{reservation}"),
        Some(&tenant),
    )
    .expect(404);

    // A long task; its agent dies while it runs.
    let submit = json!({
        "request": {"id": "t2", "from": "shenzhen", "service": "llm-inference", "duration": "1 h"},
        "command": ["sleep", "30"],
        "limits": {"wall_seconds": 40}
    });
    api.post("/api/v1/tasks", Some(&tenant), &submit)
        .expect(201);
    let running = common::wait_for(Duration::from_secs(20), "t2 to run", || {
        let t = task(&api, &tenant, "t2");
        (t["state"] == "running").then_some(t)
    });
    let victim = running["agent"].as_str().expect("agent").to_string();
    let site = running["site"].as_str().expect("site").to_string();
    let index = agents
        .iter()
        .position(|(s, _, _)| format!("{s}-agent") == victim)
        .expect("the victim");
    // The controller's own clock says when the site went down: the event stream's `at_ms`.
    let stream = api.events(ADMIN);
    let (_, mut killed, _) = agents.remove(index);
    let killed_at = Instant::now();
    let _ = killed.0.kill();
    let _ = killed.0.wait();
    let events = stream.until(Duration::from_secs(10), |kind, data| {
        kind == "site" && data["data"]["site"] == site.as_str() && data["data"]["up"] == false
    });
    let took = killed_at.elapsed();
    let down_at = events.last().expect("the site event").1["at_ms"]
        .as_u64()
        .expect("at_ms");
    let agents_now = api.get("/api/v1/agents", Some(ADMIN)).expect(200).json();
    let last_seen = agents_now
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["id"] == victim.as_str())
        .and_then(|a| a["last_seen_at_ms"].as_u64())
        .expect("the victim's last heartbeat");
    assert!(!site_up(&api, &site));
    // Three missed intervals after its last heartbeat (which came before the kill), found by
    // the controller's timer, which looks every tenth of an interval; 250 ms more for a timer
    // task delayed on a busy machine (CI runs other tests beside this one).
    let silent = down_at.saturating_sub(last_seen);
    let bound = 3 * INTERVAL_MS + INTERVAL_MS / 10 + 250;
    assert!(
        silent > 3 * INTERVAL_MS && silent <= bound,
        "site down {silent} ms after the agent's last heartbeat (expected over {} and at most {bound})",
        3 * INTERVAL_MS
    );
    let moved = common::wait_for(Duration::from_secs(20), "t2 to run elsewhere", || {
        let t = task(&api, &tenant, "t2");
        (t["state"] == "running" && t["agent"] != victim.as_str()).then_some(t)
    });
    assert_eq!(moved["attempts"], 2, "{moved}");
    assert_ne!(moved["site"], site.as_str(), "{moved}");
    eprintln!(
        "site {site} down {silent} ms after the agent's last heartbeat ({took:?} after the kill, as this test saw it); t2 now at {}",
        moved["site"]
    );
    // The CLI client lists both, the first ended with its exit status.
    let out = cpn_command()
        .args(["task", "list", "--server", &server.url, "--token", &tenant])
        .output()
        .expect("cpn task list");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("t1") && l.contains("exited") && l.ends_with("exit 3")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("t2") && l.contains("running")),
        "{text}"
    );
}

#[test]
fn tampered_and_replayed_registrations_are_refused() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::national(data.path());
    server.wait_ready();
    let api = server.api();
    api.post("/api/v1/tenants", Some(ADMIN), &json!({"name": "edgeco"}))
        .expect(201);
    let token = api.token("edgeco", "agent")["token"]
        .as_str()
        .expect("secret")
        .to_string();
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let signed = cpn_api::AgentRegistration {
        agent: "bj-1".into(),
        site: "beijing-edge".into(),
        public_key: String::new(),
        timestamp_ms: now_ms,
        nonce: "00112233445566778899aabbccddeeff".into(),
        capabilities: json!({"fp64_gflops": 100.0}),
        signature: String::new(),
    }
    .sign(&key);
    let body = |r: &cpn_api::AgentRegistration| serde_json::to_value(r).expect("json");
    // A byte changed after signing: the capabilities claimed, the site.
    let mut tampered = signed.clone();
    tampered.capabilities = json!({"fp64_gflops": 100000.0});
    api.post("/api/v1/agents", Some(&token), &body(&tampered))
        .expect_error(401, "bad_signature");
    let mut tampered = signed.clone();
    tampered.site = "shanghai-edge".into();
    api.post("/api/v1/agents", Some(&token), &body(&tampered))
        .expect_error(401, "bad_signature");
    api.post("/api/v1/agents", Some(&token), &body(&signed))
        .expect(201);
    // The same message again is a replay.
    api.post("/api/v1/agents", Some(&token), &body(&signed))
        .expect_error(401, "replayed_registration");
    // Signed by another key for the same name: refused.
    let other = cpn_api::AgentRegistration {
        timestamp_ms: now_ms + 1,
        ..signed.clone()
    }
    .sign(&ed25519_dalek::SigningKey::from_bytes(&[10; 32]));
    api.post("/api/v1/agents", Some(&token), &body(&other))
        .expect_error(409, "conflict");
    // An old message, signed right: too far from the controller's clock.
    let stale = cpn_api::AgentRegistration {
        agent: "bj-2".into(),
        timestamp_ms: now_ms - 3_600_000,
        ..signed
    }
    .sign(&key);
    api.post("/api/v1/agents", Some(&token), &body(&stale))
        .expect_error(401, "stale_registration");
}
