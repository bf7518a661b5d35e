//! The digital twin: requests arrive on a scenario, each strategy places them on its own copy
//! of the real scheduler (identical arrivals for every strategy), and each placed request is
//! then played out: its input crosses the links of its path as a flow sharing them max-min
//! fairly with every other transfer in flight, propagates to the site, waits in the site's
//! first-come-first-served queue for the compute its reservation names (one unit is one
//! GFLOPS), is processed, and its answer propagates back. Its end-to-end latency is what that
//! took, and it is judged against its SLA: latency, the slowest rate its transfer got against
//! the bandwidth it asked for, and its path's loss. Reservations are released when their hold
//! ends. Failures follow the scheduler's own recovery: a moved request carries on along its
//! new path, one at a failed site starts over at its new site, a lost one is lost.
//!
//! Strategies that are blind to the network (nearest, least-loaded, random, Kubernetes'
//! least-allocated) place without the request's latency and loss bounds, as they would in
//! reality, and are judged against them afterwards; the SLA-aware ones (cpn, latency-only,
//! cost-only) refuse what they cannot meet.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::sync::mpsc;

use cpn_model::{Scenario, Tier};
use cpn_route::run_cost;
use cpn_sched::{PlaceRequest, Strategy};
use cpn_units::{Bandwidth, Flops, Nanos};
use serde::Serialize;

use crate::flow::{FlowId, FlowNet};
use crate::kernel::Simulation;
use crate::rng::Rng;
use crate::site::{Started, UnitSite};
use crate::workload::BackgroundStep;

mod placer;

use placer::{Batch, Held, Placer, Step};

const NS: u64 = 1_000_000_000;

/// One request of a workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    /// When it arrives, ns from the start.
    pub at: u64,
    /// What it asks for; its window is set when it arrives.
    pub request: PlaceRequest,
    /// How long it holds its reservation, seconds.
    pub hold_s: u64,
    /// The latency its SLA allows, if any.
    pub max_latency: Option<Nanos>,
    /// `critical` or `tolerant`.
    pub class: &'static str,
    /// Its input, sent from the ingress to the site over the shared links.
    pub bytes: u64,
}

/// The input of a latency-critical request of the mixed workload: one request message.
pub const CRITICAL_BYTES: u64 = 4_000;

/// The built-in mixed workload: Poisson arrivals at `rate` per second for `duration_s`;
/// 70 % latency-critical (a service with a latency SLA, held 10-60 s, a 4 kB request) and
/// 30 % delay-tolerant (a raw demand of 20-220 TFLOPS placed by cost, held 2-10 min, with
/// 50-500 MB of input data), entering at the routers of edge and end sites.
pub fn mixed(scenario: &Scenario, seed: u64, rate: f64, duration_s: u64) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let ingress = crate::workload::Ingress::Uniform(scenario.access_routers());
    crate::workload::generate(
        scenario,
        &mut rng,
        duration_s,
        &ingress,
        crate::workload::poisson(rate),
    )
}

/// The reference throughput that turns an LLM request's work into a hold time: one PFLOPS
/// of BF16, about one inference accelerator (stated in docs/twin.md).
pub const LLM_REFERENCE_PFLOPS: u128 = 1;

/// Bytes of prompt per token of an LLM request's context (about four characters of English
/// text per token, OpenAI's rule of thumb), so a request's input is its prompt.
pub const LLM_BYTES_PER_TOKEN: u64 = 4;

/// Arrivals from the Azure LLM inference trace: each request becomes a request of the
/// scenario's `llm-inference` service (a raw demand of 1 TFLOPS when the scenario has none)
/// from an ingress drawn at random among the edge and end routers (the trace has no place),
/// held for its work under `rule` at [`LLM_REFERENCE_PFLOPS`], rounded up to a second. Only
/// requests within `duration_s` are kept.
pub fn from_llm(
    scenario: &Scenario,
    requests: &[cpn_trace::LlmRequest],
    rule: &cpn_trace::ComputeRule,
    seed: u64,
    duration_s: u64,
) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let ingress = scenario.access_routers();
    let service = scenario.service("llm-inference");
    let bound = service
        .and_then(|s| s.sla)
        .and_then(|id| scenario.slas[id.index()].max_latency);
    let throughput = Flops {
        precision: rule.precision,
        per_second: LLM_REFERENCE_PFLOPS * 1_000_000_000_000_000,
    };
    let end = duration_s.saturating_mul(NS);
    requests
        .iter()
        .filter(|r| r.arrival.0 < end)
        .enumerate()
        .filter_map(|(n, r)| {
            let from = *ingress.get(rng.below(ingress.len().max(1) as u64) as usize)?;
            let hold = rule
                .processing_time(r, throughput)
                .map_or(1, |t| t.0.div_ceil(NS).max(1));
            let request = PlaceRequest {
                service: service.map(|s| s.id),
                demand: service.is_none().then(|| Flops::fp64(1_000_000_000_000)),
                max_latency: bound,
                priority: 5,
                bandwidth: Bandwidth(1_000_000),
                ..PlaceRequest::new(format!("llm{}", n + 1), from)
            };
            Some(Arrival {
                at: r.arrival.0,
                request,
                hold_s: hold,
                max_latency: bound,
                class: "critical",
                bytes: u64::from(r.context_tokens) * LLM_BYTES_PER_TOKEN,
            })
        })
        .collect()
}

/// What one strategy did with a workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyReport {
    pub requests: u64,
    /// Placed and within every bound of its SLA, over all requests (0-1).
    pub sla_satisfaction: f64,
    /// Placed, over all requests (0-1).
    pub acceptance: f64,
    /// End-to-end latency of the placed requests, ms.
    pub latency_ms: Percentiles,
    /// Compute booked over capacity, time-averaged, per tier (0-1).
    pub utilisation: BTreeMap<String, f64>,
    /// Bandwidth booked, summed over links and time, in Gbit (Gbps × s).
    pub bandwidth_gbit: f64,
    /// Currency units, and grams CO2, of the compute placed.
    pub cost: f64,
    pub carbon_kg: f64,
    /// SLA satisfaction of the latency-critical requests alone.
    pub critical_sla_satisfaction: f64,
    /// Requests moved to another path or site by a failure while in flight.
    pub reselections: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// Per request, for the CSV and the latency CDF.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub class: &'static str,
    pub at_s: f64,
    /// Where it was served (its last site when it was moved).
    pub site: Option<String>,
    /// End to end as simulated: propagation both ways, the transfer of its input over the
    /// shared links, its wait at the site and its processing.
    pub latency_us: Option<u64>,
    /// What the scheduler estimated when it placed the request.
    pub estimate_us: Option<u64>,
    pub sla_met: bool,
    /// Moved to another path or site by a failure while in flight.
    pub reselected: u32,
}

/// A what-if change to the network during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhatIf {
    LinkDown { link: cpn_model::LinkId, at_s: u64 },
    LinkUp { link: cpn_model::LinkId, at_s: u64 },
    SiteDown { site: cpn_model::SiteId, at_s: u64 },
    SiteUp { site: cpn_model::SiteId, at_s: u64 },
}

impl WhatIf {
    /// When it happens, s from the start.
    pub fn at_s(self) -> u64 {
        match self {
            WhatIf::LinkDown { at_s, .. }
            | WhatIf::LinkUp { at_s, .. }
            | WhatIf::SiteDown { at_s, .. }
            | WhatIf::SiteUp { at_s, .. } => at_s,
        }
    }
}

/// Random link failures over `duration_s`: each link fails after an exponential time with
/// mean `mtbf_s` and is repaired after one with mean `mttr_s` (at least a second), again and
/// again, drawn from `seed`. The changes come sorted by time (links in id order at equal
/// times).
pub fn random_link_failures(
    scenario: &Scenario,
    mtbf_s: f64,
    mttr_s: f64,
    duration_s: u64,
    seed: u64,
) -> Vec<WhatIf> {
    random_failures(
        scenario.links.len(),
        mtbf_s,
        mttr_s,
        duration_s,
        seed,
        |i, at_s, up| {
            let link = cpn_model::LinkId(i);
            if up {
                WhatIf::LinkUp { link, at_s }
            } else {
                WhatIf::LinkDown { link, at_s }
            }
        },
    )
}

/// Random site failures, drawn as [`random_link_failures`] draws link failures.
pub fn random_site_failures(
    scenario: &Scenario,
    mtbf_s: f64,
    mttr_s: f64,
    duration_s: u64,
    seed: u64,
) -> Vec<WhatIf> {
    random_failures(
        scenario.sites.len(),
        mtbf_s,
        mttr_s,
        duration_s,
        seed,
        |i, at_s, up| {
            let site = cpn_model::SiteId(i);
            if up {
                WhatIf::SiteUp { site, at_s }
            } else {
                WhatIf::SiteDown { site, at_s }
            }
        },
    )
}

fn random_failures(
    count: usize,
    mtbf_s: f64,
    mttr_s: f64,
    duration_s: u64,
    seed: u64,
    change: impl Fn(u32, u64, bool) -> WhatIf,
) -> Vec<WhatIf> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for i in 0..count as u32 {
        let mut t = 0.0;
        loop {
            t += rng.exponential(mtbf_s.max(1e-3));
            if t >= duration_s as f64 {
                break;
            }
            out.push(change(i, t as u64, false));
            t += rng.exponential(mttr_s.max(1e-3)).max(1.0);
            if t >= duration_s as f64 {
                break;
            }
            out.push(change(i, t as u64, true));
        }
    }
    out.sort_by_key(|w| w.at_s());
    out
}

/// More demand from one ingress after a time: every arrival from `router` at or after
/// `after_s` is joined by `factor - 1` more copies (fractions drawn with `seed`), at the same
/// time, with names of their own.
pub fn scale_demand(
    arrivals: &[Arrival],
    router: cpn_model::RouterId,
    factor: f64,
    after_s: u64,
    seed: u64,
) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(arrivals.len());
    let extra = (factor - 1.0).max(0.0);
    for a in arrivals {
        out.push(a.clone());
        if a.request.ingress != router || a.at < after_s.saturating_mul(NS) {
            continue;
        }
        let whole = extra.floor() as u64;
        let copies = whole + u64::from(rng.bernoulli(extra - whole as f64));
        for k in 1..=copies {
            let mut copy = a.clone();
            copy.request.name = format!("{}+{k}", a.request.name);
            out.push(copy);
        }
    }
    out
}

/// The `q` quantile of `values` (nearest rank): the value at that rank of their sorted order,
/// found by selection in O(n) rather than by sorting a million latencies (`total_cmp` is a
/// total order, so the value is the sorted one, bit for bit). Reorders `values`.
fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let i = ((values.len() - 1) as f64 * q).round() as usize;
    *values
        .select_nth_unstable_by(i.min(values.len() - 1), f64::total_cmp)
        .1
}

/// What drives the play-out's event loop.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// The scheduler's next steps (placements, releases, recoveries), at their time.
    Steps,
    /// The network's wake-up at its next completion, with its generation: only the latest
    /// one is current.
    Net(u64),
    /// A request's input has reached its site (transfer and one-way propagation done), in
    /// the request's attempt then: work restarted elsewhere after a failure is a new attempt.
    AtSite { req: u32, attempt: u32 },
    /// A request is served at its site, in its attempt then.
    Served { req: u32, attempt: u32 },
    /// A background load step, by index.
    Background(u32),
}

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not arrived yet, or refused.
    Idle,
    /// Its input is on the network.
    Sending,
    /// Its input is propagating to the site, or waiting or running there.
    AtSite,
    /// Served, or lost.
    Finished,
}

/// A request's state during a run.
#[derive(Debug, Clone, Copy)]
struct Req {
    /// It holds a reservation: the compute it booked (GFLOPS) and the processing time the
    /// scheduler estimated (µs), and whether its path's loss is within its bound.
    held: bool,
    booked: u64,
    processing_us: u64,
    loss_ok: bool,
    phase: Phase,
    site: u32,
    flow: u32,
    /// One-way propagation to its site on its current path, ns.
    one_way: u64,
    /// When the current transfer started, and its bytes.
    sent_at: u64,
    sending: u64,
    /// The units (GFLOPS) it holds at its site while served.
    units: u64,
    /// Slowest transfer rate seen, bits/s (the bandwidth part of the SLA).
    min_rate_bps: f64,
    reselected: u32,
    attempt: u32,
    /// Its reservation was lost while its work was at its site: the work finishes there (and
    /// gives its units back), but its answer has no path: SLA missed.
    stranded: bool,
}

const NO_FLOW: u32 = u32::MAX;

/// Bytes of the twin's own state per site: its unit queue (one unit is one GFLOPS, with the
/// units background load holds), kept small so that the twin scales to tens of thousands of
/// sites. The jobs waiting in line and the scheduler's calendars are not counted (the
/// calendars are the controller's).
pub const fn site_state_bytes() -> usize {
    std::mem::size_of::<UnitSite>()
}

/// Runs `arrivals` through `strategy` on a fresh scheduler of `scenario`.
pub fn run(
    scenario: &Scenario,
    arrivals: &[Arrival],
    strategy: Strategy,
    seed: u64,
    duration_s: u64,
    what_if: &[WhatIf],
) -> (StrategyReport, Vec<Outcome>) {
    run_with(
        scenario,
        arrivals,
        Policy::Online(strategy),
        seed,
        duration_s,
        Changes {
            what_if,
            background: &[],
        },
        &mut |_, _| {},
    )
}

/// How a run places its arrivals.
#[derive(Debug, Clone, Copy)]
pub enum Policy<'a> {
    /// One of the scheduler's strategies, online.
    Online(Strategy),
    /// A site chosen in advance for each arrival (`None`: refused), such as
    /// [`crate::optimum::plan`]'s; placed there by the scheduler, or refused if it does not
    /// fit then.
    Plan(&'a [Option<cpn_model::SiteId>]),
}

/// What changes under a run besides its arrivals.
#[derive(Debug, Clone, Copy, Default)]
pub struct Changes<'a> {
    /// Failures, repairs and sites joining, in time order.
    pub what_if: &'a [WhatIf],
    /// Load from outside the twin on the sites ([`crate::workload::background`]), in time
    /// order: it takes compute at the site, so the twin's requests wait for what is left,
    /// but no strategy sees it when it places (it is the load nobody announced).
    pub background: &'a [BackgroundStep],
}

/// [`run`] under any policy with any changes, calling `progress(done, total)` every few
/// thousand arrivals.
pub fn run_with(
    scenario: &Scenario,
    arrivals: &[Arrival],
    policy: Policy<'_>,
    seed: u64,
    duration_s: u64,
    changes: Changes<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> (StrategyReport, Vec<Outcome>) {
    let job = Job {
        scenario,
        arrivals,
        seed,
        duration_s,
        changes,
    };
    run_on(job, policy, progress, job.threads())
}

/// What every run of a workload shares.
#[derive(Clone, Copy)]
struct Job<'a> {
    scenario: &'a Scenario,
    arrivals: &'a [Arrival],
    seed: u64,
    duration_s: u64,
    changes: Changes<'a>,
}

impl Job<'_> {
    /// Batches of steps for a scheduler's half on a thread of its own, when a second core
    /// pays for itself (on a long run).
    fn threads(&self) -> Option<usize> {
        let two = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
        (two && self.arrivals.len() >= 20_000).then_some(BATCH)
    }
}

/// Steps per batch from the scheduler's half to the play-out.
const BATCH: usize = 4096;

/// A run of `job` under `policy`, the scheduler's half on a thread of its own (sending
/// batches of `threads` steps) or on this one: the steps, and so the report, are the same.
fn run_on(
    job: Job<'_>,
    policy: Policy<'_>,
    progress: &mut dyn FnMut(u64, u64),
    threads: Option<usize>,
) -> (StrategyReport, Vec<Outcome>) {
    let Job {
        scenario,
        arrivals,
        seed,
        duration_s,
        changes,
    } = job;
    let placer = || Placer::new(scenario, arrivals, changes.what_if, policy, seed);
    let Some(batch_steps) = threads else {
        let mut placer = placer();
        let mut twin = Twin::new(scenario, arrivals, changes);
        twin.set_capacities(&Twin::capacities(scenario, placer.scheduler()));
        twin.run(&mut Feed::Inline(&mut placer), progress);
        return twin.report(duration_s);
    };
    std::thread::scope(|scope| {
        let (to_twin, from_placer) = mpsc::sync_channel::<Batch>(4);
        let (to_placer, returned) = mpsc::channel::<Batch>();
        let (capacities, sites) = mpsc::sync_channel::<Vec<u64>>(1);
        // Each half sets itself up on its own thread.
        scope.spawn(move || {
            let mut placer = placer();
            let _ = capacities.send(Twin::capacities(scenario, placer.scheduler()));
            loop {
                let mut batch = returned.try_recv().unwrap_or_default();
                batch.clear();
                let more = placer.fill(&mut batch, batch_steps);
                // The play-out stops taking batches only when it is done.
                if to_twin.send(batch).is_err() || !more {
                    break;
                }
            }
        });
        let mut twin = Twin::new(scenario, arrivals, changes);
        if let Ok(capacities) = sites.recv() {
            twin.set_capacities(&capacities);
        }
        twin.run(
            &mut Feed::Channel {
                batches: from_placer,
                used: to_placer,
            },
            progress,
        );
        // While the scheduler's half frees what it held.
        twin.report(duration_s)
    })
}

/// Where the play-out takes the scheduler's steps from.
enum Feed<'p, 'a> {
    /// Made on demand, on this thread.
    Inline(&'p mut Placer<'a>),
    /// Made ahead on another thread; used batches go back to it.
    Channel {
        batches: mpsc::Receiver<Batch>,
        used: mpsc::Sender<Batch>,
    },
}

impl Feed<'_, '_> {
    /// The next batch of steps after `used`, or `None` when there are no more.
    fn next(&mut self, mut used: Batch) -> Option<Batch> {
        match self {
            Feed::Inline(placer) => {
                used.clear();
                placer.fill(&mut used, BATCH);
                (!used.steps.is_empty()).then_some(used)
            }
            Feed::Channel {
                batches,
                used: back,
            } => {
                let _ = back.send(used);
                batches.recv().ok()
            }
        }
    }
}

struct Twin<'a> {
    scenario: &'a Scenario,
    arrivals: &'a [Arrival],
    what_if: &'a [WhatIf],
    background: &'a [BackgroundStep],
    sim: Simulation<Event>,
    net: FlowNet,
    wake: Option<u64>,
    generation: u64,
    sites: Vec<UnitSite>,
    reqs: Vec<Req>,
    /// Requests on the network or at a site (failures look here only).
    in_flight: BTreeSet<u32>,
    flow_owner: Vec<u32>,
    outcomes: Vec<Outcome>,
    /// Compute booked per tier, GFLOPS × s (keyed by the tier itself: no name per request).
    booked_tier: BTreeMap<Tier, f64>,
    bandwidth: f64,
    cost: f64,
    carbon: f64,
    reselections: u64,
    started: Vec<Started>,
}

impl<'a> Twin<'a> {
    /// Each site's compute in the scheduler, GFLOPS.
    fn capacities(scenario: &Scenario, sched: &cpn_sched::Scheduler) -> Vec<u64> {
        scenario
            .sites
            .iter()
            .map(|s| sched.compute_calendar(s.id).map_or(0, |k| k.capacity()))
            .collect()
    }

    /// Gives each site its compute (GFLOPS), as its unit queue.
    fn set_capacities(&mut self, capacities: &[u64]) {
        self.sites = capacities.iter().map(|&c| UnitSite::new(c)).collect();
    }

    /// A twin with no site yet (see [`Twin::set_capacities`]).
    fn new(scenario: &'a Scenario, arrivals: &'a [Arrival], changes: Changes<'a>) -> Twin<'a> {
        let mut sim: Simulation<Event> = Simulation::new(0);
        for (i, b) in changes.background.iter().enumerate() {
            let _ = sim.schedule(b.at_s.saturating_mul(NS), Event::Background(i as u32));
        }
        let links: Vec<u64> = scenario.links.iter().map(|l| l.bandwidth.0).collect();
        let idle = Req {
            held: false,
            booked: 0,
            processing_us: 0,
            loss_ok: true,
            phase: Phase::Idle,
            site: 0,
            flow: NO_FLOW,
            one_way: 0,
            sent_at: 0,
            sending: 0,
            units: 0,
            min_rate_bps: f64::INFINITY,
            reselected: 0,
            attempt: 0,
            stranded: false,
        };
        Twin {
            scenario,
            arrivals,
            what_if: changes.what_if,
            background: changes.background,
            sites: Vec::new(),
            sim,
            net: FlowNet::new(&links),
            wake: None,
            generation: 0,
            reqs: vec![idle; arrivals.len()],
            in_flight: BTreeSet::new(),
            flow_owner: Vec::new(),
            outcomes: arrivals
                .iter()
                .map(|a| Outcome {
                    name: a.request.name.clone(),
                    class: a.class,
                    at_s: a.at as f64 / NS as f64,
                    site: None,
                    latency_us: None,
                    estimate_us: None,
                    sla_met: false,
                    reselected: 0,
                })
                .collect(),
            booked_tier: BTreeMap::new(),
            bandwidth: 0.0,
            cost: 0.0,
            carbon: 0.0,
            reselections: 0,
            started: Vec::new(),
        }
    }

    /// Plays the scheduler's steps out, each at its time among the play-out's own events:
    /// one `Event::Steps` is pending at the time of the next step (so at equal times the
    /// order is the queue's, first scheduled first, in every run alike).
    fn run(&mut self, feed: &mut Feed<'_, '_>, progress: &mut dyn FnMut(u64, u64)) {
        let total = self.arrivals.len() as u64;
        let mut batch = feed.next(Batch::default());
        let mut at = 0;
        if let Some((t, _)) = batch.as_ref().and_then(|b| b.steps.first()) {
            let _ = self.sim.schedule(*t, Event::Steps);
        }
        while let Some((t, event)) = self.sim.next() {
            match event {
                Event::Steps => {
                    // Every step at this time, then a wake-up at the next one's.
                    while let Some(b) = &batch {
                        match b.steps.get(at) {
                            Some(&(when, step)) if when == t => {
                                self.step(t, step, &b.links);
                                at += 1;
                            }
                            Some(&(when, _)) => {
                                let _ = self.sim.schedule(when, Event::Steps);
                                break;
                            }
                            None => {
                                progress(b.arrived, total);
                                batch = batch.and_then(|b| feed.next(b));
                                at = 0;
                            }
                        }
                    }
                }
                Event::Net(generation) => {
                    if generation == self.generation {
                        self.wake = None;
                        let mut done = Vec::new();
                        self.net.finish_due(t, &mut done);
                        for f in done {
                            self.sent(t, f);
                        }
                        self.sync_wake();
                    }
                }
                Event::AtSite { req, attempt } => {
                    if self.reqs[req as usize].attempt == attempt {
                        self.at_site(t, req);
                    }
                }
                Event::Served { req, attempt } => {
                    if self.reqs[req as usize].attempt == attempt {
                        self.served(t, req);
                    }
                }
                Event::Background(k) => {
                    let b = self.background[k as usize];
                    if let Some(site) = self.sites.get_mut(b.site.index()) {
                        let held = (b.used.clamp(0.0, 1.0) * site.units() as f64) as u64;
                        site.hold_back(t, held, &mut self.started);
                        self.start_jobs();
                    }
                }
            }
        }
        progress(total, total);
        // Every request has left its site: no unit is held by the twin's own work.
        debug_assert!(
            self.sites.iter().all(|s| s.free() + s.held() == s.units()),
            "units left held at the end of a run"
        );
    }

    /// Follows one step of the scheduler's.
    fn step(&mut self, t: u64, step: Step, links: &[u32]) {
        match step {
            Step::Placed { req, held } => self.placed(t, req, &held, links),
            Step::Released { req } => self.reqs[req as usize].held = false,
            Step::Followed {
                req,
                held,
                failed_site,
            } => self.follow(t, req, held.as_ref(), links, failed_site),
            Step::ChangeBegins(k) => self.change_begins(t, self.what_if[k as usize]),
            Step::ChangeEnds(k) => self.change_ends(self.what_if[k as usize]),
        }
    }

    /// Schedules the network's next completion when it moved.
    fn sync_wake(&mut self) {
        let next = self.net.next_completion().map(|(t, _)| t);
        if next != self.wake {
            self.generation += 1;
            self.wake = next;
            if let Some(t) = next {
                let _ = self.sim.schedule(t, Event::Net(self.generation));
            }
        }
    }

    /// Request `i` was placed at `t`: counted, and its input sent.
    fn placed(&mut self, t: u64, i: u32, held: &Held, links: &[u32]) {
        let a = &self.arrivals[i as usize];
        let site = &self.scenario.sites[held.site as usize];
        let hold = a.hold_s.max(1);
        let path = &links[held.links.0 as usize..held.links.1 as usize];
        let h = hold as f64;
        *self.booked_tier.entry(site.tier).or_default() += held.units as f64 * h;
        self.bandwidth += a.request.bandwidth.0 as f64 / 1e9 * h * path.len() as f64;
        let demand = Flops::fp64(u128::from(held.units) * 1_000_000_000);
        let (c, g) = run_cost(
            demand,
            Nanos(hold * NS),
            site.price.map(|p| p.0),
            site.carbon.map(|k| k.0),
            site.pue.as_f64(),
        );
        self.cost += c.unwrap_or(0.0);
        self.carbon += g.unwrap_or(0.0);
        // `send` names the site: the one it goes to, then any it is moved to.
        self.outcomes[i as usize].estimate_us = Some(held.total_us);
        self.hold(i, held, path);
        self.in_flight.insert(i);
        self.send(t, i, held, path, a.bytes);
    }

    /// Request `i` now holds `held`, on `path`.
    fn hold(&mut self, i: u32, held: &Held, path: &[u32]) {
        let bound = self.arrivals[i as usize].request.max_loss;
        let loss_ok = bound.is_none_or(|bound| {
            let delivered: f64 = path
                .iter()
                .map(|&l| 1.0 - self.scenario.links[l as usize].loss.as_fraction())
                .product();
            1.0 - delivered <= bound.as_fraction() + 1e-12
        });
        let req = &mut self.reqs[i as usize];
        req.held = true;
        req.booked = held.units;
        req.processing_us = held.processing_us;
        req.loss_ok = loss_ok;
    }

    /// Sends `bytes` of request `i`'s input from its ingress to the site of `held`.
    fn send(&mut self, t: u64, i: u32, held: &Held, links: &[u32], bytes: u64) {
        self.outcomes[i as usize].site = Some(self.scenario.sites[held.site as usize].name.clone());
        let req = &mut self.reqs[i as usize];
        req.site = held.site;
        req.one_way = held.network_rtt_us.saturating_mul(1_000) / 2;
        req.sent_at = t;
        req.sending = bytes;
        if bytes == 0 || links.is_empty() {
            req.phase = Phase::AtSite;
            let at = Event::AtSite {
                req: i,
                attempt: req.attempt,
            };
            let _ = self.sim.schedule(t + req.one_way, at);
            return;
        }
        req.phase = Phase::Sending;
        match self.net.add_flow(t, links, bytes) {
            Ok(f) => {
                req.flow = f.0;
                if self.flow_owner.len() <= f.0 as usize {
                    self.flow_owner.resize(f.0 as usize + 1, u32::MAX);
                }
                self.flow_owner[f.0 as usize] = i;
                self.sync_wake();
            }
            // The path came from the scenario's own links: it cannot be malformed.
            Err(_) => self.lose(i),
        }
    }

    /// The transfer of flow `f` finished at `t`.
    fn sent(&mut self, t: u64, f: FlowId) {
        let i = self.flow_owner[f.0 as usize];
        let req = &mut self.reqs[i as usize];
        req.flow = NO_FLOW;
        let took = (t - req.sent_at).max(1) as f64 / NS as f64;
        let rate = req.sending as f64 * 8.0 / took;
        req.min_rate_bps = req.min_rate_bps.min(rate);
        req.phase = Phase::AtSite;
        let at = Event::AtSite {
            req: i,
            attempt: req.attempt,
        };
        let _ = self.sim.schedule(t + req.one_way, at);
    }

    fn at_site(&mut self, t: u64, i: u32) {
        let req = self.reqs[i as usize];
        if req.phase != Phase::AtSite {
            return;
        }
        let (units, service) = if req.held {
            (req.booked, req.processing_us.saturating_mul(1_000))
        } else {
            // Its hold ended while the input travelled: served at the demand it asked for.
            (0, self.arrivals[i as usize].request.processing.0)
        };
        let site = &mut self.sites[req.site as usize];
        let units = units.min(site.units());
        self.reqs[i as usize].units = units;
        match site.arrive(t, u64::from(i), units, service) {
            Ok(Some(s)) => {
                let attempt = req.attempt;
                let _ = self
                    .sim
                    .schedule(s.finish, Event::Served { req: i, attempt });
            }
            Ok(None) => {}
            Err(_) => self.lose(i),
        }
    }

    fn served(&mut self, t: u64, i: u32) {
        let req = self.reqs[i as usize];
        if req.phase != Phase::AtSite {
            return;
        }
        self.sites[req.site as usize].depart(t, req.units, &mut self.started);
        self.start_jobs();
        let a = &self.arrivals[i as usize];
        let latency_ns = (t - a.at) + req.one_way;
        // The loss of the path it holds now (none once its hold ended).
        let met = !req.stranded
            && a.max_latency.is_none_or(|b| latency_ns <= b.0)
            && (req.min_rate_bps.is_infinite() || req.min_rate_bps >= a.request.bandwidth.0 as f64)
            && (!req.held || req.loss_ok);
        let o = &mut self.outcomes[i as usize];
        o.latency_us = Some(latency_ns.div_ceil(1_000));
        o.reselected = req.reselected;
        o.sla_met = met;
        self.reqs[i as usize].phase = Phase::Finished;
        self.in_flight.remove(&i);
    }

    /// Schedules the completion of the jobs in `self.started`.
    fn start_jobs(&mut self) {
        for s in self.started.drain(..) {
            let req = s.job as u32;
            let attempt = self.reqs[req as usize].attempt;
            let _ = self.sim.schedule(s.finish, Event::Served { req, attempt });
        }
    }

    /// Request `i` is lost in flight: placed, never served.
    fn lose(&mut self, i: u32) {
        let req = &mut self.reqs[i as usize];
        req.attempt += 1;
        if req.flow != NO_FLOW {
            let _ = self.net.remove(self.sim.now(), FlowId(req.flow));
            req.flow = NO_FLOW;
        }
        req.phase = Phase::Finished;
        let o = &mut self.outcomes[i as usize];
        o.sla_met = false;
        o.reselected = req.reselected;
        self.in_flight.remove(&i);
    }

    /// What a what-if change does to the play-out before the scheduler's recovery is
    /// followed: capacity gone or back, a failed site's work gone.
    fn change_begins(&mut self, t: u64, w: WhatIf) {
        match w {
            WhatIf::LinkDown { link, .. } => {
                let _ = self.net.set_capacity(t, link.0, 0);
            }
            WhatIf::LinkUp { link, .. } => {
                let bps = self.scenario.links[link.index()].bandwidth.0;
                let _ = self.net.set_capacity(t, link.0, bps);
            }
            WhatIf::SiteDown { site, .. } => {
                // What it was running and queueing is gone; background load stays held.
                let s = &mut self.sites[site.index()];
                let mut fresh = UnitSite::new(s.units());
                fresh.hold_back(t, s.held(), &mut self.started);
                *s = fresh;
            }
            WhatIf::SiteUp { .. } => {}
        }
    }

    /// What a change does once its recovery was followed: whatever the recovery did not
    /// carry away from a failed link or site is lost.
    fn change_ends(&mut self, w: WhatIf) {
        let lost: Vec<u32> = match w {
            // Transfers still on the link belong to requests whose hold had ended.
            WhatIf::LinkDown { link, .. } => self
                .in_flight
                .iter()
                .copied()
                .filter(|&i| {
                    let f = self.reqs[i as usize].flow;
                    f != NO_FLOW
                        && self
                            .net
                            .path(FlowId(f))
                            .is_some_and(|p| p.contains(&link.0))
                })
                .collect(),
            // Work at the site that no reservation carried elsewhere is gone.
            WhatIf::SiteDown { site, .. } => self
                .in_flight
                .iter()
                .copied()
                .filter(|&i| {
                    let r = &self.reqs[i as usize];
                    r.site == site.0 && r.phase == Phase::AtSite
                })
                .collect(),
            WhatIf::LinkUp { .. } | WhatIf::SiteUp { .. } => Vec::new(),
        };
        for i in lost {
            self.lose(i);
        }
        self.sync_wake();
    }

    /// Request `i` now holds `held` (on `links`), or nothing: a failure's recovery or a
    /// preemption moved or lost it. Moved requests carry on from where they are on their new
    /// path (a transfer continues with what it has left; work at a failed site starts again
    /// with its whole input), lost ones are lost.
    fn follow(
        &mut self,
        t: u64,
        i: u32,
        held: Option<&Held>,
        links: &[u32],
        failed_site: Option<u32>,
    ) {
        let Some(held) = held else {
            let req = &mut self.reqs[i as usize];
            req.held = false;
            match req.phase {
                Phase::Finished | Phase::Idle => {}
                // In line or running at a site that is up: it cannot leave the queue.
                Phase::AtSite if Some(req.site) != failed_site => req.stranded = true,
                _ => self.lose(i),
            }
            return;
        };
        let path = &links[held.links.0 as usize..held.links.1 as usize];
        self.hold(i, held, path);
        let req = self.reqs[i as usize];
        match req.phase {
            Phase::Sending => {
                let left = self.net.remaining(t, FlowId(req.flow)).unwrap_or(0.0);
                let _ = self.net.remove(t, FlowId(req.flow));
                self.reqs[i as usize].flow = NO_FLOW;
                self.reqs[i as usize].reselected += 1;
                self.reselections += 1;
                self.send(t, i, held, path, left.ceil() as u64);
            }
            Phase::AtSite if Some(req.site) == failed_site => {
                self.reqs[i as usize].attempt += 1;
                self.reqs[i as usize].reselected += 1;
                self.reselections += 1;
                let bytes = self.arrivals[i as usize].bytes;
                self.send(t, i, held, path, bytes);
            }
            _ => {}
        }
    }

    fn report(self, duration_s: u64) -> (StrategyReport, Vec<Outcome>) {
        let outcomes = self.outcomes;
        let n = outcomes.len().max(1) as f64;
        let accepted = outcomes.iter().filter(|o| o.site.is_some()).count() as f64;
        let met = outcomes.iter().filter(|o| o.sla_met).count() as f64;
        let critical: Vec<&Outcome> = outcomes.iter().filter(|o| o.class == "critical").collect();
        let critical_met = critical.iter().filter(|o| o.sla_met).count() as f64;
        let mut latencies: Vec<f64> = outcomes
            .iter()
            .filter_map(|o| o.latency_us.map(|l| l as f64 / 1_000.0))
            .collect();
        let mut capacity_tier: BTreeMap<String, f64> = BTreeMap::new();
        // A site's unit queue has its compute (a failure keeps its units).
        for (s, queue) in self.scenario.sites.iter().zip(&self.sites) {
            *capacity_tier.entry(s.tier.to_string()).or_default() += queue.units() as f64;
        }
        let span = duration_s.max(1) as f64;
        let utilisation = capacity_tier
            .iter()
            .map(|(tier, cap)| {
                let booked = self
                    .booked_tier
                    .iter()
                    .find(|(t, _)| t.to_string() == *tier)
                    .map_or(0.0, |(_, b)| *b);
                let u = if *cap > 0.0 {
                    booked / (cap * span)
                } else {
                    0.0
                };
                (tier.clone(), u)
            })
            .collect();
        let report = StrategyReport {
            requests: outcomes.len() as u64,
            sla_satisfaction: met / n,
            acceptance: accepted / n,
            latency_ms: Percentiles {
                p50: percentile(&mut latencies, 0.5),
                p95: percentile(&mut latencies, 0.95),
                p99: percentile(&mut latencies, 0.99),
            },
            utilisation,
            bandwidth_gbit: self.bandwidth,
            cost: self.cost,
            carbon_kg: self.carbon / 1_000.0,
            critical_sla_satisfaction: if critical.is_empty() {
                1.0
            } else {
                critical_met / critical.len() as f64
            },
            reselections: self.reselections,
        };
        (report, outcomes)
    }
}

/// A whole run: every strategy on the same arrivals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub scenario: String,
    pub workload: String,
    pub seed: u64,
    pub duration_s: u64,
    pub requests: usize,
    pub strategies: BTreeMap<String, StrategyReport>,
    /// Strategies asked for but not run, with why (the exact optimum of a large run).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, String>,
}

/// Runs every strategy of `strategies` on `arrivals`; the outcomes per strategy come back for
/// the CSV and the charts.
pub fn compare(
    scenario: &Scenario,
    workload: &str,
    arrivals: &[Arrival],
    strategies: &[Strategy],
    seed: u64,
    duration_s: u64,
    what_if: &[WhatIf],
) -> (Report, BTreeMap<String, Vec<Outcome>>) {
    let policies: Vec<(String, Policy<'_>)> = strategies
        .iter()
        .map(|&s| (s.name().to_string(), Policy::Online(s)))
        .collect();
    let changes = Changes {
        what_if,
        background: &[],
    };
    compare_with(
        scenario,
        workload,
        arrivals,
        &policies,
        seed,
        duration_s,
        changes,
        &mut |_, _| {},
    )
}

/// [`compare`] under named policies with any changes, calling `progress(done, total)` with
/// the arrivals handled so far over all the runs. With two cores or more the runs go side by
/// side, one per core; each run's report is the same as alone.
#[allow(clippy::too_many_arguments)]
pub fn compare_with(
    scenario: &Scenario,
    workload: &str,
    arrivals: &[Arrival],
    policies: &[(String, Policy<'_>)],
    seed: u64,
    duration_s: u64,
    changes: Changes<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> (Report, BTreeMap<String, Vec<Outcome>>) {
    let mut reports = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    let job = Job {
        scenario,
        arrivals,
        seed,
        duration_s,
        changes,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runs = if cores >= 2 && policies.len() >= 2 {
        side_by_side(policies.len().min(cores), job, policies, progress)
    } else {
        let per_run = arrivals.len() as u64;
        let total = per_run * policies.len() as u64;
        let mut runs = Vec::with_capacity(policies.len());
        for (k, (_, policy)) in policies.iter().enumerate() {
            let before = k as u64 * per_run;
            let progress = &mut |done, _| progress(before + done, total);
            runs.push(run_on(job, *policy, progress, job.threads()));
        }
        runs
    };
    for ((name, _), (report, o)) in policies.iter().zip(runs) {
        reports.insert(name.clone(), report);
        outcomes.insert(name.clone(), o);
    }
    (
        Report {
            scenario: scenario.name.clone(),
            workload: workload.to_string(),
            seed,
            duration_s,
            requests: arrivals.len(),
            strategies: reports,
            skipped: BTreeMap::new(),
        },
        outcomes,
    )
}

/// What a run on another thread says: how many more arrivals it handled, or that it ended.
enum RunMessage {
    Progress(u64),
    Done(usize, (StrategyReport, Vec<Outcome>)),
}

/// Every policy's run, in order, on `workers` threads at once (each run on one thread: a run
/// is the same on any thread), with `progress` called on this one with the arrivals handled
/// over all the runs.
fn side_by_side(
    workers: usize,
    job: Job<'_>,
    policies: &[(String, Policy<'_>)],
    progress: &mut dyn FnMut(u64, u64),
) -> Vec<(StrategyReport, Vec<Outcome>)> {
    let total = job.arrivals.len() as u64 * policies.len() as u64;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut runs: Vec<Option<(StrategyReport, Vec<Outcome>)>> = vec![None; policies.len()];
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<RunMessage>();
        for _ in 0..workers {
            let (tx, next) = (tx.clone(), &next);
            scope.spawn(move || {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((_, policy)) = policies.get(k) else {
                        break;
                    };
                    let mut told = 0;
                    let progress = &mut |done: u64, _| {
                        let _ = tx.send(RunMessage::Progress(done.saturating_sub(told)));
                        told = told.max(done);
                    };
                    let run = run_on(job, *policy, progress, None);
                    if tx.send(RunMessage::Done(k, run)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut done = 0;
        for message in rx {
            match message {
                RunMessage::Progress(more) => {
                    done += more;
                    progress(done, total);
                }
                RunMessage::Done(k, run) => runs[k] = Some(run),
            }
        }
    });
    // Every run ended with its result (a run that panicked took the scope down with it).
    runs.into_iter().flatten().collect()
}

/// The outcomes as CSV: one row per strategy and request.
pub fn outcomes_csv(outcomes: &BTreeMap<String, Vec<Outcome>>) -> String {
    let mut out = String::from(
        "strategy,request,class,at_s,site,latency_us,estimate_us,sla_met,reselected\n",
    );
    let us = |v: Option<u64>| v.map_or(String::new(), |l| l.to_string());
    for (strategy, list) in outcomes {
        for o in list {
            let _ = writeln!(
                out,
                "{strategy},{},{},{:.6},{},{},{},{},{}",
                o.name,
                o.class,
                o.at_s,
                o.site.as_deref().unwrap_or(""),
                us(o.latency_us),
                us(o.estimate_us),
                o.sla_met,
                o.reselected
            );
        }
    }
    out
}

/// The summary as CSV: one row per strategy.
pub fn summary_csv(report: &Report) -> String {
    let mut out = String::from(
        "strategy,requests,sla_satisfaction,acceptance,p50_ms,p95_ms,p99_ms,cost,carbon_kg,bandwidth_gbit,reselections\n",
    );
    for (name, s) in &report.strategies {
        let _ = writeln!(
            out,
            "{name},{},{:.6},{:.6},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{}",
            s.requests,
            s.sla_satisfaction,
            s.acceptance,
            s.latency_ms.p50,
            s.latency_ms.p95,
            s.latency_ms.p99,
            s.cost,
            s.carbon_kg,
            s.bandwidth_gbit,
            s.reselections
        );
    }
    out
}

const COLOURS: [&str; 7] = [
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#6b7280",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A self-contained HTML report with SVG charts: the latency CDF per strategy, SLA
/// satisfaction and acceptance, utilisation by tier, and cost against carbon.
pub fn html(report: &Report, outcomes: &BTreeMap<String, Vec<Outcome>>) -> String {
    let (w, h, pad) = (640.0, 320.0, 40.0);
    let mut cdf = String::new();
    let max_ms = outcomes
        .values()
        .flat_map(|o| o.iter().filter_map(|x| x.latency_us))
        .max()
        .unwrap_or(1) as f64
        / 1_000.0;
    for (k, (name, list)) in outcomes.iter().enumerate() {
        let mut l: Vec<f64> = list
            .iter()
            .filter_map(|o| o.latency_us.map(|v| v as f64 / 1_000.0))
            .collect();
        l.sort_by(f64::total_cmp);
        if l.is_empty() {
            continue;
        }
        let step = (l.len() / 200).max(1);
        let points: Vec<String> = l
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(i, v)| {
                let x = pad + v / max_ms.max(1e-9) * (w - 2.0 * pad);
                let y = h - pad - (i + 1) as f64 / l.len() as f64 * (h - 2.0 * pad);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let colour = COLOURS[k % COLOURS.len()];
        let _ = write!(
            cdf,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>{}</title></polyline><text x="{}" y="{}" fill="{colour}" font-size="12">{}</text>"#,
            points.join(" "),
            escape(name),
            w - pad - 140.0,
            pad + 14.0 * k as f64,
            escape(name)
        );
    }
    let bars = |value: &dyn Fn(&StrategyReport) -> f64, max: f64| {
        let mut svg = String::new();
        for (k, (name, s)) in report.strategies.iter().enumerate() {
            let v = value(s);
            let bw = (w - 2.0 * pad - 160.0) * (v / max.max(1e-9)).min(1.0);
            let y = pad + 26.0 * k as f64;
            let _ = write!(
                svg,
                r#"<text x="{pad}" y="{}" font-size="12">{}</text><rect x="{}" y="{}" width="{bw:.1}" height="16" fill="{}"/><text x="{}" y="{}" font-size="12">{v:.3}</text>"#,
                y + 12.0,
                escape(name),
                pad + 150.0,
                y,
                COLOURS[k % COLOURS.len()],
                pad + 155.0 + bw,
                y + 12.0
            );
        }
        svg
    };
    let sla = bars(&|s| s.sla_satisfaction, 1.0);
    // SLA satisfaction over time: the share of the requests arriving in each of 60 windows
    // that were served within their SLA.
    let bins = 60usize;
    let span = report.duration_s.max(1) as f64;
    let mut over_time = String::new();
    for (k, (name, list)) in outcomes.iter().enumerate() {
        let mut met = vec![0u64; bins];
        let mut all = vec![0u64; bins];
        for o in list {
            let b = ((o.at_s / span * bins as f64) as usize).min(bins - 1);
            all[b] += 1;
            met[b] += u64::from(o.sla_met);
        }
        let points: Vec<String> = (0..bins)
            .filter(|&b| all[b] > 0)
            .map(|b| {
                let x = pad + (b as f64 + 0.5) / bins as f64 * (w - 2.0 * pad);
                let y = h - pad - met[b] as f64 / all[b] as f64 * (h - 2.0 * pad);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let colour = COLOURS[k % COLOURS.len()];
        let _ = write!(
            over_time,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>{}</title></polyline><text x="{}" y="{}" fill="{colour}" font-size="12">{}</text>"#,
            points.join(" "),
            escape(name),
            w - pad - 140.0,
            pad + 14.0 * k as f64,
            escape(name)
        );
    }
    let acceptance = bars(&|s| s.acceptance, 1.0);
    let mut tiers = String::new();
    for (k, (name, s)) in report.strategies.iter().enumerate() {
        let cells: Vec<String> = s
            .utilisation
            .iter()
            .map(|(t, u)| format!("{t} {:.2} %", u * 100.0))
            .collect();
        let _ = write!(
            tiers,
            r#"<text x="{pad}" y="{}" font-size="12" fill="{}">{}: {}</text>"#,
            pad + 18.0 * k as f64,
            COLOURS[k % COLOURS.len()],
            escape(name),
            escape(&cells.join(", "))
        );
    }
    let max_cost = report
        .strategies
        .values()
        .map(|s| s.cost)
        .fold(0.0, f64::max);
    let max_carbon = report
        .strategies
        .values()
        .map(|s| s.carbon_kg)
        .fold(0.0, f64::max);
    let mut scatter = String::new();
    for (k, (name, s)) in report.strategies.iter().enumerate() {
        let x = pad + s.cost / max_cost.max(1e-9) * (w - 2.0 * pad - 120.0);
        let y = h - pad - s.carbon_kg / max_carbon.max(1e-9) * (h - 2.0 * pad);
        let colour = COLOURS[k % COLOURS.len()];
        let _ = write!(
            scatter,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="6" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="{colour}">{}</text>"#,
            x + 8.0,
            y + 4.0,
            escape(name)
        );
    }
    let axis = |x_label: &str, y_label: &str| {
        format!(
            r##"<line x1="{pad}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{b}" stroke="#999"/><text x="{r}" y="{t}" font-size="12" text-anchor="end">{x_label}</text><text x="4" y="{pad}" font-size="12">{y_label}</text>"##,
            b = h - pad,
            r = w - pad,
            t = h - 8.0,
        )
    };
    let table: String = report
        .strategies
        .iter()
        .map(|(name, s)| {
            format!(
                "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td></tr>",
                escape(name),
                s.sla_satisfaction,
                s.acceptance,
                s.latency_ms.p50,
                s.latency_ms.p95,
                s.latency_ms.p99,
                s.cost,
                s.carbon_kg,
                s.reselections
            )
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cpn twin: {scenario}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#111}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}svg{{background:#fafafa;border:1px solid #eee;margin:0.5em 0}}</style></head>
<body><h1>cpn digital twin: {scenario}</h1>
<p>Workload <b>{workload}</b>, {requests} requests over {duration} s, seed {seed}. Every strategy saw the same arrivals.</p>
<table><tr><th>strategy</th><th>SLA satisfaction</th><th>acceptance</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>cost</th><th>carbon kg</th><th>re-selections</th></tr>{table}</table>
<h2>End-to-end latency (CDF of placed requests)</h2>
<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}">{axis_cdf}{cdf}</svg>
<h2>SLA satisfaction</h2><svg viewBox="0 0 {w} {hb}" width="{w}" height="{hb}">{sla}</svg>
<h2>SLA satisfaction over time (by arrival)</h2>
<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}">{axis_time}{over_time}</svg>
<h2>Acceptance</h2><svg viewBox="0 0 {w} {hb}" width="{w}" height="{hb}">{acceptance}</svg>
<h2>Utilisation by tier</h2><svg viewBox="0 0 {w} {hb}" width="{w}" height="{hb}">{tiers}</svg>
<h2>Cost against carbon</h2><svg viewBox="0 0 {w} {h}" width="{w}" height="{h}">{axis_cc}{scatter}</svg>
</body></html>
"#,
        scenario = escape(&report.scenario),
        workload = escape(&report.workload),
        requests = report.requests,
        duration = report.duration_s,
        seed = report.seed,
        hb = pad * 2.0 + 26.0 * report.strategies.len() as f64,
        axis_cdf = axis(&format!("latency, ms (max {max_ms:.1})"), "share"),
        axis_cc = axis("cost", "carbon"),
        axis_time = axis(
            &format!("arrival time, s (0 to {})", report.duration_s),
            "share 0-1"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scheduler's half on a thread of its own or inline: the same report and the same
    /// outcomes, byte for byte, with failures, repairs and background load.
    #[test]
    fn a_run_is_the_same_on_one_thread_or_two() {
        let s = cpn_model::built_in("national")
            .expect("known")
            .expect("valid");
        let arrivals = mixed(&s, 7, 20.0, 120);
        let mut what_if = random_link_failures(&s, 600.0, 20.0, 120, 3);
        what_if.extend(random_site_failures(&s, 600.0, 20.0, 120, 4));
        what_if.sort_by_key(|w| w.at_s());
        assert!(what_if.len() > 5, "the run must fail things");
        // Load nobody announced, on every tenth site, changing every 5 s.
        let mut rng = Rng::new(9);
        let background: Vec<BackgroundStep> = (0..120)
            .step_by(5)
            .flat_map(|at_s| {
                s.sites
                    .iter()
                    .step_by(10)
                    .map(|site| (at_s, site.id))
                    .collect::<Vec<_>>()
            })
            .map(|(at_s, site)| BackgroundStep {
                at_s,
                site,
                used: rng.uniform(0.0, 0.9),
            })
            .collect();
        let changes = Changes {
            what_if: &what_if,
            background: &background,
        };
        let job = Job {
            scenario: &s,
            arrivals: &arrivals,
            seed: 7,
            duration_s: 120,
            changes,
        };
        let run = |threads| run_on(job, Policy::Online(Strategy::Cpn), &mut |_, _| {}, threads);
        let (one, one_out) = run(None);
        // Small batches, so that the play-out waits for the scheduler many times.
        let (two, two_out) = run(Some(64));
        assert!(one.reselections > 0, "failures must move requests");
        assert_eq!(one, two);
        assert_eq!(one_out, two_out);
    }

    /// Strategies side by side on several threads: each one's report and outcomes are those
    /// of its run alone.
    #[test]
    fn strategies_side_by_side_report_as_alone() {
        let s = cpn_model::built_in("national")
            .expect("known")
            .expect("valid");
        let arrivals = mixed(&s, 3, 20.0, 30);
        let what_if = random_link_failures(&s, 300.0, 10.0, 30, 5);
        let policies: Vec<(String, Policy<'_>)> = Strategy::ALL
            .iter()
            .map(|&k| (k.name().to_string(), Policy::Online(k)))
            .collect();
        let changes = Changes {
            what_if: &what_if,
            background: &[],
        };
        let job = Job {
            scenario: &s,
            arrivals: &arrivals,
            seed: 3,
            duration_s: 30,
            changes,
        };
        let mut seen = 0;
        let runs = side_by_side(2, job, &policies, &mut |done, total| {
            assert!(
                done >= seen && done <= total,
                "{done} of {total} after {seen}"
            );
            seen = done;
        });
        assert_eq!(seen, (arrivals.len() * policies.len()) as u64);
        assert_eq!(runs.len(), policies.len());
        for ((name, policy), run) in policies.iter().zip(&runs) {
            let alone = run_on(job, *policy, &mut |_, _| {}, None);
            assert_eq!(run, &alone, "{name}");
        }
    }
}
