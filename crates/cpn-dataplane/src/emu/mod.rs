//! The emulated network: a scenario brought up as network namespaces on this machine, and
//! torn down again without a trace.
//!
//! [`up`] creates one namespace per router, site and client (named `<name>_r<i>`,
//! `<name>_s<j>`, `<name>_c<i>`), a veth pair per link shaped with HTB to the scenario's
//! bandwidth divided by a scale, the SID plan's `seg6local` routes, IGP-equivalent static
//! routes along the routing engine's shortest paths, forwarding and SRv6 enabled, and per
//! interface nftables counters of SRv6 packets on every router. A state file records what
//! was made before anything is made. [`down`] removes every namespace with the run's prefix,
//! whatever the state file says, so a failed or half-done [`up`] is cleaned up too; the
//! veths and nftables tables live inside the namespaces and go with them.

mod layout;

pub use layout::{
    CORE_MTU, DEFAULT_SCALE, Layout, MIN_RATE_BPS, Namespace, Role, SITE_TABLE_BASE, Veth,
    adjacency_dev, check_name, client_addr, client_ns, link_addr, loopback, router_ns,
    service_addr, site_addr, site_ns,
};

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cpn_model::Scenario;
use nix::sched::{CloneFlags, setns};
use serde::{Deserialize, Serialize};

use crate::command::run;
use crate::error::DataplaneError;
use crate::netlink::netns_path;
use crate::{Dataplane, Linux};

/// Where state files are kept by default.
pub const STATE_DIR: &str = "/run/cpn-emu";

/// The nftables table of hop counters on every router.
pub const COUNTER_TABLE: &str = "cpn";

/// The chain of that table where a headend colours its client traffic.
pub const MARK_CHAIN: &str = "colour";

/// What a state file records: enough to find and remove everything, and to program the
/// emulation later (the controller's data plane reads it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateFile {
    pub name: String,
    pub scenario: String,
    pub scale: u64,
    pub namespaces: Vec<Namespace>,
    pub veths: Vec<Veth>,
    /// Whether bring-up finished.
    pub complete: bool,
}

/// What a bring-up made and how long it took.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub name: String,
    pub namespaces: usize,
    pub veths: usize,
    pub routes: usize,
    pub addresses: usize,
    pub seconds: f64,
}

pub fn state_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

/// Brings `scenario` up as emulation `name`. On failure what was made stays for [`down`] to
/// remove (the error says so); nothing is made when the name is already in use.
pub fn up(
    scenario: &Scenario,
    name: &str,
    scale: u64,
    state_dir: &Path,
) -> Result<(Layout, UpReport), DataplaneError> {
    let started = Instant::now();
    let layout = Layout::new(scenario, name, scale)?;
    let existing = namespaces_of(name)?;
    if !existing.is_empty() {
        return Err(DataplaneError::Emu {
            name: name.to_string(),
            reason: format!(
                "already up ({} namespaces, such as `{}`): run `cpn emu down --name {name}` first",
                existing.len(),
                existing[0]
            ),
        });
    }
    let mut record = StateFile {
        name: name.to_string(),
        scenario: scenario.name.clone(),
        scale,
        namespaces: layout.namespaces.clone(),
        veths: layout.veths.clone(),
        complete: false,
    };
    write_state(state_dir, &record)?;
    build(&layout).map_err(|e| DataplaneError::Emu {
        name: name.to_string(),
        reason: format!("bring-up failed, `cpn emu down --name {name}` removes what was made: {e}"),
    })?;
    record.complete = true;
    write_state(state_dir, &record)?;
    let report = UpReport {
        name: name.to_string(),
        namespaces: layout.namespaces.len(),
        veths: layout.veths.len(),
        routes: layout.states.values().map(|s| s.routes.len()).sum(),
        addresses: layout.states.values().map(|s| s.addresses.len()).sum(),
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((layout, report))
}

fn build(layout: &Layout) -> Result<(), DataplaneError> {
    let root = "(root)";
    let mut batch: String = layout
        .namespaces
        .iter()
        .map(|n| format!("netns add {}\n", n.name))
        .collect();
    run(root, "namespaces", "ip", &["-batch", "-"], Some(&batch))?;

    parallel(&layout.namespaces, |n| sysctls(&n.name, n.role))?;

    batch = layout
        .veths
        .iter()
        .map(|v| {
            format!(
                "link add name {} netns {} mtu {} type veth peer name {} netns {} mtu {}\n",
                v.dev_a, v.ns_a, v.mtu, v.dev_b, v.ns_b, v.mtu
            )
        })
        .collect();
    run(root, "veth pairs", "ip", &["-batch", "-"], Some(&batch))?;

    let mut devs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for v in &layout.veths {
        devs.entry(&v.ns_a).or_default().push(&v.dev_a);
        devs.entry(&v.ns_b).or_default().push(&v.dev_b);
    }
    parallel(&layout.namespaces, |n| {
        let mut batch = String::from("link set dev lo up\n");
        for dev in devs.get(n.name.as_str()).into_iter().flatten() {
            batch.push_str(&format!("link set dev {dev} up\n"));
        }
        if let Some(lo) = layout.loopbacks.get(&n.name) {
            batch.push_str(&format!("sr tunsrc set {lo}\n"));
        }
        run(
            &n.name,
            "interfaces",
            "ip",
            &["-n", &n.name, "-batch", "-"],
            Some(&batch),
        )?;
        if let Some(state) = layout.states.get(&n.name) {
            Linux.apply(&n.name, state)?;
        }
        if let Role::Router(_) = n.role {
            let devs: Vec<&str> = devs.get(n.name.as_str()).cloned().unwrap_or_default();
            install_counters(&n.name, &devs)?;
        }
        Ok(())
    })?;
    // Up means ready: every interface carries packets (see `Netlink::not_up`).
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    parallel(&layout.namespaces, |n| {
        let mut nl = crate::netlink::Netlink::open(&n.name)?;
        loop {
            let waiting = nl.not_up()?;
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(DataplaneError::invalid(
                    &n.name,
                    "interfaces",
                    format!("not up 5 s after they were set up: {}", waiting.join(", ")),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    })
}

/// Runs `f` on every item, on a few threads (namespaces are independent).
fn parallel<T: Sync>(
    items: &[T],
    f: impl Fn(&T) -> Result<(), DataplaneError> + Sync,
) -> Result<(), DataplaneError> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    let chunk = items.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().try_for_each(&f)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DataplaneError::Emu {
                        name: String::new(),
                        reason: "a bring-up thread stopped".to_string(),
                    })
                })
            })
            .collect::<Result<Vec<()>, _>>()
    })
    .map(drop)
}

/// Runs `f` on a thread inside namespace `ns`: files under `/proc/sys/net` it opens and
/// processes it starts belong to that namespace.
pub fn in_netns<T: Send>(
    ns: &str,
    f: impl FnOnce() -> Result<T, DataplaneError> + Send,
) -> Result<T, DataplaneError> {
    let file = File::open(netns_path(ns)).map_err(|e| DataplaneError::Namespace {
        ns: ns.to_string(),
        reason: e.to_string(),
    })?;
    std::thread::scope(|s| {
        s.spawn(|| {
            setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| DataplaneError::Namespace {
                ns: ns.to_string(),
                reason: format!("setns: {e}"),
            })?;
            f()
        })
        .join()
        .unwrap_or_else(|_| {
            Err(DataplaneError::Namespace {
                ns: ns.to_string(),
                reason: "the thread inside it stopped".to_string(),
            })
        })
    })
}

/// Forwarding and SRv6 on routers (on `default` too, so the veths made next inherit it);
/// `seg6_flowlabel = 0` copies the flow label of a packet into its encapsulation, which
/// in-flow telemetry marks (RFC 9341); no duplicate address detection on point-to-point links.
fn sysctls(ns: &str, role: Role) -> Result<(), DataplaneError> {
    let router = matches!(role, Role::Router(_));
    let mut settings = vec![
        ("net/ipv6/conf/all/accept_dad", "0"),
        ("net/ipv6/conf/default/accept_dad", "0"),
    ];
    if router {
        settings.extend([
            ("net/ipv6/conf/all/forwarding", "1"),
            ("net/ipv6/conf/default/forwarding", "1"),
            ("net/ipv6/conf/all/seg6_enabled", "1"),
            ("net/ipv6/conf/default/seg6_enabled", "1"),
            ("net/ipv6/seg6_flowlabel", "0"),
        ]);
    }
    in_netns(ns, || {
        for (key, value) in &settings {
            std::fs::write(format!("/proc/sys/{key}"), value).map_err(|e| {
                DataplaneError::invalid(ns, format!("sysctl {}", key.replace('/', ".")), e)
            })?;
        }
        Ok(())
    })
}

/// Named counters of SRv6 packets (IPv6 routing header type 4) entering (`in_<dev>`, at
/// prerouting) and leaving (`out_<dev>`, at postrouting, after a headend's encapsulation)
/// each of the router's interfaces, and the same per colour of the alternate marking
/// (`in_<dev>_c0`, `in_<dev>_c1`: the flow label's lowest bit, RFC 9341). Chain `colour`, empty
/// until telemetry colours a headend's client traffic ([`crate::ifit`]), runs before them.
fn install_counters(ns: &str, devs: &[&str]) -> Result<(), DataplaneError> {
    let mut script = format!("table ip6 {COUNTER_TABLE} {{\n");
    for dev in devs {
        for dir in ["in", "out"] {
            script.push_str(&format!(
                "  counter {dir}_{dev} {{ }}\n  counter {dir}_{dev}_c0 {{ }}\n  counter {dir}_{dev}_c1 {{ }}\n"
            ));
        }
    }
    script.push_str(&format!(
        "  chain {MARK_CHAIN} {{\n    type filter hook prerouting priority -350; policy accept;\n  }}\n"
    ));
    let rules = |dir: &str, dev: &str, test: &str| {
        let mut r = format!("    {test} \"{dev}\" rt type 4 counter name \"{dir}_{dev}\"\n");
        for c in 0..2 {
            r.push_str(&format!(
                "    {test} \"{dev}\" rt type 4 ip6 flowlabel & 0x1 == {c} counter name \"{dir}_{dev}_c{c}\"\n"
            ));
        }
        r
    };
    script
        .push_str("  chain pre {\n    type filter hook prerouting priority -300; policy accept;\n");
    for dev in devs {
        script.push_str(&rules("in", dev, "iifname"));
    }
    script.push_str(
        "  }\n  chain post {\n    type filter hook postrouting priority 300; policy accept;\n",
    );
    for dev in devs {
        script.push_str(&rules("out", dev, "oifname"));
    }
    script.push_str("  }\n}\n");
    in_netns(ns, || {
        run(ns, "hop counters", "nft", &["-f", "-"], Some(&script))
    })
    .map(drop)
}

/// The hop counters of router namespace `ns`: counter name (`in_e0`, `out_s3`) to packets.
pub fn counters(ns: &str) -> Result<BTreeMap<String, u64>, DataplaneError> {
    let args = ["-j", "list", "counters", "table", "ip6", COUNTER_TABLE];
    let text = in_netns(ns, || run(ns, "hop counters", "nft", &args, None))?;
    let bad = |reason: String| DataplaneError::Output {
        ns: ns.to_string(),
        command: format!("nft {}", args.join(" ")),
        reason,
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let items = json
        .get("nftables")
        .and_then(|v| v.as_array())
        .ok_or_else(|| bad("no `nftables` array".to_string()))?;
    let mut out = BTreeMap::new();
    for item in items {
        if let Some(c) = item.get("counter") {
            let name = c.get("name").and_then(|v| v.as_str());
            let packets = c.get("packets").and_then(|v| v.as_u64());
            match (name, packets) {
                (Some(name), Some(packets)) => out.insert(name.to_string(), packets),
                _ => return Err(bad(format!("a counter without name or packets: {c}"))),
            };
        }
    }
    Ok(out)
}

/// The namespaces whose names carry the run prefix `name_`.
pub fn namespaces_of(name: &str) -> Result<Vec<String>, DataplaneError> {
    let prefix = format!("{name}_");
    let mut out = Vec::new();
    let dir = match std::fs::read_dir("/run/netns") {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(DataplaneError::File {
                path: "/run/netns".to_string(),
                reason: e.to_string(),
            });
        }
    };
    for entry in dir.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with(&prefix) {
            out.push(file);
        }
    }
    out.sort();
    Ok(out)
}

/// What is left of emulation `name` on the machine: its namespaces, and any interface or
/// nftables table of the root namespace that carries its prefix (none is ever made there;
/// this is the check that it stays so).
pub fn leftovers(name: &str) -> Result<Vec<String>, DataplaneError> {
    let prefix = format!("{name}_");
    let mut left: Vec<String> = namespaces_of(name)?
        .into_iter()
        .map(|n| format!("namespace {n}"))
        .collect();
    let links = run("(root)", "interfaces", "ip", &["-o", "link", "show"], None)?;
    for line in links.lines() {
        if let Some(dev) = line.split(": ").nth(1)
            && dev
                .split('@')
                .next()
                .is_some_and(|d| d.starts_with(&prefix))
        {
            left.push(format!("interface {dev}"));
        }
    }
    let tables = run("(root)", "nftables", "nft", &["list", "tables"], None)?;
    for line in tables.lines() {
        if line
            .split_whitespace()
            .last()
            .is_some_and(|t| t.starts_with(&prefix))
        {
            left.push(format!("nftables {line}"));
        }
    }
    Ok(left)
}

/// Removes emulation `name`: every namespace with its prefix (with their veths and
/// nftables tables) and its state file. Returns the namespaces removed.
pub fn down(name: &str, state_dir: &Path) -> Result<Vec<String>, DataplaneError> {
    check_name(name)?;
    let mut namespaces = namespaces_of(name)?;
    let path = state_path(state_dir, name);
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(record) = serde_json::from_str::<StateFile>(&text)
    {
        for n in record.namespaces {
            if Path::new(&netns_path(&n.name)).exists() && !namespaces.contains(&n.name) {
                namespaces.push(n.name);
            }
        }
    }
    if !namespaces.is_empty() {
        let batch: String = namespaces
            .iter()
            .map(|n| format!("netns del {n}\n"))
            .collect();
        run(
            "(root)",
            "namespaces",
            "ip",
            &["-force", "-batch", "-"],
            Some(&batch),
        )?;
    }
    let still = namespaces_of(name)?;
    if !still.is_empty() {
        return Err(DataplaneError::Emu {
            name: name.to_string(),
            reason: format!(
                "{} namespaces could not be removed: {}",
                still.len(),
                still.join(", ")
            ),
        });
    }
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(DataplaneError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            });
        }
    }
    Ok(namespaces)
}

fn write_state(dir: &Path, record: &StateFile) -> Result<(), DataplaneError> {
    let path = state_path(dir, &record.name);
    let fail = |reason: String| DataplaneError::File {
        path: path.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let text = serde_json::to_string_pretty(record).map_err(|e| fail(e.to_string()))?;
    std::fs::write(&path, text).map_err(|e| fail(e.to_string()))
}

/// Reads the state file of emulation `name`.
pub fn read_state(dir: &Path, name: &str) -> Result<StateFile, DataplaneError> {
    let path = state_path(dir, name);
    let fail = |reason: String| DataplaneError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| fail(e.to_string()))
}
