//! SRv6 steering: the SID plan of a scenario, the compilation of a path into the shortest
//! segment list that forces it, the re-expansion of a segment list into the hops it makes
//! packets take, and the Linux (`iproute2`) commands a headend and each router need.
//!
//! - [`SidPlan`]: one locator per router out of a configurable block (router `i` owns
//!   `fcbb:bb00:i::/48` by default), its End SID `::1`, an End.X SID `::e:k` per adjacency
//!   and an End.DT6 SID `::d6:j` per attached site, and the reverse lookup.
//! - [`compile`]: a path to a [`SegmentList`]. Between SIDs packets follow the IGP shortest
//!   path, so a segment forces its hops only where that path is unique (no equal-cost
//!   split). [`Mode::Loose`] gives the fewest SIDs that force the path, and among those the
//!   fewest End.X: End SIDs at the waypoints where the path leaves the unique IGP shortest
//!   path, End.X SIDs for hops no node SID can force (a parallel link, a link the IGP
//!   avoids). [`Mode::Strict`] gives one End.X per hop. An egress site's End.DT6 ends the
//!   list; a list longer than the maximum SID depth is an error.
//! - [`expand`]: the hops a list makes packets take, the check that a list means its path.
//! - [`linux_route_command`], [`linux_local_sid_commands`]: `ip -6 route ... encap seg6` for
//!   the headend and `encap seg6local` for the SIDs a router instantiates.
//!
//! Lists are written first segment first, as `iproute2` takes them; the segment routing
//! header (RFC 8754) holds them in reverse. Like the rest of the crate this is pure: it
//! writes commands, it never runs them. `docs/srv6.md` describes the scheme in full.

mod compile;
mod linux;
mod plan;

use std::net::Ipv6Addr;

pub use compile::{Mode, Segment, SegmentList, compile, expand};
pub use linux::{Nexthop, linux_local_sid_commands, linux_route_command};
pub use plan::{Behavior, Ipv6Prefix, RAW_DEMAND_PREFIX, Sid, SidPlan, service_prefix};

/// Why a SID plan could not be made, a path could not be compiled, a segment list could not
/// be expanded or a command could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Srv6Error {
    #[error("prefix {addr}/{len}: {reason}")]
    BadPrefix {
        addr: Ipv6Addr,
        len: u8,
        reason: &'static str,
    },
    #[error("cannot parse `{text}` as an ipv6 prefix (address/length)")]
    PrefixSyntax { text: String },
    #[error("the sid plan numbers routers in 16 bits (at most 65536), the scenario has {routers}")]
    TooManyRouters { routers: usize },
    #[error("service {0} has no anycast prefix: service prefixes number services in 16 bits")]
    TooManyServices(u32),
    #[error(
        "router `{router}` has {adjacencies} adjacencies, the sid plan numbers them in 16 bits (at most 65536)"
    )]
    TooManyAdjacencies { router: String, adjacencies: usize },
    #[error("the sid plan numbers sites in 16 bits (at most 65536), the scenario has {sites}")]
    TooManySites { sites: usize },
    #[error(
        "the graph ({graph_nodes} nodes, {graph_links} links) is not the scenario's ({routers} routers, {links} links)"
    )]
    GraphMismatch {
        graph_nodes: usize,
        graph_links: usize,
        routers: usize,
        links: usize,
    },
    #[error(
        "the sid plan was made for a graph of {plan_nodes} nodes and {plan_arcs} arcs, this one has {graph_nodes} and {graph_arcs}"
    )]
    PlanMismatch {
        plan_nodes: usize,
        plan_arcs: usize,
        graph_nodes: usize,
        graph_arcs: usize,
    },
    #[error("router {0} is not in the sid plan")]
    UnknownRouter(u32),
    #[error("arc {0} is not in the sid plan")]
    UnknownArc(u32),
    #[error("site {0} is not in the sid plan")]
    UnknownSite(u32),
    #[error("path: {reason}")]
    BrokenPath { reason: String },
    #[error("path hop {hop} crosses link `{link}`, which is down")]
    LinkDown { hop: usize, link: String },
    #[error(
        "egress site `{site}` is attached to router `{site_router}`, the path ends at `{target}`"
    )]
    SiteNotAtTarget {
        site: String,
        site_router: String,
        target: String,
    },
    #[error(
        "the {hops}-hop path needs {needed} sids in {mode} mode, more than the maximum sid depth of {limit}"
    )]
    TooDeep {
        hops: usize,
        needed: usize,
        limit: usize,
        mode: Mode,
    },
    #[error("sid {sid} (segment {index}) is not in the sid plan")]
    UnknownSid { sid: Ipv6Addr, index: usize },
    #[error("segment {index} ({sid}): no igp route from `{from}` to `{to}`")]
    NoIgpRoute {
        index: usize,
        sid: Ipv6Addr,
        from: String,
        to: String,
    },
    #[error(
        "segment {index} ({sid}): the igp shortest path from `{from}` to `{to}` is not unique (equal-cost paths meet at `{at}`)"
    )]
    Ecmp {
        index: usize,
        sid: Ipv6Addr,
        from: String,
        to: String,
        at: String,
    },
    #[error("segment {index} ({sid}): its link is down")]
    AdjacencyDown { index: usize, sid: Ipv6Addr },
    #[error("segment {index} ({sid}) follows the End.DT6 sid that decapsulates the packet")]
    SidAfterDecap { index: usize, sid: Ipv6Addr },
    #[error("the segment list is empty: the path needs no steering and no encapsulation")]
    EmptySegmentList,
    #[error("`{name}` is not a linux interface name (1 to 15 letters, digits, `-`, `_` or `.`)")]
    BadDevice { name: String },
}
