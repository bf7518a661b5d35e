//! Acceptance (root): alternate marking (RFC 9341) measures loss per hop and end to end.
//! With no loss every block is whole; 1% loss injected with nftables `numgen random` on one
//! link is measured within 0.2 percentage points, exactly as many packets as the drop rule
//! dropped, all on that link; and in a closed loop the measured loss makes the routing engine
//! choose a path without the link, the headend is reprogrammed, and traffic takes the new
//! path. The time from injection to traffic on the new path is printed, not asserted.

mod common;

use std::net::{SocketAddrV6, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cpn_dataplane::emu::{self, in_netns, service_addr};
use cpn_dataplane::ifit::{self, BlockMeter, LossReport, Segment};
use cpn_dataplane::steer::{Flow, Steering};
use cpn_dataplane::{DataplaneError, Linux};
use cpn_model::ServiceId;
use cpn_route::srv6::service_prefix;
use cpn_route::{Demand, Engine, Objective, Request, SlaBounds};
use cpn_units::Ratio;

const NAME: &str = "tifit";
const PERIOD: Duration = Duration::from_millis(100);
/// How long after a colour switch the previous colour's packets are all counted.
const GUARD: Duration = Duration::from_millis(20);
/// Packets per second of the measured flow.
const RATE: u64 = 8_000;
/// The loss bound of the closed loop's SLA: 0.5%.
const MAX_LOSS: Ratio = Ratio(5_000_000_000);

fn nft(ns: &str, script: &str) -> String {
    let owned = script.to_string();
    in_netns(ns, || {
        let out = std::process::Command::new("nft")
            .args(["-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().map(|mut s| s.write_all(owned.as_bytes()));
                c.wait_with_output()
            })
            .map_err(|source| DataplaneError::Spawn {
                program: "nft".into(),
                source,
            })?;
        assert!(out.status.success(), "nft {owned}");
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    })
    .expect("nft runs")
}

/// Drops 1% of the SRv6 packets leaving `ns` by `dev`, after they were counted.
fn inject_loss(ns: &str, dev: &str) {
    nft(
        ns,
        &format!(
            "table ip6 loss {{\n  counter dropped {{ }}\n  chain post {{\n    type filter hook postrouting priority 400; policy accept;\n    oifname \"{dev}\" rt type 4 numgen random mod 1000 < 10 counter name \"dropped\" drop\n  }}\n}}\n"
        ),
    );
}

fn dropped(ns: &str) -> u64 {
    let out = in_netns(ns, || {
        let o = std::process::Command::new("nft")
            .args(["-j", "list", "counter", "ip6", "loss", "dropped"])
            .output()
            .map_err(|source| DataplaneError::Spawn {
                program: "nft".into(),
                source,
            })?;
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    })
    .expect("nft");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    json["nftables"]
        .as_array()
        .and_then(|a| a.iter().find_map(|i| i["counter"]["packets"].as_u64()))
        .expect("the drop counter")
}

fn remove_loss(ns: &str) {
    nft(ns, "delete table ip6 loss\n");
}

/// A flow of UDP datagrams at `RATE` from `client` to the service address until stopped.
fn start_sender(
    client: UdpSocket,
    to: SocketAddrV6,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let started = Instant::now();
        let mut sent = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let due = started.elapsed().as_micros() as u64 * RATE / 1_000_000;
            while sent < due {
                let _ = client.send_to(&sent.to_be_bytes(), to);
                sent += 1;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        sent
    })
}

/// The alternate-marking loop at a headend: colours, periods, blocks.
struct Marking {
    headend: String,
    colour: u8,
    meter: BlockMeter,
    segments: Vec<Segment>,
}

impl Marking {
    /// Starts colouring; the first period, whose colour was being marked when the meter
    /// started, is only a baseline.
    fn start(headend: &str, layout: &emu::Layout, arcs: &[u32]) -> Marking {
        let (points, segments) = ifit::points(layout, arcs);
        ifit::set_colour(headend, 0).expect("colour");
        std::thread::sleep(GUARD);
        let mut marking = Marking {
            headend: headend.to_string(),
            colour: 0,
            meter: BlockMeter::new(points, 0).expect("meter"),
            segments,
        };
        assert!(marking.switch().is_none(), "the first block is a baseline");
        marking
    }

    /// Waits out a period, switches colour and returns the finished period's block.
    fn period(&mut self) -> LossReport {
        let block = self.switch().expect("a whole block");
        LossReport::new(&block, &self.segments)
    }

    fn switch(&mut self) -> Option<Vec<u64>> {
        std::thread::sleep(PERIOD);
        let done = self.colour;
        self.colour ^= 1;
        ifit::set_colour(&self.headend, self.colour).expect("colour");
        std::thread::sleep(GUARD);
        self.meter.read(done).expect("block")
    }
}

#[test]
fn alternate_marking_measures_and_attributes_loss_and_closes_the_loop() {
    if !common::root("alternate_marking_measures_and_attributes_loss_and_closes_the_loop") {
        return;
    }
    let scenario = common::scenario();
    let state_dir = common::state_dir();
    let (layout, _) = common::up(&scenario, NAME);

    let a = scenario.router("a").expect("a").id;
    let mut engine = Engine::new(&scenario);
    let mut request = Request {
        ingress: a,
        demand: Demand::Service(ServiceId(0)),
        sla: SlaBounds::default(),
        objective: Objective::Latency,
    };
    request.sla.max_loss = Some(MAX_LOSS);
    let decision = engine.decide(&request).expect("decides");
    let choice = decision.choice().expect("a site");
    let path = choice.path.clone().expect("a path");
    let mut steering = Steering::new(layout.clone(), &scenario, Linux);
    let flow = Flow {
        ingress: a,
        site: choice.site,
        arcs: path.arcs.clone(),
        service: Some(ServiceId(0)),
        slice: None,
    };
    steering.steer(1, flow.clone()).expect("steered");

    let headend = layout.router(a);
    let prefix = service_prefix(ServiceId(0)).expect("prefix");
    let dest = SocketAddrV6::new(service_addr(prefix), 9000, 0, 0);
    let _sink = common::socket(&layout.site(choice.site), service_addr(prefix), 9000);
    let client = common::socket(&layout.client(a), emu::client_addr(a.0, true), 0);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = start_sender(client, dest, stop.clone());
    let mut marking = Marking::start(&headend, &layout, &path.arcs);

    // No loss: every block arrives whole at every point.
    for _ in 0..4 {
        let block = marking.period();
        assert!(block.sent > 0, "{block:?}");
        assert!(block.lost.iter().all(|(_, l)| *l == 0), "{block:?}");
    }

    // 1% on the path's first link, measured over at least 40,000 packets.
    let lossy_arc = path.arcs[0];
    let lossy_dev = layout.arc_dev(lossy_arc).expect("dev").to_string();
    let lossy_link = Segment::Link(layout.plan.link_name(lossy_arc).expect("link").to_string());
    inject_loss(&headend, &lossy_dev);
    let mut total = LossReport::zero(&marking.segments);
    while total.sent < 40_000 {
        total.add(&marking.period());
    }
    // The packets of the current period, then compare with what the drop rule did.
    stop.store(true, Ordering::Relaxed);
    let _ = sender.join();
    std::thread::sleep(GUARD);
    for _ in 0..2 {
        total.add(&marking.period());
    }
    let rule = dropped(&headend);
    let per = total.per_segment();
    eprintln!(
        "measured over {} packets: end to end {:.3}%, per segment {:?}; the drop rule dropped {rule}",
        total.sent,
        total.end_to_end() * 100.0,
        per.iter()
            .map(|(s, r)| format!("{s}: {:.3}%", r * 100.0))
            .collect::<Vec<_>>()
    );
    for ((segment, lost), (_, r)) in total.lost.iter().zip(&per) {
        if *segment == lossy_link {
            assert_eq!(*lost, rule, "every dropped packet is measured on {segment}");
            assert!(
                (r - 0.01).abs() <= 0.002,
                "{segment}: {:.3}% is not 1% ± 0.2",
                r * 100.0
            );
        } else {
            assert_eq!(*lost, 0, "{segment} lost nothing");
        }
    }
    assert!((total.end_to_end() - 0.01).abs() <= 0.002);
    remove_loss(&headend);

    // The closed loop: traffic again, loss injected again; the first block whose loss
    // exceeds the SLA's bound makes the engine decide again with the measured loss.
    let stop = Arc::new(AtomicBool::new(false));
    let client = common::socket(&layout.client(a), emu::client_addr(a.0, true), 0);
    let sender = start_sender(client, dest, stop.clone());
    for _ in 0..2 {
        marking.period();
    }
    inject_loss(&headend, &lossy_dev);
    let injected = Instant::now();
    let mut detected = None;
    for _ in 0..50 {
        let block = marking.period();
        if let Some((segment, r)) = block.worst()
            && block.sent >= 200
            && r > MAX_LOSS.0 as f64 / 1e12
        {
            detected = Some((segment, r));
            break;
        }
    }
    let (segment, measured) = detected.expect("the loss is detected");
    assert_eq!(
        segment, lossy_link,
        "the loss is attributed to the right link"
    );
    let detected_at = injected.elapsed();
    engine.graph_mut().set_loss(
        layout.graph.link(lossy_arc),
        Ratio((measured * 1e12) as u64),
    );
    let decision = engine.decide(&request).expect("decides again");
    let choice = decision.choice().expect("a site");
    let new_path = choice.path.clone().expect("a path");
    assert!(
        !new_path.arcs.contains(&lossy_arc),
        "the new path avoids the lossy link"
    );
    steering
        .steer(
            1,
            Flow {
                site: choice.site,
                arcs: new_path.arcs.clone(),
                ..flow
            },
        )
        .expect("reprogrammed");
    // Traffic on the new path: its first hop's counter moves.
    let first = layout.hop_counters(&new_path.arcs[..1]).remove(0);
    let before = emu::counters(&first.0).expect("counters")[&first.1];
    loop {
        let now = emu::counters(&first.0).expect("counters")[&first.1];
        if now > before {
            break;
        }
        assert!(
            injected.elapsed() < Duration::from_secs(10),
            "no traffic on the new path"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let carrying = injected.elapsed();
    eprintln!(
        "closed loop: loss {:.2}% detected on {segment} {:.0} ms after injection; traffic on the new path {:.0} ms after injection (period {} ms)",
        measured * 100.0,
        detected_at.as_secs_f64() * 1e3,
        carrying.as_secs_f64() * 1e3,
        PERIOD.as_millis()
    );
    // The new path loses nothing.
    let mut marking = Marking::start(&headend, &layout, &new_path.arcs);
    for _ in 0..3 {
        let block = marking.period();
        assert!(
            block.sent > 0 && block.lost.iter().all(|(_, l)| *l == 0),
            "{block:?}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sender.join();
    ifit::stop_colouring(&headend).expect("stop");

    emu::down(NAME, &state_dir).expect("down");
    assert_eq!(
        emu::leftovers(NAME).expect("leftovers"),
        Vec::<String>::new()
    );
}
