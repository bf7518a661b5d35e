//! The twin's model of a placed request: transfers share links max-min fairly, failures
//! follow the scheduler's recovery while a request is in flight, and the twin's own state
//! per site stays small.

use cpn_sched::{Placed, Scheduler, Strategy};
use cpn_sim::twin::{self, Arrival, WhatIf};

fn national() -> cpn_model::Scenario {
    cpn_model::built_in("national")
        .expect("known")
        .expect("valid")
}

/// The first delay-tolerant request of the mixed workload, at `at` ns with `bytes` of input.
fn tolerant(s: &cpn_model::Scenario, at: u64, bytes: u64, name: &str) -> Arrival {
    let mut a = twin::mixed(s, 1, 20.0, 60)
        .into_iter()
        .find(|a| a.class == "tolerant")
        .expect("a tolerant request");
    a.at = at;
    a.bytes = bytes;
    a.request.name = name.to_string();
    a
}

fn transfer_us(o: &twin::Outcome) -> u64 {
    o.latency_us.expect("served") - o.estimate_us.expect("placed")
}

#[test]
fn two_transfers_on_one_path_share_it_fairly() {
    let s = national();
    let one = [tolerant(&s, 0, 20_000_000_000, "a")];
    let (_, alone) = twin::run(&s, &one, Strategy::Cpn, 1, 60, &[]);
    let two = [one[0].clone(), tolerant(&s, 0, 20_000_000_000, "b")];
    let (_, shared) = twin::run(&s, &two, Strategy::Cpn, 1, 60, &[]);
    assert_eq!(shared[0].site, shared[1].site, "both at one site");
    let (t1, t2) = (transfer_us(&alone[0]), transfer_us(&shared[1]));
    // 20 GB at the bottleneck's rate, then twice that when shared.
    assert!(t1 > 100_000, "{t1} µs");
    let ratio = t2 as f64 / t1 as f64;
    assert!(
        (ratio - 2.0).abs() < 0.01,
        "{t2} µs shared against {t1} µs alone"
    );
    assert_eq!(transfer_us(&shared[0]), t2);
}

#[test]
fn a_site_failing_while_it_serves_restarts_the_work_elsewhere() {
    let s = national();
    // No input to send: the request reaches its site within milliseconds and is processed
    // for 2 s there.
    let one = [tolerant(&s, 0, 0, "a")];
    let (_, before) = twin::run(&s, &one, Strategy::Cpn, 1, 60, &[]);
    let first = before[0].site.clone().expect("placed");
    let site = s.site(&first).expect("site").id;
    let down = [WhatIf::SiteDown { site, at_s: 1 }];
    let (report, after) = twin::run(&s, &one, Strategy::Cpn, 1, 60, &down);
    let o = &after[0];
    assert_eq!(o.reselected, 1);
    assert_eq!(report.reselections, 1);
    assert_ne!(o.site.as_deref(), Some(first.as_str()), "moved");
    // A second lost at the failed site, then the whole 2 s again.
    let (was, now) = (
        before[0].latency_us.expect("served"),
        o.latency_us.expect("served"),
    );
    assert!(
        now > was + 900_000 && now > 3_000_000,
        "{was} µs, then {now} µs"
    );
}

#[test]
fn a_link_failing_under_a_transfer_moves_what_is_left_to_the_new_path() {
    let s = national();
    let a = tolerant(&s, 0, 200_000_000_000, "a");
    // The path the twin's first decision takes, from the same scheduler.
    let mut sched = Scheduler::new(&s);
    let mut request = a.request.clone();
    request.start = 0;
    request.end = a.hold_s;
    let Ok(Placed::Accepted { reservation, .. }) = sched.place(request) else {
        panic!("placed");
    };
    let links = sched.reservation(reservation).expect("held").links.clone();
    assert!(!links.is_empty(), "the request crosses the network");
    let one = [a];
    let (_, before) = twin::run(&s, &one, Strategy::Cpn, 1, 60, &[]);
    let down = [WhatIf::LinkDown {
        link: links[0],
        at_s: 1,
    }];
    let (report, after) = twin::run(&s, &one, Strategy::Cpn, 1, 60, &down);
    let o = &after[0];
    assert_eq!((o.reselected, report.reselections), (1, 1));
    let (was, now) = (
        before[0].latency_us.expect("served"),
        o.latency_us.expect("served or lost"),
    );
    // 200 GB take seconds: the failure at 1 s found it on the way.
    assert!(was > 2_000_000, "{was} µs");
    assert_ne!(was, now);
}

#[test]
fn the_twin_keeps_at_most_128_bytes_per_site() {
    assert!(
        twin::site_state_bytes() <= 128,
        "{} bytes",
        twin::site_state_bytes()
    );
}

#[test]
fn random_site_failures_alternate_and_the_run_stays_deterministic() {
    let s = national();
    let w = twin::random_site_failures(&s, 120.0, 30.0, 300, 9);
    assert_eq!(w, twin::random_site_failures(&s, 120.0, 30.0, 300, 9));
    assert!(w.windows(2).all(|p| p[0].at_s() <= p[1].at_s()));
    assert!(w.iter().any(|c| matches!(c, WhatIf::SiteDown { .. })));
    let arrivals = twin::mixed(&s, 4, 20.0, 300);
    let run = || twin::run(&s, &arrivals, Strategy::Cpn, 4, 300, &w);
    let (a, oa) = run();
    let (b, ob) = run();
    assert_eq!(a, b);
    assert_eq!(oa, ob);
    assert!(
        a.reselections > 0,
        "failures every two minutes moved nothing"
    );
    assert!(a.sla_satisfaction < 1.0, "no failure cost anything");
}

#[test]
fn background_load_makes_requests_wait_for_compute() {
    let s = national();
    let arrivals = twin::mixed(&s, 3, 20.0, 10);
    // Every site fully taken by load from outside until 5 s, then free.
    let mut steps = Vec::new();
    for (at_s, used) in [(0, 1.0), (5, 0.0)] {
        for site in &s.sites {
            steps.push(cpn_sim::workload::BackgroundStep {
                at_s,
                site: site.id,
                used,
            });
        }
    }
    let changes = twin::Changes {
        what_if: &[],
        background: &steps,
    };
    let policy = twin::Policy::Online(Strategy::Cpn);
    let (_, free) = twin::run(&s, &arrivals, Strategy::Cpn, 3, 10, &[]);
    let (_, loaded) = twin::run_with(&s, &arrivals, policy, 3, 10, changes, &mut |_, _| {});
    let mut waited = 0;
    for ((a, f), l) in arrivals.iter().zip(&free).zip(&loaded) {
        let (Some(f_us), Some(l_us)) = (f.latency_us, l.latency_us) else {
            continue;
        };
        if a.at < 4_000_000_000 {
            // It could not start before 5 s.
            assert!(
                l_us * 1_000 + a.at >= 5_000_000_000,
                "{}: served {l_us} µs after arriving at {} ns",
                a.request.name,
                a.at
            );
            waited += 1;
        } else if a.at > 6_000_000_000 {
            assert_eq!(
                f_us, l_us,
                "{}: after the load, as without it",
                a.request.name
            );
        }
    }
    assert!(waited > 50, "{waited}");
}

/// Under frequent link and site failures every request leaves its site in the end: the twin
/// checks (in debug builds) that no unit of compute stays held by its own work.
#[test]
fn failures_leave_no_compute_held() {
    let s = national();
    let mut w = twin::random_link_failures(&s, 60.0, 20.0, 300, 3);
    w.extend(twin::random_site_failures(&s, 120.0, 30.0, 300, 4));
    w.sort_by_key(|c| c.at_s());
    let arrivals = twin::mixed(&s, 5, 20.0, 300);
    let (report, outcomes) = twin::run(&s, &arrivals, Strategy::Cpn, 5, 300, &w);
    assert!(report.reselections > 0);
    assert!(outcomes.iter().all(|o| o.sla_met <= o.site.is_some()));
}

/// Two routers and one site of 100 TFLOPS behind a 1 Gbps link.
fn one_site() -> cpn_model::Scenario {
    let text = r#"
name = "one-site"
[[router]]
id = "a"
[[router]]
id = "b"
[[link]]
a = "a"
b = "b"
bandwidth = "1 Gbps"
latency = "1 ms"
[[site]]
id = "s"
router = "b"
tier = "edge"
compute = "100 TFLOPS"
"#;
    cpn_model::Scenario::parse("one-site", text, &mut cpn_model::NoImports).expect("valid")
}

fn raw(name: &str, at_s: u64, tflops: u128, priority: u8, bytes: u64) -> Arrival {
    let request = cpn_sched::PlaceRequest {
        demand: Some(cpn_units::Flops::fp64(tflops * 1_000_000_000_000)),
        processing: cpn_units::Nanos::from_millis(100),
        priority,
        ..cpn_sched::PlaceRequest::new(name, cpn_model::RouterId(0))
    };
    Arrival {
        at: at_s * 1_000_000_000,
        request,
        hold_s: 60,
        max_latency: None,
        class: "tolerant",
        bytes,
    }
}

#[test]
fn a_preempted_request_still_sending_its_input_is_lost() {
    let s = one_site();
    // The low-priority request sends 10 GB over 1 Gbps (80 s); at 1 s a higher priority
    // one needs the site's compute, and there is no other site to move the low one to.
    let arrivals = [
        raw("low", 0, 80, 0, 10_000_000_000),
        raw("high", 1, 50, 5, 0),
    ];
    let (report, out) = twin::run(&s, &arrivals, Strategy::Cpn, 1, 120, &[]);
    assert_eq!(out[1].site.as_deref(), Some("s"), "{:?}", out[1]);
    assert!(out[1].sla_met, "{:?}", out[1]);
    // Placed, then preempted: never served, and its SLA not met.
    assert_eq!(out[0].site.as_deref(), Some("s"), "{:?}", out[0]);
    assert_eq!(out[0].latency_us, None, "{:?}", out[0]);
    assert!(!out[0].sla_met, "{:?}", out[0]);
    assert_eq!(report.requests, 2);
}
