//! Acceptance (root): two slices with guaranteed rates share a 40 Mbps path; with both
//! saturating it (iperf3, TCP, one DSCP each), each holds its guarantee within 10 %. Fair
//! sharing alone would give each about 20 Mbps, below the larger guarantee, so the test
//! fails without the HTB classes. Also: the classes are applied idempotently and removed by
//! the next state that no longer lists them.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cpn_dataplane::emu::{self, in_netns, service_addr};
use cpn_dataplane::{
    Dataplane, DataplaneError, Linux, RouteAction, RouteKey, Seg6Mode, SliceClass,
};
use cpn_model::{RouterId, ServiceId};
use cpn_route::srv6::{Mode, compile, service_prefix};
use cpn_route::{Demand, Engine, Objective, Request, SlaBounds};

const NAME: &str = "tslice";
const GOLD: SliceClass = SliceClass {
    minor: 0x10,
    rate_bps: 24_000_000,
    ceil_bps: 40_000_000,
    dscp: 10,
};
const SILVER: SliceClass = SliceClass {
    minor: 0x20,
    rate_bps: 8_000_000,
    ceil_bps: 40_000_000,
    dscp: 20,
};

fn spawn(ns: &str, args: &[String]) -> Child {
    in_netns(ns, || {
        Command::new("iperf3")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| DataplaneError::Spawn {
                program: "iperf3".to_string(),
                source,
            })
    })
    .expect("iperf3 starts (Debian package iperf3)")
}

/// The receiver's rate of an iperf3 client run, from its JSON report.
fn received_bps(child: Child) -> f64 {
    let out = child.wait_with_output().expect("iperf3 ends");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "iperf3 failed: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&text).expect("iperf3 -J prints JSON");
    json["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .expect("a received rate")
}

#[test]
fn two_slices_hold_their_guarantees_on_a_shared_link() {
    if !common::root("two_slices_hold_their_guarantees_on_a_shared_link") {
        return;
    }
    let scenario = common::scenario();
    let state_dir = common::state_dir();
    let (layout, _) = common::up(&scenario, NAME);

    let a = scenario.router("a").expect("a").id;
    let mut engine = Engine::new(&scenario);
    let request = Request {
        ingress: a,
        demand: Demand::Service(ServiceId(0)),
        sla: SlaBounds::default(),
        objective: Objective::Latency,
    };
    let decision = engine.decide(&request).expect("decides");
    let choice = decision.choice().expect("a site");
    let path = choice.path.clone().expect("a path");
    let list = compile(
        &layout.graph,
        &layout.plan,
        &path,
        Some(choice.site),
        Mode::Loose,
        8,
    )
    .expect("compiles");
    let prefix = service_prefix(ServiceId(0)).expect("prefix");

    // The slices' classes on every interface the path leaves by, and the steering route.
    for (i, &arc) in path.arcs.iter().enumerate() {
        let ns = layout.router(RouterId(layout.graph.tail(arc)));
        let dev = layout.arc_dev(arc).expect("dev").to_string();
        let mut desired = layout.states[&ns].clone();
        desired
            .shaping
            .get_mut(&dev)
            .expect("the link is shaped")
            .slices = vec![GOLD, SILVER];
        if i == 0 {
            desired.routes.insert(
                RouteKey::main(prefix.addr(), prefix.prefix_len()),
                RouteAction::Seg6 {
                    mode: Seg6Mode::Encap,
                    segs: list.sids().to_vec(),
                    dev: dev.clone(),
                },
            );
        }
        let changes = Linux.apply(&ns, &desired).expect("slices applied");
        assert!(
            changes.replaced.iter().any(|c| c.contains(&dev)),
            "{changes:?}"
        );
        let again = Linux.apply(&ns, &desired).expect("applied again");
        assert!(
            again.is_empty(),
            "the same slices twice change nothing: {again:?}"
        );
    }

    let site = layout.site(choice.site);
    let client = layout.client(a);
    let server_addr = service_addr(prefix).to_string();
    let servers: Vec<Child> = [5201, 5202]
        .iter()
        .map(|port| {
            let args = ["-s", "-1", "-B", &server_addr, "-p", &port.to_string()];
            spawn(&site, &args.map(str::to_string))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let clients: Vec<Child> = [(5201, GOLD), (5202, SILVER)]
        .iter()
        .map(|(port, slice)| {
            let tos = format!("0x{:02x}", slice.dscp << 2);
            let args = [
                "-c",
                &server_addr,
                "-p",
                &port.to_string(),
                "-t",
                "5",
                "-O",
                "1",
                "-S",
                &tos,
                "-J",
            ];
            spawn(&client, &args.map(str::to_string))
        })
        .collect();
    let rates: Vec<f64> = clients.into_iter().map(received_bps).collect();
    for mut s in servers {
        let _ = s.wait();
    }
    eprintln!(
        "gold (guaranteed 24 Mbps): {:.2} Mbps, silver (guaranteed 8 Mbps): {:.2} Mbps, link 40 Mbps",
        rates[0] / 1e6,
        rates[1] / 1e6
    );
    for (rate, slice, name) in [(rates[0], GOLD, "gold"), (rates[1], SILVER, "silver")] {
        assert!(
            rate >= 0.9 * slice.rate_bps as f64,
            "{name} holds {:.2} Mbps, less than 90% of its {} Mbps guarantee",
            rate / 1e6,
            slice.rate_bps / 1_000_000
        );
    }

    // Back to no slices: the classes and filters go.
    for &arc in &path.arcs {
        let ns = layout.router(RouterId(layout.graph.tail(arc)));
        let changes = Linux
            .apply(&ns, &layout.states[&ns])
            .expect("slices removed");
        assert!(!changes.is_empty());
        let dev = layout.arc_dev(arc).expect("dev");
        let classes = Command::new("tc")
            .args(["-n", &ns, "class", "show", "dev", dev])
            .output()
            .expect("tc");
        let text = String::from_utf8_lossy(&classes.stdout);
        assert!(!text.contains("1:10 ") && !text.contains("1:20 "), "{text}");
        assert!(
            Linux
                .apply(&ns, &layout.states[&ns])
                .expect("again")
                .is_empty()
        );
    }

    emu::down(NAME, &state_dir).expect("down");
    assert_eq!(
        emu::leftovers(NAME).expect("leftovers"),
        Vec::<String>::new()
    );
}
