//! The capacity market end to end, as its users run it: `cpn serve` on loopback, two real
//! `cpn agent` processes whose keys their providers registered, and every party's step
//! through the `cpn market` and `cpn ledger` commands. Deposits, offers, bids, a clearing
//! round, contracts placed through the scheduler, usage reports signed by the agents,
//! settlement (a full payment where the SLA was met, a pro-rated refund where the site failed),
//! the ledger downloaded and verified offline, one flipped byte named, and the ledger root
//! unchanged after `kill -9` and a restart. Also: a contract no site can hold is recorded
//! unplaced with its escrow back, and acknowledged entries survive `kill -9` mid-stream.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{ADMIN, Api, KillOnDrop, STARTUP, Server, cpn_command};
use serde_json::{Value, json};

/// Heartbeat interval of the controller and the agents.
const INTERVAL: &str = "500 ms";

fn serve(data: &Path) -> Server {
    let data = data.to_str().expect("UTF-8 path");
    let server = Server::start(&[
        "--data",
        data,
        "--scenario",
        "national",
        "--heartbeat-interval",
        INTERVAL,
        "--market-round-interval",
        "0",
        "--market-settle-grace",
        "60 s",
    ]);
    server.wait_ready();
    server
}

/// Runs `cpn ARGS`; the output whatever the exit status.
fn cpn(args: &[&str]) -> Output {
    cpn_command().args(args).output().expect("cpn runs")
}

/// Runs `cpn ARGS` against `server` with `token`, expecting success; its stdout.
fn cpn_ok(server: &Server, token: &str, args: &[&str]) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--server", &server.url, "--token", token]);
    let out = cpn(&all);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "cpn {all:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn new_key(dir: &Path, name: &str) -> (String, String) {
    let file = dir.join(format!("{name}.key"));
    let out = cpn(&["market", "key", "new", "--out", path(&file)]);
    assert!(out.status.success(), "{out:?}");
    let account = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(account.len(), 64, "{account}");
    (path(&file).to_string(), account)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn sleep_until_unix(t: u64) {
    let target = UNIX_EPOCH + Duration::from_secs(t);
    if let Ok(left) = target.duration_since(SystemTime::now()) {
        thread::sleep(left);
    }
}

fn agent(server: &str, token: &str, site: &str, key: &str, dir: &Path) -> KillOnDrop {
    let capabilities = dir.join(format!("{site}.json"));
    std::fs::write(&capabilities, r#"{"cores": 2, "note": "test"}"#).expect("write");
    KillOnDrop(
        cpn_command()
            .args([
                "agent", "--server", server, "--token", token, "--site", site,
            ])
            .args(["--name", &format!("{site}-agent"), "--key", key])
            .arg("--work-dir")
            .arg(dir.join(format!("{site}-work")))
            .arg("--capabilities")
            .arg(&capabilities)
            .args(["--interval", INTERVAL])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cpn agent runs"),
    )
}

fn balance(api: &Api, token: &str, account: &str) -> u64 {
    api.get(&format!("/api/v1/market/accounts/{account}"), Some(token))
        .expect(200)
        .json()["balance"]
        .as_u64()
        .expect("balance")
}

/// Prices per compute-hour such that 2,000 GFLOPS for 6 s costs `units` whole units.
fn price(units: u64) -> String {
    (units * 300_000_000).to_string()
}

struct Parties {
    providers: Vec<(String, String)>,
    consumers: Vec<(String, String)>,
}

/// Three providers and three consumers; each consumer gets 10 units.
fn parties(server: &Server, dir: &Path) -> Parties {
    let providers: Vec<_> = (1..=3).map(|i| new_key(dir, &format!("p{i}"))).collect();
    let consumers: Vec<_> = (1..=3).map(|i| new_key(dir, &format!("c{i}"))).collect();
    for (key, _) in &consumers {
        cpn_ok(
            server,
            ADMIN,
            &["market", "deposit", "--key", key, "--amount", "10000000"],
        );
    }
    Parties {
        providers,
        consumers,
    }
}

/// One class: asks 2 (shenzhen-edge), 3 (guangzhou-edge), 6 (beijing-edge); bids 5, 4, 1.
/// McAfee: two trades at (1 + 6) / 2 = 3.5 per unit of the window.
fn post_book(server: &Server, token: &str, p: &Parties, gflops: &str, start: u64, end: u64) {
    let (start, end) = (start.to_string(), end.to_string());
    let window = ["--start", start.as_str(), "--end", end.as_str()];
    for ((key, _), (site, ask)) in p.providers.iter().zip([
        ("shenzhen-edge", 2),
        ("guangzhou-edge", 3),
        ("beijing-edge", 6),
    ]) {
        let price = price(ask);
        let mut args = vec!["market", "offer", "--key", key, "--site", site];
        args.extend(["--gflops", gflops, "--price", &price]);
        args.extend(window);
        cpn_ok(server, token, &args);
    }
    for ((key, _), max) in p.consumers.iter().zip([5, 4, 1]) {
        let max = price(max);
        let mut args = vec!["market", "bid", "--key", key, "--gflops", gflops];
        args.extend(["--max-price", &max]);
        args.extend(window);
        cpn_ok(server, token, &args);
    }
}

#[test]
fn a_market_round_settles_by_the_delivered_sla_in_a_ledger_that_verifies() {
    let data = tempfile::tempdir().expect("tempdir");
    let keys = tempfile::tempdir().expect("tempdir");
    let mut server = serve(data.path());
    // The operator's key was made on first start, readable by its owner only.
    let operator_key = data.path().join("operator.key");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&operator_key)
        .expect("operator.key")
        .permissions();
    assert_eq!(mode.mode() & 0o777, 0o600);

    let api = server.api();
    api.post("/api/v1/tenants", Some(ADMIN), &json!({"name": "acme"}))
        .expect(201);
    let tenant = api.token("acme", "tenant")["token"]
        .as_str()
        .expect("secret")
        .to_string();
    let agent_token = api.token("acme", "agent")["token"]
        .as_str()
        .expect("secret")
        .to_string();
    let p = parties(&server, keys.path());
    // Each provider of the two edge sites names its agent's key; the agents run.
    let sites = ["shenzhen-edge", "guangzhou-edge"];
    let mut agents = Vec::new();
    let mut agent_accounts = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        let (agent_key, agent_account) = new_key(keys.path(), &format!("agent-{site}"));
        let provider_key = &p.providers[i].0;
        cpn_ok(
            &server,
            &tenant,
            &[
                "market",
                "register-agent",
                "--key",
                provider_key,
                "--agent-key",
                &agent_key,
            ],
        );
        agents.push(agent(
            &server.url,
            &agent_token,
            site,
            &agent_key,
            keys.path(),
        ));
        agent_accounts.push(agent_account);
    }

    let start = unix_now() + 4;
    let end = start + 6;
    post_book(&server, &tenant, &p, "2000", start, end);
    let round: Value = serde_json::from_str(&cpn_ok(&server, ADMIN, &["market", "round"]))
        .expect("the round as JSON");
    let contracts = round["contracts"].as_array().expect("contracts").clone();
    assert_eq!(contracts.len(), 2, "{round}");
    for (c, site) in contracts.iter().zip(sites) {
        assert_eq!(c["status"], "placed", "{c}");
        assert_eq!(c["site"], site, "{c}");
        assert_eq!(c["consumer_total"], 3_500_000, "{c}");
        // The reservation is the scheduler's, at the site, for the window; the bid's tenant
        // owns it.
        let r = api
            .get(
                &format!("/api/v1/reservations/{}", c["reservation"]),
                Some(&tenant),
            )
            .expect(200)
            .json();
        assert_eq!(r["site"], site, "{r}");
    }
    let ids: Vec<u64> = contracts
        .iter()
        .map(|c| c["id"].as_u64().expect("id"))
        .collect();

    // guangzhou-edge fails four seconds into the window, and comes back.
    sleep_until_unix(start + 4);
    api.put(
        "/api/v1/sites/guangzhou-edge",
        Some(ADMIN),
        &json!({"up": false}),
    )
    .expect(200);
    api.put(
        "/api/v1/sites/guangzhou-edge",
        Some(ADMIN),
        &json!({"up": true}),
    )
    .expect(200);

    // The agents report after the window; the operator settles on its timer.
    let settled = common::wait_for(Duration::from_secs(40), "both contracts settled", || {
        let list = api
            .get("/api/v1/market/contracts?status=settled", Some(&tenant))
            .expect(200)
            .json();
        let list = list.as_array().expect("contracts").clone();
        (list.len() == 2).then_some(list)
    });
    let met = settled.iter().find(|c| c["id"] == ids[0]).expect("met");
    let missed = settled.iter().find(|c| c["id"] == ids[1]).expect("missed");
    assert_eq!(met["payout"]["compliance_ppm"], 1_000_000, "{met}");
    assert_eq!(met["payout"]["refund"], 0, "{met}");
    assert_eq!(met["payout"]["to_provider"], met["provider_total"], "{met}");
    assert_eq!(met["reported_until"], end, "{met}");
    let c = missed["payout"]["compliance_ppm"].as_u64().expect("ppm");
    assert!((1..1_000_000).contains(&c), "{missed}");
    let price_total = missed["provider_total"].as_u64().expect("price");
    let refund = missed["payout"]["refund"].as_u64().expect("refund");
    // The library's rule: min(price, ⌊price × (1 − c) × 2⌋).
    let rule = (u128::from(price_total) * u128::from(1_000_000 - c) * 2_000_000
        / 1_000_000_000_000)
        .min(u128::from(price_total));
    assert_eq!(u128::from(refund), rule, "{missed}");
    assert!(refund > 0 && refund < price_total, "pro-rated: {missed}");

    // Balances: providers paid, consumers refunded, nothing created or lost.
    assert_eq!(balance(&api, &tenant, &p.providers[0].1), price_total);
    assert_eq!(
        balance(&api, &tenant, &p.providers[1].1),
        price_total - refund
    );
    assert_eq!(
        balance(&api, &tenant, &p.consumers[1].1),
        10_000_000 - 3_500_000 + refund
    );
    assert_eq!(balance(&api, &tenant, &p.consumers[2].1), 10_000_000);
    let summary = api.get("/api/v1/market", Some(&tenant)).expect(200).json();
    assert_eq!(summary["totals"]["deposits"], 30_000_000, "{summary}");
    assert_eq!(summary["totals"]["balances"], 30_000_000, "{summary}");
    assert_eq!(summary["totals"]["escrow"], 0, "{summary}");

    // The whole ledger, downloaded and verified offline.
    let file = keys.path().join("ledger.bin");
    cpn_ok(&server, &tenant, &["ledger", "get", "--out", path(&file)]);
    let out = cpn(&["ledger", "verify", path(&file)]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{out:?}");
    assert!(said.contains("verified"), "{said}");
    assert!(
        said.contains(summary["root"].as_str().expect("root")),
        "{said}"
    );
    let bytes = std::fs::read(&file).expect("the file");
    let ledger = cpn_ledger::Ledger::from_bytes(&bytes).expect("verifies");
    // Each usage report is signed by the agent of the contract's site.
    let usage: Vec<(u64, cpn_ledger::Entry)> = (0..ledger.len())
        .filter_map(|i| ledger.entry(i).map(|e| (i, e)))
        .filter(|(_, e)| e.body.kind() == cpn_ledger::Kind::Usage)
        .collect();
    assert_eq!(usage.len(), 2, "one report per contract");
    for (_, e) in &usage {
        let cpn_ledger::Body::Usage(u) = &e.body else {
            unreachable!()
        };
        let site = if u.contract == ids[0] { 0 } else { 1 };
        assert_eq!(hex::encode(e.author.0), agent_accounts[site]);
    }
    // An inclusion proof of a usage report checks against the root.
    let proved = cpn_ok(
        &server,
        &tenant,
        &["ledger", "prove", "--index", &usage[0].0.to_string()],
    );
    assert!(proved.contains("verified"), "{proved}");

    // One flipped byte inside the first usage report: verify names that entry.
    let index = usage[0].0;
    let entry = ledger.entry_bytes(index).expect("its bytes").to_vec();
    let at = bytes
        .windows(entry.len())
        .position(|w| w == entry.as_slice())
        .expect("the entry in the file");
    let mut altered = bytes.clone();
    altered[at + 60] ^= 0x01;
    let bad = keys.path().join("altered.bin");
    std::fs::write(&bad, &altered).expect("write");
    let out = cpn(&["ledger", "verify", path(&bad)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an altered ledger verified");
    assert!(err.contains(&format!("entry {index} ")), "{err}");

    // kill -9 and restart: the same ledger, root for root.
    drop(agents);
    let root = summary["root"].as_str().expect("root").to_string();
    let entries = summary["entries"].clone();
    server.kill();
    let out = cpn(&["data", "verify", "--data", path(data.path())]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{out:?}");
    assert!(said.contains("market ledger"), "{said}");
    assert!(said.contains(&root), "{said}");
    // The twin replays the same log, market rounds and all, to the same decisions.
    let twin = tempfile::tempdir().expect("scratch");
    let out = cpn(&[
        "sim",
        "--replay",
        path(data.path()),
        "--out",
        path(twin.path()),
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{out:?}");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(twin.path().join("replay.json")).expect("replay.json"),
    )
    .expect("JSON");
    assert!(
        summary["by_kind"]["market_round"].as_u64() > Some(0),
        "{summary}"
    );
    let server = serve(data.path());
    let again = server
        .api()
        .get("/api/v1/market", Some(&tenant))
        .expect(200)
        .json();
    assert_eq!(again["root"], root.as_str(), "{again}");
    assert_eq!(again["entries"], entries, "{again}");
    let file = keys.path().join("ledger-after.bin");
    cpn_ok(&server, &tenant, &["ledger", "get", "--out", path(&file)]);
    assert_eq!(std::fs::read(&file).expect("the file"), bytes);
}

#[test]
fn a_contract_no_site_can_hold_is_unplaced_and_its_escrow_returned() {
    let data = tempfile::tempdir().expect("tempdir");
    let keys = tempfile::tempdir().expect("tempdir");
    let server = serve(data.path());
    let api = server.api();
    let p = parties(&server, keys.path());
    // 400,000 GFLOPS, 200 times the other test's: more than any of these edge sites has, and
    // so are the bids' escrows.
    for (key, _) in &p.consumers {
        cpn_ok(
            &server,
            ADMIN,
            &["market", "deposit", "--key", key, "--amount", "1000000000"],
        );
    }
    let start = unix_now() + 60;
    post_book(&server, ADMIN, &p, "400000", start, start + 6);
    let round: Value = serde_json::from_str(&cpn_ok(&server, ADMIN, &["market", "round"]))
        .expect("the round as JSON");
    let contracts = round["contracts"].as_array().expect("contracts");
    assert_eq!(contracts.len(), 2, "{round}");
    for c in contracts {
        assert_eq!(c["status"], "unplaced", "{c}");
        assert!(c.get("reservation").is_none(), "{c}");
        assert!(!c["reason"].as_str().expect("a reason").is_empty(), "{c}");
    }
    let held = api
        .get("/api/v1/reservations", Some(ADMIN))
        .expect(200)
        .json();
    assert_eq!(held.as_array().map(Vec::len), Some(0), "{held}");
    for (_, account) in &p.consumers {
        assert_eq!(balance(&api, ADMIN, account), 1_010_000_000);
    }
    let listed = cpn_ok(
        &server,
        ADMIN,
        &["market", "contracts", "--status", "unplaced"],
    );
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("unplaced"), "{listed}");
}

#[test]
fn every_acknowledged_market_entry_survives_kill_9() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = serve(data.path());
    let api = server.api();
    let keys = tempfile::tempdir().expect("tempdir");
    let accounts: Vec<String> = (0..3)
        .map(|i| new_key(keys.path(), &format!("k{i}")).1)
        .collect();
    let acked = Arc::new(Mutex::new(vec![0u64; accounts.len()]));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = accounts
        .iter()
        .enumerate()
        .map(|(i, account)| {
            let (api, acked, stop, account) =
                (api.clone(), acked.clone(), stop.clone(), account.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let body = json!({"account": account, "amount": 1});
                    let Some(r) = api.try_post("/api/v1/market/deposits", Some(ADMIN), &body)
                    else {
                        break;
                    };
                    assert_eq!(r.status, 201, "{}", r.text);
                    acked.lock().expect("lock")[i] += 1;
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acked.lock().expect("lock").iter().sum::<u64>() < 30 {
        assert!(started.elapsed() < STARTUP, "no deposit acknowledged");
        thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("a client");
    }
    let acked = acked.lock().expect("lock").clone();
    let server = serve(data.path());
    let api = server.api();
    for (account, n) in accounts.iter().zip(&acked) {
        // Every acknowledged deposit is there; at most the one in flight at the kill more.
        let b = balance(&api, ADMIN, account);
        assert!(b == *n || b == n + 1, "{b} after {n} acknowledged");
    }
    let file = keys.path().join("ledger.bin");
    cpn_ok(&server, ADMIN, &["ledger", "get", "--out", path(&file)]);
    let out = cpn(&["ledger", "verify", path(&file)]);
    assert!(out.status.success(), "{out:?}");
}
