//! In-flow telemetry by alternate marking (RFC 9341) on the emulated network.
//!
//! The headend colours the traffic of its client: the flow label's lowest bit (the whole
//! label is set to the colour, 0 or 1), flipped every period by [`set_colour`]. The
//! encapsulation copies the flow label into the outer header (`net.ipv6.seg6_flowlabel = 0`),
//! and every router counts SRv6 packets per interface, direction and colour
//! (`emu::install_counters`). Once a period has ended and its packets have arrived (a guard
//! time later), the counters of its colour at each counting point of a path hold exactly that
//! period's block of packets: [`BlockMeter::read`] takes the difference from the previous
//! block of the same colour. Along a path the points are, in order, the out counter of each
//! hop's tail and the in counter of its head, so consecutive points bound a link (out to in)
//! or a router (in to out), and [`LossReport`] attributes each lost packet to one of them.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::command::run;
use crate::emu::{COUNTER_TABLE, Layout, MARK_CHAIN, counters, in_netns};
use crate::error::DataplaneError;

/// Makes headend namespace `ns` colour what its client sends with `colour` (0 or 1), in one
/// nftables transaction: no packet is left uncoloured at the switch.
pub fn set_colour(ns: &str, colour: u8) -> Result<(), DataplaneError> {
    let script = format!(
        "flush chain ip6 {COUNTER_TABLE} {MARK_CHAIN}\nadd rule ip6 {COUNTER_TABLE} {MARK_CHAIN} iifname \"c0\" ip6 flowlabel set {}\n",
        colour & 1
    );
    in_netns(ns, || {
        run(ns, "alternate marking", "nft", &["-f", "-"], Some(&script))
    })
    .map(drop)
}

/// Stops colouring at headend `ns`.
pub fn stop_colouring(ns: &str) -> Result<(), DataplaneError> {
    let script = format!("flush chain ip6 {COUNTER_TABLE} {MARK_CHAIN}\n");
    in_netns(ns, || {
        run(ns, "alternate marking", "nft", &["-f", "-"], Some(&script))
    })
    .map(drop)
}

/// One counting point of a path: a router namespace and its counter (`out_e1`, `in_e0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Point {
    pub ns: String,
    pub counter: String,
    /// The router's name in the scenario.
    pub router: String,
}

/// What lies between two consecutive points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Segment {
    /// A link, by the scenario's name for it, from the first point's router.
    Link(String),
    /// Inside a router, from its in counter to its out counter.
    Router(String),
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Link(l) => write!(f, "link {l}"),
            Segment::Router(r) => write!(f, "router {r}"),
        }
    }
}

/// The counting points of a path over `arcs` and the segments between them.
pub fn points(layout: &Layout, arcs: &[u32]) -> (Vec<Point>, Vec<Segment>) {
    let pairs = layout.hop_counters(arcs);
    let g = &layout.graph;
    let name = |v: u32| {
        layout
            .plan
            .router_name(cpn_model::RouterId(v))
            .unwrap_or_default()
            .to_string()
    };
    let mut points = Vec::new();
    let mut segments = Vec::new();
    for (i, &arc) in arcs.iter().enumerate() {
        if i > 0 {
            segments.push(Segment::Router(name(g.tail(arc))));
        }
        let link = layout.plan.link_name(arc).unwrap_or_default().to_string();
        segments.push(Segment::Link(link));
        for (j, v) in [(2 * i, g.tail(arc)), (2 * i + 1, g.head(arc))] {
            if let Some((ns, counter)) = pairs.get(j) {
                points.push(Point {
                    ns: ns.clone(),
                    counter: counter.clone(),
                    router: name(v),
                });
            }
        }
    }
    (points, segments)
}

/// Reads blocks of one colour at a path's points.
#[derive(Debug, Clone)]
pub struct BlockMeter {
    points: Vec<Point>,
    /// Per colour, the counters at the previous read, when that read was of a finished
    /// period (taken while the colour was not being marked).
    last: [Option<Vec<u64>>; 2],
}

impl BlockMeter {
    /// A meter started while colour `active` is being marked (and the other colour has not
    /// been for a guard time): the other colour's counters are its baseline now. The active
    /// colour's counters move while they are read point after point, so they are no
    /// baseline: its first [`BlockMeter::read`] only sets one and returns `None`.
    pub fn new(points: Vec<Point>, active: u8) -> Result<BlockMeter, DataplaneError> {
        let mut meter = BlockMeter {
            last: [None, None],
            points,
        };
        let idle = usize::from((active & 1) ^ 1);
        meter.last[idle] = Some(meter.values(idle)?);
        Ok(meter)
    }

    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// The packets of colour `colour` at each point since the previous read of that colour,
    /// for a colour no longer being marked (its period ended a guard time ago); `None` the
    /// first time for the colour that was active when the meter started.
    pub fn read(&mut self, colour: u8) -> Result<Option<Vec<u64>>, DataplaneError> {
        let c = usize::from(colour & 1);
        let now = self.values(c)?;
        let block = self.last[c].as_ref().map(|last| {
            now.iter()
                .zip(last)
                .map(|(n, l)| n.saturating_sub(*l))
                .collect()
        });
        self.last[c] = Some(now);
        Ok(block)
    }

    fn values(&self, c: usize) -> Result<Vec<u64>, DataplaneError> {
        let mut now = Vec::with_capacity(self.points.len());
        let mut cache: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
        for p in &self.points {
            if !cache.contains_key(p.ns.as_str()) {
                cache.insert(&p.ns, counters(&p.ns)?);
            }
            let name = format!("{}_c{c}", p.counter);
            let value = cache
                .get(p.ns.as_str())
                .and_then(|t| t.get(&name))
                .copied()
                .ok_or_else(|| DataplaneError::Output {
                    ns: p.ns.clone(),
                    command: format!("nft list counters table ip6 {COUNTER_TABLE}"),
                    reason: format!("no counter `{name}`"),
                })?;
            now.push(value);
        }
        Ok(now)
    }
}

/// Loss along a path in one or more blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossReport {
    /// Packets at the first point (the headend's out counter).
    pub sent: u64,
    /// Packets at the last point (the egress router's in counter).
    pub arrived: u64,
    /// Per segment between consecutive points: packets lost there.
    pub lost: Vec<(Segment, u64)>,
}

impl LossReport {
    /// The loss of a block counted at consecutive points bounded by `segments`.
    pub fn new(block: &[u64], segments: &[Segment]) -> LossReport {
        let lost = block
            .windows(2)
            .zip(segments)
            .map(|(w, s)| (s.clone(), w[0].saturating_sub(w[1])))
            .collect();
        LossReport {
            sent: block.first().copied().unwrap_or(0),
            arrived: block.last().copied().unwrap_or(0),
            lost,
        }
    }

    /// No packets yet, over `segments`.
    pub fn zero(segments: &[Segment]) -> LossReport {
        LossReport::new(&vec![0; segments.len() + 1], segments)
    }

    /// Adds another block's counts.
    pub fn add(&mut self, other: &LossReport) {
        self.sent += other.sent;
        self.arrived += other.arrived;
        for ((_, a), (_, b)) in self.lost.iter_mut().zip(&other.lost) {
            *a += b;
        }
    }

    /// End-to-end loss ratio (0 with nothing sent).
    pub fn end_to_end(&self) -> f64 {
        ratio(self.sent.saturating_sub(self.arrived), self.sent)
    }

    /// The loss ratio of each segment, against the packets that entered it.
    pub fn per_segment(&self) -> Vec<(Segment, f64)> {
        let mut entered = self.sent;
        self.lost
            .iter()
            .map(|(s, lost)| {
                let r = ratio(*lost, entered);
                entered = entered.saturating_sub(*lost);
                (s.clone(), r)
            })
            .collect()
    }

    /// The segment that lost the largest share, with that share.
    pub fn worst(&self) -> Option<(Segment, f64)> {
        self.per_segment()
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Alternate marking of every watched flow, period after period: [`Monitor::tick`] ends a
/// period at every colouring headend and returns each flow's block.
#[derive(Debug, Default)]
pub struct Monitor {
    colour: u8,
    /// Headend namespace to the flows it colours for.
    headends: BTreeMap<String, usize>,
    flows: BTreeMap<u64, FlowMeter>,
}

#[derive(Debug)]
struct FlowMeter {
    headend: String,
    meter: BlockMeter,
    segments: Vec<Segment>,
    /// Blocks still to be ignored: a new flow's first blocks may hold packets coloured
    /// before its meter started.
    warming: u8,
}

impl Monitor {
    pub fn new() -> Monitor {
        Monitor::default()
    }

    /// Watches flow `id` from headend namespace `headend` over `arcs` (replacing what was
    /// watched under that id); its headend starts colouring if it did not.
    pub fn watch(
        &mut self,
        id: u64,
        layout: &Layout,
        headend: &str,
        arcs: &[u32],
    ) -> Result<(), DataplaneError> {
        self.forget(id)?;
        if !self.headends.contains_key(headend) {
            set_colour(headend, self.colour)?;
        }
        let (points, segments) = points(layout, arcs);
        let meter = BlockMeter::new(points, self.colour)?;
        *self.headends.entry(headend.to_string()).or_default() += 1;
        self.flows.insert(
            id,
            FlowMeter {
                headend: headend.to_string(),
                meter,
                segments,
                warming: 2,
            },
        );
        Ok(())
    }

    /// Stops watching flow `id`; a headend with no flow left stops colouring.
    pub fn forget(&mut self, id: u64) -> Result<(), DataplaneError> {
        let Some(flow) = self.flows.remove(&id) else {
            return Ok(());
        };
        if let Some(n) = self.headends.get_mut(&flow.headend) {
            *n -= 1;
            if *n == 0 {
                self.headends.remove(&flow.headend);
                stop_colouring(&flow.headend)?;
            }
        }
        Ok(())
    }

    pub fn is_idle(&self) -> bool {
        self.flows.is_empty()
    }

    /// Ends the current period: every colouring headend switches colour, and after `guard`
    /// (when the period's packets have arrived everywhere) each flow's block is read. Flows
    /// still warming up are left out.
    pub fn tick(
        &mut self,
        guard: std::time::Duration,
    ) -> Result<Vec<(u64, LossReport)>, DataplaneError> {
        let done = self.colour;
        self.colour ^= 1;
        for headend in self.headends.keys() {
            set_colour(headend, self.colour)?;
        }
        std::thread::sleep(guard);
        let mut out = Vec::new();
        for (&id, flow) in &mut self.flows {
            let block = flow.meter.read(done)?;
            if flow.warming > 0 {
                flow.warming -= 1;
                continue;
            }
            if let Some(block) = block {
                out.push((id, LossReport::new(&block, &flow.segments)));
            }
        }
        Ok(out)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs() -> Vec<Segment> {
        vec![
            Segment::Link("a-b".into()),
            Segment::Router("b".into()),
            Segment::Link("b-d".into()),
        ]
    }

    #[test]
    fn losses_are_attributed_between_consecutive_points() {
        // out(a) 1000, in(b) 990: the link lost 10; b forwarded all; d got all of it.
        let r = LossReport::new(&[1000, 990, 990, 990], &segs());
        assert_eq!(r.sent, 1000);
        assert_eq!(r.arrived, 990);
        assert_eq!(
            r.lost,
            vec![
                (Segment::Link("a-b".into()), 10),
                (Segment::Router("b".into()), 0),
                (Segment::Link("b-d".into()), 0)
            ]
        );
        assert!((r.end_to_end() - 0.01).abs() < 1e-12);
        assert_eq!(r.worst().map(|w| w.0), Some(Segment::Link("a-b".into())));
        // A later segment's ratio is against what entered it.
        let r = LossReport::new(&[1000, 1000, 900, 891], &segs());
        let per: Vec<f64> = r.per_segment().into_iter().map(|p| p.1).collect();
        assert_eq!(per, vec![0.0, 0.1, 0.01]);
    }

    #[test]
    fn blocks_add_up_and_nothing_sent_is_no_loss() {
        let mut total = LossReport::new(&[0, 0, 0, 0], &segs());
        assert_eq!(total.end_to_end(), 0.0);
        total.add(&LossReport::new(&[500, 495, 495, 495], &segs()));
        total.add(&LossReport::new(&[500, 500, 500, 499], &segs()));
        assert_eq!((total.sent, total.arrived), (1000, 994));
        assert_eq!(total.lost[0].1, 5);
        assert_eq!(total.lost[2].1, 1);
        // Counters that went backwards (a reset) count as no loss, never as a wrap.
        let odd = LossReport::new(&[5, 9, 9, 9], &segs());
        assert_eq!(odd.lost[0].1, 0);
    }
}
