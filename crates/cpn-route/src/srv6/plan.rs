//! The SID plan: which IPv6 address means which SRv6 behaviour at which router.
//!
//! Router `i` (its index, which is also its graph node) owns the locator made of the block
//! followed by `i` in 16 bits: with the default block `fcbb:bb00::/32`, router 3 owns
//! `fcbb:bb00:3::/48`. The lowest 32 bits of a SID are its function, everything between the
//! locator and the function is zero:
//!
//! | function | behaviour | example (router 3) |
//! |---|---|---|
//! | `0000:0001` | End | `fcbb:bb00:3::1` |
//! | `000e:kkkk` | End.X across the router's `k`-th adjacency | `fcbb:bb00:3::e:2` |
//! | `00d6:jjjj` | End.DT6 into the table of site `j` (attached to this router) | `fcbb:bb00:3::d6:5` |
//!
//! The `k`-th adjacency is the `k`-th arc leaving the router in the graph, which follows the
//! scenario's link order, so the numbering is stable for a given scenario. Every field is
//! 16 bits, so the plan refuses more than 65536 routers, adjacencies per router or sites
//! rather than let two elements share a SID.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use cpn_model::{RouterId, Scenario, SiteId};
use serde::Serialize;

use super::Srv6Error;
use crate::graph::{ArcId, Graph};

const FN_END: u32 = 0x0000_0001;
const FN_END_X: u32 = 0x000e;
const FN_END_DT6: u32 = 0x00d6;
/// Routers, adjacencies and sites are each numbered in a 16-bit field.
const FIELD: usize = 1 << 16;
/// The router field and the 32-bit function must fit below the block.
const MAX_BLOCK_LEN: u8 = 128 - 16 - 32;

/// An IPv6 prefix with no bits set beyond its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Prefix {
    addr: Ipv6Addr,
    len: u8,
}

impl Ipv6Prefix {
    pub fn new(addr: Ipv6Addr, len: u8) -> Result<Ipv6Prefix, Srv6Error> {
        let bad = |reason| Srv6Error::BadPrefix { addr, len, reason };
        if len > 128 {
            return Err(bad("the length is more than 128"));
        }
        if u128::from(addr) & !mask(len) != 0 {
            return Err(bad("bits are set beyond the prefix length"));
        }
        Ok(Ipv6Prefix { addr, len })
    }

    pub fn addr(self) -> Ipv6Addr {
        self.addr
    }

    pub fn prefix_len(self) -> u8 {
        self.len
    }

    pub fn contains(self, addr: Ipv6Addr) -> bool {
        u128::from(addr) & mask(self.len) == u128::from(self.addr)
    }
}

/// The netmask of a prefix length (at most 128).
fn mask(len: u8) -> u128 {
    match len {
        0 => 0,
        l => u128::MAX << (128 - u32::from(l.min(128))),
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Ipv6Prefix {
    type Err = Srv6Error;

    fn from_str(text: &str) -> Result<Ipv6Prefix, Srv6Error> {
        let syntax = || Srv6Error::PrefixSyntax {
            text: text.to_string(),
        };
        let (addr, len) = text.split_once('/').ok_or_else(syntax)?;
        let addr = addr.parse::<Ipv6Addr>().map_err(|_| syntax())?;
        let len = len.parse::<u8>().map_err(|_| syntax())?;
        Ipv6Prefix::new(addr, len)
    }
}

impl Serialize for Ipv6Prefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a SID is in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sid {
    /// The router's node SID: reach it by IGP shortest path, then go on with the next SID.
    End(RouterId),
    /// An adjacency SID: reach the arc's tail by IGP shortest path, then cross the arc.
    EndX(ArcId),
    /// Reach the site's router, decapsulate and look the inner destination up in the site's
    /// table.
    EndDt6(SiteId),
}

impl Sid {
    pub fn behavior(self) -> Behavior {
        match self {
            Sid::End(_) => Behavior::End,
            Sid::EndX(_) => Behavior::EndX,
            Sid::EndDt6(_) => Behavior::EndDt6,
        }
    }
}

/// An SRv6 endpoint behaviour (RFC 8986), named as RFC 8986 and `iproute2` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Behavior {
    #[serde(rename = "End")]
    End,
    #[serde(rename = "End.X")]
    EndX,
    #[serde(rename = "End.DT6")]
    EndDt6,
}

impl Behavior {
    pub fn name(self) -> &'static str {
        match self {
            Behavior::End => "End",
            Behavior::EndX => "End.X",
            Behavior::EndDt6 => "End.DT6",
        }
    }
}

impl fmt::Display for Behavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The SIDs of every router, adjacency and site of a scenario. It keeps a copy of the
/// graph's arc layout and of the names it needs, so that SIDs can be explained (`router`,
/// `link`, `site` by name) without the scenario at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidPlan {
    block: Ipv6Prefix,
    routers: Vec<String>,
    /// Per router, where its arcs start in the graph (one more entry than routers).
    offsets: Vec<u32>,
    arc_head: Vec<u32>,
    arc_link: Vec<u32>,
    links: Vec<String>,
    site_router: Vec<RouterId>,
    sites: Vec<String>,
}

/// The anycast prefix of a CATS service id: `fcbb:cc00:<service>::/48`, one /48 per service
/// out of `fcbb:cc00::/32`. Clients send to it; the headend steers it into a segment list that
/// ends at the chosen site's End.DT6, where the site answers on the same prefix.
/// The prefix steered for a raw demand, which has no service of its own: `fcbb:cc00:ffff::/48`.
pub const RAW_DEMAND_PREFIX: Ipv6Prefix = Ipv6Prefix {
    addr: Ipv6Addr::new(0xfcbb, 0xcc00, 0xffff, 0, 0, 0, 0, 0),
    len: 48,
};

pub fn service_prefix(service: cpn_model::ServiceId) -> Result<Ipv6Prefix, Srv6Error> {
    // 0xffff is the raw-demand prefix; services take the 65535 below it.
    let index = u16::try_from(service.0)
        .ok()
        .filter(|&i| i < 0xffff)
        .ok_or(Srv6Error::TooManyServices(service.0))?;
    Ipv6Prefix::new(Ipv6Addr::new(0xfcbb, 0xcc00, index, 0, 0, 0, 0, 0), 48)
}

impl SidPlan {
    /// `fcbb:bb00::/32`: inside the unique local range `fc00::/7`, and the block the SRv6
    /// compression examples (RFC 9800) use, so addresses look familiar to operators.
    pub const DEFAULT_BLOCK: Ipv6Prefix = Ipv6Prefix {
        addr: Ipv6Addr::new(0xfcbb, 0xbb00, 0, 0, 0, 0, 0, 0),
        len: 32,
    };

    /// The plan of a scenario whose graph is `graph` (from [`Graph::from_scenario`]), with
    /// locators carved out of `block` (at most 80 bits long, so that the 16-bit router
    /// field and the 32-bit function fit below it).
    pub fn new(
        scenario: &Scenario,
        graph: &Graph,
        block: Ipv6Prefix,
    ) -> Result<SidPlan, Srv6Error> {
        if block.len > MAX_BLOCK_LEN {
            return Err(Srv6Error::BadPrefix {
                addr: block.addr,
                len: block.len,
                reason: "a locator block is at most 80 bits long (16 bits of router and 32 of function follow it)",
            });
        }
        if graph.node_count() != scenario.routers.len()
            || graph.link_count() != scenario.links.len()
        {
            return Err(Srv6Error::GraphMismatch {
                graph_nodes: graph.node_count(),
                graph_links: graph.link_count(),
                routers: scenario.routers.len(),
                links: scenario.links.len(),
            });
        }
        if scenario.routers.len() > FIELD {
            return Err(Srv6Error::TooManyRouters {
                routers: scenario.routers.len(),
            });
        }
        if scenario.sites.len() > FIELD {
            return Err(Srv6Error::TooManySites {
                sites: scenario.sites.len(),
            });
        }
        for (v, router) in scenario.routers.iter().enumerate() {
            let adjacencies = graph.arcs_from(v as u32).len();
            if adjacencies > FIELD {
                return Err(Srv6Error::TooManyAdjacencies {
                    router: router.name.clone(),
                    adjacencies,
                });
            }
        }
        let arcs = 0..graph.arc_count() as u32;
        Ok(SidPlan {
            block,
            routers: scenario.routers.iter().map(|r| r.name.clone()).collect(),
            offsets: graph.offsets().to_vec(),
            arc_head: arcs.clone().map(|a| graph.head(a)).collect(),
            arc_link: arcs.map(|a| graph.link(a).0).collect(),
            links: scenario.links.iter().map(|l| l.name.clone()).collect(),
            site_router: scenario.sites.iter().map(|s| s.router).collect(),
            sites: scenario.sites.iter().map(|s| s.name.clone()).collect(),
        })
    }

    pub fn block(&self) -> Ipv6Prefix {
        self.block
    }

    pub fn router_count(&self) -> usize {
        self.routers.len()
    }

    pub fn arc_count(&self) -> usize {
        self.arc_head.len()
    }

    /// The locator of a router: the block followed by the router's index in 16 bits.
    pub fn locator(&self, router: RouterId) -> Result<Ipv6Prefix, Srv6Error> {
        self.check_router(router.0)?;
        Ok(Ipv6Prefix {
            addr: self.encode(router.0, 0),
            len: self.block.len + 16,
        })
    }

    /// The router's End (node) SID.
    pub fn end(&self, router: RouterId) -> Result<Ipv6Addr, Srv6Error> {
        self.check_router(router.0)?;
        Ok(self.encode(router.0, FN_END))
    }

    /// The End.X (adjacency) SID that crosses `arc`, instantiated at the arc's tail.
    pub fn end_x(&self, arc: ArcId) -> Result<Ipv6Addr, Srv6Error> {
        let tail = self.arc_tail(arc).ok_or(Srv6Error::UnknownArc(arc))?;
        let k = arc - self.offsets[tail as usize];
        Ok(self.encode(tail, (FN_END_X << 16) | k))
    }

    /// The End.DT6 SID of a site, instantiated at the site's router.
    pub fn dt6(&self, site: SiteId) -> Result<Ipv6Addr, Srv6Error> {
        let router = self.site_router(site)?;
        Ok(self.encode(router.0, (FN_END_DT6 << 16) | site.0))
    }

    /// The address of a SID.
    pub fn sid(&self, sid: Sid) -> Result<Ipv6Addr, Srv6Error> {
        match sid {
            Sid::End(router) => self.end(router),
            Sid::EndX(arc) => self.end_x(arc),
            Sid::EndDt6(site) => self.dt6(site),
        }
    }

    /// What an address is in the plan, if it is a SID of it.
    pub fn lookup(&self, addr: Ipv6Addr) -> Option<Sid> {
        if !self.block.contains(addr) {
            return None;
        }
        let bits = u128::from(addr);
        let shift = 128 - 16 - u32::from(self.block.len);
        let router = ((bits >> shift) & 0xffff) as u32;
        let between = bits & !(u128::MAX << shift) & !u128::from(u32::MAX);
        if router as usize >= self.routers.len() || between != 0 {
            return None;
        }
        let function = bits as u32;
        let index = function & 0xffff;
        match function >> 16 {
            0 if function == FN_END => Some(Sid::End(RouterId(router))),
            FN_END_X => {
                let arcs = self.arcs_from(router);
                let arc = arcs.start + index;
                arcs.contains(&arc).then_some(Sid::EndX(arc))
            }
            FN_END_DT6 => {
                let site = SiteId(index);
                (self.site_router.get(site.index()) == Some(&RouterId(router)))
                    .then_some(Sid::EndDt6(site))
            }
            _ => None,
        }
    }

    /// The router that instantiates a SID (where its behaviour runs).
    pub fn router_of(&self, sid: Sid) -> Result<RouterId, Srv6Error> {
        match sid {
            Sid::End(router) => self.check_router(router.0).map(|()| router),
            Sid::EndX(arc) => self
                .arc_tail(arc)
                .map(RouterId)
                .ok_or(Srv6Error::UnknownArc(arc)),
            Sid::EndDt6(site) => self.site_router(site),
        }
    }

    /// Every SID a router instantiates: its End, an End.X per adjacency in adjacency order,
    /// an End.DT6 per attached site in site order.
    pub fn local_sids(&self, router: RouterId) -> Result<Vec<(Ipv6Addr, Sid)>, Srv6Error> {
        let mut sids = vec![(self.end(router)?, Sid::End(router))];
        for arc in self.arcs_from(router.0) {
            sids.push((self.end_x(arc)?, Sid::EndX(arc)));
        }
        for (j, &r) in self.site_router.iter().enumerate() {
            if r == router {
                let site = SiteId(j as u32);
                sids.push((self.dt6(site)?, Sid::EndDt6(site)));
            }
        }
        Ok(sids)
    }

    pub fn router_name(&self, router: RouterId) -> Option<&str> {
        self.routers.get(router.index()).map(String::as_str)
    }

    pub fn site_name(&self, site: SiteId) -> Option<&str> {
        self.sites.get(site.index()).map(String::as_str)
    }

    /// The router a site is attached to.
    pub fn site_router(&self, site: SiteId) -> Result<RouterId, Srv6Error> {
        self.site_router
            .get(site.index())
            .copied()
            .ok_or(Srv6Error::UnknownSite(site.0))
    }

    /// The name of the link an arc belongs to.
    pub fn link_name(&self, arc: ArcId) -> Option<&str> {
        let link = *self.arc_link.get(arc as usize)?;
        self.links.get(link as usize).map(String::as_str)
    }

    /// The node an arc leads to.
    pub fn arc_head(&self, arc: ArcId) -> Option<u32> {
        self.arc_head.get(arc as usize).copied()
    }

    /// The node an arc leaves, found from the offsets (the plan keeps no tail array).
    pub fn arc_tail(&self, arc: ArcId) -> Option<u32> {
        if arc as usize >= self.arc_head.len() {
            return None;
        }
        // The last router whose arcs start at or before `arc`: routers without arcs share
        // their start with the next router, and the partition point skips past them.
        let after = self.offsets.partition_point(|&start| start <= arc);
        Some(after as u32 - 1)
    }

    /// The name of a node for messages, its index when the plan does not know it.
    pub(crate) fn name_of(&self, node: u32) -> String {
        self.router_name(RouterId(node))
            .map_or_else(|| format!("#{node}"), str::to_string)
    }

    /// Whether the plan was made for a graph with this shape.
    pub(crate) fn check_graph(&self, g: &Graph) -> Result<(), Srv6Error> {
        if g.node_count() == self.routers.len() && g.arc_count() == self.arc_head.len() {
            Ok(())
        } else {
            Err(Srv6Error::PlanMismatch {
                plan_nodes: self.routers.len(),
                plan_arcs: self.arc_head.len(),
                graph_nodes: g.node_count(),
                graph_arcs: g.arc_count(),
            })
        }
    }

    fn arcs_from(&self, router: u32) -> std::ops::Range<ArcId> {
        let r = router as usize;
        match (self.offsets.get(r), self.offsets.get(r + 1)) {
            (Some(&start), Some(&end)) => start..end,
            _ => 0..0,
        }
    }

    fn check_router(&self, router: u32) -> Result<(), Srv6Error> {
        if (router as usize) < self.routers.len() {
            Ok(())
        } else {
            Err(Srv6Error::UnknownRouter(router))
        }
    }

    /// The address of `function` at `router`; the router was checked to fit 16 bits when the
    /// plan was made.
    fn encode(&self, router: u32, function: u32) -> Ipv6Addr {
        let shift = 128 - 16 - u32::from(self.block.len);
        let bits = u128::from(self.block.addr)
            | (u128::from(router & 0xffff) << shift)
            | u128::from(function);
        Ipv6Addr::from(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_check_and_print() {
        let p: Ipv6Prefix = "2001:db8::/32".parse().expect("valid");
        assert_eq!(p.to_string(), "2001:db8::/32");
        assert!(p.contains("2001:db8:ffff::1".parse().expect("valid")));
        assert!(!p.contains("2001:db9::".parse().expect("valid")));
        assert!("2001:db8::1/32".parse::<Ipv6Prefix>().is_err());
        assert!("2001:db8::/129".parse::<Ipv6Prefix>().is_err());
        assert!("2001:db8::".parse::<Ipv6Prefix>().is_err());
        assert_eq!(
            "::/0".parse::<Ipv6Prefix>().map(Ipv6Prefix::prefix_len),
            Ok(0)
        );
        assert_eq!(SidPlan::DEFAULT_BLOCK.to_string(), "fcbb:bb00::/32");
    }
}
