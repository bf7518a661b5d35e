//! `cpn serve` killed with SIGKILL in the middle of a stream of placements: every reservation
//! it acknowledged is there after a restart, and the data replays identically (nothing is
//! half-written). Also the refusals of a data directory that is in use or holds another
//! scenario.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{ADMIN, STARTUP, Server, cpn_command, place_small, wait_exit};

/// Ingress routers the clients take turns with.
const FROM: [&str; 6] = [
    "beijing",
    "shanghai",
    "guangzhou",
    "chengdu",
    "wuhan",
    "xian",
];

const CLIENTS: usize = 4;

#[test]
fn every_acknowledged_reservation_survives_kill_9() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::national(data.path());
    server.wait_ready();
    let api = server.api();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (api, acknowledged, refused, stop) = (
                api.clone(),
                acknowledged.clone(),
                refused.clone(),
                stop.clone(),
            );
            thread::spawn(move || {
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = format!("c{c}-{n}");
                    // A call cut off by the kill was never acknowledged; the server is gone.
                    let Some(accepted) = place_small(&api, &id, FROM[(c + n) % FROM.len()]) else {
                        break;
                    };
                    if accepted {
                        acknowledged.lock().expect("lock").push(id);
                    } else {
                        *refused.lock().expect("lock") += 1;
                    }
                }
            })
        })
        .collect();

    // Kill mid-stream: after about a second, once some placements were acknowledged.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1)
        || acknowledged.lock().expect("lock").len() < 10
    {
        assert!(started.elapsed() < STARTUP, "no placement acknowledged");
        thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("a client thread");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    println!(
        "{} placements acknowledged, {} refused before the kill",
        acknowledged.len(),
        refused.lock().expect("lock")
    );

    // The data as the crash left it replays identically.
    let out = cpn_command()
        .args(["data", "verify", "--data"])
        .arg(data.path())
        .output()
        .expect("cpn runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("every decision the same"), "{said}");

    // After a restart every acknowledged reservation is there.
    let server = Server::national(data.path());
    server.wait_ready();
    let held = server
        .api()
        .get("/api/v1/reservations", Some(ADMIN))
        .expect(200)
        .json();
    let names: std::collections::HashSet<&str> = held
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["name"].as_str().expect("a name"))
        .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !names.contains(id.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged reservations lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );

    // A second controller on the same data directory is refused, naming it.
    let dir = data.path().to_str().expect("UTF-8");
    let mut second = cpn_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data", dir])
        .env("CPN_ADMIN_TOKEN", ADMIN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cpn runs");
    let status = wait_exit(&mut second, STARTUP);
    if status.is_none() {
        let _ = second.kill();
    }
    let out = second.wait_with_output().expect("its output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{err}");
    assert!(err.contains(dir), "the error does not name {dir}: {err}");
    drop(server);
}

#[test]
fn a_data_directory_refuses_another_scenario() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::national(data.path());
    server.wait_ready();
    drop(server);

    let other = common::workspace().join("crates/cpn-model/tests/scenarios/valid/minimal.toml");
    let mut c = cpn_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .arg("--scenario")
        .arg(&other)
        .env("CPN_ADMIN_TOKEN", ADMIN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cpn runs");
    let status = wait_exit(&mut c, STARTUP);
    if status.is_none() {
        let _ = c.kill();
    }
    let out = c.wait_with_output().expect("its output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{err}");
    assert!(
        err.contains("scenario `national`") && err.contains("data directory"),
        "{err}"
    );
}
