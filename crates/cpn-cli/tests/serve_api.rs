//! `cpn serve` through its HTTP API as clients use it: tenants and tokens, refusals across
//! tenants, decisions and bad input, slices, reservations, the event stream, TLS, the
//! documents and probes, and the CLI as a client. Each test runs its own controller on
//! loopback with its own data directory.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{ADMIN, Api, Reply, Server, cpn_command, place_body};
use serde_json::{Value, json};

/// How long an event may take to arrive on the stream.
const EVENT_WAIT: Duration = Duration::from_secs(10);

fn national() -> (tempfile::TempDir, Server) {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::national(data.path());
    server.wait_ready();
    (data, server)
}

/// The names in a JSON list of objects.
fn names(list: &Value, field: &str) -> BTreeSet<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v[field].as_str().expect("a name").to_string())
        .collect()
}

/// A placement of the AR service from Beijing, held for ten minutes.
fn ar_request(id: &str) -> Value {
    place_body(json!({
        "id": id, "from": "beijing", "service": "ar-cloud-gaming", "duration": "10 min"
    }))
}

/// Places and returns the reservation's id.
fn place(api: &Api, token: &str, id: &str) -> u64 {
    let reply = api
        .post("/api/v1/place", Some(token), &ar_request(id))
        .expect(200)
        .json();
    let result = &reply["results"][0];
    assert_eq!(result["accepted"], true, "{reply}");
    assert_eq!(result["id"], id, "{reply}");
    result["reservations"][0]["id"]
        .as_u64()
        .expect("a reservation id")
}

#[test]
fn tokens_are_shown_once_and_refused_when_missing_bad_revoked_or_not_admin() {
    let (_data, server) = national();
    let api = server.api();
    let acme = api.tenant_with_token("acme");
    let globex = api.tenant_with_token("globex");
    api.post("/api/v1/tenants", Some(ADMIN), &json!({"name": "acme"}))
        .expect_error(409, "conflict");
    api.post("/api/v1/tenants", Some(ADMIN), &json!({"name": "a b"}))
        .expect_error(400, "bad_request");

    // The list names every token, never a secret.
    let list = api.get("/api/v1/tokens", Some(ADMIN)).expect(200);
    assert_eq!(
        names(&list.json(), "tenant"),
        BTreeSet::from(["acme".into(), "admin".into(), "globex".into()])
    );
    for secret in [acme.as_str(), globex.as_str(), ADMIN] {
        assert!(!list.text.contains(secret), "{}", list.text);
    }

    // A revoked token is refused from then on.
    let extra = api.token("globex", "tenant");
    let (id, revoked) = (
        extra["id"].as_str().expect("id"),
        extra["token"].as_str().expect("secret").to_string(),
    );
    api.get("/api/v1/reservations", Some(&revoked)).expect(200);
    api.delete(&format!("/api/v1/tokens/{id}"), Some(ADMIN))
        .expect(200);
    api.get("/api/v1/reservations", Some(&revoked))
        .expect_error(401, "unauthorized");
    api.delete(&format!("/api/v1/tokens/{id}"), Some(ADMIN))
        .expect_error(404, "not_found");

    // No token, an unknown one.
    api.get("/api/v1/reservations", None)
        .expect_error(401, "unauthorized");
    api.get("/api/v1/reservations", Some("cpn_not_a_token"))
        .expect_error(401, "unauthorized");
    api.post("/api/v1/route", None, &json!({"from": "beijing"}))
        .expect_error(401, "unauthorized");

    // A tenant token on admin calls.
    api.get("/api/v1/tenants", Some(&acme))
        .expect_error(403, "forbidden");
    api.get("/api/v1/tokens", Some(&acme))
        .expect_error(403, "forbidden");
    let create = json!({"tenant": "acme", "role": "tenant"});
    api.post("/api/v1/tokens", Some(&acme), &create)
        .expect_error(403, "forbidden");
    api.post("/api/v1/tenants", Some(&acme), &json!({"name": "evil"}))
        .expect_error(403, "forbidden");
    let map = api.get("/api/v1/map", Some(&globex)).expect(200).json();
    let link = map["links"][0]["name"].as_str().expect("a link");
    api.put(
        &format!("/api/v1/links/{link}"),
        Some(&globex),
        &json!({"up": false}),
    )
    .expect_error(403, "forbidden");

    let tenants = api.get("/api/v1/tenants", Some(ADMIN)).expect(200).json();
    assert_eq!(
        names(&tenants, "name"),
        BTreeSet::from(["acme".into(), "globex".into()])
    );

    // No secret ever reached the log.
    let log = server.log();
    for secret in [acme.as_str(), globex.as_str(), revoked.as_str(), ADMIN] {
        assert!(!log.contains(secret), "a secret in the log:\n{log}");
    }
}

#[test]
fn reservations_and_their_events_are_private_to_their_tenant() {
    let (_data, server) = national();
    let api = server.api();
    let acme = api.tenant_with_token("acme");
    let globex = api.tenant_with_token("globex");
    // Both streams are subscribed before anything is placed.
    let acme_events = api.events(&acme);
    let globex_events = api.events(&globex);

    let id = place(&api, &acme, "acme-1");
    let path = format!("/api/v1/reservations/{id}");
    let mine = api.get(&path, Some(&acme)).expect(200).json();
    assert_eq!(
        (&mine["tenant"], &mine["name"]),
        (&json!("acme"), &json!("acme-1"))
    );
    api.get(&path, Some(&globex)).expect_error(403, "forbidden");
    api.delete(&path, Some(&globex))
        .expect_error(403, "forbidden");
    let theirs = api.get("/api/v1/reservations", Some(&globex)).expect(200);
    assert!(names(&theirs.json(), "name").is_empty(), "{}", theirs.text);
    let all = api.get("/api/v1/reservations", Some(ADMIN)).expect(200);
    assert!(
        names(&all.json(), "name").contains("acme-1"),
        "{}",
        all.text
    );

    // The owner's stream tells of the reservation.
    let seen = acme_events.until(EVENT_WAIT, |kind, data| {
        kind == "reservation" && data["data"]["id"] == "acme-1"
    });
    assert_eq!(seen.last().map(|(_, d)| &d["tenant"]), Some(&json!("acme")));

    // Another tenant's stream does not: by the time its own reservation arrives (events come
    // in order), acme's would have come before it.
    place(&api, &globex, "globex-1");
    let seen = globex_events.until(EVENT_WAIT, |kind, data| {
        kind == "reservation" && data["data"]["id"] == "globex-1"
    });
    for (kind, data) in &seen {
        assert!(
            data["tenant"].is_null() || data["tenant"] == "globex",
            "globex saw {kind} {data}"
        );
        assert!(
            !data.to_string().contains("acme-1"),
            "globex saw {kind} {data}"
        );
    }

    // The owner releases it; then it is gone.
    api.delete(&path, Some(&acme)).expect(200);
    api.get(&path, Some(&acme)).expect_error(404, "not_found");
    api.delete(&path, Some(&acme))
        .expect_error(404, "not_found");
    acme_events.until(EVENT_WAIT, |kind, data| {
        kind == "release" && data["data"]["id"] == id
    });
}

#[test]
fn decisions_are_explained_and_bad_input_gets_a_4xx_that_names_the_field() {
    let (_data, server) = national();
    let api = server.api();
    let acme = api.tenant_with_token("acme");
    let ok = |r: Reply| {
        assert!(r.status < 500, "a server error: {} {}", r.status, r.text);
        r
    };

    let decision = ok(api.post(
        "/api/v1/route",
        Some(&acme),
        &json!({"from": "beijing", "service": "ar-cloud-gaming"}),
    ))
    .expect(200)
    .json();
    assert_eq!(decision["feasible"], true, "{decision}");
    assert!(decision["site"].is_string(), "{decision}");
    let path = decision["path"].as_array().expect("a path");
    assert_eq!(path.first(), Some(&json!("beijing")), "{decision}");
    let candidates = decision["candidates"].as_array().expect("candidates");
    assert!(
        candidates
            .iter()
            .any(|c| c["chosen"] == true && c["site"] == decision["site"]),
        "{decision}"
    );

    let bad = ok(api.post(
        "/api/v1/route",
        Some(&acme),
        &json!({"from": "beijing", "service": "ar-cloud-gaming", "max_latency": "fast"}),
    ))
    .expect_error(400, "bad_request");
    assert!(bad.message().contains("max_latency"), "{}", bad.text);
    let bad = ok(api.post(
        "/api/v1/route",
        Some(&acme),
        &json!({"from": "atlantis", "service": "ar-cloud-gaming"}),
    ))
    .expect_error(400, "bad_request");
    assert!(bad.message().contains("from"), "{}", bad.text);
    let bad = ok(api.post(
        "/api/v1/route",
        Some(&acme),
        &json!({"from": "beijing", "service": "ar-cloud-gaming", "colour": "red"}),
    ))
    .expect_error(400, "bad_request");
    assert!(bad.message().contains("colour"), "{}", bad.text);
    let bad = ok(api.post(
        "/api/v1/place",
        Some(&acme),
        &place_body(
            json!({"id": "p", "from": "beijing", "service": "ar-cloud-gaming", "duration": "soon"}),
        ),
    ))
    .expect_error(400, "bad_request");
    assert!(bad.message().contains("duration"), "{}", bad.text);
    ok(api.post_bytes("/api/v1/route", Some(&acme), b"{\"from\": ".to_vec()))
        .expect_error(400, "bad_request");
    ok(api.post_bytes("/api/v1/place", Some(&acme), b"not json".to_vec()))
        .expect_error(400, "bad_request");
    ok(api.get("/api/v1/reservations/seven", Some(&acme))).expect_error(400, "bad_request");
    ok(api.get("/api/v1/nowhere", Some(&acme))).expect_error(404, "not_found");

    // Over the 4 MiB limit: refused whole, and the controller keeps serving.
    let mut big = b"{\"requests\": [], \"pad\": \"".to_vec();
    big.resize(5 << 20, b'x');
    big.extend_from_slice(b"\"}");
    ok(api.post_bytes("/api/v1/place", Some(&acme), big)).expect_error(413, "too_large");
    ok(api.post(
        "/api/v1/route",
        Some(&acme),
        &json!({"from": "shanghai", "service": "llm-inference"}),
    ))
    .expect(200);
}

#[test]
fn a_tenant_sees_and_books_only_its_own_slices() {
    let scenario = cpn_model::built_in("national")
        .expect("national is built in")
        .expect("national reads");
    // The slices' owners, as the scenario names them; the API tenants take the same names.
    let owner = |s: &cpn_model::Slice| scenario.tenants[s.tenant.index()].name.clone();
    let first = &scenario.slices[0];
    let other = scenario
        .slices
        .iter()
        .find(|s| owner(s) != owner(first))
        .expect("slices of two tenants");
    let (mine, theirs) = (owner(first), owner(other));
    let expected: BTreeSet<String> = scenario
        .slices
        .iter()
        .filter(|s| owner(s) == mine)
        .map(|s| s.name.clone())
        .collect();

    let (_data, server) = national();
    let api = server.api();
    let token = api.tenant_with_token(&mine);
    let other_token = api.tenant_with_token(&theirs);

    let listed = api.get("/api/v1/slices", Some(&token)).expect(200).json();
    assert_eq!(names(&listed, "name"), expected, "{listed}");
    assert_eq!(names(&listed, "tenant"), BTreeSet::from([mine.clone()]));
    let listed = api
        .get("/api/v1/slices", Some(&other_token))
        .expect(200)
        .json();
    assert!(!names(&listed, "name").contains(&first.name), "{listed}");

    // Someone else's slice is refused, for placements and circuits alike.
    let request = place_body(json!({
        "id": "in-their-slice", "from": "beijing", "service": "ar-cloud-gaming",
        "duration": "10 min", "slice": other.name,
    }));
    api.post("/api/v1/place", Some(&token), &request)
        .expect_error(403, "forbidden");
    let circuit = |slice: &str, id: &str| {
        json!({
            "id": id, "from": "beijing", "to": "shanghai", "bandwidth": "2 Gbps",
            "slice": slice, "duration": "10 min",
        })
    };
    api.post(
        "/api/v1/circuits",
        Some(&token),
        &circuit(&other.name, "c-theirs"),
    )
    .expect_error(403, "forbidden");

    // A circuit in its own slice shows in the slice's use.
    let used = |api: &Api| -> u64 {
        let listed = api.get("/api/v1/slices", Some(&token)).expect(200).json();
        let slice = listed
            .as_array()
            .expect("a list")
            .iter()
            .find(|s| s["name"] == first.name.as_str())
            .expect("my slice")
            .clone();
        slice["used_bps"]
            .as_object()
            .expect("used_bps")
            .values()
            .map(|v| v.as_u64().expect("bits/s"))
            .max()
            .unwrap_or(0)
    };
    let before = used(&api);
    let booked = api
        .post(
            "/api/v1/circuits",
            Some(&token),
            &circuit(&first.name, "c-mine"),
        )
        .expect(200)
        .json();
    assert_eq!(booked["slice"], first.name.as_str(), "{booked}");
    assert_eq!(booked["tenant"], mine.as_str(), "{booked}");
    let after = used(&api);
    assert_eq!(after, before + 2_000_000_000, "{booked}");
}

#[test]
fn https_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("a certificate");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).expect("write cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");
    let data = dir.path().join("data");
    let server = Server::start(&[
        "--data",
        data.to_str().expect("UTF-8"),
        "--scenario",
        "national",
        "--tls-cert",
        cert.to_str().expect("UTF-8"),
        "--tls-key",
        key.to_str().expect("UTF-8"),
    ]);
    assert!(server.url.starts_with("https://"), "{}", server.url);

    let trusting = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).expect("PEM"),
        )
        .build()
        .expect("client");
    let api = Api::with_client(&server.url, trusting);
    server_ready(&api);
    api.get("/healthz", None).expect(200);
    api.post(
        "/api/v1/route",
        Some(ADMIN),
        &json!({"from": "beijing", "service": "ar-cloud-gaming"}),
    )
    .expect(200);

    // Plain HTTP to the TLS port gets no answer.
    let plain = server.url.replacen("https://", "http://", 1);
    let answered = Api::new(&plain)
        .try_get("/healthz", None)
        .is_some_and(|r| r.status == 200);
    assert!(!answered, "plain HTTP was served on the TLS port");

    // The CLI trusts the certificate it is given.
    let out = cpn_command()
        .args(["tenant", "list", "--server", &server.url, "--token", ADMIN])
        .arg("--ca-cert")
        .arg(&cert)
        .output()
        .expect("cpn runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits for `/readyz` through a given client (the server's own helper speaks plain HTTP).
fn server_ready(api: &Api) {
    let deadline = std::time::Instant::now() + common::STARTUP;
    while std::time::Instant::now() < deadline {
        if api
            .try_get("/readyz", None)
            .is_some_and(|r| r.status == 200)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} not ready", api.base());
}

#[test]
fn documents_probes_metrics_and_the_cli_client() {
    let (_data, server) = national();
    let api = server.api();

    let doc = api.get("/openapi.json", None).expect(200).json();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in ["/api/v1/route", "/api/v1/place", "/api/v1/events"] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} not in the OpenAPI document"
        );
    }
    assert_eq!(api.get("/healthz", None).expect(200).text.trim(), "ok");
    api.get("/readyz", None).expect(200);

    api.post(
        "/api/v1/route",
        Some(ADMIN),
        &json!({"from": "beijing", "service": "ar-cloud-gaming"}),
    )
    .expect(200);
    let metrics = api.get("/metrics", None).expect(200).text;
    assert!(metrics.contains("cpn_decisions_total"), "{metrics}");

    // The CLI as a client: a token it creates works; lists show what exists.
    let cli = |args: &[&str]| {
        let out = cpn_command()
            .args(args)
            .args(["--server", &server.url, "--token", ADMIN])
            .output()
            .expect("cpn runs");
        assert!(
            out.status.success(),
            "cpn {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    cli(&["tenant", "create", "acme"]);
    let tenants = cli(&["tenant", "list"]);
    assert_eq!(tenants.lines().collect::<Vec<_>>(), ["acme"], "{tenants}");
    let secret = cli(&["token", "create", "--tenant", "acme", "--role", "tenant"]);
    let secret = secret.trim();
    assert!(secret.starts_with("cpn_"), "{secret}");
    let id = place(&api, secret, "from-cli-token");
    api.get(&format!("/api/v1/reservations/{id}"), Some(secret))
        .expect(200);
    let tokens = cli(&["token", "list"]);
    assert!(
        tokens
            .lines()
            .any(|l| l.contains(" acme ") && l.contains("tenant")),
        "{tokens}"
    );
    assert!(!tokens.contains(secret), "{tokens}");
    let listed = cli(&["token", "list", "--json"]);
    let listed: Value = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
}
