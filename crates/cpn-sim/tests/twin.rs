//! The twin on the built-in national scenario: deterministic, identical arrivals for every
//! strategy, and the joint decision meeting SLAs that network-blind strategies miss.

use std::collections::BTreeSet;

use cpn_sched::Strategy;
use cpn_sim::twin;

fn national() -> cpn_model::Scenario {
    cpn_model::built_in("national")
        .expect("known")
        .expect("valid")
}

#[test]
fn the_same_seed_gives_the_same_report_byte_for_byte() {
    let s = national();
    let arrivals = twin::mixed(&s, 3, 20.0, 30);
    let run = || {
        let (report, outcomes) = twin::compare(&s, "mixed", &arrivals, &Strategy::ALL, 3, 30, &[]);
        (
            serde_json::to_string(&report).expect("json"),
            twin::outcomes_csv(&outcomes),
            twin::html(&report, &outcomes),
        )
    };
    assert_eq!(run(), run());
    let other = twin::mixed(&s, 4, 20.0, 30);
    assert_ne!(arrivals, other, "another seed, other arrivals");
}

#[test]
fn every_strategy_sees_the_same_arrivals() {
    let s = national();
    let arrivals = twin::mixed(&s, 1, 20.0, 30);
    assert!(arrivals.len() > 400, "{}", arrivals.len());
    assert!(arrivals.windows(2).all(|w| w[0].at <= w[1].at));
    let (_, outcomes) = twin::compare(&s, "mixed", &arrivals, &Strategy::ALL, 1, 30, &[]);
    let seen: BTreeSet<Vec<(String, u64)>> = outcomes
        .values()
        .map(|o| {
            o.iter()
                .map(|x| (x.name.clone(), (x.at_s * 1e6) as u64))
                .collect()
        })
        .collect();
    assert_eq!(seen.len(), 1, "strategies saw different arrivals");
}

#[test]
fn the_joint_decision_meets_slas_that_blind_strategies_miss() {
    let s = national();
    let arrivals = twin::mixed(&s, 1, 20.0, 60);
    let (report, _) = twin::compare(&s, "mixed", &arrivals, &Strategy::ALL, 1, 60, &[]);
    let cpn = &report.strategies["cpn"];
    for blind in ["nearest", "least-loaded", "random", "kube-least-allocated"] {
        let other = &report.strategies[blind];
        assert!(
            cpn.sla_satisfaction > other.sla_satisfaction,
            "cpn {} vs {blind} {}",
            cpn.sla_satisfaction,
            other.sla_satisfaction
        );
    }
    for r in report.strategies.values() {
        assert!((0.0..=1.0).contains(&r.sla_satisfaction));
        assert!(r.sla_satisfaction <= r.acceptance + 1e-12);
        assert!(r.latency_ms.p50 <= r.latency_ms.p95 && r.latency_ms.p95 <= r.latency_ms.p99);
    }
}

#[test]
fn the_azure_llm_trace_becomes_arrivals_in_trace_order() {
    let Some(dir) = cpn_testdata::data_dir("azure-llm-inference-2023") else {
        return;
    };
    let requests = cpn_trace::load_azure_llm(dir.join("AzureLLMInferenceTrace_code.csv"))
        .expect("the shipped trace reads");
    let s = national();
    let arrivals = twin::from_llm(&s, &requests, &cpn_trace::ComputeRule::default(), 1, 120);
    let within = requests
        .iter()
        .filter(|r| r.arrival.0 < 120_000_000_000)
        .count();
    assert_eq!(arrivals.len(), within);
    assert!(arrivals.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(arrivals.iter().all(|a| a.hold_s >= 1));
    let (report, _) = twin::compare(
        &s,
        "azure-llm-code",
        &arrivals,
        &[Strategy::Cpn],
        1,
        120,
        &[],
    );
    assert_eq!(report.strategies["cpn"].requests as usize, within);
}

#[test]
fn more_demand_from_one_ingress_and_a_failed_site_change_the_run() {
    let s = national();
    let arrivals = twin::mixed(&s, 2, 20.0, 30);
    let shanghai = s.router("shanghai").expect("router").id;
    let from_shanghai = |a: &[twin::Arrival], after: u64| {
        a.iter()
            .filter(|x| x.request.ingress == shanghai && x.at >= after * 1_000_000_000)
            .count()
    };
    let doubled = twin::scale_demand(&arrivals, shanghai, 2.0, 10, 2);
    assert_eq!(
        from_shanghai(&doubled, 10),
        2 * from_shanghai(&arrivals, 10)
    );
    assert_eq!(
        doubled.len() - arrivals.len(),
        from_shanghai(&arrivals, 10),
        "only Shanghai's, only after 10 s"
    );
    assert!(doubled.windows(2).all(|w| w[0].at <= w[1].at));
    // Its nearest edge down from the start: nothing is placed there.
    let site = s.site("shanghai-edge").expect("site").id;
    let down = [twin::WhatIf::SiteDown { site, at_s: 0 }];
    let (_, outcomes) = twin::run(&s, &arrivals, Strategy::Nearest, 2, 30, &down);
    assert!(
        outcomes
            .iter()
            .all(|o| o.site.as_deref() != Some("shanghai-edge")),
        "a failed site took work"
    );
    let (_, live) = twin::run(&s, &arrivals, Strategy::Nearest, 2, 30, &[]);
    assert!(
        live.iter()
            .any(|o| o.site.as_deref() == Some("shanghai-edge"))
    );
}

#[test]
fn random_link_failures_are_seeded_sorted_and_alternate() {
    let s = national();
    let a = twin::random_link_failures(&s, 600.0, 60.0, 3_600, 5);
    assert_eq!(a, twin::random_link_failures(&s, 600.0, 60.0, 3_600, 5));
    assert_ne!(a, twin::random_link_failures(&s, 600.0, 60.0, 3_600, 6));
    // About 51 links x 3,600 s / 660 s of cycle, down and up: a few hundred changes.
    assert!(a.len() > 100 && a.len() < 1_000, "{}", a.len());
    let at = |w: &twin::WhatIf| match *w {
        twin::WhatIf::LinkDown { at_s, .. } | twin::WhatIf::LinkUp { at_s, .. } => at_s,
        _ => u64::MAX,
    };
    assert!(a.windows(2).all(|w| at(&w[0]) <= at(&w[1])));
    for link in &s.links {
        let mine: Vec<bool> = a
            .iter()
            .filter_map(|w| match *w {
                twin::WhatIf::LinkDown { link: l, .. } if l == link.id => Some(false),
                twin::WhatIf::LinkUp { link: l, .. } if l == link.id => Some(true),
                _ => None,
            })
            .collect();
        assert!(
            mine.iter().enumerate().all(|(i, up)| *up == (i % 2 == 1)),
            "{}: {mine:?}",
            link.name
        );
    }
}
