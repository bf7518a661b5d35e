//! The controller core driven by events, as the server and the simulator drive it.

use cpn_api::{
    AgentRegistration, Heartbeat, PlaceBatch, PlaceRequest, Role, RouteRequest, TokenCreate,
};
use cpn_ctl::{Action, Call, Controller, Event, Reply, token_hash};
fn national() -> cpn_model::Scenario {
    cpn_model::built_in("national")
        .expect("known")
        .expect("valid")
}
use cpn_units::Nanos;

const T0: u64 = 1_800_000_000; // seconds since the epoch

fn at(s: u64) -> Nanos {
    Nanos(s * 1_000_000_000)
}

mod common;

use common::Harness;

impl Harness {
    fn new() -> Harness {
        let mut h = Harness::with_admin(Controller::new(national()), "admin-secret");
        for tenant in ["acme", "globex"] {
            h.ok(
                at(T0),
                "admin-secret",
                Call::CreateTenant(cpn_api::TenantCreate {
                    name: tenant.into(),
                }),
            );
            let secret = format!("{tenant}-secret");
            h.ok(
                at(T0),
                "admin-secret",
                Call::CreateToken {
                    create: TokenCreate {
                        tenant: tenant.into(),
                        role: Role::Tenant,
                        label: String::new(),
                    },
                    id: format!("tok-{tenant}"),
                    hash: token_hash(&secret),
                },
            );
        }
        h
    }

    fn err(&mut self, now: Nanos, secret: &str, call: Call) -> (u16, &'static str) {
        match self.call(now, secret, call) {
            Reply::Ok { body, .. } | Reply::File { body, .. } => {
                panic!("accepted: {}", String::from_utf8_lossy(&body))
            }
            Reply::Err(e) => (e.status, e.code),
        }
    }
}

fn place(id: &str, from: &str, service: &str) -> PlaceRequest {
    serde_json::from_value(serde_json::json!({"id": id, "from": from, "service": service}))
        .expect("request")
}

#[test]
fn tenants_see_and_release_only_their_own() {
    let mut h = Harness::new();
    let batch = PlaceBatch {
        requests: vec![place("a1", "beijing", "video-analytics")],
    };
    let reply = h.ok(at(T0 + 1), "acme-secret", Call::Place(batch));
    let id = reply["results"][0]["reservations"][0]["id"]
        .as_u64()
        .expect("id");
    assert_eq!(
        h.err(at(T0 + 2), "globex-secret", Call::Reservation(id)),
        (403, "forbidden")
    );
    assert_eq!(
        h.err(at(T0 + 2), "globex-secret", Call::Release(id)),
        (403, "forbidden")
    );
    let list = h.ok(at(T0 + 2), "globex-secret", Call::Reservations);
    assert_eq!(list.as_array().map(Vec::len), Some(0));
    assert_eq!(
        h.err(at(T0 + 2), "nobody", Call::Reservations),
        (401, "unauthorized")
    );
    assert_eq!(
        h.err(at(T0 + 2), "acme-secret", Call::Tenants),
        (403, "forbidden")
    );
    h.ok(at(T0 + 3), "acme-secret", Call::Release(id));
    assert_eq!(
        h.err(at(T0 + 3), "acme-secret", Call::Reservation(id)),
        (404, "not_found")
    );
}

#[test]
fn the_log_replays_to_the_same_decisions() {
    let mut h = Harness::new();
    for k in 0..40u64 {
        let from = ["beijing", "shanghai", "guangzhou", "chengdu"][k as usize % 4];
        let mut r = place(&format!("r{k}"), from, "video-analytics");
        r.duration = Some(format!("{} s", 5 + k % 7));
        h.ok(
            at(T0 + k),
            "acme-secret",
            Call::Place(PlaceBatch { requests: vec![r] }),
        );
        let route: RouteRequest =
            serde_json::from_value(serde_json::json!({"from": from, "service": "video-analytics"}))
                .expect("route");
        h.ok(at(T0 + k), "globex-secret", Call::Route(route));
        h.event(at(T0 + k), Event::Tick);
    }
    h.ok(
        at(T0 + 50),
        "admin-secret",
        Call::SetLink {
            link: h.ctl.scenario().links[0].name.clone(),
            up: false,
        },
    );
    assert!(h.log.len() > 80, "{} entries", h.log.len());
    let mut fresh = Controller::new(national());
    fresh
        .restore(h.records.clone(), h.log.clone())
        .expect("replays");
    let ids = |c: &Controller| {
        c.scheduler()
            .reservations()
            .map(|r| (r.id, r.site))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&fresh), ids(&h.ctl));
    // A log entry changed is found.
    let mut tampered = h.log.clone();
    let i = tampered
        .iter()
        .position(|e| e.outcome.starts_with("placed"))
        .expect("a placement");
    tampered[i].outcome = "placed 999@nowhere".into();
    let mut fresh = Controller::new(national());
    let err = fresh
        .restore(h.records.clone(), tampered)
        .expect_err("diverges");
    assert!(
        err.to_string().contains(&format!("log entry {}", i + 1)),
        "{err}"
    );
}

fn registration(
    agent: &str,
    site: &str,
    key: &ed25519_dalek::SigningKey,
    ms: u64,
) -> AgentRegistration {
    AgentRegistration {
        agent: agent.into(),
        site: site.into(),
        public_key: String::new(),
        timestamp_ms: ms,
        nonce: format!("{:032x}", ms),
        capabilities: serde_json::json!({}),
        signature: String::new(),
    }
    .sign(key)
}

#[test]
fn agents_register_signed_and_a_silent_site_goes_down_and_its_work_moves() {
    let mut h = Harness::new();
    h.ok(
        at(T0),
        "admin-secret",
        Call::CreateToken {
            create: TokenCreate {
                tenant: "acme".into(),
                role: Role::Agent,
                label: "edge box".into(),
            },
            id: "tok-agent".into(),
            hash: token_hash("agent-secret"),
        },
    );
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let reg = registration("bj-1", "beijing-edge", &key, T0 * 1000);
    h.ok(at(T0), "agent-secret", Call::RegisterAgent(reg.clone()));
    // The same message again is a replay; a changed one no longer verifies.
    assert_eq!(
        h.err(at(T0 + 1), "agent-secret", Call::RegisterAgent(reg.clone()))
            .0,
        401
    );
    let mut forged = reg.clone();
    forged.site = "shanghai-edge".into();
    forged.timestamp_ms += 10;
    assert_eq!(
        h.err(at(T0 + 1), "agent-secret", Call::RegisterAgent(forged)),
        (401, "bad_signature")
    );
    let stale = registration("bj-2", "beijing-edge", &key, (T0 - 3600) * 1000);
    assert_eq!(
        h.err(at(T0 + 1), "agent-secret", Call::RegisterAgent(stale)),
        (401, "stale_registration")
    );
    // A tenant token may not register.
    let other = registration("bj-3", "beijing-edge", &key, T0 * 1000 + 5);
    assert_eq!(
        h.err(at(T0 + 1), "acme-secret", Call::RegisterAgent(other))
            .0,
        403
    );

    let beat = Heartbeat {
        cpu: 0.5,
        memory: 0.2,
        tasks: 1,
    };
    let hb = |_t: u64| Event::Heartbeat {
        req: None,
        token: token_hash("agent-secret"),
        agent: "bj-1".into(),
        heartbeat: beat,
    };
    h.event(at(T0 + 1), hb(T0 + 1));
    let batch = PlaceBatch {
        requests: vec![place("near", "beijing", "video-analytics")],
    };
    let reply = h.ok(at(T0 + 1), "acme-secret", Call::Place(batch));
    let site = reply["results"][0]["reservations"][0]["site"]
        .as_str()
        .expect("site")
        .to_string();
    assert_eq!(site, "beijing-edge", "{reply}");
    h.event(at(T0 + 3), Event::Tick);
    let map = h.ok(at(T0 + 3), "acme-secret", Call::Map);
    let bj = map["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["name"] == "beijing-edge")
        .expect("site")
        .clone();
    assert_eq!(bj["up"], true);
    // Three intervals without a heartbeat: down, and the reservation moves elsewhere.
    let out = h.event(at(T0 + 5), Event::Tick);
    assert!(
        out.iter()
            .any(|a| matches!(a, Action::Emit(e) if e.kind == "recovery")),
        "{out:?}"
    );
    let list = h.ok(at(T0 + 5), "acme-secret", Call::Reservations);
    let moved = &list.as_array().expect("list")[0];
    assert_ne!(moved["site"], "beijing-edge", "{moved}");
    // It comes back with the next heartbeat.
    h.event(at(T0 + 6), hb(T0 + 6));
    let map = h.ok(at(T0 + 6), "acme-secret", Call::Map);
    let bj = map["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["name"] == "beijing-edge")
        .expect("site")
        .clone();
    assert_eq!(bj["up"], true);
}

#[test]
fn bad_requests_name_the_field_and_place_nothing() {
    let mut h = Harness::new();
    let mut bad = place("b", "beijing", "video-analytics");
    bad.max_latency = Some("fast".into());
    let good = place("g", "beijing", "video-analytics");
    let reply = h.call(
        at(T0),
        "acme-secret",
        Call::Place(PlaceBatch {
            requests: vec![good, bad],
        }),
    );
    match reply {
        Reply::Err(e) => {
            assert_eq!(e.status, 400);
            assert!(
                e.message.contains("requests[1] `b`: max_latency"),
                "{}",
                e.message
            );
        }
        Reply::Ok { .. } | Reply::File { .. } => panic!("accepted"),
    }
    assert_eq!(h.ctl.scheduler().reservations().count(), 0);
    let mut foreign = place("f", "beijing", "video-analytics");
    foreign.slice = Some(h.ctl.scenario().slices[0].name.clone());
    let owner = h.ctl.scenario().tenants[h.ctl.scenario().slices[0].tenant.index()]
        .name
        .clone();
    assert_ne!(owner, "acme");
    assert_eq!(
        h.err(
            at(T0),
            "acme-secret",
            Call::Place(PlaceBatch {
                requests: vec![foreign]
            })
        )
        .0,
        403
    );
}

fn delay_sample(reservation: u64) -> cpn_api::TelemetrySample {
    serde_json::from_value(serde_json::json!({
        "reservation": reservation,
        "round_trip": "40000 ns",
        "forward": "21 µs",
        "backward": "19000 ns",
    }))
    .expect("sample")
}

#[test]
fn a_measured_path_delay_is_shown_replayed_and_never_changes_decisions() {
    let mut h = Harness::new();
    let route: RouteRequest = serde_json::from_value(
        serde_json::json!({"from": "beijing", "service": "video-analytics"}),
    )
    .expect("route");
    let decided = h.ok(at(T0), "globex-secret", Call::Route(route.clone()));
    let batch = PlaceBatch {
        requests: vec![place("a1", "beijing", "video-analytics")],
    };
    let reply = h.ok(at(T0 + 1), "acme-secret", Call::Place(batch));
    let id = reply["results"][0]["reservations"][0]["id"]
        .as_u64()
        .expect("id");
    let view = h.ok(at(T0 + 1), "acme-secret", Call::Reservation(id));
    assert!(view.get("measured_delay").is_none(), "{view}");

    // The data plane's report, as `cpn serve --dataplane emu` sends it.
    h.event(
        at(T0 + 2),
        Event::Telemetry {
            samples: vec![delay_sample(id)],
        },
    );
    let view = h.ok(at(T0 + 2), "acme-secret", Call::Reservation(id));
    assert_eq!(
        view["measured_delay"],
        serde_json::json!({"round_trip_ns": 40000, "forward_ns": 21000, "backward_ns": 19000,
            "at_ms": (T0 + 2) * 1000}),
        "{view}"
    );
    let map = h.ok(at(T0 + 2), "acme-secret", Call::Map);
    assert_eq!(
        map["measured"][0]["reservation"].as_u64(),
        Some(id),
        "{map}"
    );
    assert_eq!(map["measured"][0]["delay"]["round_trip_ns"], 40000);
    let theirs = h.ok(at(T0 + 2), "globex-secret", Call::Map);
    assert_eq!(
        theirs["measured"],
        serde_json::json!([]),
        "a tenant sees its own"
    );
    let gauge = format!("cpn_path_round_trip_seconds{{reservation=\"{id}\"");
    let metrics = |c: &Controller| {
        let mut s = String::new();
        c.metrics(at(T0 + 3), &mut s);
        s
    };
    assert!(
        metrics(&h.ctl).contains(&format!("{gauge},")),
        "{}",
        metrics(&h.ctl)
    );

    // Forwarding time is not the links' latency: the same request decides the same.
    let again = h.ok(at(T0 + 3), "globex-secret", Call::Route(route));
    assert!(decided["latency"].is_object(), "{decided}");
    assert_eq!(
        (&again["latency"], &again["path"]),
        (&decided["latency"], &decided["path"])
    );

    // The report is logged like other telemetry, and a restart replays it.
    assert!(h.log.iter().any(|e| e.command.kind() == "telemetry"));
    let mut fresh = Controller::new(national());
    fresh
        .restore(h.records.clone(), h.log.clone())
        .expect("replays");
    assert!(metrics(&fresh).contains(&format!("{gauge},")));

    // Bad reports are refused and change nothing.
    let bad = |h: &mut Harness, sample: serde_json::Value| {
        let sample: cpn_api::TelemetrySample = serde_json::from_value(sample).expect("sample");
        h.err(at(T0 + 4), "admin-secret", Call::Telemetry(vec![sample]))
    };
    let refused = (400, "bad_request");
    assert_eq!(
        bad(
            &mut h,
            serde_json::json!({"reservation": 999_999, "round_trip": "1 ms"})
        ),
        refused
    );
    assert_eq!(bad(&mut h, serde_json::json!({"reservation": id})), refused);
    assert_eq!(
        bad(
            &mut h,
            serde_json::json!({"reservation": id, "round_trip": "1 ms", "loss": "1%"})
        ),
        refused
    );
    assert_eq!(
        bad(
            &mut h,
            serde_json::json!({"reservation": id, "round_trip": "fast"})
        ),
        refused
    );
    let link = h.ctl.scenario().links[0].name.clone();
    assert_eq!(
        bad(
            &mut h,
            serde_json::json!({"link": link, "round_trip": "1 ms"})
        ),
        refused
    );
    let view = h.ok(at(T0 + 4), "acme-secret", Call::Reservation(id));
    assert_eq!(view["measured_delay"]["round_trip_ns"], 40000);

    // A released reservation's measurement goes with it.
    h.ok(at(T0 + 5), "acme-secret", Call::Release(id));
    assert!(!metrics(&h.ctl).contains(&gauge));
    let map = h.ok(at(T0 + 5), "acme-secret", Call::Map);
    assert_eq!(map["measured"], serde_json::json!([]));
}

#[test]
fn a_telemetry_batch_with_a_bad_sample_changes_nothing() {
    let mut h = Harness::new();
    let site_up = |h: &mut Harness| {
        let map = h.ok(at(T0 + 1), "acme-secret", Call::Map);
        map["sites"]
            .as_array()
            .expect("sites")
            .iter()
            .find(|s| s["name"] == "beijing-edge")
            .expect("site")["up"]
            .clone()
    };
    assert_eq!(site_up(&mut h), true);
    let logged = h.log.len();
    let samples: Vec<cpn_api::TelemetrySample> = serde_json::from_value(serde_json::json!([
        {"site": "beijing-edge", "up": false},
        {"link": "no-such-link", "loss": "1%"},
    ]))
    .expect("samples");
    assert_eq!(
        h.err(at(T0 + 1), "admin-secret", Call::Telemetry(samples)),
        (400, "bad_request")
    );
    // The first sample was good, but the batch is one command: nothing applied, nothing
    // logged, so a replay gives this same state.
    assert_eq!(site_up(&mut h), true);
    assert_eq!(h.log.len(), logged);
}
