//! What the root-only tests share: the root check (cpn-testdata's), the test scenario, an
//! emulation's bring-up, the routers' hop counters, and UDP probes sent between namespaces.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::net::{Ipv6Addr, SocketAddrV6, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use cpn_dataplane::emu::{self, Layout, UpReport, in_netns};
use cpn_model::{NoImports, RouterId, Scenario};

pub use cpn_testdata::root;

pub fn scenario() -> Scenario {
    let text = include_str!("../emu-test.toml");
    Scenario::parse("emu-test.toml", text, &mut NoImports).expect("the test scenario reads")
}

/// Where the tests keep their emulations' state files.
pub fn state_dir() -> PathBuf {
    std::env::temp_dir().join("cpn-emu-tests")
}

/// Emulation `name` of `scenario` up at full scale, after taking down whatever an earlier run
/// left of it.
pub fn up(scenario: &Scenario, name: &str) -> (Layout, UpReport) {
    let _ = emu::down(name, &state_dir());
    emu::up(scenario, name, 1, &state_dir()).expect("up")
}

/// Every hop counter of every router, by (namespace, counter): all colours together (the
/// per-colour ones are for telemetry).
pub fn hop_counters(layout: &Layout) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    for r in 0..layout.graph.node_count() as u32 {
        let ns = layout.router(RouterId(r));
        for (name, packets) in emu::counters(&ns).expect("counters") {
            if !name.ends_with("_c0") && !name.ends_with("_c1") {
                out.insert((ns.clone(), name), packets);
            }
        }
    }
    out
}

/// A UDP socket bound inside namespace `ns`.
pub fn socket(ns: &str, addr: Ipv6Addr, port: u16) -> UdpSocket {
    let socket = in_netns(ns, || {
        UdpSocket::bind(SocketAddrV6::new(addr, port, 0, 0)).map_err(|e| {
            cpn_dataplane::DataplaneError::Namespace {
                ns: ns.to_string(),
                reason: format!("bind [{addr}]:{port}: {e}"),
            }
        })
    })
    .expect("a socket in the namespace");
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    socket
}

/// Sends `count` datagrams from `from` to `to` and returns how many arrived.
pub fn probe(from: &UdpSocket, to: &UdpSocket, count: u32) -> u32 {
    let dest = to.local_addr().expect("bound");
    let mut got = 0;
    let mut buf = [0u8; 64];
    for i in 0..count {
        from.send_to(&i.to_be_bytes(), dest).expect("send");
        if to.recv_from(&mut buf).is_ok() {
            got += 1;
        }
    }
    got
}
