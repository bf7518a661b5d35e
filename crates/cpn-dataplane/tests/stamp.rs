//! Acceptance (root): STAMP probes (RFC 8762) from a client travel the flow's segment list to
//! the site, which reflects them: every probe is answered, the hop counters show they took
//! exactly the steered path's hops, and each has a forward, backward and round-trip delay
//! (printed, not asserted; the emulated links add no propagation delay).

mod common;

use std::collections::BTreeMap;
use std::net::{SocketAddr, SocketAddrV6};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cpn_dataplane::Linux;
use cpn_dataplane::emu::{self, service_addr};
use cpn_dataplane::stamp::{self, STAMP_PORT};
use cpn_dataplane::steer::{Flow, Steering};
use cpn_model::{RouterId, ServiceId, SiteId};
use cpn_route::srv6::service_prefix;

const NAME: &str = "tstamp";
const PROBES: u32 = 50;

#[test]
fn stamp_probes_follow_the_segment_list_and_are_reflected_at_the_site() {
    if !common::root("stamp_probes_follow_the_segment_list_and_are_reflected_at_the_site") {
        return;
    }
    let scenario = common::scenario();
    let state_dir = common::state_dir();
    let (layout, _) = common::up(&scenario, NAME);
    let g = &layout.graph;
    let hop = |from: u32, to: u32| {
        g.arcs_from(from)
            .find(|&a| g.head(a) == to)
            .expect("a link")
    };
    // a -> c -> d: not the IGP's way (a -> b -> d), so the list needs a waypoint.
    let arcs = vec![hop(0, 2), hop(2, 3)];
    let mut steering = Steering::new(layout.clone(), &scenario, Linux);
    steering
        .steer(
            1,
            Flow {
                ingress: RouterId(0),
                site: SiteId(0),
                arcs: arcs.clone(),
                service: Some(ServiceId(0)),
                slice: None,
            },
        )
        .expect("steered");

    let addr = service_addr(service_prefix(ServiceId(0)).expect("prefix"));
    let reflector = common::socket(&layout.site(SiteId(0)), addr, STAMP_PORT);
    reflector
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let stop = Arc::new(AtomicBool::new(false));
    let reflecting = {
        let stop = stop.clone();
        std::thread::spawn(move || stamp::reflect(&reflector, &stop))
    };
    let sender = common::socket(&layout.client(RouterId(0)), emu::client_addr(0, true), 0);
    let before = common::hop_counters(&layout);
    let to = SocketAddr::V6(SocketAddrV6::new(addr, STAMP_PORT, 0, 0));
    let samples = stamp::probe(&sender, to, PROBES, Duration::from_secs(1)).expect("probes");
    let after = common::hop_counters(&layout);
    stop.store(true, Ordering::Relaxed);
    let reflected = reflecting.join().expect("reflector").expect("reflects");

    let answered: Vec<u32> = samples.iter().map(|s| s.seq).collect();
    assert_eq!(
        samples.len() as u32,
        PROBES,
        "every probe is answered: {answered:?}"
    );
    assert_eq!(reflected, u64::from(PROBES));
    for (i, s) in samples.iter().enumerate() {
        assert_eq!(s.seq, i as u32);
        assert!(
            s.forward_ns >= 0 && s.backward_ns >= 0 && s.round_trip_ns >= 0,
            "{s:?}"
        );
    }
    let moved: BTreeMap<(String, String), u64> = after
        .iter()
        .map(|(k, &v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, d)| *d > 0)
        .collect();
    let expected: BTreeMap<(String, String), u64> = layout
        .hop_counters(&arcs)
        .into_iter()
        .map(|k| (k, u64::from(PROBES)))
        .collect();
    assert_eq!(moved, expected, "the probes took exactly the steered hops");

    let median = |mut v: Vec<i64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    eprintln!(
        "STAMP over a -> c -> d ({PROBES} probes, medians): forward {} us, backward {} us, round trip {} us",
        median(samples.iter().map(|s| s.forward_ns).collect()) / 1000,
        median(samples.iter().map(|s| s.backward_ns).collect()) / 1000,
        median(samples.iter().map(|s| s.round_trip_ns).collect()) / 1000
    );
    emu::down(NAME, &state_dir).expect("down");
    assert_eq!(
        emu::leftovers(NAME).expect("leftovers"),
        Vec::<String>::new()
    );
}
