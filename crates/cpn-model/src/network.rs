//! The elements of a computing power network: routers and links, compute sites, services,
//! SLAs, slices and tenants. A [`Scenario`] holds them in tables indexed by their ids; every
//! reference between elements is an id that the scenario parser has checked.

use std::collections::BTreeMap;
use std::fmt;

use cpn_units::{Bandwidth, Bytes, Carbon, Flops, Nanos, Ratio};
use serde::Serialize;

use crate::geo::GeoPoint;
use crate::id::{LinkId, RouterId, ServiceId, SiteId, SlaId, SliceId, TenantId};
use crate::money::{Price, Pue};

/// A packet-forwarding node: a PoP of a backbone, a metro router, a site's gateway.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Router {
    pub id: RouterId,
    /// The id people write in scenario files (`beijing`).
    pub name: String,
    /// A display name (`Beijing`), when one was given.
    pub label: Option<String>,
    pub location: Option<GeoPoint>,
}

/// Where a link's latency came from: stated in the scenario, derived from the distance
/// between its routers, or the stated default for an imported link with an endpoint that has
/// no coordinates (see [`crate::DEFAULT_LINK_LATENCY`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LatencyOrigin {
    Given,
    Distance { km: f64 },
    Default,
}

/// A bidirectional link between two routers. Capacity, latency and loss hold in each
/// direction (full duplex).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub id: LinkId,
    /// `a-b`, or the id given in the scenario; parallel links get `#2`, `#3` appended.
    pub name: String,
    pub a: RouterId,
    pub b: RouterId,
    pub bandwidth: Bandwidth,
    /// One-way propagation latency.
    pub latency: Nanos,
    pub latency_origin: LatencyOrigin,
    pub loss: Ratio,
    /// The IGP metric; unless given, the one-way latency in whole µs (at least 1), as with
    /// delay-based metrics (IS-IS Flex-Algo), so that shortest IGP paths are the fastest.
    pub igp_metric: u32,
    pub up: bool,
}

impl Link {
    /// The router at the other end from `router`, if the link touches it.
    pub fn other_end(&self, router: RouterId) -> Option<RouterId> {
        if router == self.a {
            Some(self.b)
        } else if router == self.b {
            Some(self.a)
        } else {
            None
        }
    }
}

/// Where in the cloud-edge-end continuum a site sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Cloud,
    Edge,
    End,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Cloud, Tier::Edge, Tier::End];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Cloud => "cloud",
            Tier::Edge => "edge",
            Tier::End => "end",
        }
    }

    pub fn parse(text: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.name() == text)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a site can give: cores, memory, accelerators and computing power.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capacity {
    pub cpu_cores: u64,
    pub memory: Bytes,
    /// GPU (or other accelerator) model name to count, sorted by model.
    pub gpus: BTreeMap<String, u64>,
    pub compute: Flops,
}

/// A place that runs work: a cloud data-centre cluster, an edge site, or a pool of end
/// devices, attached to one router.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub label: Option<String>,
    pub tier: Tier,
    pub router: RouterId,
    /// The grid region whose carbon intensity applies (`CN-HE`), when given.
    pub region: Option<String>,
    pub capacity: Capacity,
    /// Price per compute-hour in the scenario's currency, when known.
    pub price: Option<Price>,
    /// Grid carbon intensity of the electricity the site uses, when known.
    pub carbon: Option<Carbon>,
    /// Power usage effectiveness: facility energy over IT energy (1.0 when not given).
    pub pue: Pue,
}

/// A service in the CATS sense: one service id, many instances (one per site that runs it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub id: ServiceId,
    /// The CATS service id.
    pub name: String,
    /// Computing power one request needs.
    pub demand: Flops,
    /// Time to process one request at a site with the demand available.
    pub processing: Nanos,
    pub sites: Vec<SiteId>,
    pub sla: Option<SlaId>,
}

/// Priority of a request, 0 (lowest) to 7 (highest), as the eight traffic classes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Priority(pub u8);

impl Priority {
    pub const MAX: Priority = Priority(7);
}

/// What a service level agreement promises end to end. A bound that is `None` is not part of
/// the agreement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sla {
    pub id: SlaId,
    pub name: String,
    pub max_latency: Option<Nanos>,
    pub min_bandwidth: Bandwidth,
    pub max_loss: Option<Ratio>,
    pub priority: Priority,
    pub slice: Option<SliceId>,
}

/// A network slice: bandwidth guaranteed to one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slice {
    pub id: SliceId,
    pub name: String,
    pub tenant: TenantId,
    pub guaranteed: Bandwidth,
}

/// A tenant of the network, owner of slices and requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
}
