//! The desired state of one namespace, and the difference between two states.
//!
//! A state lists what cpn owns in a namespace: IPv6 addresses on interfaces, routes (plain,
//! `seg6` encapsulation at a headend, `seg6local` behaviours at a SID's router) and the HTB
//! tree of each shaped interface with one class per slice. Applying a state makes the kernel
//! hold exactly that: what is missing is added, what differs is replaced, what cpn owns and
//! is no longer wanted is removed. Objects cpn does not own (the kernel's own connected and
//! link-local routes, link-local addresses) are never touched.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

/// The main routing table.
pub const MAIN_TABLE: u32 = 254;

/// The route protocol number cpn marks its routes with (`proto 201` in `ip route`): what
/// carries it is cpn's to replace or remove, and nothing else is.
pub const RTPROT_CPN: u8 = 201;

/// An IPv6 address with its prefix length on one interface.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Address {
    pub dev: String,
    pub addr: Ipv6Addr,
    pub len: u8,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "address {}/{} on {}", self.addr, self.len, self.dev)
    }
}

/// Where a route lives: its table and destination prefix. A table holds one route per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RouteKey {
    pub table: u32,
    pub dst: Ipv6Addr,
    pub len: u8,
}

impl RouteKey {
    pub fn main(dst: Ipv6Addr, len: u8) -> RouteKey {
        RouteKey {
            table: MAIN_TABLE,
            dst,
            len,
        }
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::error::route_name(self.table, self.dst, self.len))
    }
}

/// How a `seg6` route sends its segment list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Seg6Mode {
    /// A new outer IPv6 header with the SRH; the list must end by decapsulating (End.DT6).
    Encap,
    /// The SRH inserted into the packet, whose destination becomes the last segment.
    Inline,
}

/// The behaviour a `seg6local` route gives its SID (RFC 8986).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "action")]
pub enum LocalBehavior {
    End,
    #[serde(rename = "End.X")]
    EndX {
        nh6: Ipv6Addr,
    },
    #[serde(rename = "End.DT6")]
    EndDt6 {
        table: u32,
    },
}

/// What a route does with the packets it matches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RouteAction {
    /// To a neighbour on an interface.
    Via { gateway: Ipv6Addr, dev: String },
    /// Onto an interface (a directly attached prefix).
    Dev { dev: String },
    /// SRv6 headend: steer with a segment list, first segment first.
    Seg6 {
        mode: Seg6Mode,
        segs: Vec<Ipv6Addr>,
        dev: String,
    },
    /// A local SID.
    Seg6Local {
        behavior: LocalBehavior,
        dev: String,
    },
}

impl RouteAction {
    pub fn dev(&self) -> &str {
        match self {
            RouteAction::Via { dev, .. }
            | RouteAction::Dev { dev }
            | RouteAction::Seg6 { dev, .. }
            | RouteAction::Seg6Local { dev, .. } => dev,
        }
    }
}

/// One HTB class of a shaped interface: a slice's guaranteed rate, the most it may borrow up
/// to, and the DSCP its packets carry (the traffic class the headend copies into the outer
/// header, so transit routers classify encapsulated packets too).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SliceClass {
    /// The class's minor number under the root, 2 to 0xfffe (`1:<minor>`).
    pub minor: u16,
    pub rate_bps: u64,
    pub ceil_bps: u64,
    pub dscp: u8,
}

/// The HTB tree of one interface: a root class at the link's rate, the default class (traffic
/// of no slice) and one class per slice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Shaping {
    pub rate_bps: u64,
    pub slices: Vec<SliceClass>,
}

impl Shaping {
    /// The HTB class minor of traffic that belongs to no slice.
    pub const DEFAULT_MINOR: u16 = 0xffff;
    /// The root class every other class borrows from.
    pub const ROOT_MINOR: u16 = 1;

    /// The guaranteed rate of the default class: what the slices leave, at least 1% of the
    /// link so that unsliced traffic (and neighbour discovery) is never starved.
    pub fn default_rate_bps(&self) -> u64 {
        let sliced: u64 = self.slices.iter().map(|s| s.rate_bps).sum();
        self.rate_bps
            .saturating_sub(sliced)
            .max(self.rate_bps / 100)
            .max(8_000)
    }
}

/// Everything cpn owns in one namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsState {
    pub addresses: Vec<Address>,
    pub routes: BTreeMap<RouteKey, RouteAction>,
    /// Interface name to its HTB tree.
    pub shaping: BTreeMap<String, Shaping>,
}

/// What an apply did: the objects added, replaced and removed, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    pub added: Vec<String>,
    pub replaced: Vec<String>,
    pub removed: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.replaced.is_empty() && self.removed.is_empty()
    }

    pub fn count(&self) -> usize {
        self.added.len() + self.replaced.len() + self.removed.len()
    }

    pub(crate) fn extend(&mut self, other: Changes) {
        self.added.extend(other.added);
        self.replaced.extend(other.replaced);
        self.removed.extend(other.removed);
    }
}

/// The difference between what a namespace holds and what is wanted, for keyed objects.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Diff<K, V> {
    pub add: Vec<(K, V)>,
    pub replace: Vec<(K, V)>,
    pub remove: Vec<(K, V)>,
}

/// Compares `current` with `desired`: what to add, what to replace (same key, other value)
/// and what to remove, each in key order.
pub(crate) fn diff<K: Ord + Clone, V: PartialEq + Clone>(
    current: &BTreeMap<K, V>,
    desired: &BTreeMap<K, V>,
) -> Diff<K, V> {
    let mut d = Diff {
        add: Vec::new(),
        replace: Vec::new(),
        remove: Vec::new(),
    };
    for (k, v) in desired {
        match current.get(k) {
            None => d.add.push((k.clone(), v.clone())),
            Some(have) if have != v => d.replace.push((k.clone(), v.clone())),
            Some(_) => {}
        }
    }
    for (k, v) in current {
        if !desired.contains_key(k) {
            d.remove.push((k.clone(), v.clone()));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_adds_replaces_and_removes() {
        let current = BTreeMap::from([(1, "a"), (2, "b"), (3, "c")]);
        let desired = BTreeMap::from([(2, "b"), (3, "x"), (4, "d")]);
        let d = diff(&current, &desired);
        assert_eq!(d.add, vec![(4, "d")]);
        assert_eq!(d.replace, vec![(3, "x")]);
        assert_eq!(d.remove, vec![(1, "a")]);
        let same = diff(&desired, &desired);
        assert!(same.add.is_empty() && same.replace.is_empty() && same.remove.is_empty());
    }

    #[test]
    fn the_default_class_keeps_a_share() {
        let s = Shaping {
            rate_bps: 100_000_000,
            slices: vec![SliceClass {
                minor: 2,
                rate_bps: 100_000_000,
                ceil_bps: 100_000_000,
                dscp: 8,
            }],
        };
        assert_eq!(s.default_rate_bps(), 1_000_000);
        let none = Shaping {
            rate_bps: 100_000_000,
            slices: vec![],
        };
        assert_eq!(none.default_rate_bps(), 100_000_000);
    }
}
