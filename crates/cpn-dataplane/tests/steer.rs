//! Acceptance (root): packets from a client namespace reach the site the routing engine chose,
//! through exactly the hops of its decision, as the hop counters of every router show; after
//! a re-decision (a new segment list at the headend) they take the new path. Then `down`
//! leaves nothing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use cpn_dataplane::emu::{self, Layout, service_addr};
use cpn_dataplane::{Dataplane, Linux, RouteAction, RouteKey, Seg6Mode};
use cpn_model::RouterId;
use cpn_route::srv6::{Mode, compile, service_prefix};
use cpn_route::{Demand, Engine, Objective, Path as GraphPath, Request, SlaBounds};
use cpn_units::Nanos;

const NAME: &str = "tsteer";
const PACKETS: u32 = 40;

/// Steers the service prefix at the headend into the segment list of `path` (ending at the
/// site's End.DT6), sends probes from the headend's client to the site and checks that the
/// counters that moved are exactly the path's hops, each by the number of probes.
fn steer_and_check(layout: &Layout, path: &GraphPath, site: cpn_model::SiteId) {
    let headend = RouterId(path.source());
    let ns = layout.router(headend);
    let prefix = service_prefix(cpn_model::ServiceId(0)).expect("prefix");
    let list = compile(
        &layout.graph,
        &layout.plan,
        path,
        Some(site),
        Mode::Loose,
        8,
    )
    .expect("the path compiles");
    let mut desired = layout.states[&ns].clone();
    let first_dev = layout.arc_dev(path.arcs[0]).expect("dev").to_string();
    desired.routes.insert(
        RouteKey::main(prefix.addr(), prefix.prefix_len()),
        RouteAction::Seg6 {
            mode: Seg6Mode::Encap,
            segs: list.sids().to_vec(),
            dev: first_dev,
        },
    );
    let changes = Linux
        .apply(&ns, &desired)
        .expect("the headend is programmed");
    assert_eq!(
        changes.count(),
        1,
        "one route added or replaced: {changes:?}"
    );
    let again = Linux.apply(&ns, &desired).expect("applied again");
    assert!(
        again.is_empty(),
        "applying the same state twice changes nothing: {again:?}"
    );

    let client = common::socket(
        &layout.client(headend),
        emu::client_addr(headend.0, true),
        0,
    );
    let server = common::socket(&layout.site(site), service_addr(prefix), 9000);
    let before = common::hop_counters(layout);
    let got = common::probe(&client, &server, PACKETS);
    assert_eq!(got, PACKETS, "every probe reaches the chosen site");
    let after = common::hop_counters(layout);
    let moved: BTreeMap<(String, String), u64> = after
        .iter()
        .map(|(k, &v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, d)| *d > 0)
        .collect();
    let expected: BTreeMap<(String, String), u64> = layout
        .hop_counters(&path.arcs)
        .into_iter()
        .map(|k| (k, u64::from(PACKETS)))
        .collect();
    assert_eq!(
        moved,
        expected,
        "only the decided hops count the probes, each once per probe (segments {:?})",
        list.sids()
    );
}

#[test]
fn packets_follow_the_decision_and_then_the_re_decision() {
    if !common::root("packets_follow_the_decision_and_then_the_re_decision") {
        return;
    }
    let scenario = common::scenario();
    let state_dir = common::state_dir();
    let (layout, report) = common::up(&scenario, NAME);
    eprintln!(
        "up: {} namespaces, {} routes in {:.2} s",
        report.namespaces, report.routes, report.seconds
    );

    let a = scenario.router("a").expect("a").id;
    let request = Request {
        ingress: a,
        demand: Demand::Service(cpn_model::ServiceId(0)),
        sla: SlaBounds::default(),
        objective: Objective::Latency,
    };
    let mut engine = Engine::new(&scenario);
    let decision = engine.decide(&request).expect("decides");
    let choice = decision.choice().expect("a site is chosen");
    let first = choice.path.clone().expect("a path");
    steer_and_check(&layout, &first, choice.site);

    // The first path's middle link gets slow (as telemetry would report): the engine
    // decides again, and the headend gets the new segment list.
    let slow = layout.graph.link(first.arcs[first.arcs.len() - 1]);
    engine.graph_mut().set_latency(slow, Nanos(50_000_000));
    let started = Instant::now();
    let decision = engine.decide(&request).expect("decides again");
    let choice = decision.choice().expect("a site is chosen again");
    let second = choice.path.clone().expect("a path");
    assert_ne!(
        second.arcs, first.arcs,
        "the re-decision avoids the slow link"
    );
    steer_and_check(&layout, &second, choice.site);
    eprintln!(
        "re-decision to traffic on the new path: {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    emu::down(NAME, &state_dir).expect("down");
    assert_eq!(
        emu::leftovers(NAME).expect("leftovers"),
        Vec::<String>::new()
    );
    assert!(!Path::new(&emu::state_path(&state_dir, NAME)).exists());
}
