//! The twin's workloads beyond `mixed`: the synthetic ones keep their stated rates, the traces
//! become requests one for one, background load covers every site within 0-1, edge scenarios
//! stand at the stations, and the scheduler takes every request (placing or refusing it)
//! without an error. Tests on the shipped data skip loudly without it and fail on CI.

use std::collections::BTreeSet;
use std::path::PathBuf;

use cpn_model::{Scenario, Tier};
use cpn_sched::{PlaceRequest, Scheduler};
use cpn_sim::edge::{self, EdgePoint, EdgeSpec, StationCapacity};
use cpn_sim::twin::Arrival;
use cpn_sim::workload::{self, Bursty, Diurnal};
use cpn_trace::{LatLon, UsageSample, UsageSeries, UsageSource};

const NS: u64 = 1_000_000_000;

fn national() -> Scenario {
    cpn_model::built_in("national")
        .expect("known")
        .expect("valid")
}

fn file(set: &str, name: &str) -> Option<PathBuf> {
    cpn_testdata::data_dir(set).map(|d| d.join(name))
}

/// Every one of the first `n` arrivals, in order with its window, is placed or refused by the
/// real scheduler: never an error (no demand, an empty window, a calendar fault).
fn placeable_or_refusable(scenario: &Scenario, arrivals: &[Arrival], n: usize) {
    let mut sched = Scheduler::new(scenario);
    for a in arrivals.iter().take(n) {
        let start = a.at / NS;
        let request = PlaceRequest {
            start,
            end: start + a.hold_s.max(1),
            ..a.request.clone()
        };
        if let Err(e) = sched.place(request) {
            panic!("{}: {e}", a.request.name);
        }
    }
}

fn sorted(arrivals: &[Arrival]) -> bool {
    arrivals.windows(2).all(|w| w[0].at <= w[1].at)
}

#[test]
fn synthetic_workloads_are_deterministic_per_seed() {
    let s = national();
    let day = Diurnal::compressed(120.0);
    let a = workload::diurnal(&s, 1, 10.0, 120, day);
    assert_eq!(a, workload::diurnal(&s, 1, 10.0, 120, day));
    assert_ne!(a, workload::diurnal(&s, 2, 10.0, 120, day));
    let b = workload::bursty(&s, 1, 10.0, 120, Bursty::DEFAULT);
    assert_eq!(b, workload::bursty(&s, 1, 10.0, 120, Bursty::DEFAULT));
    assert_ne!(b, workload::bursty(&s, 2, 10.0, 120, Bursty::DEFAULT));
    assert!(sorted(&a) && sorted(&b));
    // The mix is mixed's: 70 % critical requests of a service with an SLA.
    let critical = a.iter().filter(|x| x.class == "critical").count() as f64 / a.len() as f64;
    assert!((critical - 0.7).abs() < 0.05, "{critical}");
    placeable_or_refusable(&s, &a, 300);
    placeable_or_refusable(&s, &b, 300);
}

#[test]
fn diurnal_arrivals_keep_the_mean_and_follow_the_cycle() {
    let s = national();
    // One whole cycle of an hour at a mean of 20/s: 72,000 expected, sd 268 (0.4 %).
    let a = workload::diurnal(&s, 7, 20.0, 3600, Diurnal::compressed(3600.0));
    let n = a.len() as f64;
    assert!((n / 72_000.0 - 1.0).abs() < 0.02, "{n}");
    // The half around the peak (900-2700 s) against the rest: (1 + 2a/π) / (1 - 2a/π) = 1.93
    // for amplitude 0.5.
    let peak = a
        .iter()
        .filter(|x| (900 * NS..2700 * NS).contains(&x.at))
        .count() as f64;
    let ratio = peak / (n - peak);
    assert!((ratio - 1.93).abs() < 0.1, "{ratio}");
    // Flat when the amplitude is 0.
    let flat = Diurnal {
        amplitude: 0.0,
        ..Diurnal::compressed(3600.0)
    };
    let f = workload::diurnal(&s, 7, 20.0, 3600, flat);
    let first_half = f.iter().filter(|x| x.at < 1800 * NS).count() as f64;
    assert!((first_half / f.len() as f64 - 0.5).abs() < 0.02);
    // A day of 24 h by default, peaking at noon.
    assert_eq!(Diurnal::DAY.rate(2.0, 43_200.0), 3.0);
    assert_eq!(Diurnal::DAY.rate(2.0, 0.0), 1.0);
}

#[test]
fn bursty_arrivals_keep_the_mean_and_the_on_off_rates() {
    let s = national();
    let bursts = Bursty::DEFAULT;
    let (duration, seed) = (200_000, 11);
    // Mean 1/s over 200,000 s: the count's sd is about 1.3 % (the on/off chain adds to the
    // Poisson variance), so 5 % is four of them.
    let a = workload::bursty(&s, seed, 1.0, duration, bursts);
    let n = a.len() as f64;
    assert!((n / duration as f64 - 1.0).abs() < 0.05, "{n}");
    let periods = bursts.on_periods(seed, duration);
    let on_time: f64 = periods.iter().map(|(a, b)| b - a).sum();
    let mean_on = on_time / periods.len() as f64;
    let mean_off = (duration as f64 - on_time) / periods.len() as f64;
    assert!((mean_on / 10.0 - 1.0).abs() < 0.06, "{mean_on}");
    assert!((mean_off / 50.0 - 1.0).abs() < 0.06, "{mean_off}");
    // Arrivals while on and while off, at 4/s and 0.4/s.
    let mut k = 0;
    let mut during_on = 0usize;
    for x in &a {
        let t = x.at as f64 / NS as f64;
        while k < periods.len() && periods[k].1 <= t {
            k += 1;
        }
        if k < periods.len() && periods[k].0 <= t {
            during_on += 1;
        }
    }
    let on_rate = during_on as f64 / on_time;
    let off_rate = (n - during_on as f64) / (duration as f64 - on_time);
    assert!((on_rate / 4.0 - 1.0).abs() < 0.03, "{on_rate}");
    assert!((off_rate / 0.4 - 1.0).abs() < 0.03, "{off_rate}");
}

#[test]
fn background_reads_each_site_s_series_at_its_own_day() {
    // A synthetic series of two days whose CPU is its window's index / 1000.
    let series = UsageSeries {
        source: UsageSource::Google2019,
        samples: (0..576u64)
            .map(|i| UsageSample {
                offset_s: i * 300,
                cpu: i as f64 / 1000.0,
                mem: 0.0,
            })
            .collect(),
        peaks: None,
    };
    let s = national();
    let steps = workload::background(&s, std::slice::from_ref(&series), 3, 3000, 300, 1.0);
    assert_eq!(steps.len(), 10 * s.sites.len());
    for site in &s.sites {
        let mine: Vec<f64> = steps
            .iter()
            .filter(|x| x.site == site.id)
            .map(|x| x.used)
            .collect();
        // Starts at a whole day (window 0 or 288) and moves one window per 300 s.
        assert!(mine[0] == 0.0 || mine[0] == 0.288, "{}", mine[0]);
        assert!(mine.windows(2).all(|w| (w[1] - w[0] - 0.001).abs() < 1e-9));
    }
    // Compressed: 144 trace seconds per simulated second reads a window every 300/144 s, and
    // wraps round at the end of the series.
    let fast = workload::background(&s, std::slice::from_ref(&series), 3, 12_000, 600, 144.0);
    assert!(fast.iter().all(|x| x.used < 0.576));
    assert!(workload::background(&s, &[], 3, 600, 60, 1.0).is_empty());
}

#[test]
fn background_from_the_shipped_series_covers_every_site_within_0_1() {
    let Some(dir) = cpn_testdata::data_dir("datacenter-usage-timeseries") else {
        return;
    };
    let names = workload::usage_files("mixed").expect("known");
    let series: Vec<UsageSeries> = names
        .iter()
        .map(|f| cpn_trace::load_usage(dir.join(f)).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    for name in ["alibaba", "azure", "google"] {
        assert_eq!(workload::usage_files(name).map(<[_]>::len), Some(1));
    }
    let s = national();
    let steps = workload::background(&s, &series, 5, 600, 10, 144.0);
    assert_eq!(steps.len(), 60 * s.sites.len());
    assert!(steps.iter().all(|x| (0.0..=1.0).contains(&x.used)));
    assert!(
        steps
            .windows(2)
            .all(|w| (w[0].at_s, w[0].site) < (w[1].at_s, w[1].site))
    );
    for at in (0..600).step_by(10) {
        let sites: BTreeSet<_> = steps
            .iter()
            .filter(|x| x.at_s == at)
            .map(|x| x.site)
            .collect();
        assert_eq!(sites.len(), s.sites.len(), "at {at}");
    }
    // Every series is followed by some site: each site's values come from one series.
    for one in &series {
        let values: BTreeSet<u64> = one.samples.iter().map(|x| x.cpu.to_bits()).collect();
        assert!(
            steps.iter().any(|x| values.contains(&x.used.to_bits())),
            "{:?} followed by no site",
            one.source
        );
    }
    assert_eq!(steps, workload::background(&s, &series, 5, 600, 10, 144.0));
    assert_ne!(steps, workload::background(&s, &series, 6, 600, 10, 144.0));
}

#[test]
fn openb_tasks_become_requests_one_for_one() {
    let Some(path) = file("alibaba-gpu-v2023-openb", "openb_pod_list_default.csv") else {
        return;
    };
    let tasks = cpn_trace::load_openb_tasks(&path).unwrap_or_else(|e| panic!("{e}"));
    let s = national();
    let scale = workload::openb_time_scale(&tasks, 600);
    assert!((scale - 12_901_761.0 / 599.0).abs() < 1e-6, "{scale}");
    let a = workload::from_openb(&s, &tasks, 1, 600, scale);
    assert_eq!(a.len(), tasks.len());
    assert_eq!(a[0].at, 0);
    assert!(sorted(&a) && a.last().is_some_and(|x| x.at < 600 * NS));
    for (x, t) in a.iter().zip(&tasks) {
        let r = &x.request;
        assert_eq!(r.name, t.name);
        assert_eq!(r.cores, u64::from(t.cpu_milli.div_ceil(1000)));
        assert_eq!(r.memory_mib, u64::from(t.memory_mib));
        assert_eq!(
            r.gpus.iter().map(|g| g.1).sum::<u64>(),
            u64::from(t.num_gpu)
        );
        assert!(r.gpus.iter().all(|(m, _)| {
            s.sites
                .iter()
                .any(|site| site.capacity.gpus.contains_key(m))
        }));
        let want = t
            .deletion_s
            .map_or(1, |d| ((d - t.creation_s) as f64 / scale).ceil() as u64)
            .max(1);
        assert_eq!(x.hold_s, want, "{}", t.name);
        assert_eq!(x.max_latency, None);
    }
    assert_eq!(a, workload::from_openb(&s, &tasks, 1, 600, scale));
    // In real time only the first ten minutes of the trace are kept.
    let real = workload::from_openb(&s, &tasks, 1, 600, 1.0);
    let early = tasks.iter().filter(|t| t.creation_s < 600).count();
    assert_eq!(real.len(), early);
    // A window of the trace is a slice of its tasks: the busiest day (day 148, 678 tasks) at
    // 144 trace seconds per simulated second fills 600 s.
    let day: Vec<_> = tasks
        .iter()
        .filter(|t| (148 * 86_400..149 * 86_400).contains(&t.creation_s))
        .cloned()
        .collect();
    let busiest = workload::from_openb(&s, &day, 1, 600, 144.0);
    assert_eq!((day.len(), busiest.len()), (678, 678));
    assert_eq!(busiest[0].at, 0);
    placeable_or_refusable(&s, &a, 400);
    placeable_or_refusable(&s, &busiest, 678);
}

#[test]
fn openb_gpu_constraints_map_to_the_scenario_s_models_by_name() {
    let Some(path) = file("alibaba-gpu-v2023-openb", "openb_pod_list_gpuspec33.csv") else {
        return;
    };
    let tasks = cpn_trace::load_openb_tasks(&path).unwrap_or_else(|e| panic!("{e}"));
    let s = Scenario::parse(
        "gpus",
        r#"
name = "gpus"
[[router]]
id = "a"
[[router]]
id = "b"
[[link]]
a = "a"
b = "b"
bandwidth = "100 Gbps"
latency = "1 ms"
[[site]]
id = "cloud"
router = "a"
tier = "cloud"
cpu_cores = 100000
memory = "1000 TiB"
compute = "4 PFLOPS"
gpus = { "NVIDIA T4" = 4000, "NVIDIA P100" = 1000 }
[[site]]
id = "edge"
router = "b"
tier = "edge"
cpu_cores = 1000
memory = "10 TiB"
compute = "40 TFLOPS"
gpus = { "NVIDIA T4" = 16 }
"#,
        &mut cpn_model::NoImports,
    )
    .expect("valid");
    let a = workload::from_openb(&s, &tasks, 2, 600, workload::openb_time_scale(&tasks, 600));
    assert_eq!(a.len(), tasks.len());
    let mut constrained = 0;
    for (x, t) in a.iter().zip(&tasks) {
        if t.num_gpu == 0 {
            assert!(x.request.gpus.is_empty());
            continue;
        }
        let model = &x.request.gpus[0].0;
        match t.gpu_spec.iter().find(|m| *m == "T4" || *m == "P100") {
            Some(first) => {
                constrained += 1;
                assert_eq!(*model, format!("NVIDIA {first}"), "{}", t.name);
            }
            None => assert!(model == "NVIDIA T4" || model == "NVIDIA P100"),
        }
    }
    assert!(constrained > 1000, "{constrained}");
    placeable_or_refusable(&s, &a, 400);
}

fn near_shanghai(n: usize) -> Vec<EdgePoint> {
    let mut rng = cpn_sim::Rng::new(4);
    (0..n)
        .map(|i| EdgePoint {
            key: format!("p{i}"),
            position: LatLon {
                lat: 31.0 + rng.uniform(0.0, 0.5),
                lon: 121.2 + rng.uniform(0.0, 0.5),
            },
        })
        .collect()
}

/// The edge sites `prefix-edge-*` of `s` stand at one of `points` each, hold the sum of the
/// stations they group, and are linked to one router of the base with the model's distance
/// latency.
fn check_edge(s: &Scenario, base: &Scenario, points: &[EdgePoint], prefix: &str, count: usize) {
    let edge: Vec<_> = s
        .sites
        .iter()
        .filter(|x| x.name.starts_with(&format!("{prefix}-edge-")))
        .collect();
    assert!(!edge.is_empty() && edge.len() <= count, "{}", edge.len());
    assert!(edge.iter().all(|x| x.tier == Tier::Edge));
    let per = StationCapacity::default();
    let cores: u64 = edge.iter().map(|x| x.capacity.cpu_cores).sum();
    assert_eq!(cores, points.len() as u64 * per.cpu_cores);
    let l20: u64 = edge.iter().map(|x| x.capacity.gpus["NVIDIA L20"]).sum();
    assert_eq!(l20, points.len() as u64 * per.gpus);
    for site in &edge {
        let router = &s.routers[site.router.index()];
        let at = router.location.expect("located");
        assert!(
            points
                .iter()
                .any(|p| p.position.lat == at.lat && p.position.lon == at.lon),
            "{} is not at a station",
            site.name
        );
        let links: Vec<_> = s
            .links
            .iter()
            .filter(|l| l.a == router.id || l.b == router.id)
            .collect();
        assert_eq!(links.len(), 1, "{}", site.name);
        let other = &s.routers[links[0].other_end(router.id).expect("touches").index()];
        assert!(base.router(&other.name).is_some(), "{}", other.name);
        let km = at.distance_km(other.location.expect("located"));
        assert_eq!(
            links[0].latency,
            cpn_model::fibre_latency(km, s.route_factor)
        );
    }
    // Everything of the base is kept.
    for site in &base.sites {
        assert_eq!(
            s.site(&site.name).map(|x| &x.capacity),
            Some(&site.capacity)
        );
    }
    assert_eq!(s.services.len(), base.services.len());
}

#[test]
fn an_edge_tier_on_the_national_backbone_without_data() {
    let base = national();
    let points = near_shanghai(300);
    let spec = EdgeSpec {
        name: "test-edge".into(),
        description: "test".into(),
        prefix: "t".into(),
        count: 12,
        seed: 3,
        per_station: StationCapacity::default(),
        region: Some("CN-SH".into()),
        carbon: Some("573.7 g/kWh".into()),
        price: Some(1.15),
        pue: 1.45,
        uplink: "100 Gbps".into(),
        sources: vec!["test points".into()],
    };
    let s = edge::edge_scenario(&base, &points, &spec).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "test-edge");
    check_edge(&s, &base, &points, "t", 12);
    assert_eq!(
        s,
        edge::edge_scenario(&base, &points, &spec).expect("valid")
    );
    // The new sites run the services that run on the base's edge sites, and no others.
    let ar = s.service("ar-cloud-gaming").expect("kept");
    assert!(
        ar.sites
            .iter()
            .any(|id| s.sites[id.index()].name == "t-edge-0")
    );
    let training = s.service("ai-training").expect("kept");
    assert!(
        training
            .sites
            .iter()
            .all(|id| s.sites[id.index()].tier == Tier::Cloud)
    );
    assert!(matches!(
        edge::edge_scenario(&base, &[], &spec),
        Err(edge::EdgeError::NoStations { .. })
    ));
}

#[test]
fn shanghai_stations_become_edge_sites_and_demand() {
    let Some(path) = file("shanghai-telecom-base-stations", "base_stations_all.csv") else {
        return;
    };
    let stations = cpn_trace::load_shanghai_base_stations(&path).unwrap_or_else(|e| panic!("{e}"));
    let s = edge::shanghai(&stations, 40, 7).unwrap_or_else(|e| panic!("{e}"));
    let points = edge::shanghai_points(&stations);
    assert_eq!(points.len(), 3009);
    check_edge(&s, &national(), &points, "sh", 40);
    assert_eq!(s, edge::shanghai(&stations, 40, 7).expect("valid"));
    // Demand where the stations are: every station within 50 km of an access router.
    let positions: Vec<LatLon> = points.iter().map(|p| p.position).collect();
    let weights = edge::density(&s, &positions, 50.0);
    assert_eq!(weights.iter().map(|w| w.1).sum::<u64>(), 3009);
    let a = edge::from_users(&s, &weights, 3, 20.0, 60);
    assert!((a.len() as f64 / 1200.0 - 1.0).abs() < 0.15, "{}", a.len());
    let sources: BTreeSet<_> = weights.iter().map(|w| w.0).collect();
    assert!(a.iter().all(|x| sources.contains(&x.request.ingress)));
    assert_eq!(a, edge::from_users(&s, &weights, 3, 20.0, 60));
    placeable_or_refusable(&s, &a, 400);
}

#[test]
fn melbourne_stations_become_a_metro_scenario_with_user_demand() {
    let Some(dir) = cpn_testdata::data_dir("eua-melbourne") else {
        return;
    };
    let sites = cpn_trace::load_eua_sites(dir.join("site-optus-melbCBD.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let users = cpn_trace::load_eua_users(dir.join("users-melbcbd-generated.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let s = edge::melbourne(&sites, 10, 7).unwrap_or_else(|e| panic!("{e}"));
    let points = edge::eua_points(&sites);
    // The base is the scenario without its edge sites: the core routers and the data centre.
    let core: Vec<_> = s
        .routers
        .iter()
        .filter(|r| r.name.starts_with("mel-core-"))
        .collect();
    assert_eq!(core.len(), 4);
    assert_eq!(s.site("mel-dc").map(|x| x.tier), Some(Tier::Cloud));
    let edge_sites = s.sites.iter().filter(|x| x.tier == Tier::Edge).count();
    assert!((1..=10).contains(&edge_sites));
    let cores: u64 = s
        .sites
        .iter()
        .filter(|x| x.tier == Tier::Edge)
        .map(|x| x.capacity.cpu_cores)
        .sum();
    assert_eq!(cores, 125 * StationCapacity::default().cpu_cores);
    for site in s.sites.iter().filter(|x| x.tier == Tier::Edge) {
        let at = s.routers[site.router.index()].location.expect("located");
        assert!(
            points
                .iter()
                .any(|p| p.position.lat == at.lat && p.position.lon == at.lon)
        );
    }
    // Every service runs at the data centre and at every edge site.
    for svc in &s.services {
        assert_eq!(svc.sites.len(), 1 + edge_sites, "{}", svc.name);
    }
    let positions: Vec<LatLon> = users.iter().map(|u| u.position).collect();
    let weights = edge::density(&s, &positions, 5.0);
    assert_eq!(weights.iter().map(|w| w.1).sum::<u64>(), users.len() as u64);
    let a = edge::from_users(&s, &weights, 1, 20.0, 60);
    assert!(!a.is_empty());
    placeable_or_refusable(&s, &a, 400);
    // One site per station when asked for as many.
    let all = edge::melbourne(&sites, 125, 7).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        all.sites.iter().filter(|x| x.tier == Tier::Edge).count(),
        125
    );
}
