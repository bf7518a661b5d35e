//! The controller's steering orders applied to the emulated network.
//!
//! [`Steering`] keeps the flows the controller steers (by reservation) and derives from them
//! the desired state of every router: the emulation's own state, plus at each headend a
//! `seg6` route of the flow's service prefix into the loose segment list of its path (ending
//! at the site's End.DT6), plus on every interface the path leaves by an HTB class for the
//! flow's slice. A release removes the flow, and the next apply removes what only it needed.
//! When two live flows of one headend steer the same prefix, the later reservation's path
//! is the one programmed (a headend route matches a destination, not a reservation).

use std::collections::{BTreeMap, BTreeSet};

use cpn_model::{RouterId, Scenario, ServiceId, SiteId, SliceId};
use cpn_route::Path;
use cpn_route::srv6::{Ipv6Prefix, Mode, RAW_DEMAND_PREFIX, compile, service_prefix};

use crate::Dataplane;
use crate::emu::{Layout, MIN_RATE_BPS, router_ns};
use crate::error::DataplaneError;
use crate::state::{Changes, NsState, RouteAction, RouteKey, Seg6Mode, SliceClass};

/// The deepest segment list a headend is given.
pub const MAX_SID_DEPTH: usize = 16;

/// Slices are told apart by DSCP, 1 to 63: slice `i` marks DSCP `i + 1`.
pub const MAX_SLICES: u32 = 63;

/// The DSCP of slice `slice`'s traffic, which its HTB filters match.
pub fn slice_dscp(slice: SliceId) -> Option<u8> {
    (slice.0 < MAX_SLICES).then(|| slice.0 as u8 + 1)
}

/// One steered flow: a reservation's path from its ingress router to its site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub ingress: RouterId,
    pub site: SiteId,
    /// Arcs of the routing graph, first hop first.
    pub arcs: Vec<u32>,
    pub service: Option<ServiceId>,
    pub slice: Option<SliceId>,
}

/// A flow checked and compiled: what its headend and links get.
#[derive(Debug, Clone)]
struct Programmed {
    flow: Flow,
    prefix: Ipv6Prefix,
    segs: Vec<std::net::Ipv6Addr>,
    first_dev: String,
}

/// The steered flows of an emulation and the data plane that programs them.
#[derive(Debug)]
pub struct Steering<D> {
    layout: Layout,
    /// Guaranteed rate of each slice on the emulated links (scaled), by slice index.
    slice_rates: Vec<u64>,
    dataplane: D,
    flows: BTreeMap<u64, Programmed>,
}

impl<D: Dataplane> Steering<D> {
    pub fn new(layout: Layout, scenario: &Scenario, dataplane: D) -> Steering<D> {
        let scale = layout.scale.max(1);
        let slice_rates = scenario
            .slices
            .iter()
            .map(|s| (s.guaranteed.0 / scale).max(MIN_RATE_BPS))
            .collect();
        Steering {
            layout,
            slice_rates,
            dataplane,
            flows: BTreeMap::new(),
        }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Steers reservation `reservation` over `flow` (replacing its earlier path, if any) and
    /// programs the routers it touches. A flow that cannot be programmed (a broken path, a
    /// list too deep, a slice without a DSCP) is refused and changes nothing.
    pub fn steer(&mut self, reservation: u64, flow: Flow) -> Result<Changes, DataplaneError> {
        let programmed = self.program(reservation, flow)?;
        let mut touched = self.touched(&programmed);
        if let Some(old) = self.flows.insert(reservation, programmed) {
            touched.extend(self.touched(&old));
        }
        self.sync(&touched)
    }

    /// Stops steering `reservation`; what only it needed is removed.
    pub fn release(&mut self, reservation: u64) -> Result<Changes, DataplaneError> {
        match self.flows.remove(&reservation) {
            Some(old) => {
                let touched = self.touched(&old);
                self.sync(&touched)
            }
            None => Ok(Changes::default()),
        }
    }

    fn program(&self, reservation: u64, flow: Flow) -> Result<Programmed, DataplaneError> {
        let refuse = |reason: String| DataplaneError::Invalid {
            ns: router_ns(&self.layout.name, flow.ingress.0),
            object: format!("reservation {reservation}"),
            reason,
        };
        let g = &self.layout.graph;
        let mut path = Path::at(flow.ingress.0);
        for &arc in &flow.arcs {
            if arc as usize >= g.arc_count() {
                return Err(refuse(format!("arc {arc} is not in the network")));
            }
            path.arcs.push(arc);
            path.nodes.push(g.head(arc));
        }
        let list = compile(
            g,
            &self.layout.plan,
            &path,
            Some(flow.site),
            Mode::Loose,
            MAX_SID_DEPTH,
        )
        .map_err(|e| refuse(e.to_string()))?;
        let prefix = match flow.service {
            Some(s) => service_prefix(s).map_err(|e| refuse(e.to_string()))?,
            None => RAW_DEMAND_PREFIX,
        };
        if let Some(slice) = flow.slice {
            if slice_dscp(slice).is_none() {
                return Err(refuse(format!(
                    "slice {} has no DSCP: at most {MAX_SLICES} slices are told apart",
                    slice.0
                )));
            }
            if slice.0 as usize >= self.slice_rates.len() {
                return Err(refuse(format!("slice {} is not in the scenario", slice.0)));
            }
        }
        let first_dev = match flow.arcs.first() {
            Some(&arc) => self.layout.arc_dev(arc).unwrap_or_default().to_string(),
            None => format!("s{}", flow.site.0),
        };
        Ok(Programmed {
            flow,
            prefix,
            segs: list.sids().to_vec(),
            first_dev,
        })
    }

    /// The router namespaces a flow programs: its headend and every hop's tail.
    fn touched(&self, p: &Programmed) -> BTreeSet<String> {
        let name = &self.layout.name;
        let mut out = BTreeSet::from([router_ns(name, p.flow.ingress.0)]);
        for &arc in &p.flow.arcs {
            out.insert(router_ns(name, self.layout.graph.tail(arc)));
        }
        out
    }

    /// The desired state of router namespace `ns` with every live flow.
    pub fn desired(&self, ns: &str) -> NsState {
        let mut state = self.layout.states.get(ns).cloned().unwrap_or_default();
        // Reservation order: a later flow of the same headend and prefix wins.
        for p in self.flows.values() {
            if router_ns(&self.layout.name, p.flow.ingress.0) == ns {
                state.routes.insert(
                    RouteKey::main(p.prefix.addr(), p.prefix.prefix_len()),
                    RouteAction::Seg6 {
                        mode: Seg6Mode::Encap,
                        segs: p.segs.clone(),
                        dev: p.first_dev.clone(),
                    },
                );
            }
            let Some(slice) = p.flow.slice else { continue };
            let (Some(dscp), Some(&rate)) =
                (slice_dscp(slice), self.slice_rates.get(slice.0 as usize))
            else {
                continue;
            };
            for &arc in &p.flow.arcs {
                if router_ns(&self.layout.name, self.layout.graph.tail(arc)) != ns {
                    continue;
                }
                let Some(dev) = self.layout.arc_dev(arc) else {
                    continue;
                };
                if let Some(shaping) = state.shaping.get_mut(dev) {
                    let minor = 0x100 + slice.0 as u16;
                    if !shaping.slices.iter().any(|c| c.minor == minor) {
                        shaping.slices.push(SliceClass {
                            minor,
                            rate_bps: rate,
                            ceil_bps: shaping.rate_bps,
                            dscp,
                        });
                        shaping.slices.sort();
                    }
                }
            }
        }
        state
    }

    fn sync(&mut self, namespaces: &BTreeSet<String>) -> Result<Changes, DataplaneError> {
        let mut changes = Changes::default();
        for ns in namespaces {
            let desired = self.desired(ns);
            changes.extend(self.dataplane.apply(ns, &desired)?);
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data plane that remembers the last state of each namespace.
    #[derive(Debug, Default)]
    struct Recorder {
        states: BTreeMap<String, NsState>,
    }

    impl Dataplane for Recorder {
        fn apply(&mut self, ns: &str, desired: &NsState) -> Result<Changes, DataplaneError> {
            let changed = self.states.get(ns) != Some(desired);
            self.states.insert(ns.to_string(), desired.clone());
            let mut c = Changes::default();
            if changed {
                c.replaced.push(ns.to_string());
            }
            Ok(c)
        }

        fn read(&mut self, ns: &str) -> Result<NsState, DataplaneError> {
            Ok(self.states.get(ns).cloned().unwrap_or_default())
        }
    }

    fn scenario() -> Scenario {
        let text = include_str!("../tests/emu-test.toml");
        Scenario::parse("emu-test.toml", text, &mut cpn_model::NoImports).expect("reads")
    }

    fn steering() -> (Scenario, Steering<Recorder>) {
        let s = scenario();
        let layout = Layout::new(&s, "u", 1).expect("layout");
        let steering = Steering::new(layout, &s, Recorder::default());
        (s, steering)
    }

    fn arcs(s: &Steering<Recorder>, routers: &[u32]) -> Vec<u32> {
        let g = &s.layout().graph;
        routers
            .windows(2)
            .map(|w| {
                g.arcs_from(w[0])
                    .find(|&a| g.head(a) == w[1])
                    .expect("adjacent")
            })
            .collect()
    }

    #[test]
    fn a_flow_programs_its_headend_and_its_slice_then_goes() {
        let (_, mut st) = steering();
        // a(0) -> c(2) -> d(3), site 0 at d, slice 0.
        let flow = Flow {
            ingress: RouterId(0),
            site: SiteId(0),
            arcs: arcs(&st, &[0, 2, 3]),
            service: Some(ServiceId(0)),
            slice: Some(SliceId(0)),
        };
        // The scenario has no slices: a flow in slice 0 is refused, and nothing changes.
        let e = st.steer(7, flow.clone()).expect_err("no such slice");
        assert!(
            e.to_string().contains("slice 0 is not in the scenario"),
            "{e}"
        );
        assert!(st.dataplane.states.is_empty());

        let flow = Flow {
            slice: None,
            ..flow
        };
        let changes = st.steer(7, flow.clone()).expect("steered");
        assert_eq!(
            changes.replaced,
            vec!["u_r0".to_string(), "u_r2".to_string()]
        );
        let head = &st.dataplane.states["u_r0"];
        let key = RouteKey::main("fcbb:cc00::".parse().expect("addr"), 48);
        let Some(RouteAction::Seg6 { mode, segs, dev }) = head.routes.get(&key) else {
            panic!("no headend route: {head:?}");
        };
        assert_eq!(*mode, Seg6Mode::Encap);
        // a -> d by IGP goes through b, so the list needs a waypoint at c, then d's End.DT6.
        let texts: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
        assert_eq!(texts.last().map(String::as_str), Some("fcbb:bb00:3::d6:0"));
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert_eq!(Some(dev.as_str()), st.layout().arc_dev(flow.arcs[0]));

        // A later flow of the same headend and service wins; its release gives the route back.
        let direct = Flow {
            arcs: arcs(&st, &[0, 1, 3]),
            ..flow.clone()
        };
        st.steer(9, direct).expect("steered");
        let Some(RouteAction::Seg6 { segs, .. }) = st.dataplane.states["u_r0"].routes.get(&key)
        else {
            panic!("no route");
        };
        assert_eq!(segs.len(), 1, "the IGP path needs only the End.DT6");
        st.release(9).expect("released");
        let Some(RouteAction::Seg6 { segs, .. }) = st.dataplane.states["u_r0"].routes.get(&key)
        else {
            panic!("no route");
        };
        assert_eq!(segs.len(), 2, "reservation 7's path again");
        st.release(7).expect("released");
        assert!(!st.dataplane.states["u_r0"].routes.contains_key(&key));
        assert_eq!(st.dataplane.states["u_r0"], st.layout().states["u_r0"]);
        assert!(st.release(7).expect("again").is_empty());
    }

    #[test]
    fn slices_become_classes_on_the_links_the_path_leaves_by() {
        let text = format!(
            "{}\n[[slice]]\nid = \"gold\"\ntenant = \"acme\"\nguaranteed = \"10 Mbps\"\n",
            include_str!("../tests/emu-test.toml")
        );
        let s = Scenario::parse("emu-test.toml", &text, &mut cpn_model::NoImports)
            .expect("the slice reads");
        assert_eq!(s.slices.len(), 1);
        let layout = Layout::new(&s, "u", 1).expect("layout");
        let mut st = Steering::new(layout, &s, Recorder::default());
        let flow = Flow {
            ingress: RouterId(0),
            site: SiteId(0),
            arcs: arcs(&st, &[0, 1, 3]),
            service: Some(ServiceId(0)),
            slice: Some(SliceId(0)),
        };
        st.steer(1, flow.clone()).expect("steered");
        for (ns, arc) in [("u_r0", flow.arcs[0]), ("u_r1", flow.arcs[1])] {
            let dev = st.layout().arc_dev(arc).expect("dev").to_string();
            let classes = &st.dataplane.states[ns].shaping[&dev].slices;
            assert_eq!(
                classes,
                &vec![SliceClass {
                    minor: 0x100,
                    rate_bps: 10_000_000,
                    ceil_bps: 40_000_000,
                    dscp: 1
                }],
                "{ns} {dev}"
            );
        }
        // Only the path's links: the headend's other interface has no class.
        let other = st.dataplane.states["u_r0"]
            .shaping
            .iter()
            .filter(|(_, sh)| !sh.slices.is_empty())
            .count();
        assert_eq!(other, 1);
        st.release(1).expect("released");
        assert!(
            st.dataplane
                .states
                .values()
                .all(|s| s.shaping.values().all(|sh| sh.slices.is_empty()))
        );
    }

    #[test]
    fn broken_paths_are_refused() {
        let (_, mut st) = steering();
        let bad = Flow {
            ingress: RouterId(0),
            site: SiteId(0),
            arcs: vec![9999],
            service: None,
            slice: None,
        };
        let e = st.steer(1, bad).expect_err("no such arc").to_string();
        assert_eq!(
            e,
            "namespace `u_r0`: reservation 1: arc 9999 is not in the network"
        );
        // A path that does not end at the site's router.
        let wrong = Flow {
            ingress: RouterId(0),
            site: SiteId(1),
            arcs: arcs(&st, &[0, 1, 3]),
            service: None,
            slice: None,
        };
        assert!(st.steer(2, wrong).is_err());
        assert!(st.dataplane.states.is_empty());
    }
}
