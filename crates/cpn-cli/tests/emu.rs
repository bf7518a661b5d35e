//! `cpn emu up` / `cpn emu down` as a user runs them (root only; without root the tests print
//! SKIPPED, and fail when `CI` is set): the national scenario comes up and goes down leaving
//! nothing; an `up` made to fail halfway (its `nft` fails) is cleaned up by `down`; bad names
//! and second bring-ups are refused before anything is made.

use std::path::Path;
use std::process::{Command, Output};

use cpn_dataplane::emu;

use cpn_testdata::root;

fn cpn(args: &[&str], state_dir: &Path, path: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cpn"));
    c.args(args).env("CPN_EMU_STATE_DIR", state_dir);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    c.output().expect("cpn runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `cpn emu down --name NAME`, which must succeed and leave no namespace, interface or
/// nftables table of the emulation; returns what it printed.
fn down_leaves_nothing(state_dir: &Path, name: &str) -> String {
    let down = cpn(&["emu", "down", "--name", name], state_dir, None);
    assert!(down.status.success(), "{}", text(&down));
    assert_eq!(
        emu::leftovers(name).expect("leftovers"),
        Vec::<String>::new()
    );
    text(&down)
}

#[test]
fn national_comes_up_and_goes_down_leaving_nothing() {
    if !root("national_comes_up_and_goes_down_leaving_nothing") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let name = "tnational";
    let _ = cpn(&["emu", "down", "--name", name], dir.path(), None);
    let out = cpn(
        &["emu", "up", "national", "--name", name, "--json"],
        dir.path(),
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // 30 routers, 24 sites, a client per router; 51 links and 54 attachments.
    assert_eq!(report["namespaces"], 84);
    assert_eq!(report["veths"], 105);
    eprintln!("national up in {} s", report["seconds"]);
    assert_eq!(emu::namespaces_of(name).expect("list").len(), 84);
    let state = emu::read_state(dir.path(), name).expect("state file");
    assert!(state.complete);

    // A second `up` under the same name is refused and changes nothing.
    let again = cpn(&["emu", "up", "national", "--name", name], dir.path(), None);
    assert!(!again.status.success());
    assert!(text(&again).contains("already up"), "{}", text(&again));

    let down = down_leaves_nothing(dir.path(), name);
    assert!(down.contains("84 namespaces removed"), "{down}");
    assert!(!emu::state_path(dir.path(), name).exists());
}

#[test]
fn down_cleans_up_after_an_up_that_failed_halfway() {
    if !root("down_cleans_up_after_an_up_that_failed_halfway") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let name = "tfail";
    let _ = cpn(&["emu", "down", "--name", name], dir.path(), None);
    // An `nft` that fails: the namespaces, veths, addresses and routes are made, then the
    // hop counters cannot be installed.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let nft = bin.join("nft");
    std::fs::write(
        &nft,
        "#!/bin/sh\necho 'nft: broken on purpose' >&2\nexit 1\n",
    )
    .expect("nft");
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&nft)
        .status()
        .expect("chmod");
    assert!(status.success());
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = cpn(
        &["emu", "up", "national", "--name", name],
        dir.path(),
        Some(&path),
    );
    assert!(!out.status.success(), "{}", text(&out));
    let message = text(&out);
    assert!(message.contains("broken on purpose"), "{message}");
    assert!(message.contains("cpn emu down --name tfail"), "{message}");
    assert!(
        !emu::namespaces_of(name).expect("list").is_empty(),
        "the failed up left namespaces"
    );
    let state = emu::read_state(dir.path(), name).expect("the state file was written first");
    assert!(!state.complete);

    down_leaves_nothing(dir.path(), name);
    assert!(!emu::state_path(dir.path(), name).exists());
}

#[test]
fn bad_names_and_scenarios_are_refused_before_anything_is_made() {
    // These need no root: nothing is made.
    let dir = tempfile::tempdir().expect("temp dir");
    for bad in ["", "Upper", "with_underscore", "much-too-long-name", "1abc"] {
        let out = cpn(&["emu", "up", "national", "--name", bad], dir.path(), None);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
        assert!(text(&out).contains("a name is 1 to 12"), "{}", text(&out));
    }
    let out = cpn(
        &["emu", "up", "no-such-scenario.toml", "--name", "tbad"],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no-such-scenario.toml"),
        "{}",
        text(&out)
    );
    let out = cpn(
        &["emu", "up", "national", "--name", "tbad", "--scale", "0"],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("scale"), "{}", text(&out));
}

mod common;

/// The headend's steering route of service 0 (`fcbb:cc00::/48`) in router namespace `ns`,
/// waited for (the data plane programs it on its own thread after the commit) until it is
/// `present` or not.
/// The tests' six-router network brought up as `name` with unscaled links, and a scratch
/// directory for its state file and its controller's data.
struct Emulation {
    dir: tempfile::TempDir,
    name: &'static str,
    scenario: String,
}

impl Emulation {
    fn up(name: &'static str) -> Emulation {
        let dir = tempfile::tempdir().expect("temp dir");
        let scenario = common::workspace().join("crates/cpn-dataplane/tests/emu-test.toml");
        let scenario = scenario.to_str().expect("UTF-8 path").to_string();
        let _ = cpn(&["emu", "down", "--name", name], dir.path(), None);
        let up = cpn(
            &["emu", "up", &scenario, "--name", name, "--scale", "1"],
            dir.path(),
            None,
        );
        assert!(up.status.success(), "{}", text(&up));
        Emulation {
            dir,
            name,
            scenario,
        }
    }

    /// `cpn serve --dataplane emu` on this emulation with `extra` arguments, ready; its data
    /// stays in the scratch directory, so a second one restarts the first.
    fn serve(&self, extra: &[&str]) -> common::Server {
        let data = self.dir.path().join("data");
        let data = data.to_str().expect("UTF-8 path");
        let state = self.dir.path().to_str().expect("UTF-8 path");
        let mut args = vec![
            "--data",
            data,
            "--scenario",
            &self.scenario,
            "--dataplane",
            "emu",
            "--emu-name",
            self.name,
            "--emu-state-dir",
            state,
        ];
        args.extend_from_slice(extra);
        let server = common::Server::start(&args);
        server.wait_ready();
        server
    }
}

fn headend_route(ns: &str, present: bool) -> Option<cpn_dataplane::RouteAction> {
    use cpn_dataplane::{Dataplane, Linux, RouteKey};
    let key = RouteKey::main("fcbb:cc00::".parse().expect("address"), 48);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let route = Linux.read(ns).expect("read").routes.get(&key).cloned();
        if route.is_some() == present || std::time::Instant::now() > deadline {
            return route;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn serve_steers_reservations_into_the_emulation_and_releases_remove_them() {
    if !root("serve_steers_reservations_into_the_emulation_and_releases_remove_them") {
        return;
    }
    let emu = Emulation::up("tserve");
    let (dir, name) = (&emu.dir, emu.name);
    let server = emu.serve(&[]);
    let api = server.api();
    let acme = api.tenant_with_token("acme");
    let reply = api
        .post(
            "/api/v1/place",
            Some(&acme),
            &serde_json::json!({"requests": [
                {"id": "r1", "from": "a", "service": "infer", "duration": "10 min"}
            ]}),
        )
        .expect(200)
        .json();
    let reservation = &reply["results"][0]["reservations"][0];
    let id = reservation["id"].as_u64().expect("a reservation id");

    // The headend (router `a`, namespace tserve_r0) steers the service into the site's
    // End.DT6, and probes from a's client reach the site.
    let route = headend_route("tserve_r0", true);
    let Some(cpn_dataplane::RouteAction::Seg6 { segs, .. }) = route else {
        panic!("no seg6 route at the headend: {route:?}\n{}", server.log());
    };
    let dt6 = segs.last().expect("a segment").to_string();
    // Sites are 0 (d-site, at router d = 3) and 1 (f-site, at f = 5).
    assert!(
        ["fcbb:bb00:3::d6:0", "fcbb:bb00:5::d6:1"].contains(&dt6.as_str()),
        "{segs:?}"
    );
    let site = if dt6.ends_with("d6:0") { 0 } else { 1 };
    let got = probe(name, 0, site, 20);
    assert_eq!(got, 20, "probes reach the chosen site");

    // The data plane probes the reservation's path with STAMP every 5 periods (100 ms
    // each) and reports its delay, which the reservation shows beside the decided latency.
    let started = std::time::Instant::now();
    let delay = loop {
        let view = api
            .get(&format!("/api/v1/reservations/{id}"), Some(&acme))
            .expect(200)
            .json();
        if !view["measured_delay"].is_null() {
            break view["measured_delay"].clone();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "no measured delay after 5 s: {view}\n{}",
            server.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let ns = |field: &str| {
        delay[field]
            .as_u64()
            .unwrap_or_else(|| panic!("{field}: {delay}"))
    };
    let (rtt, forward, backward) = (ns("round_trip_ns"), ns("forward_ns"), ns("backward_ns"));
    // Forwarding times of a few namespaces: positive and far below 10 ms (the emulated links
    // add no propagation delay).
    for v in [rtt, forward, backward] {
        assert!(v > 0 && v < 10_000_000, "{delay}");
    }
    eprintln!(
        "measured delay through cpn serve after {:.0} ms: round trip {} us, forward {} us, backward {} us",
        started.elapsed().as_secs_f64() * 1e3,
        rtt / 1000,
        forward / 1000,
        backward / 1000
    );
    let map = api.get("/api/v1/map", Some(&acme)).expect(200).json();
    assert_eq!(
        map["measured"][0]["reservation"].as_u64(),
        Some(id),
        "{map}"
    );
    let metrics = reqwest::blocking::get(format!("{}/metrics", api.base()))
        .and_then(|r| r.text())
        .expect("metrics");
    assert!(
        metrics.contains(&format!(
            "cpn_path_round_trip_seconds{{reservation=\"{id}\""
        )),
        "{metrics}"
    );
    // Decisions keep the scenario's latency, not the forwarding time.
    let view = api
        .get(&format!("/api/v1/reservations/{id}"), Some(&acme))
        .expect(200)
        .json();
    assert_eq!(view["latency_us"], reservation["latency_us"], "{view}");

    // A restarted controller programs the reservations it restores: the route, deleted
    // while it was down, comes back.
    let mut server = server;
    assert!(
        server.stop().is_some_and(|s| s.success()),
        "{}",
        server.log()
    );
    let del = Command::new("ip")
        .args(["-n", "tserve_r0", "-6", "route", "del", "fcbb:cc00::/48"])
        .output()
        .expect("ip");
    assert!(del.status.success(), "{}", text(&del));
    let server = emu.serve(&[]);
    let api = server.api();
    let back = headend_route("tserve_r0", true);
    assert!(
        matches!(&back, Some(cpn_dataplane::RouteAction::Seg6 { segs: again, .. }) if *again == segs),
        "{back:?}\n{}",
        server.log()
    );

    api.delete(&format!("/api/v1/reservations/{id}"), Some(&acme))
        .expect(200);
    assert_eq!(headend_route("tserve_r0", false), None, "{}", server.log());
    assert_eq!(
        probe(name, 0, site, 3),
        0,
        "nothing steers the service any more"
    );

    drop(server);
    down_leaves_nothing(dir.path(), name);
}

/// UDP datagrams from the client of router `router` to service 0's address at site `site`,
/// and how many arrived.
fn probe(name: &str, router: u32, site: u32, count: u32) -> u32 {
    use std::net::{SocketAddrV6, UdpSocket};
    let bind = |ns: String, addr: std::net::Ipv6Addr, port: u16| {
        emu::in_netns(&ns, || {
            UdpSocket::bind(SocketAddrV6::new(addr, port, 0, 0)).map_err(|e| {
                cpn_dataplane::DataplaneError::Namespace {
                    ns: ns.clone(),
                    reason: e.to_string(),
                }
            })
        })
        .expect("bound")
    };
    let service = "fcbb:cc00::1".parse().expect("address");
    let server = bind(emu::site_ns(name, site), service, 9000);
    server
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .expect("timeout");
    let client = bind(
        emu::client_ns(name, router),
        emu::client_addr(router, true),
        0,
    );
    let mut got = 0;
    let mut buf = [0u8; 16];
    for i in 0..count {
        let _ = client.send_to(&i.to_be_bytes(), SocketAddrV6::new(service, 9000, 0, 0));
        if server.recv_from(&mut buf).is_ok() {
            got += 1;
        }
    }
    got
}

/// Counter `name` of router namespace `ns`.
fn counter(ns: &str, name: &str) -> u64 {
    emu::counters(ns)
        .expect("counters")
        .get(name)
        .copied()
        .unwrap_or(0)
}

#[test]
fn serve_moves_a_reservation_off_a_link_that_in_flow_telemetry_finds_lossy() {
    if !root("serve_moves_a_reservation_off_a_link_that_in_flow_telemetry_finds_lossy") {
        return;
    }
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    let emu = Emulation::up("tloop");
    let (dir, name) = (&emu.dir, emu.name);
    let server = emu.serve(&["--ifit-period", "100 ms"]);
    let api = server.api();
    let acme = api.tenant_with_token("acme");
    api.post(
        "/api/v1/place",
        Some(&acme),
        &serde_json::json!({"requests": [{
            "id": "r1", "from": "a", "service": "infer", "duration": "10 min", "max_loss": "0.5%"
        }]}),
    )
    .expect(200);
    let headend = emu::router_ns(name, 0);
    let Some(cpn_dataplane::RouteAction::Seg6 {
        segs: first_segs,
        dev: lossy_dev,
        ..
    }) = headend_route(&headend, true)
    else {
        panic!("no seg6 route at the headend\n{}", server.log());
    };

    // Traffic from a's client to the service, 8000 datagrams a second.
    let service: std::net::Ipv6Addr = "fcbb:cc00::1".parse().expect("address");
    let client = emu::in_netns(&emu::client_ns(name, 0), || {
        std::net::UdpSocket::bind("[::]:0").map_err(|e| cpn_dataplane::DataplaneError::Namespace {
            ns: "client".into(),
            reason: e.to_string(),
        })
    })
    .expect("client socket");
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut sent = 0u64;
            let to = std::net::SocketAddrV6::new(service, 9000, 0, 0);
            while !stop.load(Ordering::Relaxed) {
                let due = started.elapsed().as_micros() as u64 * 8 / 1000;
                while sent < due {
                    let _ = client.send_to(&sent.to_be_bytes(), to);
                    sent += 1;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(800));

    // 1% loss on the headend's first link, after its counters.
    let script = format!(
        "table ip6 loss {{\n  chain post {{\n    type filter hook postrouting priority 400; policy accept;\n    oifname \"{lossy_dev}\" rt type 4 numgen random mod 1000 < 10 drop\n  }}\n}}\n"
    );
    let injected = Instant::now();
    emu::in_netns(&headend, || {
        let mut child = std::process::Command::new("nft")
            .args(["-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .map_err(|source| cpn_dataplane::DataplaneError::Spawn {
                program: "nft".into(),
                source,
            })?;
        use std::io::Write;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(script.as_bytes());
        }
        let status = child
            .wait()
            .map_err(|source| cpn_dataplane::DataplaneError::Spawn {
                program: "nft".into(),
                source,
            })?;
        assert!(status.success(), "nft refused {script}");
        Ok(())
    })
    .expect("loss injected");

    // The controller moves the reservation; the headend gets another list.
    let new_route = loop {
        let route = headend_route(&headend, true);
        if let Some(cpn_dataplane::RouteAction::Seg6 { segs, dev, .. }) = &route
            && *segs != first_segs
        {
            break (segs.clone(), dev.clone());
        }
        assert!(
            injected.elapsed() < Duration::from_secs(15),
            "no re-selection 15 s after the loss began\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let reprogrammed = injected.elapsed();
    let (segs, dev) = new_route;
    assert_ne!(
        dev, lossy_dev,
        "the new path leaves by another link: {segs:?}"
    );
    let out = format!("out_{dev}");
    let before = counter(&headend, &out);
    while counter(&headend, &out) <= before {
        assert!(
            injected.elapsed() < Duration::from_secs(20),
            "no traffic on the new path"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let carrying = injected.elapsed();
    eprintln!(
        "closed loop through cpn serve: headend reprogrammed {:.0} ms and traffic on the new path {:.0} ms after the loss began (period 100 ms; first {first_segs:?}, then {segs:?})",
        reprogrammed.as_secs_f64() * 1e3,
        carrying.as_secs_f64() * 1e3
    );
    let log = server.log();
    assert!(log.contains("in-flow telemetry: loss changed"), "{log}");
    let list = api
        .get("/api/v1/reservations", Some(&acme))
        .expect(200)
        .json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");

    stop.store(true, Ordering::Relaxed);
    let _ = sender.join();
    drop(server);
    down_leaves_nothing(dir.path(), name);
}
