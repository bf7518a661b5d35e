//! `cpn demo` as a user starts it: it prints the dashboard's URL with a token that works, its
//! map shows every site of the national scenario, the page is served, and it stops cleanly
//! after `--duration`.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{Api, KillOnDrop, STARTUP, cpn_command, free_ports, wait_exit};

#[test]
fn demo_serves_the_national_map_and_stops_cleanly() {
    let port = free_ports(1)[0];
    let listen = format!("127.0.0.1:{port}");
    let mut demo = KillOnDrop(
        cpn_command()
            .args(["demo", "--listen", &listen, "--duration", "4 s"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cpn demo runs"),
    );
    let stdout = demo.0.stdout.take().expect("piped stdout");
    let stderr = demo.0.stderr.take().expect("piped stderr");
    let warnings = thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let (tx, rx) = mpsc::channel();
    // Every line it prints, the dashboard's first; the summary is rewritten in place with `\r`.
    let reader = thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("#token=") {
                let _ = tx.send(line.clone());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let dashboard = rx
        .recv_timeout(STARTUP)
        .expect("cpn demo printed no dashboard URL");
    let url = dashboard
        .split_whitespace()
        .find(|w| w.contains("#token="))
        .expect("a URL");
    let (base, token) = url.split_once("/#token=").expect("URL/#token=SECRET");
    assert_eq!(base, format!("http://{listen}"), "{dashboard}");

    let api = Api::new(base);
    let map = api.get("/api/v1/map", Some(token)).expect(200).json();
    let scenario = cpn_model::built_in("national")
        .expect("national is built in")
        .expect("national reads");
    let expected: BTreeSet<String> = scenario.sites.iter().map(|s| s.name.clone()).collect();
    let drawn: BTreeSet<String> = map["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| s["name"].as_str().expect("a name").to_string())
        .collect();
    assert_eq!(drawn.len(), 24, "{map}");
    assert_eq!(drawn, expected);
    let page = api.get("/", None).expect(200).text;
    assert!(
        page.contains("<html") || page.contains("<!doctype html"),
        "{page}"
    );

    let status = wait_exit(&mut demo.0, STARTUP + Duration::from_secs(4))
        .expect("cpn demo did not stop after its --duration");
    let printed = reader.join().expect("the reader");
    let warnings = warnings.join().expect("the stderr reader");
    assert!(status.success(), "{status}: {printed}{warnings}");
    assert!(printed.contains("stopped cleanly"), "{printed}");
}

#[test]
fn demo_stops_cleanly_on_ctrl_c() {
    let port = free_ports(1)[0];
    let listen = format!("127.0.0.1:{port}");
    let mut demo = KillOnDrop(
        cpn_command()
            .args(["demo", "--listen", &listen])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cpn demo runs"),
    );
    let stdout = demo.0.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("#token=") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(STARTUP)
        .expect("cpn demo printed no dashboard URL");
    // What Ctrl-C sends.
    let _ = std::process::Command::new("kill")
        .args(["-INT", &demo.0.id().to_string()])
        .status();
    let status = wait_exit(&mut demo.0, STARTUP).expect("cpn demo did not stop on SIGINT");
    let printed = reader.join().expect("the reader");
    assert!(status.success(), "{status}: {printed}");
    assert!(printed.contains("stopped cleanly"), "{printed}");
}
