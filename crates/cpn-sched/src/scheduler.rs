//! The scheduler's state and its online decisions: what is reserved on every site and link
//! over time, and admission that reserves compute at a site, a path, and bandwidth on every
//! link of it, all or nothing.
//!
//! Units inside the calendars: compute in GFLOPS (a site's capacity rounded down, a demand
//! rounded up, so rounding never oversubscribes), CPU cores, memory in MiB, bandwidth in
//! bits/s, time in seconds of the scenario's timeline.
//!
//! A placement syncs the routing engine with the calendars for the request's window (the
//! most reserved at any second of it, per site and per link), asks it for the best site and
//! path, and books them. Release is the exact inverse. When a request does not fit and has a
//! priority, lower-priority reservations are preempted one by one, lowest first, until it
//! fits; the preempted are placed again where possible, and if the request still does not fit
//! nothing is preempted at all.

use std::collections::BTreeMap;

use cpn_model::{LinkId, RouterId, Scenario, ServiceId, SiteId, SliceId};
use cpn_route::{
    Decision, Demand, Engine, LatencyBreakdown, Objective, Path, Reason, Request, SlaBounds,
};
use cpn_units::{Bandwidth, Flops, Nanos, Ratio};
use serde::Serialize;

use crate::calendar::{CalendarError, Isolation, LinkCalendar, MultiCalendar};

mod bandwidth;
mod baseline;
mod job;
mod occupancy;
mod recovery;

use occupancy::{Links, Sites, Window};

pub use baseline::Strategy;
pub use job::{JobPlan, JobRequest};

const GFLOPS: u128 = 1_000_000_000;
const MIB: u64 = 1 << 20;
/// Resources of a site calendar, in this order.
const COMPUTE: usize = 0;
const CORES: usize = 1;
const MEMORY: usize = 2;
const FIRST_GPU: usize = 3;

/// A request for compute and a path, over a window of time.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceRequest {
    /// The caller's name for it, carried into reports.
    pub name: String,
    pub ingress: RouterId,
    /// The service it is a request of; `demand` overrides the service's demand.
    pub service: Option<ServiceId>,
    pub demand: Option<Flops>,
    /// Processing time of a raw demand (a service's own is used otherwise).
    pub processing: Nanos,
    pub cores: u64,
    pub memory_mib: u64,
    /// Accelerators by model name, such as `("NVIDIA A100", 8)`.
    pub gpus: Vec<(String, u64)>,
    pub bandwidth: Bandwidth,
    pub max_latency: Option<Nanos>,
    pub max_loss: Option<Ratio>,
    pub priority: u8,
    pub slice: Option<SliceId>,
    pub isolation: Isolation,
    /// `[start, end)` in seconds; `end == u64::MAX` until released.
    pub start: u64,
    pub end: u64,
    pub objective: Objective,
}

impl PlaceRequest {
    /// A request named `name` entering at `ingress` that asks for nothing yet: no demand, no
    /// resources, no bandwidth, no bounds, priority 0, soft isolation, the window `[0, 1)`
    /// and the balanced objective. Callers set what they need with `..PlaceRequest::new(..)`.
    pub fn new(name: impl Into<String>, ingress: RouterId) -> PlaceRequest {
        PlaceRequest {
            name: name.into(),
            ingress,
            service: None,
            demand: None,
            processing: Nanos::ZERO,
            cores: 0,
            memory_mib: 0,
            gpus: Vec::new(),
            bandwidth: Bandwidth::ZERO,
            max_latency: None,
            max_loss: None,
            priority: 0,
            slice: None,
            isolation: Isolation::Soft,
            start: 0,
            end: 1,
            objective: Objective::BALANCED,
        }
    }
}

/// What a scheduler holds in memory, in bytes, as laid out on the heap (elements × their
/// sizes; the allocator's own overhead is not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Footprint {
    /// Every site's and link's calendars.
    pub calendars: usize,
    /// Reservations and circuits, with their requests and paths.
    pub reservations: usize,
    /// What the routing engine keeps for shortlist decisions (searches per ingress, the
    /// services' sites' parts).
    pub shortlist: usize,
}

/// A reservation's id, unique for the scheduler's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ReservationId(pub u64);

/// What a placement holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub id: ReservationId,
    pub request: PlaceRequest,
    pub site: SiteId,
    pub path: Path,
    pub links: Vec<LinkId>,
    pub latency: LatencyBreakdown,
    /// Against the nearest eligible site, when another site was chosen.
    pub savings: Option<Savings>,
    compute_gflops: u64,
}

impl Reservation {
    /// The compute booked at the site, in GFLOPS (the demand rounded up).
    pub fn compute_gflops(&self) -> u64 {
        self.compute_gflops
    }
}

/// What a reservation books of each resource of its site: on the stack for the usual few
/// resources, so that booking and releasing allocate nothing.
#[derive(Debug)]
enum Amounts {
    Few([u64; 8], usize),
    Many(Vec<u64>),
}

impl Amounts {
    fn new(resources: usize) -> Amounts {
        if resources <= 8 {
            Amounts::Few([0; 8], resources)
        } else {
            Amounts::Many(vec![0; resources])
        }
    }
}

impl std::ops::Deref for Amounts {
    type Target = [u64];

    fn deref(&self) -> &[u64] {
        match self {
            Amounts::Few(a, n) => &a[..*n],
            Amounts::Many(v) => v,
        }
    }
}

impl std::ops::DerefMut for Amounts {
    fn deref_mut(&mut self) -> &mut [u64] {
        match self {
            Amounts::Few(a, n) => &mut a[..*n],
            Amounts::Many(v) => v,
        }
    }
}

/// Why a request was not placed.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// In words, with the numbers of the best candidate's failure.
    pub reason: String,
    /// The routing decision behind it, with every candidate's verdict.
    pub decision: Option<Decision>,
}

/// A reservation that another request preempted, and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Preempted {
    pub reservation: ReservationId,
    pub name: String,
    /// Its new reservation, when it could be placed again.
    pub replaced_by: Option<ReservationId>,
    pub reason: String,
}

/// What a placement saved against the nearest eligible site (the one with the least
/// end-to-end latency): the East-Data-West-Compute trade of latency for price and carbon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Savings {
    pub nearest: SiteId,
    /// Currency units per request; negative when the chosen site costs more.
    pub cost: Option<f64>,
    /// Grams CO2 per request.
    pub carbon_g: Option<f64>,
    /// The extra end-to-end latency the saving costs, µs.
    pub extra_latency_us: u64,
}

/// Bandwidth on demand: a path between two routers reserved for a window, with no compute.
#[derive(Debug, Clone, PartialEq)]
pub struct Circuit {
    pub id: ReservationId,
    pub name: String,
    pub path: Path,
    pub links: Vec<LinkId>,
    pub bandwidth: Bandwidth,
    pub slice: Option<SliceId>,
    pub isolation: Isolation,
    pub start: u64,
    pub end: u64,
}

/// What became of a reservation hit by a failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Recovery {
    /// Same site, another path (the backup).
    Rerouted {
        old: ReservationId,
        new: ReservationId,
        name: String,
    },
    /// Another site.
    Moved {
        old: ReservationId,
        new: ReservationId,
        name: String,
        from: SiteId,
        to: SiteId,
    },
    /// Nowhere: released, with why.
    Lost {
        old: ReservationId,
        name: String,
        reason: String,
    },
}

/// The outcome of placing one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    Accepted {
        reservation: ReservationId,
        preempted: Vec<Preempted>,
    },
    Refused(Refusal),
}

/// Why the scheduler could not act on a request at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedError {
    #[error("unknown reservation {0}")]
    UnknownReservation(u64),
    #[error("window [{start}, {end}) is empty")]
    EmptyWindow { start: u64, end: u64 },
    #[error("request `{0}` names neither a service nor a demand")]
    NoDemand(String),
    #[error("calendar: {0}")]
    Calendar(#[from] CalendarError),
}

/// The state of everything reserved, and the engine that decides.
#[derive(Debug, Clone)]
pub struct Scheduler {
    engine: Engine,
    sites: Sites,
    links: Links,
    /// Whether every placement is decided in full, never by the shortlist.
    reference: bool,
    /// Boxed: the map moves its entries when it rebalances, and a reservation is large.
    reservations: BTreeMap<ReservationId, Box<Reservation>>,
    circuits: BTreeMap<ReservationId, Circuit>,
    next_id: u64,
    /// Per service: demand and processing, for requests that name one.
    services: Vec<(Flops, Nanos)>,
    /// Router ids as people write them, for messages.
    router_names: Vec<String>,
    /// What jobs need to know of each site.
    site_info: Vec<SiteInfo>,
    /// Accelerator models, in the order of their resources after memory.
    gpu_models: Vec<String>,
}

/// A site's price, carbon and place, for planning jobs.
#[derive(Debug, Clone)]
struct SiteInfo {
    name: String,
    router: u32,
    /// Millionths of the currency per compute-hour.
    price: Option<u64>,
    /// mg CO2 per kWh.
    carbon: Option<u64>,
    pue: f64,
}

impl Scheduler {
    pub fn new(scenario: &Scenario) -> Scheduler {
        // Every accelerator model of the scenario is a resource of every site's calendar
        // (with capacity zero where the site has none), after compute, cores and memory.
        let mut gpu_models: Vec<String> = scenario
            .sites
            .iter()
            .flat_map(|s| s.capacity.gpus.keys().cloned())
            .collect();
        gpu_models.sort();
        gpu_models.dedup();
        let sites: Vec<MultiCalendar> = scenario
            .sites
            .iter()
            .map(|s| {
                let c = &s.capacity;
                let gflops = u64::try_from(c.compute.per_second / GFLOPS).unwrap_or(u64::MAX);
                let mut capacities = vec![gflops, c.cpu_cores, c.memory.0 / MIB];
                capacities.extend(
                    gpu_models
                        .iter()
                        .map(|m| c.gpus.get(m).copied().unwrap_or(0)),
                );
                MultiCalendar::new(&capacities)
            })
            .collect();
        let links: Vec<LinkCalendar> = scenario
            .links
            .iter()
            .map(|l| LinkCalendar::new(l.bandwidth.0))
            .collect();
        Scheduler {
            engine: Engine::new(scenario),
            sites: Sites::new(sites),
            links: Links::new(links),
            reference: false,
            reservations: BTreeMap::new(),
            circuits: BTreeMap::new(),
            next_id: 1,
            services: scenario
                .services
                .iter()
                .map(|s| (s.demand, s.processing))
                .collect(),
            router_names: scenario.routers.iter().map(|r| r.name.clone()).collect(),
            gpu_models,
            site_info: scenario
                .sites
                .iter()
                .map(|s| SiteInfo {
                    name: s.name.clone(),
                    router: s.router.0,
                    price: s.price.map(|p| p.0),
                    carbon: s.carbon.map(|c| c.0),
                    pue: s.pue.as_f64(),
                })
                .collect(),
        }
    }

    fn name(&self, router: RouterId) -> &str {
        self.router_names
            .get(router.index())
            .map_or("?", String::as_str)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// With `true`, every placement is decided in full ([`Engine::decide_among`] over every
    /// candidate, with every site's load and every link's free bandwidth set first), never by
    /// the shortlist ([`Engine::decide_shortlist`]). Both give the same placements, which is
    /// what the equivalence tests check against this switch; the full one is slower and
    /// explains every candidate it refused.
    pub fn set_reference(&mut self, reference: bool) {
        self.reference = reference;
    }

    pub fn reservations(&self) -> impl Iterator<Item = &Reservation> {
        self.reservations.values().map(|r| &**r)
    }

    pub fn reservation(&self, id: ReservationId) -> Option<&Reservation> {
        self.reservations.get(&id).map(|r| &**r)
    }

    /// What the scheduler holds in memory; see [`Footprint`].
    pub fn footprint(&self) -> Footprint {
        let calendars = (0..self.sites.len())
            .map(|i| std::mem::size_of::<MultiCalendar>() + self.sites[i].heap_bytes())
            .sum::<usize>()
            + self
                .links
                .iter()
                .map(|l| std::mem::size_of::<LinkCalendar>() + l.heap_bytes())
                .sum::<usize>();
        let request = |q: &PlaceRequest| {
            q.name.capacity() + q.gpus.iter().map(|(m, _)| 32 + m.capacity()).sum::<usize>()
        };
        let path = |p: &Path| (p.nodes.capacity() + p.arcs.capacity()) * 4;
        let reservations = self
            .reservations
            .values()
            .map(|r| {
                // The map's key and box, the reservation, what it points to.
                16 + std::mem::size_of::<Reservation>()
                    + request(&r.request)
                    + path(&r.path)
                    + r.links.capacity() * 4
            })
            .sum::<usize>()
            + self
                .circuits
                .values()
                .map(|c| {
                    8 + std::mem::size_of::<Circuit>()
                        + c.name.capacity()
                        + path(&c.path)
                        + c.links.capacity() * 4
                })
                .sum::<usize>();
        Footprint {
            calendars,
            reservations,
            shortlist: self.engine.shortlist_bytes(),
        }
    }

    pub fn site_calendar(&self, site: SiteId) -> &MultiCalendar {
        &self.sites[site.index()]
    }

    /// A site's compute over time, in GFLOPS: its capacity and what is booked when.
    pub fn compute_calendar(&self, site: SiteId) -> Option<&crate::calendar::Calendar> {
        self.sites[site.index()].calendar(COMPUTE)
    }

    pub fn link_calendar(&self, link: LinkId) -> &LinkCalendar {
        &self.links[link.index()]
    }

    /// Places a request: the best site and path for its window, booked all or nothing;
    /// preempting lower priorities only when it cannot fit otherwise.
    pub fn place(&mut self, request: PlaceRequest) -> Result<Placed, SchedError> {
        if request.start >= request.end {
            return Err(SchedError::EmptyWindow {
                start: request.start,
                end: request.end,
            });
        }
        let refusal = match self.try_place(&request)? {
            Ok(id) => {
                return Ok(Placed::Accepted {
                    reservation: id,
                    preempted: Vec::new(),
                });
            }
            Err(refusal) => refusal,
        };
        if request.priority == 0 || !resources_short(&refusal) {
            return Ok(Placed::Refused(refusal));
        }
        self.place_by_preemption(request, refusal)
    }

    /// Places `replicas` copies of a service request, all or none: each replica is placed as
    /// `name#1`, `name#2`, ... (several may share a site), and if one cannot be placed, none
    /// is (nothing is preempted for replicas).
    pub fn place_replicas(
        &mut self,
        request: &PlaceRequest,
        replicas: u32,
    ) -> Result<Result<Vec<ReservationId>, Refusal>, SchedError> {
        if request.start >= request.end {
            return Err(SchedError::EmptyWindow {
                start: request.start,
                end: request.end,
            });
        }
        let saved = self.clone();
        let mut placed = Vec::with_capacity(replicas as usize);
        for k in 1..=replicas {
            let replica = PlaceRequest {
                name: format!("{}#{k}", request.name),
                ..request.clone()
            };
            match self.try_place(&replica)? {
                Ok(id) => placed.push(id),
                Err(mut refusal) => {
                    *self = saved;
                    refusal.reason = format!("replica {k} of {replicas}: {}", refusal.reason);
                    return Ok(Err(refusal));
                }
            }
        }
        Ok(Ok(placed))
    }

    /// Brings a service's replicas (`replicas`, the reservations of its running copies) to
    /// `target`, as an [`crate::autoscale::Autoscaler`] decided: new replicas are placed all or
    /// none, the newest are released first when scaling down. On refusal nothing changes.
    pub fn scale_replicas(
        &mut self,
        request: &PlaceRequest,
        replicas: &mut Vec<ReservationId>,
        target: u32,
    ) -> Result<Result<(), Refusal>, SchedError> {
        let current = replicas.len() as u32;
        if target > current {
            let base = PlaceRequest {
                name: format!("{}+{current}", request.name),
                ..request.clone()
            };
            match self.place_replicas(&base, target - current)? {
                Ok(ids) => replicas.extend(ids),
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
        while replicas.len() as u32 > target {
            if let Some(id) = replicas.pop() {
                self.release(id)?;
            }
        }
        Ok(Ok(()))
    }

    /// Decides `request` on the state at second `at`, booking nothing: the joint decision as
    /// the network and the sites are then, with what is reserved over that second.
    pub fn decide_at(
        &mut self,
        request: &cpn_route::Request,
        at: u64,
    ) -> Result<cpn_route::Decision, cpn_route::RequestError> {
        let (service, demand) = match request.demand {
            cpn_route::Demand::Service(s) => (Some(s), None),
            cpn_route::Demand::Raw { demand, .. } => (None, Some(demand)),
        };
        let probe = PlaceRequest {
            service,
            demand,
            bandwidth: request.sla.min_bandwidth,
            max_latency: request.sla.max_latency,
            max_loss: request.sla.max_loss,
            start: at,
            end: at.saturating_add(1),
            objective: request.objective,
            ..PlaceRequest::new(String::new(), request.ingress)
        };
        self.sync(&probe, None);
        self.engine.decide(request)
    }

    /// Sets what telemetry measured of a link: its one-way latency and its loss, for the
    /// decisions that follow.
    pub fn set_link_metrics(&mut self, link: LinkId, latency: Option<Nanos>, loss: Option<Ratio>) {
        let g = self.engine.graph_mut();
        if let Some(latency) = latency {
            g.set_latency(link, latency);
        }
        if let Some(loss) = loss {
            g.set_loss(link, loss);
        }
    }

    /// Places a request on one of `sites` only, never preempting: for work that needs what
    /// only some sites have now (a live agent to run it, say). The request's own candidates
    /// outside `sites` are not judged.
    pub fn place_among(
        &mut self,
        request: &PlaceRequest,
        sites: &[SiteId],
    ) -> Result<Result<ReservationId, Refusal>, SchedError> {
        if request.start >= request.end {
            return Err(SchedError::EmptyWindow {
                start: request.start,
                end: request.end,
            });
        }
        self.try_place_among(request, Some(sites))
    }

    /// Releases a reservation: every booking it made is returned.
    pub fn release(&mut self, id: ReservationId) -> Result<Reservation, SchedError> {
        let r = self
            .reservations
            .remove(&id)
            .ok_or(SchedError::UnknownReservation(id.0))?;
        self.unbook(&r)?;
        Ok(*r)
    }

    fn try_place(
        &mut self,
        request: &PlaceRequest,
    ) -> Result<Result<ReservationId, Refusal>, SchedError> {
        self.try_place_among(request, None)
    }

    fn try_place_among(
        &mut self,
        request: &PlaceRequest,
        only: Option<&[SiteId]>,
    ) -> Result<Result<ReservationId, Refusal>, SchedError> {
        let (demand, processing) = match (request.demand, request.service) {
            (Some(d), _) => (
                d,
                request
                    .service
                    .map_or(request.processing, |s| self.services[s.index()].1),
            ),
            (None, Some(s)) => self.services[s.index()],
            (None, None) => return Err(SchedError::NoDemand(request.name.clone())),
        };
        let sla = SlaBounds {
            max_latency: request.max_latency,
            min_bandwidth: request.bandwidth,
            max_loss: request.max_loss,
            priority: cpn_model::Priority(request.priority),
            slice: request.slice,
        };
        let route = Request {
            ingress: request.ingress,
            demand: match (request.service, request.demand) {
                (Some(s), None) => Demand::Service(s),
                _ => Demand::Raw { demand, processing },
            },
            sla,
            objective: request.objective,
        };
        // The shortlist when it applies: the same choice without judging every candidate.
        // What it leaves (a refusal, which explains every candidate; accelerators; a slice's
        // own bandwidth; a few sites only) is decided in full below.
        if !self.reference && only.is_none() && request.gpus.is_empty() && request.slice.is_none() {
            let mut window = Window {
                sites: &mut self.sites,
                links: &mut self.links,
                start: request.start,
                end: request.end,
            };
            if let Some(decision) = self.engine.decide_shortlist(&route, &mut window)
                && let Ok(id) = self.commit(request, decision, demand)?
            {
                return Ok(Ok(id));
            }
            // A booking that fails at a rounding edge is refused by the full decision too,
            // which says why.
        }
        self.sync(request, only);
        let with_gpus;
        let only = if request.gpus.is_empty() {
            only
        } else {
            match self.sites_with_gpus(request) {
                Ok(mut sites) => {
                    if let Some(only) = only {
                        sites.retain(|s| only.contains(s));
                    }
                    with_gpus = sites;
                    Some(with_gpus.as_slice())
                }
                Err(reason) => {
                    return Ok(Err(Refusal {
                        reason,
                        decision: None,
                    }));
                }
            }
        };
        let decision = match self.engine.decide_among(&route, only) {
            Ok(d) => d,
            Err(e) => {
                return Ok(Err(Refusal {
                    reason: e.to_string(),
                    decision: None,
                }));
            }
        };
        self.commit(request, decision, demand)
    }

    /// Books a decision's choice, or says why not.
    fn commit(
        &mut self,
        request: &PlaceRequest,
        mut decision: Decision,
        demand: Flops,
    ) -> Result<Result<ReservationId, Refusal>, SchedError> {
        let Some(chosen) = decision.chosen.filter(|&i| i < decision.candidates.len()) else {
            let reason = best_reason(&decision);
            return Ok(Err(Refusal {
                reason,
                decision: Some(decision),
            }));
        };
        let savings = savings(&decision);
        // The path moves from the decision into the reservation (and back if the booking
        // fails, for the refusal), rather than being copied: two allocations per placement.
        let choice = &mut decision.candidates[chosen];
        let decided_path = choice.path.take();
        let had_path = decided_path.is_some();
        let (site, path, latency) = (
            choice.site,
            decided_path.unwrap_or_else(|| Path::at(request.ingress.0)),
            choice.latency.unwrap_or_default(),
        );
        let links: Vec<LinkId> = path.links(self.engine.graph()).collect();
        let compute_gflops = u64::try_from(demand.per_second.div_ceil(GFLOPS)).unwrap_or(u64::MAX);
        let reservation = Reservation {
            id: ReservationId(self.next_id),
            request: request.clone(),
            site,
            path,
            links,
            latency,
            savings,
            compute_gflops,
        };
        if let Err(e) = self.book(&reservation) {
            if had_path {
                decision.candidates[chosen].path = Some(reservation.path);
            }
            // The engine saw the calendars' state for this window, so a refusal here means a
            // rounding edge (GFLOPS, MiB); it is a refusal, not a failure.
            return Ok(Err(Refusal {
                reason: format!("booking failed: {e}"),
                decision: Some(decision),
            }));
        }
        self.next_id += 1;
        let id = reservation.id;
        self.reservations.insert(id, Box::new(reservation));
        Ok(Ok(id))
    }

    /// What a reservation books at its site, resource by resource (unknown accelerator
    /// models were refused before any booking, so they cannot occur here).
    fn amounts(&self, r: &Reservation) -> Amounts {
        let mut amounts = Amounts::new(FIRST_GPU + self.gpu_models.len());
        amounts[COMPUTE] = r.compute_gflops;
        amounts[CORES] = r.request.cores;
        amounts[MEMORY] = r.request.memory_mib;
        for (model, count) in &r.request.gpus {
            if let Some(i) = self.gpu_models.iter().position(|m| m == model) {
                amounts[FIRST_GPU + i] += count;
            }
        }
        amounts
    }

    /// The sites with the accelerators a request asks for free over its whole window, or why
    /// there are none.
    fn sites_with_gpus(&self, request: &PlaceRequest) -> Result<Vec<SiteId>, String> {
        let mut need = vec![0u64; self.gpu_models.len()];
        for (model, count) in &request.gpus {
            let i = self
                .gpu_models
                .iter()
                .position(|m| m == model)
                .ok_or_else(|| format!("no site has accelerators of model `{model}`"))?;
            need[i] += count;
        }
        let fits: Vec<SiteId> = (0..self.sites.len())
            .filter(|&s| {
                need.iter().enumerate().all(|(i, &n)| {
                    n == 0
                        || self.sites[s]
                            .calendar(FIRST_GPU + i)
                            .is_some_and(|c| c.free(request.start, request.end) >= n)
                })
            })
            .map(|s| SiteId(s as u32))
            .collect();
        if fits.is_empty() {
            let asked: Vec<String> = request
                .gpus
                .iter()
                .map(|(m, n)| format!("{n} × {m}"))
                .collect();
            return Err(format!(
                "no site has {} free over {}",
                asked.join(" and "),
                window(request.start, request.end)
            ));
        }
        Ok(fits)
    }

    /// Reads the calendars a reservation's booking or release will change, all at once
    /// (see [`crate::Calendar::warm`]).
    fn warm(&self, r: &Reservation) {
        let t = r.request.start;
        let mut seen = self.sites[r.site.index()]
            .calendar(COMPUTE)
            .map_or(0, |c| c.warm(t));
        for link in &r.links {
            seen ^= self.links[link.index()].warm(t);
        }
        std::hint::black_box(seen);
    }

    /// Books a reservation's site resources and every link's bandwidth, or nothing.
    fn book(&mut self, r: &Reservation) -> Result<(), CalendarError> {
        self.warm(r);
        let q = &r.request;
        let amounts = self.amounts(r);
        self.sites
            .change_before(r.site.index(), q.end)
            .book(q.start, q.end, &amounts)?;
        for (i, link) in r.links.iter().enumerate() {
            let booked = self.links.get_mut(link.index()).book_traffic(
                q.slice,
                q.start,
                q.end,
                q.bandwidth.0,
                q.isolation,
            );
            if let Err(e) = booked {
                for undo in &r.links[..i] {
                    let _ = self.links.get_mut(undo.index()).release_traffic(
                        q.slice,
                        q.start,
                        q.end,
                        q.bandwidth.0,
                        q.isolation,
                    );
                }
                let _ = self
                    .sites
                    .change_before(r.site.index(), q.end)
                    .release(q.start, q.end, &amounts);
                return Err(e);
            }
        }
        Ok(())
    }

    fn unbook(&mut self, r: &Reservation) -> Result<(), CalendarError> {
        self.warm(r);
        let q = &r.request;
        let amounts = self.amounts(r);
        self.sites
            .change_before(r.site.index(), q.end)
            .release(q.start, q.end, &amounts)?;
        for link in &r.links {
            self.links.get_mut(link.index()).release_traffic(
                q.slice,
                q.start,
                q.end,
                q.bandwidth.0,
                q.isolation,
            )?;
        }
        Ok(())
    }

    /// Shows the engine what is free over the request's window: per site the compute in use at
    /// the busiest second, per link the bandwidth free for the request's slice.
    fn sync(&mut self, request: &PlaceRequest, only: Option<&[SiteId]>) {
        let (start, end) = (request.start, request.end);
        // Only the sites the decision will judge: a service's own (or the given few); every
        // site for a raw demand.
        let service_sites = request
            .service
            .filter(|_| request.demand.is_none())
            .and_then(|s| self.engine.service_sites(s))
            .map(<[SiteId]>::to_vec);
        let sites: Vec<SiteId> = match (only, service_sites) {
            (Some(only), _) => only.to_vec(),
            (None, Some(sites)) => sites,
            (None, None) => (0..self.sites.len()).map(|i| SiteId(i as u32)).collect(),
        };
        for site in sites {
            let used = self.sites[site.index()]
                .calendar(COMPUTE)
                .map_or(0, |c| c.peak(start, end));
            self.engine.set_site_used(site, u128::from(used) * GFLOPS);
        }
        for (i, cal) in self.links.iter().enumerate() {
            let free = cal.free_for(request.slice, start, end, request.isolation);
            self.engine
                .graph_mut()
                .set_available(LinkId(i as u32), Bandwidth(free));
        }
    }

    fn place_by_preemption(
        &mut self,
        request: PlaceRequest,
        refusal: Refusal,
    ) -> Result<Placed, SchedError> {
        // Preemption is tried on the state as it is and undone wholesale if it does not make
        // room: releasing and re-booking the victims one by one could fail, since a hard
        // booking that fitted when it was made may not fit again after soft traffic in its
        // slice spilled past the guarantee.
        let saved = self.clone();
        // Lowest priority first, then the latest placed: the cheapest to disturb.
        let mut victims: Vec<(u8, std::cmp::Reverse<ReservationId>)> = self
            .reservations
            .values()
            .filter(|r| r.request.priority < request.priority && overlaps(&r.request, &request))
            .map(|r| (r.request.priority, std::cmp::Reverse(r.id)))
            .collect();
        victims.sort();
        let mut evicted: Vec<Reservation> = Vec::new();
        let mut placed = None;
        for (_, std::cmp::Reverse(id)) in victims {
            evicted.push(self.release(id)?);
            if let Ok(new) = self.try_place(&request)? {
                placed = Some(new);
                break;
            }
        }
        let Some(new) = placed else {
            // It does not fit even with every lower priority gone: nothing is preempted.
            *self = saved;
            return Ok(Placed::Refused(refusal));
        };
        let name = self
            .reservations
            .get(&new)
            .map(|r| r.request.name.clone())
            .unwrap_or_default();
        let mut preempted = Vec::new();
        for r in evicted {
            let again = self.try_place(&r.request)?;
            preempted.push(Preempted {
                reservation: r.id,
                name: r.request.name.clone(),
                replaced_by: again.as_ref().ok().copied(),
                reason: match again {
                    Ok(_) => format!(
                        "preempted by `{name}` (priority {}), placed again",
                        request.priority
                    ),
                    Err(refusal) => format!(
                        "preempted by `{name}` (priority {}); not placed again: {}",
                        request.priority, refusal.reason
                    ),
                },
            });
        }
        Ok(Placed::Accepted {
            reservation: new,
            preempted,
        })
    }
}

/// The chosen site's savings against the nearest eligible one, if it is another.
fn savings(decision: &Decision) -> Option<Savings> {
    let chosen = decision.choice()?;
    let nearest = decision
        .candidates
        .iter()
        .filter(|c| c.rejected.is_none())
        .min_by_key(|c| (c.latency.map_or(u64::MAX, |l| l.total), c.site))?;
    if nearest.site == chosen.site {
        return None;
    }
    let diff = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a - b);
    Some(Savings {
        nearest: nearest.site,
        cost: diff(nearest.cost, chosen.cost),
        carbon_g: diff(nearest.carbon_g, chosen.carbon_g),
        extra_latency_us: chosen
            .latency
            .map_or(0, |l| l.total)
            .saturating_sub(nearest.latency.map_or(0, |l| l.total)),
    })
}

/// `[start, end)` for messages, with `∞` for an open end.
fn window(start: u64, end: u64) -> String {
    if end == u64::MAX {
        format!("[{start}, ∞)")
    } else {
        format!("[{start}, {end})")
    }
}

fn overlaps(a: &PlaceRequest, b: &PlaceRequest) -> bool {
    a.start < b.end && b.start < a.end
}

/// Whether some candidate was refused for want of compute or bandwidth: only then can
/// preempting other reservations make room (a site too far or down stays so).
fn resources_short(refusal: &Refusal) -> bool {
    refusal.decision.as_ref().is_some_and(|d| {
        d.candidates.iter().any(|c| {
            matches!(
                c.rejected,
                Some(
                    Reason::NoCapacity { .. }
                        | Reason::Saturated { .. }
                        | Reason::NoBandwidth { .. }
                )
            )
        })
    })
}

/// The reason of the candidate that came closest, for a one-line refusal.
fn best_reason(decision: &Decision) -> String {
    if decision.candidates.is_empty() {
        return "no candidate site".to_string();
    }
    let reasons: Vec<String> = decision
        .candidates
        .iter()
        .filter_map(|c| c.rejected.as_ref().map(ToString::to_string))
        .collect();
    format!("no feasible site: {}", reasons.join("; "))
}
