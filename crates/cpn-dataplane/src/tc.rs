//! HTB trees through `tc` (iproute2): the netlink crates have no typed HTB, and only the
//! `u32` classifier is sure to be in a kernel (this one has no `flower`).
//!
//! Each shaped interface gets root qdisc `1: htb default ffff`, root class `1:1` at the link's
//! rate, class `1:ffff` for traffic of no slice and class `1:<minor>` per slice, which may
//! borrow up to its ceiling. A `u32` filter of preference `<minor>` sends IPv6 packets whose
//! DSCP is the slice's to its class; it matches the outer header, whose traffic class the
//! headend copies from the packet it encapsulates. `tc -j` prints no JSON for HTB classes in
//! iproute2 6.1, so the text is read, and desired rates are written the way `tc` prints them
//! to compare exactly.

use std::collections::BTreeMap;

use crate::command::run;
use crate::error::DataplaneError;
use crate::state::{Changes, Shaping, diff};

/// What the kernel holds on one interface, in the words `tc` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tree {
    /// Whether the root qdisc is cpn's `htb 1:` with default class `ffff`.
    pub root: bool,
    /// Class minor to (parent, rate, ceil).
    pub classes: BTreeMap<u16, (String, String, String)>,
    /// Filter preference to (flow id, match).
    pub filters: BTreeMap<u32, (String, String)>,
}

/// The largest frame an emulated link carries, for HTB's burst and quantum.
const MTU: u64 = 9000;

/// The tree `shaping` stands for.
pub(crate) fn desired(shaping: &Shaping) -> Tree {
    let link = rate_text(shaping.rate_bps);
    let mut classes = BTreeMap::new();
    classes.insert(
        Shaping::ROOT_MINOR,
        ("root".to_string(), link.clone(), link.clone()),
    );
    classes.insert(
        Shaping::DEFAULT_MINOR,
        (
            "1:1".to_string(),
            rate_text(shaping.default_rate_bps()),
            link.clone(),
        ),
    );
    let mut filters = BTreeMap::new();
    for s in &shaping.slices {
        classes.insert(
            s.minor,
            (
                "1:1".to_string(),
                rate_text(s.rate_bps),
                rate_text(s.ceil_bps.min(shaping.rate_bps)),
            ),
        );
        filters.insert(
            u32::from(s.minor),
            (format!("1:{:x}", s.minor), dscp_match(s.dscp)),
        );
    }
    Tree {
        root: true,
        classes,
        filters,
    }
}

/// How `tc` prints the u32 match of `ip6 priority <dscp << 2> 0xfc`: the traffic class sits
/// in bits 20 to 27 of the header's first word.
fn dscp_match(dscp: u8) -> String {
    format!("{:08x}/0fc00000 at 0", u32::from(dscp & 0x3f) << 22)
}

/// A rate as `tc` prints it (iproute2 `print_rate`): the kernel keeps bytes per second, and
/// the bits are divided by 1000 while they divide evenly or are at least a million.
pub(crate) fn rate_text(bps: u64) -> String {
    let mut rate = (bps / 8) << 3;
    let units = ["", "K", "M", "G", "T"];
    let mut i = 0;
    while i < units.len() - 1 {
        if rate < 1000 || (!rate.is_multiple_of(1000) && rate < 1_000_000) {
            break;
        }
        rate /= 1000;
        i += 1;
    }
    format!("{rate}{}bit", units[i])
}

/// Reads the trees of every interface with cpn's root qdisc, and of `devs`.
pub(crate) fn read_all(ns: &str, devs: &[&str]) -> Result<BTreeMap<String, Tree>, DataplaneError> {
    let qdiscs = run(ns, "qdiscs", "tc", &["-n", ns, "qdisc", "show"], None)?;
    let mut trees = BTreeMap::new();
    for line in qdiscs.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        // qdisc htb 1: dev e0 root refcnt 2 r2q 10 default 0xffff ...
        if words.len() > 5 && words[1] == "htb" && words[2] == "1:" && words[5] == "root" {
            let default = words.windows(2).find(|w| w[0] == "default").map(|w| w[1]);
            let dev = words[4].to_string();
            let tree = Tree {
                root: matches!(default, Some("0xffff") | Some("ffff")),
                ..Tree::default()
            };
            trees.insert(dev, tree);
        }
    }
    let wanted: Vec<String> = devs.iter().map(|d| d.to_string()).collect();
    for dev in trees.keys().cloned().chain(wanted).collect::<Vec<_>>() {
        let tree = trees.entry(dev.clone()).or_default();
        if tree.root {
            read_tree(ns, &dev, tree)?;
        }
    }
    Ok(trees)
}

fn read_tree(ns: &str, dev: &str, tree: &mut Tree) -> Result<(), DataplaneError> {
    let object = format!("htb on {dev}");
    let classes = run(
        ns,
        &object,
        "tc",
        &["-n", ns, "class", "show", "dev", dev],
        None,
    )?;
    for line in classes.lines() {
        // class htb 1:2 parent 1:1 prio 0 rate 30Mbit ceil 40Mbit burst ...
        // class htb 1:1 root rate 40Mbit ceil 40Mbit burst ...
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 3 || words[1] != "htb" {
            continue;
        }
        let Some(minor) = words[2]
            .strip_prefix("1:")
            .and_then(|m| u16::from_str_radix(m, 16).ok())
        else {
            continue;
        };
        let after = |key: &str| {
            words
                .windows(2)
                .find(|w| w[0] == key)
                .map_or(String::new(), |w| w[1].to_string())
        };
        let parent = if words.get(3) == Some(&"root") {
            "root".to_string()
        } else {
            after("parent")
        };
        tree.classes
            .insert(minor, (parent, after("rate"), after("ceil")));
    }
    let filters = run(
        ns,
        &object,
        "tc",
        &["-n", ns, "filter", "show", "dev", dev],
        None,
    )?;
    let mut current: Option<(u32, String)> = None;
    for line in filters.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"filter") {
            let pref = words
                .windows(2)
                .find(|w| w[0] == "pref")
                .and_then(|w| w[1].parse::<u32>().ok());
            let flowid = words
                .windows(2)
                .find(|w| w[0].trim_start_matches('*') == "flowid" || w[0] == "classid")
                .map(|w| w[1].to_string());
            if let Some(pref) = pref {
                tree.filters.entry(pref).or_default();
                if let Some(flowid) = flowid {
                    current = Some((pref, flowid));
                }
            }
        } else if words.first() == Some(&"match")
            && let Some((pref, flowid)) = current.take()
        {
            tree.filters.insert(pref, (flowid, words[1..].join(" ")));
        }
    }
    Ok(())
}

/// Makes `dev` hold `want` (or no cpn tree, for `None`), given what it holds; the `tc`
/// commands run as one batch.
pub(crate) fn apply(
    ns: &str,
    dev: &str,
    have: &Tree,
    want: Option<(&Shaping, &Tree)>,
) -> Result<Changes, DataplaneError> {
    let mut changes = Changes::default();
    let object = format!("htb on {dev}");
    let Some((shaping, want)) = want else {
        if have.root {
            run(
                ns,
                &object,
                "tc",
                &["-n", ns, "qdisc", "del", "dev", dev, "root"],
                None,
            )?;
            changes.removed.push(object);
        }
        return Ok(changes);
    };
    if have == want {
        return Ok(changes);
    }
    let mut batch = Vec::new();
    if !have.root {
        batch.push(format!(
            "qdisc replace dev {dev} root handle 1: htb default ffff"
        ));
        changes.added.push(object.clone());
    }
    let have_classes = if have.root {
        have.classes.clone()
    } else {
        BTreeMap::new()
    };
    let have_filters = if have.root {
        have.filters.clone()
    } else {
        BTreeMap::new()
    };
    let filters = diff(&have_filters, &want.filters);
    for (pref, _) in filters.remove.iter().chain(&filters.replace) {
        batch.push(format!("filter del dev {dev} parent 1: pref {pref}"));
    }
    let classes = diff(&have_classes, &want.classes);
    let burst = format!("burst {} cburst {}", 2 * MTU, 2 * MTU);
    for (minor, _) in classes.add.iter().chain(&classes.replace) {
        let (parent, rate, ceil) = class_rates(shaping, *minor);
        // Classes borrow spare rate in proportion to their quanta: a quantum proportional
        // to the guaranteed rate (HTB's own `rate / r2q`, with r2q 100) shares it by rate,
        // within a frame and HTB's 200000-byte bound.
        let quantum = (rate / 8 / 100).clamp(MTU + 100, 200_000);
        batch.push(format!(
            "class replace dev {dev} parent {parent} classid 1:{minor:x} htb rate {rate}bit ceil {ceil}bit {burst} quantum {quantum}"
        ));
    }
    for (minor, _) in &classes.remove {
        batch.push(format!("class del dev {dev} classid 1:{minor:x}"));
    }
    for s in &shaping.slices {
        let pref = u32::from(s.minor);
        if filters
            .add
            .iter()
            .chain(&filters.replace)
            .any(|(p, _)| *p == pref)
        {
            batch.push(format!(
                "filter add dev {dev} parent 1: protocol ipv6 pref {pref} u32 match ip6 priority 0x{:02x} 0xfc flowid 1:{:x}",
                u32::from(s.dscp & 0x3f) << 2,
                s.minor
            ));
        }
    }
    let mut input = batch.join("\n");
    input.push('\n');
    run(ns, &object, "tc", &["-n", ns, "-batch", "-"], Some(&input))?;
    if have.root {
        changes.replaced.push(object);
    }
    Ok(changes)
}

/// The parent, rate and ceiling (bit/s) of class `minor` of `shaping`.
fn class_rates(shaping: &Shaping, minor: u16) -> (&'static str, u64, u64) {
    let bits = |b: u64| (b / 8) * 8;
    match minor {
        Shaping::ROOT_MINOR => ("1:", bits(shaping.rate_bps), bits(shaping.rate_bps)),
        Shaping::DEFAULT_MINOR => (
            "1:1",
            bits(shaping.default_rate_bps()),
            bits(shaping.rate_bps),
        ),
        _ => {
            let s = shaping.slices.iter().find(|s| s.minor == minor);
            let rate = s.map_or(0, |s| s.rate_bps);
            let ceil = s.map_or(0, |s| s.ceil_bps.min(shaping.rate_bps));
            ("1:1", bits(rate), bits(ceil))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_print_as_tc_prints_them() {
        assert_eq!(rate_text(40_000_000), "40Mbit");
        assert_eq!(rate_text(1_500_000_000), "1500Mbit");
        assert_eq!(rate_text(33_333_336), "33333Kbit");
        assert_eq!(rate_text(8_000), "8Kbit");
        assert_eq!(rate_text(999), "992bit");
        assert_eq!(rate_text(100_000_000_000), "100Gbit");
    }

    #[test]
    fn dscp_matches_print_as_tc_prints_them() {
        // `match ip6 priority 0x20 0xfc` prints as `match 02000000/0fc00000 at 0`.
        assert_eq!(dscp_match(8), "02000000/0fc00000 at 0");
        assert_eq!(dscp_match(46), "0b800000/0fc00000 at 0");
    }
}
