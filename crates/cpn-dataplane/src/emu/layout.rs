//! The emulated network of a scenario, as data: its namespaces, veth pairs, shaping, and
//! the desired state of every namespace. Pure: nothing here touches the machine, so the
//! whole layout is tested without root.
//!
//! Addressing (`docs/dataplane.md`):
//! - router `r`: locator `fcbb:bb00:r::/48` of the SID plan, loopback `fcbb:bb00:r::100`
//!   (the source of the packets it encapsulates);
//! - link `l`: `fd01:0:l::/64`, `::1` at its `a` end and `::2` at its `b` end;
//! - site `j`: `fd02:0:j::/64`, `::1` at the router and `::2` at the site, which answers on
//!   `fcbb:cc00:s::1` of every service `s` it runs and on the raw-demand address;
//! - client of router `r`: `fd03:0:r::/64`, `::1` at the router and `::2` at the client.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use cpn_model::{RouterId, Scenario, SiteId};
use cpn_route::srv6::{RAW_DEMAND_PREFIX, Sid, SidPlan, service_prefix};
use cpn_route::{Graph, Metric, ShortestPaths, UNUSABLE};
use serde::{Deserialize, Serialize};

use crate::error::DataplaneError;
use crate::state::{Address, LocalBehavior, NsState, RouteAction, RouteKey, Shaping};

/// The routing table of site `j`'s End.DT6 at its router: `SITE_TABLE_BASE + j`.
pub const SITE_TABLE_BASE: u32 = 1000;

/// How scenario capacities become link rates: divided by `scale` (so that 100 Gbps links
/// become 100 Mbps with the default of 1000), and never below `MIN_RATE_BPS`.
pub const DEFAULT_SCALE: u64 = 1000;
pub const MIN_RATE_BPS: u64 = 64_000;

/// The MTU of router-to-router links: room for the SRv6 encapsulation of full-size packets
/// from clients and sites (whose links keep 1500), so that no packet needs fragmenting.
pub const CORE_MTU: u32 = 9000;

/// What one namespace is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "role", content = "index")]
pub enum Role {
    Router(u32),
    Site(u32),
    Client(u32),
}

/// One namespace of the emulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub name: String,
    pub role: Role,
    /// The scenario's name of the router or site (a client is named after its router).
    pub label: String,
}

/// One veth pair: `dev_a` in `ns_a`, `dev_b` in `ns_b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Veth {
    pub ns_a: String,
    pub dev_a: String,
    pub ns_b: String,
    pub dev_b: String,
    pub mtu: u32,
    /// The scenario link it stands for, if any (site and client attachments have none).
    pub link: Option<u32>,
}

/// The whole emulated network.
#[derive(Debug, Clone)]
pub struct Layout {
    pub name: String,
    pub scale: u64,
    pub namespaces: Vec<Namespace>,
    pub veths: Vec<Veth>,
    /// The desired state of each namespace, by name.
    pub states: BTreeMap<String, NsState>,
    /// Each router namespace's loopback, the source of what it encapsulates.
    pub loopbacks: BTreeMap<String, Ipv6Addr>,
    pub plan: SidPlan,
    /// The routing graph the routes were computed on (from the scenario, as given).
    pub graph: Graph,
    /// Each arc's interface at its tail router.
    arc_dev: Vec<String>,
}

/// Whether `name` can prefix the emulation's namespaces: 1 to 12 lowercase letters, digits
/// and `-`, starting with a letter. `_` separates the prefix from the rest, so no run's
/// namespaces can be taken for another's.
pub fn check_name(name: &str) -> Result<(), DataplaneError> {
    let ok = (1..=12).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(DataplaneError::Emu {
            name: name.to_string(),
            reason: "a name is 1 to 12 lowercase letters, digits or `-`, starting with a letter"
                .to_string(),
        })
    }
}

pub fn router_ns(name: &str, r: u32) -> String {
    format!("{name}_r{r}")
}

pub fn site_ns(name: &str, j: u32) -> String {
    format!("{name}_s{j}")
}

pub fn client_ns(name: &str, r: u32) -> String {
    format!("{name}_c{r}")
}

fn addr(prefix: [u16; 3], host: u16) -> Ipv6Addr {
    Ipv6Addr::new(prefix[0], prefix[1], prefix[2], 0, 0, 0, 0, host)
}

/// Router `r`'s loopback in its locator.
pub fn loopback(plan: &SidPlan, r: u32) -> Result<Ipv6Addr, DataplaneError> {
    let locator = plan.locator(RouterId(r)).map_err(|e| DataplaneError::Emu {
        name: String::new(),
        reason: e.to_string(),
    })?;
    Ok(Ipv6Addr::from(u128::from(locator.addr()) | 0x100))
}

/// The address of link `l`'s end at router side `b_end` (false: the `a` end).
pub fn link_addr(l: u32, b_end: bool) -> Ipv6Addr {
    addr([0xfd01, 0, l as u16], if b_end { 2 } else { 1 })
}

/// Site `j`'s attachment: `::1` at the router, `::2` at the site.
pub fn site_addr(j: u32, at_site: bool) -> Ipv6Addr {
    addr([0xfd02, 0, j as u16], if at_site { 2 } else { 1 })
}

/// The client of router `r`: `::1` at the router, `::2` at the client.
pub fn client_addr(r: u32, at_client: bool) -> Ipv6Addr {
    addr([0xfd03, 0, r as u16], if at_client { 2 } else { 1 })
}

/// The address a site answers on for a service prefix (its `::1`).
pub fn service_addr(prefix: cpn_route::srv6::Ipv6Prefix) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(prefix.addr()) | 1)
}

/// The interface of router-side adjacency `k` (the `k`-th arc leaving the router, which is
/// also the index of its End.X SID).
pub fn adjacency_dev(k: u32) -> String {
    format!("e{k}")
}

impl Layout {
    /// The emulated network of `scenario` under run prefix `name`, link rates divided by
    /// `scale`, with a client namespace at every router.
    pub fn new(scenario: &Scenario, name: &str, scale: u64) -> Result<Layout, DataplaneError> {
        check_name(name)?;
        let emu = |reason: String| DataplaneError::Emu {
            name: name.to_string(),
            reason,
        };
        if scale == 0 {
            return Err(emu(
                "the scale divides link rates and must be at least 1".into()
            ));
        }
        // Every address field is 16 bits: more would wrap and collide.
        let limit = usize::from(u16::MAX);
        if scenario.links.len() > limit || scenario.sites.len() > limit {
            return Err(emu(format!(
                "at most {limit} links and sites can be addressed ({} links, {} sites)",
                scenario.links.len(),
                scenario.sites.len()
            )));
        }
        let graph = Graph::from_scenario(scenario);
        let plan = SidPlan::new(scenario, &graph, SidPlan::DEFAULT_BLOCK)
            .map_err(|e| emu(e.to_string()))?;
        let n = scenario.routers.len() as u32;

        let mut namespaces = Vec::new();
        let mut states: BTreeMap<String, NsState> = BTreeMap::new();
        for r in &scenario.routers {
            for (ns, role) in [
                (router_ns(name, r.id.0), Role::Router(r.id.0)),
                (client_ns(name, r.id.0), Role::Client(r.id.0)),
            ] {
                namespaces.push(Namespace {
                    name: ns.clone(),
                    role,
                    label: r.name.clone(),
                });
                states.insert(ns, NsState::default());
            }
        }
        for s in &scenario.sites {
            let ns = site_ns(name, s.id.0);
            namespaces.push(Namespace {
                name: ns.clone(),
                role: Role::Site(s.id.0),
                label: s.name.clone(),
            });
            states.insert(ns, NsState::default());
        }

        // Router links: one veth per link, named after each end's adjacency index.
        let mut veths = Vec::new();
        let mut arc_dev = vec![String::new(); graph.arc_count()];
        for r in 0..n {
            for (k, arc) in graph.arcs_from(r).enumerate() {
                arc_dev[arc as usize] = adjacency_dev(k as u32);
            }
        }
        for link in &scenario.links {
            let [ab, ba] = graph.link_arcs(link.id);
            let (a, b) = (link.a.0, link.b.0);
            let (ns_a, ns_b) = (router_ns(name, a), router_ns(name, b));
            let (dev_a, dev_b) = (arc_dev[ab as usize].clone(), arc_dev[ba as usize].clone());
            let rate = (link.bandwidth.0 / scale).max(MIN_RATE_BPS);
            for (ns, dev, b_end) in [(&ns_a, &dev_a, false), (&ns_b, &dev_b, true)] {
                let state = states.entry(ns.clone()).or_default();
                state.addresses.push(Address {
                    dev: dev.clone(),
                    addr: link_addr(link.id.0, b_end),
                    len: 64,
                });
                state.shaping.insert(
                    dev.clone(),
                    Shaping {
                        rate_bps: rate,
                        slices: Vec::new(),
                    },
                );
            }
            veths.push(Veth {
                ns_a,
                dev_a,
                ns_b,
                dev_b,
                mtu: CORE_MTU,
                link: Some(link.id.0),
            });
        }

        // Sites and clients hang off their router.
        for s in &scenario.sites {
            let j = s.id.0;
            let (rns, sns) = (router_ns(name, s.router.0), site_ns(name, j));
            veths.push(Veth {
                ns_a: rns.clone(),
                dev_a: format!("s{j}"),
                ns_b: sns.clone(),
                dev_b: "up".to_string(),
                mtu: 1500,
                link: None,
            });
            let router = states.entry(rns).or_default();
            router.addresses.push(Address {
                dev: format!("s{j}"),
                addr: site_addr(j, false),
                len: 64,
            });
            // The End.DT6 table: every service address goes to the site.
            router.routes.insert(
                RouteKey {
                    table: SITE_TABLE_BASE + j,
                    dst: Ipv6Addr::new(0xfcbb, 0xcc00, 0, 0, 0, 0, 0, 0),
                    len: 32,
                },
                RouteAction::Via {
                    gateway: site_addr(j, true),
                    dev: format!("s{j}"),
                },
            );
            let site = states.entry(sns).or_default();
            site.addresses.push(Address {
                dev: "up".to_string(),
                addr: site_addr(j, true),
                len: 64,
            });
            let mut answers = vec![RAW_DEMAND_PREFIX];
            for service in scenario.services.iter().filter(|v| v.sites.contains(&s.id)) {
                answers.push(service_prefix(service.id).map_err(|e| emu(e.to_string()))?);
            }
            for prefix in answers {
                site.addresses.push(Address {
                    dev: "lo".to_string(),
                    addr: service_addr(prefix),
                    len: 128,
                });
            }
            site.routes.insert(
                RouteKey::main(Ipv6Addr::UNSPECIFIED, 0),
                RouteAction::Via {
                    gateway: site_addr(j, false),
                    dev: "up".to_string(),
                },
            );
        }
        for r in 0..n {
            let (rns, cns) = (router_ns(name, r), client_ns(name, r));
            veths.push(Veth {
                ns_a: rns.clone(),
                dev_a: "c0".to_string(),
                ns_b: cns.clone(),
                dev_b: "up".to_string(),
                mtu: 1500,
                link: None,
            });
            states.entry(rns).or_default().addresses.push(Address {
                dev: "c0".to_string(),
                addr: client_addr(r, false),
                len: 64,
            });
            let client = states.entry(cns).or_default();
            client.addresses.push(Address {
                dev: "up".to_string(),
                addr: client_addr(r, true),
                len: 64,
            });
            client.routes.insert(
                RouteKey::main(Ipv6Addr::UNSPECIFIED, 0),
                RouteAction::Via {
                    gateway: client_addr(r, false),
                    dev: "up".to_string(),
                },
            );
        }

        // Routers: loopback, the SIDs they instantiate, and IGP-equivalent routes along the
        // routing engine's shortest IGP paths to every other router's locator, sites and
        // clients.
        let mut loopbacks = BTreeMap::new();
        let mut sp = ShortestPaths::new();
        for r in 0..n {
            let rns = router_ns(name, r);
            let lo = loopback(&plan, r)?;
            loopbacks.insert(rns.clone(), lo);
            let state = states.entry(rns.clone()).or_default();
            state.addresses.push(Address {
                dev: "lo".to_string(),
                addr: lo,
                len: 128,
            });
            let sids = plan
                .local_sids(RouterId(r))
                .map_err(|e| emu(e.to_string()))?;
            for (sid, function) in sids {
                let behavior = match function {
                    Sid::End(_) => LocalBehavior::End,
                    Sid::EndX(arc) => LocalBehavior::EndX {
                        nh6: far_end(&graph, arc),
                    },
                    Sid::EndDt6(site) => LocalBehavior::EndDt6 {
                        table: SITE_TABLE_BASE + site.0,
                    },
                };
                // Not `lo`: Linux turns a route through the loopback device into a reject
                // route, and the SID would answer "unreachable". End runs on the client
                // interface every router has, End.DT6 on its site's interface.
                let dev = match function {
                    Sid::EndX(arc) => arc_dev[arc as usize].clone(),
                    Sid::End(_) => "c0".to_string(),
                    Sid::EndDt6(site) => format!("s{}", site.0),
                };
                state.routes.insert(
                    RouteKey::main(sid, 128),
                    RouteAction::Seg6Local { behavior, dev },
                );
            }
            sp.run(&graph, r, None, Metric::Igp, |a| {
                graph.weight(a, Metric::Igp) != UNUSABLE
            });
            for t in (0..n).filter(|&t| t != r) {
                let Some(first) = sp.path_to(&graph, t).and_then(|p| p.arcs.first().copied())
                else {
                    continue;
                };
                let via = RouteAction::Via {
                    gateway: far_end(&graph, first),
                    dev: arc_dev[first as usize].clone(),
                };
                let locator = plan.locator(RouterId(t)).map_err(|e| emu(e.to_string()))?;
                state.routes.insert(
                    RouteKey::main(locator.addr(), locator.prefix_len()),
                    via.clone(),
                );
                state
                    .routes
                    .insert(RouteKey::main(client_addr(t, false), 64), via.clone());
                for s in scenario.sites.iter().filter(|s| s.router.0 == t) {
                    state
                        .routes
                        .insert(RouteKey::main(site_addr(s.id.0, false), 64), via.clone());
                }
            }
        }
        // Prefixes are stored as their network address.
        for state in states.values_mut() {
            state.routes = std::mem::take(&mut state.routes)
                .into_iter()
                .map(|(mut k, v)| {
                    k.dst = network(k.dst, k.len);
                    (k, v)
                })
                .collect();
        }
        Ok(Layout {
            name: name.to_string(),
            scale,
            namespaces,
            veths,
            states,
            loopbacks,
            plan,
            graph,
            arc_dev,
        })
    }

    /// The namespace of router `r`.
    pub fn router(&self, r: RouterId) -> String {
        router_ns(&self.name, r.0)
    }

    pub fn site(&self, j: SiteId) -> String {
        site_ns(&self.name, j.0)
    }

    pub fn client(&self, r: RouterId) -> String {
        client_ns(&self.name, r.0)
    }

    /// The interface an arc leaves its tail router by.
    pub fn arc_dev(&self, arc: u32) -> Option<&str> {
        self.arc_dev.get(arc as usize).map(String::as_str)
    }

    /// The hop counters (router namespace, counter name) that SRv6 packets steered over
    /// `arcs` pass, and only those: each arc's `out_` counter at its tail and the `in_`
    /// counter of the same link at its head.
    pub fn hop_counters(&self, arcs: &[u32]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for &arc in arcs {
            if arc as usize >= self.graph.arc_count() {
                continue;
            }
            let [first, second] = self.graph.link_arcs(self.graph.link(arc));
            let back = if first == arc { second } else { first };
            let tail = router_ns(&self.name, self.graph.tail(arc));
            let head = router_ns(&self.name, self.graph.head(arc));
            out.push((tail, format!("out_{}", self.arc_dev[arc as usize])));
            out.push((head, format!("in_{}", self.arc_dev[back as usize])));
        }
        out
    }
}

/// The address of the router at the head of `arc` on that arc's link: the link's first arc
/// runs from its `a` end to its `b` end (a loop's too, so both its ends are told apart).
fn far_end(graph: &Graph, arc: u32) -> Ipv6Addr {
    let link = graph.link(arc);
    link_addr(link.0, graph.link_arcs(link)[0] == arc)
}

/// `addr` with the bits past `len` cleared.
fn network(addr: Ipv6Addr, len: u8) -> Ipv6Addr {
    let mask = match len {
        0 => 0,
        l => u128::MAX << (128 - u32::from(l.min(128))),
    };
    Ipv6Addr::from(u128::from(addr) & mask)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn national() -> Layout {
        let scenario = cpn_model::built_in("national")
            .expect("built in")
            .expect("reads");
        Layout::new(&scenario, "n", DEFAULT_SCALE).expect("a layout")
    }

    #[test]
    fn every_router_reaches_every_locator_client_and_site() {
        let layout = national();
        let n = layout.graph.node_count() as u32;
        for r in 0..n {
            let state = &layout.states[&router_ns("n", r)];
            for t in (0..n).filter(|&t| t != r) {
                let locator = layout.plan.locator(RouterId(t)).expect("locator");
                let key = RouteKey::main(locator.addr(), 48);
                assert!(
                    matches!(state.routes.get(&key), Some(RouteAction::Via { .. })),
                    "router {r} has no route to router {t}'s locator"
                );
                let client = RouteKey::main(network(client_addr(t, false), 64), 64);
                assert!(state.routes.contains_key(&client), "{r} to client {t}");
            }
            // Each SID of the plan is instantiated here, End.X toward the neighbour's own
            // address on the link the interface belongs to.
            for (sid, function) in layout.plan.local_sids(RouterId(r)).expect("sids") {
                let Some(RouteAction::Seg6Local { behavior, dev }) =
                    state.routes.get(&RouteKey::main(sid, 128))
                else {
                    panic!("router {r}: no seg6local route for {sid}");
                };
                if let (Sid::EndX(arc), LocalBehavior::EndX { nh6 }) = (function, behavior) {
                    assert_eq!(layout.arc_dev(arc), Some(dev.as_str()));
                    let head = layout.graph.head(arc);
                    let neighbour = &layout.states[&router_ns("n", head)];
                    let back = layout
                        .graph
                        .link_arcs(layout.graph.link(arc))
                        .into_iter()
                        .find(|&a| a != arc)
                        .expect("two arcs");
                    let far_dev = layout.arc_dev(back).expect("dev");
                    assert!(
                        neighbour
                            .addresses
                            .iter()
                            .any(|a| a.addr == *nh6 && a.dev == far_dev),
                        "End.X {sid}: {nh6} is not the neighbour's address on {far_dev}"
                    );
                }
            }
        }
    }

    #[test]
    fn names_fit_and_addresses_are_unique() {
        let layout = national();
        let mut seen = BTreeSet::new();
        for (ns, state) in &layout.states {
            assert!(ns.len() <= 15, "{ns}");
            for a in &state.addresses {
                assert!(a.dev.len() <= 15, "{}", a.dev);
                // Service addresses are anycast: every site of a service answers on it.
                let anycast = a.addr.segments()[..2] == [0xfcbb, 0xcc00];
                assert!(anycast || seen.insert(a.addr), "{} is used twice", a.addr);
            }
        }
        for v in &layout.veths {
            for dev in [&v.dev_a, &v.dev_b] {
                assert!((1..16).contains(&dev.len()), "{dev}");
            }
        }
        assert_eq!(layout.namespaces.len(), 30 + 30 + 24);
        assert_eq!(layout.veths.len(), 51 + 30 + 24);
    }

    #[test]
    fn bad_names_and_scales_are_refused() {
        let scenario = cpn_model::built_in("national")
            .expect("built in")
            .expect("reads");
        for bad in ["", "A", "a_b", "1a", "abcdefghijklm"] {
            assert!(Layout::new(&scenario, bad, 1).is_err(), "{bad}");
        }
        let e = Layout::new(&scenario, "ok", 0).expect_err("scale 0");
        assert!(e.to_string().contains("scale"), "{e}");
    }
}
