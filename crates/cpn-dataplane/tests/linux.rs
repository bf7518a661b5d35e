//! The `Linux` data plane against the kernel (root): every kind of object is added, the same
//! state applied twice changes nothing, what is read back is what was asked for (segment
//! lists in order, as `ip` prints them), a smaller state removes what it no longer lists and
//! leaves what cpn does not own, and errors name the namespace, object and cause.

mod common;

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::process::Command;

use cpn_dataplane::{
    Address, Dataplane, Linux, LocalBehavior, NsState, RouteAction, RouteKey, Seg6Mode, Shaping,
    SliceClass,
};

const NS: &str = "tlinux_0";

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn a(text: &str) -> Ipv6Addr {
    text.parse().expect("address")
}

fn state() -> NsState {
    let mut routes = BTreeMap::new();
    routes.insert(
        RouteKey::main(a("fd20::"), 64),
        RouteAction::Via {
            gateway: a("fd10::2"),
            dev: "d0".into(),
        },
    );
    routes.insert(
        RouteKey::main(a("fd21::"), 64),
        RouteAction::Dev { dev: "d1".into() },
    );
    routes.insert(
        RouteKey::main(a("fcbb:cc00:1::"), 48),
        RouteAction::Seg6 {
            mode: Seg6Mode::Encap,
            segs: vec![
                a("fcbb:bb00:1::1"),
                a("fcbb:bb00:2::e:1"),
                a("fcbb:bb00:3::d6:0"),
            ],
            dev: "d0".into(),
        },
    );
    routes.insert(
        RouteKey::main(a("fd30::"), 64),
        RouteAction::Seg6 {
            mode: Seg6Mode::Inline,
            segs: vec![a("fcbb:bb00:4::1"), a("fcbb:bb00:5::1")],
            dev: "d0".into(),
        },
    );
    let local = |behavior, dev: &str| RouteAction::Seg6Local {
        behavior,
        dev: dev.into(),
    };
    routes.insert(
        RouteKey::main(a("fcbb:bb00:9::1"), 128),
        local(LocalBehavior::End, "d0"),
    );
    routes.insert(
        RouteKey::main(a("fcbb:bb00:9::e:0"), 128),
        local(LocalBehavior::EndX { nh6: a("fd10::2") }, "d0"),
    );
    routes.insert(
        RouteKey::main(a("fcbb:bb00:9::d6:0"), 128),
        local(LocalBehavior::EndDt6 { table: 1000 }, "d1"),
    );
    routes.insert(
        RouteKey {
            table: 1000,
            dst: a("fcbb:cc00::"),
            len: 32,
        },
        RouteAction::Via {
            gateway: a("fd11::2"),
            dev: "d1".into(),
        },
    );
    let mut addresses = vec![
        Address {
            dev: "d0".into(),
            addr: a("fd10::1"),
            len: 64,
        },
        Address {
            dev: "d1".into(),
            addr: a("fd11::1"),
            len: 64,
        },
        Address {
            dev: "lo".into(),
            addr: a("2001:db8::1"),
            len: 128,
        },
    ];
    addresses.sort();
    let shaping = BTreeMap::from([(
        "d0".to_string(),
        Shaping {
            rate_bps: 50_000_000,
            slices: vec![SliceClass {
                minor: 0x10,
                rate_bps: 20_000_000,
                ceil_bps: 50_000_000,
                dscp: 10,
            }],
        },
    )]);
    NsState {
        addresses,
        routes,
        shaping,
    }
}

#[test]
fn states_apply_idempotently_and_diffs_remove() {
    if !common::root("states_apply_idempotently_and_diffs_remove") {
        return;
    }
    let _ = Command::new("ip").args(["netns", "del", NS]).output();
    ip(&["netns", "add", NS]);
    ip(&[
        "-n", NS, "link", "add", "name", "d0", "type", "veth", "peer", "name", "d1",
    ]);
    for dev in ["lo", "d0", "d1"] {
        ip(&["-n", NS, "link", "set", "dev", dev, "up"]);
    }
    // A route cpn does not own: it must survive every apply.
    ip(&[
        "-n",
        NS,
        "-6",
        "route",
        "add",
        "fd99::/64",
        "dev",
        "d1",
        "proto",
        "static",
    ]);

    let mut linux = Linux;
    let want = state();
    let first = linux.apply(NS, &want).expect("applied");
    assert_eq!(first.added.len(), 3 + 8 + 1, "{first:?}");
    assert!(
        first.replaced.is_empty() && first.removed.is_empty(),
        "{first:?}"
    );
    let second = linux.apply(NS, &want).expect("applied again");
    assert!(
        second.is_empty(),
        "the same state twice changes nothing: {second:?}"
    );

    let read = linux.read(NS).expect("read");
    assert_eq!(read.addresses, want.addresses);
    assert_eq!(read.routes, want.routes);
    assert_eq!(read.shaping.get("d0").map(|s| s.rate_bps), Some(50_000_000));
    let shown = ip(&["-n", NS, "-6", "route", "show"]);
    assert!(
        shown.contains("segs 3 [ fcbb:bb00:1::1 fcbb:bb00:2::e:1 fcbb:bb00:3::d6:0 ]"),
        "segments in the order given, as ip prints them:\n{shown}"
    );
    assert!(
        shown.contains("mode inline segs 3 [ fcbb:bb00:4::1 fcbb:bb00:5::1 :: ]"),
        "{shown}"
    );
    assert!(shown.contains("action End.DT6 table 1000"), "{shown}");

    // A smaller, changed state.
    let mut less = want.clone();
    less.routes.remove(&RouteKey::main(a("fd20::"), 64));
    less.routes.insert(
        RouteKey::main(a("fcbb:cc00:1::"), 48),
        RouteAction::Seg6 {
            mode: Seg6Mode::Encap,
            segs: vec![a("fcbb:bb00:3::d6:0")],
            dev: "d0".into(),
        },
    );
    less.addresses.retain(|x| x.dev != "lo");
    less.shaping.get_mut("d0").expect("d0").slices.clear();
    let changes = linux.apply(NS, &less).expect("applied");
    assert_eq!(
        changes.removed,
        vec![
            "route fd20::/64 (table 254)".to_string(),
            "address 2001:db8::1/128 on lo".to_string()
        ]
    );
    assert_eq!(
        changes.replaced,
        vec![
            "route fcbb:cc00:1::/48 (table 254)".to_string(),
            "htb on d0".to_string()
        ]
    );
    assert!(changes.added.is_empty(), "{changes:?}");
    assert!(linux.apply(NS, &less).expect("again").is_empty());
    let shown = ip(&["-n", NS, "-6", "route", "show"]);
    assert!(!shown.contains("fd20::/64"), "{shown}");
    assert!(
        shown.contains("fd99::/64 dev d1 proto static"),
        "not cpn's, kept: {shown}"
    );

    // Errors name the namespace, the object and the cause.
    let mut bad = less.clone();
    bad.routes.insert(
        RouteKey::main(a("fd40::"), 64),
        RouteAction::Dev {
            dev: "nosuch".into(),
        },
    );
    let e = linux
        .apply(NS, &bad)
        .expect_err("no such interface")
        .to_string();
    assert_eq!(
        e,
        "namespace `tlinux_0`: route fd40::/64 (table 254): no interface `nosuch`"
    );
    let mut bad = less.clone();
    bad.routes.insert(
        RouteKey::main(a("fd41::"), 64),
        RouteAction::Via {
            gateway: a("fd77::1"),
            dev: "d0".into(),
        },
    );
    let e = linux
        .apply(NS, &bad)
        .expect_err("gateway off-link")
        .to_string();
    assert!(
        e.starts_with("namespace `tlinux_0`: route fd41::/64 (table 254): add: "),
        "{e}"
    );

    // Everything cpn owns goes with the empty state.
    let gone = linux.apply(NS, &NsState::default()).expect("emptied");
    assert!(!gone.removed.is_empty());
    let read = linux.read(NS).expect("read");
    assert!(
        read.routes.is_empty() && read.addresses.is_empty() && read.shaping.is_empty(),
        "{read:?}"
    );
    ip(&["netns", "del", NS]);
}
