//! A decision log recorded by the controller's state machine replays in the twin to the same
//! decisions, and a changed entry is named.

use cpn_api::{PlaceBatch, RouteRequest, TenantCreate, TokenCreate};
use cpn_ctl::{Action, Call, Controller, Event, LogEntry, Record, token_hash};
use cpn_units::Nanos;

fn national() -> cpn_model::Scenario {
    cpn_model::built_in("national")
        .expect("known")
        .expect("valid")
}

/// A controller's life: tenants, placements, routes, a link failure, expiries.
fn record() -> (Vec<Record>, Vec<LogEntry>) {
    let mut ctl = Controller::new(national());
    let mut records = vec![ctl.admin_token("t0", &token_hash("admin"))];
    let mut log = Vec::new();
    let mut req = 0;
    let mut feed = |ctl: &mut Controller, s: u64, event: Event| {
        let mut out = Vec::new();
        ctl.handle(Nanos(s * 1_000_000_000), event, &mut out);
        for a in out {
            match a {
                Action::Persist(Record::Log(e)) => log.push(*e),
                Action::Persist(r) => records.push(r),
                _ => {}
            }
        }
    };
    let t0 = 1_800_000_000;
    let mut api = |ctl: &mut Controller, s: u64, token: &str, call: Call| {
        req += 1;
        feed(
            ctl,
            s,
            Event::Api {
                req,
                token: token_hash(token),
                call,
            },
        );
    };
    api(
        &mut ctl,
        t0,
        "admin",
        Call::CreateTenant(TenantCreate {
            name: "acme".into(),
        }),
    );
    api(
        &mut ctl,
        t0,
        "admin",
        Call::CreateToken {
            create: TokenCreate {
                tenant: "acme".into(),
                role: cpn_api::Role::Tenant,
                label: String::new(),
            },
            id: "tok-acme".into(),
            hash: token_hash("acme"),
        },
    );
    let froms = ["beijing", "shanghai", "guangzhou", "chengdu", "wuhan"];
    for k in 0..60u64 {
        let from = froms[(k % 5) as usize];
        let body = serde_json::json!({"requests": [{"id": format!("r{k}"), "from": from, "service": "llm-inference", "duration": format!("{} s", 3 + k % 5)}]});
        let batch: PlaceBatch = serde_json::from_value(body).expect("batch");
        api(&mut ctl, t0 + k, "acme", Call::Place(batch));
        let route: RouteRequest =
            serde_json::from_value(serde_json::json!({"from": from, "service": "video-analytics"}))
                .expect("route");
        api(&mut ctl, t0 + k, "acme", Call::Route(route));
        if k == 30 {
            api(
                &mut ctl,
                t0 + k,
                "admin",
                Call::SetLink {
                    link: "beijing-tianjin".into(),
                    up: false,
                },
            );
        }
    }
    (records, log)
}

#[test]
fn a_recorded_log_replays_in_the_twin_to_the_same_decisions() {
    let (records, log) = record();
    assert!(log.len() >= 120, "{}", log.len());
    let summary = cpn_sim::replay::replay(national(), records.clone(), &log).expect("replays");
    assert_eq!(summary.entries, log.len());
    assert_eq!(summary.by_kind["place"], 60);
    assert_eq!(summary.by_kind["route"], 60);
    assert!(summary.placed_by_site.values().sum::<usize>() > 0);
    assert_eq!(summary.span_ms, 59_000);

    let mut changed = log.clone();
    let i = changed
        .iter()
        .position(|e| e.outcome.starts_with("site="))
        .expect("a route decision");
    changed[i].outcome = "site=nowhere path=".into();
    let err = cpn_sim::replay::replay(national(), records, &changed).expect_err("diverges");
    assert!(
        err.to_string()
            .contains(&format!("log entry {}", changed[i].seq)),
        "{err}"
    );
}
