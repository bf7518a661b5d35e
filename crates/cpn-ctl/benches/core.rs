//! The controller core alone, without HTTP or storage: how long one route decision and one
//! placement take through `Controller::handle` (the work the core thread does per call).
//! `cargo bench -p cpn-ctl --bench core`.

use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cpn_api::{PlaceBatch, RouteRequest};
use cpn_ctl::{Call, Controller, Event, token_hash};
use cpn_units::Nanos;

fn main() {
    let full = cpn_testdata::bench::full_run();
    let n: u64 = if full { 50_000 } else { 200 };
    let scenario = cpn_model::built_in("national")
        .expect("known")
        .expect("valid");
    let mut ctl = Controller::new(scenario);
    ctl.admin_token("t", &token_hash("admin"));
    let token = token_hash("admin");
    let from = [
        "beijing",
        "shanghai",
        "guangzhou",
        "shenzhen",
        "chengdu",
        "wuhan",
        "xian",
        "hangzhou",
    ];
    let services = ["ar-cloud-gaming", "video-analytics", "llm-inference"];
    let t0 = 1_800_000_000u64;
    let mut out = Vec::new();
    for (kind, place) in [("route", false), ("place", true)] {
        let started = Instant::now();
        for k in 0..n {
            let f = from[(k % 8) as usize];
            let s = services[(k % 3) as usize];
            let call = if place {
                let body = serde_json::json!({"requests": [{"id": format!("w{k}"), "from": f, "service": s, "duration": "2 s", "min_bandwidth": "1 Mbps"}]});
                Call::Place(serde_json::from_value::<PlaceBatch>(body).expect("batch"))
            } else {
                let body = serde_json::json!({"from": f, "service": s});
                Call::Route(serde_json::from_value::<RouteRequest>(body).expect("route"))
            };
            // 20,000 calls a second of simulated time, with the timer every half second.
            let now = Nanos((t0 * 1_000_000_000) + k * 50_000);
            out.clear();
            ctl.handle(
                now,
                Event::Api {
                    req: k,
                    token: token.clone(),
                    call,
                },
                &mut out,
            );
            if k % 10_000 == 0 {
                ctl.handle(now, Event::Tick, &mut out);
            }
        }
        let took = started.elapsed();
        println!(
            "{kind}: {n} calls in {:.2} s: {:.1} µs each, {:.0}/s on one core",
            took.as_secs_f64(),
            took.as_secs_f64() * 1e6 / n as f64,
            n as f64 / took.as_secs_f64()
        );
    }
}
