//! Workloads of the twin beyond the homogeneous [`crate::twin::mixed`]: the same request mix
//! under a daily cycle ([`diurnal`]) and in bursts ([`bursty`]), the Alibaba GPU cluster trace
//! as requests ([`from_openb`]), and the datacenter utilisation series as background load on
//! sites ([`background`]). Every rule here is stated in docs/twin.md ("Workloads from models
//! and traces"), with the numbers behind the defaults.
//!
//! Like the rest of the crate this does no I/O: traces come in as records read by `cpn-trace`,
//! and randomness comes from a seed, so the same inputs give the same arrivals.

use cpn_model::{RouterId, Scenario, ServiceId, SiteId};
use cpn_route::Objective;
use cpn_sched::PlaceRequest;
use cpn_trace::{GpuTask, Qos, USAGE_STEP_S, UsageSeries};
use cpn_units::{Bandwidth, Flops, Nanos};

use crate::rng::{Rng, to_ns};
use crate::twin::Arrival;

const NS: u64 = 1_000_000_000;
const DAY_S: u64 = 86_400;

/// Where the requests of a workload enter.
pub(crate) enum Ingress {
    /// Uniformly among these routers: the rule of [`crate::twin::mixed`].
    Uniform(Vec<RouterId>),
    /// In proportion to weights: the routers, and the running totals of their weights.
    Weighted {
        routers: Vec<RouterId>,
        cumulative: Vec<u64>,
    },
}

impl Ingress {
    /// Routers weighted by counts (users, stations); routers of weight 0 never draw.
    pub(crate) fn weighted(sources: &[(RouterId, u64)]) -> Ingress {
        let mut routers = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        for &(router, weight) in sources.iter().filter(|(_, w)| *w > 0) {
            total = total.saturating_add(weight);
            routers.push(router);
            cumulative.push(total);
        }
        Ingress::Weighted {
            routers,
            cumulative,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Ingress::Uniform(r) | Ingress::Weighted { routers: r, .. } => r.is_empty(),
        }
    }

    /// One router; the uniform rule makes exactly the draw `mixed` makes.
    fn pick(&self, rng: &mut Rng) -> RouterId {
        match self {
            Ingress::Uniform(routers) => routers[rng.below(routers.len() as u64) as usize],
            Ingress::Weighted {
                routers,
                cumulative,
            } => {
                let x = rng.below(cumulative.last().copied().unwrap_or(0));
                routers[cumulative.partition_point(|&c| c <= x)]
            }
        }
    }
}

/// The request mix of [`crate::twin::mixed`], drawn in the same order from the same stream, so
/// that every synthetic workload differs from it only in when and where requests arrive.
struct Mix {
    critical: Vec<(ServiceId, Nanos)>,
}

impl Mix {
    fn of(scenario: &Scenario) -> Mix {
        let critical = scenario
            .services
            .iter()
            .filter_map(|s| {
                let bound = s.sla.and_then(|id| scenario.slas[id.index()].max_latency)?;
                Some((s.id, bound))
            })
            .collect();
        Mix { critical }
    }

    /// 70 % latency-critical (a service with a latency SLA, held 10-60 s, priority 5, a 4 kB
    /// request), 30 % delay-tolerant (20-220 TFLOPS with 2 s of processing, by cost, held
    /// 2-10 min, 50-500 MB of input).
    fn arrival(&self, rng: &mut Rng, n: u64, at: u64, from: RouterId) -> Arrival {
        let base = PlaceRequest {
            bandwidth: Bandwidth(10_000_000),
            ..PlaceRequest::new(format!("r{n}"), from)
        };
        if !self.critical.is_empty() && rng.bernoulli(0.7) {
            let (service, bound) = self.critical[rng.below(self.critical.len() as u64) as usize];
            Arrival {
                at,
                request: PlaceRequest {
                    service: Some(service),
                    max_latency: Some(bound),
                    priority: 5,
                    ..base
                },
                hold_s: 10 + rng.below(51),
                max_latency: Some(bound),
                class: "critical",
                bytes: crate::twin::CRITICAL_BYTES,
            }
        } else {
            let tflops = 20 + rng.below(201);
            Arrival {
                at,
                request: PlaceRequest {
                    demand: Some(Flops::fp64(u128::from(tflops) * 1_000_000_000_000)),
                    processing: Nanos(2 * NS),
                    objective: Objective::Cost,
                    ..base
                },
                hold_s: 120 + rng.below(481),
                max_latency: None,
                class: "tolerant",
                bytes: (50 + rng.below(451)) * 1_000_000,
            }
        }
    }
}

/// Arrivals of the mixed request mix at the times `next` gives (from the previous arrival's
/// time, in ns) until the end of the run, each from an ingress drawn by `ingress`.
pub(crate) fn generate(
    scenario: &Scenario,
    rng: &mut Rng,
    duration_s: u64,
    ingress: &Ingress,
    mut next: impl FnMut(&mut Rng, u64) -> u64,
) -> Vec<Arrival> {
    let mix = Mix::of(scenario);
    let end = duration_s.saturating_mul(NS);
    let mut out = Vec::new();
    let (mut t, mut n) = (0u64, 0u64);
    loop {
        t = next(rng, t);
        if t >= end || ingress.is_empty() {
            break;
        }
        n += 1;
        let from = ingress.pick(rng);
        out.push(mix.arrival(rng, n, t, from));
    }
    out
}

/// Homogeneous Poisson arrivals at `rate` per second: the next one after `t` ns.
pub(crate) fn poisson(rate: f64) -> impl FnMut(&mut Rng, u64) -> u64 {
    move |rng, t| t.saturating_add(rng.exponential_ns(NS as f64 / rate.max(1e-9)))
}

/// A daily cycle of the arrival rate:
/// `λ(t) = mean × (1 + amplitude × cos(2π (t − peak_s) / period_s))`, whose mean over a whole
/// period is `mean`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diurnal {
    /// Length of one cycle in simulated seconds.
    pub period_s: f64,
    /// Relative swing, 0 (flat) to 1 (the trough at zero); clamped to that range.
    pub amplitude: f64,
    /// When in the cycle the rate peaks, seconds from the start of the run.
    pub peak_s: f64,
}

impl Diurnal {
    /// A day of 24 h starting at midnight, peaking at noon, with amplitude 0.5 (the trough is
    /// a third of the peak): the median daily swing (max − min) / (max + min) of the Alibaba
    /// 2018 CPU series in `$CPN_DATA_DIR` is 0.53 (Google 2019: 0.21, Azure 2019: 0.11).
    pub const DAY: Diurnal = Diurnal {
        period_s: 86_400.0,
        amplitude: 0.5,
        peak_s: 43_200.0,
    };

    /// The same day compressed into `period_s` simulated seconds (such as the run's own
    /// duration, so that a 600 s run shows trough, peak and trough again).
    pub fn compressed(period_s: f64) -> Diurnal {
        Diurnal {
            period_s,
            peak_s: period_s / 2.0,
            ..Diurnal::DAY
        }
    }

    /// The arrival rate at `t_s` seconds for a mean of `mean` per second.
    pub fn rate(&self, mean: f64, t_s: f64) -> f64 {
        let phase = std::f64::consts::TAU * (t_s - self.peak_s) / self.period_s.max(1e-9);
        mean * (1.0 + self.amplitude.clamp(0.0, 1.0) * phase.cos())
    }
}

/// The mixed request mix arriving as a non-homogeneous Poisson process of rate
/// [`Diurnal::rate`], drawn by thinning (Lewis and Shedler 1979): candidates at the peak
/// rate `mean × (1 + amplitude)`, each kept with probability `λ(t) / peak`. Ingress as
/// [`crate::twin::mixed`].
pub fn diurnal(
    scenario: &Scenario,
    seed: u64,
    mean_rate: f64,
    duration_s: u64,
    cycle: Diurnal,
) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let peak = mean_rate.max(1e-9) * (1.0 + cycle.amplitude.clamp(0.0, 1.0));
    let end = duration_s.saturating_mul(NS);
    let ingress = Ingress::Uniform(scenario.access_routers());
    generate(scenario, &mut rng, duration_s, &ingress, |rng, mut t| {
        loop {
            t = t.saturating_add(rng.exponential_ns(NS as f64 / peak));
            if t >= end || rng.bernoulli(cycle.rate(mean_rate, t as f64 / NS as f64) / peak) {
                return t;
            }
        }
    })
}

/// Bursts: a Markov-modulated Poisson process of two states. The source stays on for an
/// exponential time of mean `on_mean_s`, then off for one of mean `off_mean_s`, and so on;
/// while on it sends `ratio` times the rate it sends while off. The two rates are set so
/// that the long-run mean is the workload's mean rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bursty {
    pub on_mean_s: f64,
    pub off_mean_s: f64,
    /// On rate over off rate, at least 1; infinite for an interrupted Poisson process that is
    /// silent while off.
    pub ratio: f64,
}

/// The stream of the seed the on/off chain draws from, apart from the arrivals' own.
const STATE_STREAM: u64 = 0x0b57_0f57;

impl Bursty {
    /// On 10 s, off 50 s, ten times the rate while on: the on rate is 4 × the mean and the
    /// off rate 0.4 × the mean. An assumption of ours, to show bursts within a short run.
    pub const DEFAULT: Bursty = Bursty {
        on_mean_s: 10.0,
        off_mean_s: 50.0,
        ratio: 10.0,
    };

    /// The long-run share of time on.
    pub fn on_share(&self) -> f64 {
        let (on, off) = (self.on_mean_s.max(1e-9), self.off_mean_s.max(1e-9));
        on / (on + off)
    }

    /// The arrival rates while on and while off that give `mean_rate` in the long run:
    /// `off = mean / (p × ratio + 1 − p)`, `on = ratio × off`, with `p` the share of time on.
    pub fn rates(&self, mean_rate: f64) -> (f64, f64) {
        let p = self.on_share();
        if self.ratio.is_infinite() {
            return (mean_rate / p, 0.0);
        }
        let ratio = self.ratio.max(1.0);
        let off = mean_rate / (p * ratio + 1.0 - p);
        (off * ratio, off)
    }

    /// The on periods of a run, `[start, end)` in seconds, cut at its end: the chain alone,
    /// as [`bursty`] draws it for the same seed.
    pub fn on_periods(&self, seed: u64, duration_s: u64) -> Vec<(f64, f64)> {
        let mut chain = Chain::new(self, seed);
        let end = duration_s as f64;
        let mut out = Vec::new();
        let mut from = 0.0;
        while from < end {
            if chain.on {
                out.push((from, chain.until.min(end)));
            }
            from = chain.until;
            chain.advance(self);
        }
        out
    }
}

/// The on/off state of a bursty source and when it next changes, in seconds.
struct Chain {
    rng: Rng,
    on: bool,
    until: f64,
}

impl Chain {
    fn new(bursts: &Bursty, seed: u64) -> Chain {
        let mut rng = Rng::new(seed).fork(STATE_STREAM);
        // Start in the stationary distribution, so the run has no warm-up.
        let on = rng.bernoulli(bursts.on_share());
        let until = rng.exponential(Chain::mean(bursts, on));
        Chain { rng, on, until }
    }

    fn mean(bursts: &Bursty, on: bool) -> f64 {
        if on {
            bursts.on_mean_s.max(1e-9)
        } else {
            bursts.off_mean_s.max(1e-9)
        }
    }

    fn advance(&mut self, bursts: &Bursty) {
        self.on = !self.on;
        self.until += self.rng.exponential(Chain::mean(bursts, self.on));
    }
}

/// The mixed request mix arriving in bursts (see [`Bursty`]) at a long-run mean of
/// `mean_rate` per second. Within a state arrivals are Poisson; at a change of state the next
/// arrival is drawn afresh from the new rate, which is exact since the exponential is
/// memoryless. Ingress as [`crate::twin::mixed`].
pub fn bursty(
    scenario: &Scenario,
    seed: u64,
    mean_rate: f64,
    duration_s: u64,
    bursts: Bursty,
) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let mut chain = Chain::new(&bursts, seed);
    let (on_rate, off_rate) = bursts.rates(mean_rate);
    let end = duration_s.saturating_mul(NS);
    let ingress = Ingress::Uniform(scenario.access_routers());
    generate(scenario, &mut rng, duration_s, &ingress, |rng, mut t| {
        loop {
            let rate = if chain.on { on_rate } else { off_rate };
            let until = to_ns(chain.until * NS as f64);
            if rate > 0.0 {
                let next = t.saturating_add(rng.exponential_ns(NS as f64 / rate));
                if next < until {
                    return next;
                }
            }
            if until >= end {
                return end;
            }
            t = until;
            chain.advance(&bursts);
        }
    })
}

/// Computing power per CPU core asked of an openb task, GFLOPS fp64: 2.5 GHz × 16 fp64
/// operations per cycle (AVX2, two FMA units), the per-core figure of the built-in national
/// scenario's racks and of `cpn_model::synthetic` (25 cores per TFLOPS).
pub const OPENB_GFLOPS_PER_CORE: u128 = 40;

/// The time scale that fits every creation of the openb trace into a run of `duration_s`
/// simulated seconds, the last one a second before its end: trace seconds per simulated
/// second, at least 1 (never stretched). For the shipped files (12,901,761 s between the
/// first and the last creation, 149 days) and a 600 s run it is about 21,538.
pub fn openb_time_scale(tasks: &[GpuTask], duration_s: u64) -> f64 {
    let first = tasks.iter().map(|t| t.creation_s).min().unwrap_or(0);
    let last = tasks.iter().map(|t| t.creation_s).max().unwrap_or(0);
    ((last - first) as f64 / duration_s.saturating_sub(1).max(1) as f64).max(1.0)
}

/// The accelerator models of a scenario with their count over all sites, by name.
struct GpuModels(Vec<(String, u64)>);

impl GpuModels {
    fn of(scenario: &Scenario) -> GpuModels {
        let mut totals = std::collections::BTreeMap::<&str, u64>::new();
        for site in &scenario.sites {
            for (model, n) in &site.capacity.gpus {
                *totals.entry(model).or_default() += n;
            }
        }
        GpuModels(
            totals
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(m, n)| (m.to_string(), n))
                .collect(),
        )
    }

    /// The model a task with the allowed models `spec` asks for: the first of `spec` the
    /// scenario has, by its name or as the last word of the scenario's name (`T4` is
    /// `NVIDIA T4`); otherwise, for an unconstrained task or one whose models the scenario
    /// lacks, a model drawn in proportion to the scenario's inventory, which is what "any"
    /// comes to when the scheduler books one model. A scenario without accelerators gets the
    /// task's first model (or `GPU`), which the scheduler refuses.
    fn pick(&self, spec: &[String], rng: &mut Rng) -> String {
        for wanted in spec {
            let known = self.0.iter().find(|(m, _)| {
                m == wanted || m.rsplit(' ').next().is_some_and(|last| last == wanted)
            });
            if let Some((m, _)) = known {
                return m.clone();
            }
        }
        let total: u64 = self.0.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return spec.first().cloned().unwrap_or_else(|| "GPU".to_string());
        }
        let mut x = rng.below(total);
        for (m, n) in &self.0 {
            if x < *n {
                return m.clone();
            }
            x -= n;
        }
        // Unreachable: x < total, the sum of the counts.
        self.0[0].0.clone()
    }
}

/// Arrivals from the Alibaba GPU cluster trace 2023 (openb). Each task becomes one request:
/// - at its creation time, shifted so that the first is at 0 and divided by `time_scale`
///   (trace seconds per simulated second; [`openb_time_scale`] fits the whole trace into the
///   run), kept when that is within `duration_s`;
/// - held from creation to deletion, divided by the same scale (so that the number of tasks
///   alive at once is the trace's), rounded up and at least 1 s; a task never deleted in the
///   trace is held to the end of the run;
/// - asking for its CPU (whole cores, rounded up), its memory in MiB, and, with GPUs, that many
///   accelerators of one model chosen by the rule of docs/twin.md (a shared GPU books a whole
///   one: the scheduler counts whole accelerators); a compute demand of
///   [`OPENB_GFLOPS_PER_CORE`] per requested core (in milli-cores), 2 s of processing, 1 Mbps;
/// - latency-sensitive (`LS`) and `Guaranteed` tasks are class `critical` at priority 5 with
///   the balanced objective, `BE` and `Burstable` ones `tolerant` at priority 0 by cost; none
///   has a latency bound (the trace states none);
/// - entering at an edge or end router drawn with `seed`, as the trace has no place.
pub fn from_openb(
    scenario: &Scenario,
    tasks: &[GpuTask],
    seed: u64,
    duration_s: u64,
    time_scale: f64,
) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let ingress = scenario.access_routers();
    let models = GpuModels::of(scenario);
    let scale = if time_scale.is_finite() && time_scale > 0.0 {
        time_scale
    } else {
        1.0
    };
    let first = tasks.iter().map(|t| t.creation_s).min().unwrap_or(0);
    let end = duration_s.saturating_mul(NS);
    let mut out = Vec::new();
    for task in tasks {
        let at = to_ns((task.creation_s - first) as f64 * NS as f64 / scale);
        if at >= end || ingress.is_empty() {
            continue;
        }
        let from = ingress[rng.below(ingress.len() as u64) as usize];
        let held_s = match task.deletion_s {
            Some(deleted) => deleted.saturating_sub(task.creation_s) as f64 / scale,
            None => (end - at) as f64 / NS as f64,
        };
        let gpus = if task.num_gpu == 0 {
            Vec::new()
        } else {
            vec![(
                models.pick(&task.gpu_spec, &mut rng),
                u64::from(task.num_gpu),
            )]
        };
        let critical = matches!(task.qos, Qos::Ls | Qos::Guaranteed);
        let milli = u128::from(task.cpu_milli.max(1));
        let request = PlaceRequest {
            demand: Some(Flops::fp64(milli * OPENB_GFLOPS_PER_CORE * 1_000_000)),
            processing: Nanos(2 * NS),
            cores: u64::from(task.cpu_milli.div_ceil(1000)),
            memory_mib: u64::from(task.memory_mib),
            gpus,
            priority: if critical { 5 } else { 0 },
            objective: if critical {
                Objective::BALANCED
            } else {
                Objective::Cost
            },
            bandwidth: Bandwidth(1_000_000),
            ..PlaceRequest::new(task.name.clone(), from)
        };
        out.push(Arrival {
            at,
            request,
            hold_s: (held_s.ceil() as u64).max(1),
            max_latency: None,
            class: if critical { "critical" } else { "tolerant" },
            // The trace says nothing of the pods' input: none is sent.
            bytes: 0,
        });
    }
    // The trace is in creation order; a stable sort keeps it so for any other input.
    out.sort_by_key(|a| a.at);
    out
}

/// The background load of one site from one step on: the share of its compute that work
/// outside the twin uses until the next step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundStep {
    /// Simulated seconds from the start of the run.
    pub at_s: u64,
    pub site: SiteId,
    /// Fraction 0-1 of the site's compute in use.
    pub used: f64,
}

/// The shipped utilisation files, by the name a user gives them: `alibaba`, `azure`,
/// `google`, or `mixed` for all three, under `$CPN_DATA_DIR/datacenter-usage-timeseries`.
pub fn usage_files(name: &str) -> Option<&'static [&'static str]> {
    const ALIBABA: &str = "alibaba2018_machine_usage_300s_8days.csv";
    const AZURE: &str = "azure2019_vm_cpu_mem_300s_month.csv";
    const GOOGLE: &str = "google2019_instance_usage_300s_month.csv";
    match name {
        "alibaba" => Some(&[ALIBABA]),
        "azure" => Some(&[AZURE]),
        "google" => Some(&[GOOGLE]),
        "mixed" => Some(&[ALIBABA, AZURE, GOOGLE]),
        _ => None,
    }
}

/// Background load on every site from utilisation series, every `step_s` simulated seconds
/// of the run, sorted by time then site:
/// - each site follows one series: the series are dealt round-robin over the sites in id
///   order, starting from one drawn with `seed` (with one series, every site follows it);
/// - each site starts at a whole day of its series drawn with `seed` (among the whole days
///   it holds), so that sites see different days at the same time of day;
/// - simulated time `t` reads the series at `offset + t × time_scale` (trace seconds per
///   simulated second: 1 is real time, 144 shows a day in 600 s), the 300 s window that
///   holds it, wrapping round at the series' end;
/// - `used` is the window's CPU fraction (for Azure 2019, relative to its peak).
///
/// Series without samples are ignored; with none left there is no background.
pub fn background(
    scenario: &Scenario,
    series: &[UsageSeries],
    seed: u64,
    duration_s: u64,
    step_s: u64,
    time_scale: f64,
) -> Vec<BackgroundStep> {
    let series: Vec<&UsageSeries> = series.iter().filter(|s| !s.samples.is_empty()).collect();
    if series.is_empty() {
        return Vec::new();
    }
    let scale = if time_scale.is_finite() && time_scale >= 0.0 {
        time_scale
    } else {
        1.0
    };
    let mut rng = Rng::new(seed);
    let first = rng.below(series.len() as u64) as usize;
    let followed: Vec<(&UsageSeries, u64)> = (0..scenario.sites.len())
        .map(|i| {
            let s = series[(first + i) % series.len()];
            let days = (s.samples.len() as u64 * USAGE_STEP_S / DAY_S).max(1);
            (s, rng.below(days) * DAY_S)
        })
        .collect();
    let step = step_s.max(1);
    let mut out = Vec::new();
    let mut at_s = 0;
    while at_s < duration_s {
        for (site, (s, offset)) in scenario.sites.iter().zip(&followed) {
            let trace_s = *offset as f64 + at_s as f64 * scale;
            let window = (trace_s / USAGE_STEP_S as f64) as u64 % s.samples.len() as u64;
            out.push(BackgroundStep {
                at_s,
                site: site.id,
                used: s.samples[window as usize].cpu.clamp(0.0, 1.0),
            });
        }
        at_s = at_s.saturating_add(step);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn national() -> Scenario {
        cpn_model::built_in("national")
            .expect("known")
            .expect("valid")
    }

    #[test]
    fn weighted_ingress_follows_the_weights() {
        let ingress = Ingress::weighted(&[(RouterId(3), 1), (RouterId(5), 0), (RouterId(7), 3)]);
        let mut rng = Rng::new(1);
        let n = 40_000;
        let sevens = (0..n)
            .map(|_| ingress.pick(&mut rng))
            .inspect(|r| assert_ne!(*r, RouterId(5)))
            .filter(|r| *r == RouterId(7))
            .count();
        let share = sevens as f64 / n as f64;
        assert!((share - 0.75).abs() < 0.01, "{share}");
    }

    #[test]
    fn burst_rates_average_to_the_mean() {
        for b in [
            Bursty::DEFAULT,
            Bursty {
                ratio: f64::INFINITY,
                ..Bursty::DEFAULT
            },
            Bursty {
                ratio: 1.0,
                on_mean_s: 3.0,
                off_mean_s: 1.0,
            },
        ] {
            let (on, off) = b.rates(12.0);
            let p = b.on_share();
            assert!((p * on + (1.0 - p) * off - 12.0).abs() < 1e-9, "{b:?}");
        }
        assert_eq!(Bursty::DEFAULT.rates(1.0), (4.0, 0.4));
    }

    #[test]
    fn gpu_models_by_name_or_by_inventory() {
        let s = national();
        let models = GpuModels::of(&s);
        let mut rng = Rng::new(1);
        assert_eq!(models.pick(&["H20".into()], &mut rng), "NVIDIA H20");
        assert_eq!(
            models.pick(&["T4".into(), "Huawei Ascend 910B".into()], &mut rng),
            "Huawei Ascend 910B"
        );
        let drawn: Vec<String> = (0..2000)
            .map(|_| models.pick(&["V100M32".into()], &mut rng))
            .collect();
        assert!(drawn.iter().all(|m| models.0.iter().any(|(k, _)| k == m)));
        // The national inventory is about three quarters Ascend 910B.
        let ascend = drawn.iter().filter(|m| *m == "Huawei Ascend 910B").count();
        assert!((1300..1700).contains(&ascend), "{ascend}");
        assert_eq!(
            GpuModels(Vec::new()).pick(&["T4".into()], &mut rng),
            "T4".to_string()
        );
    }
}
