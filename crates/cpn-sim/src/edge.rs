//! Scenarios whose edge sites stand at real base stations, and demand that enters where users
//! are: the Shanghai Telecom stations on the built-in national backbone ([`shanghai`]), the
//! EUA Optus sites of Melbourne's CBD on a small metro network built from them
//! ([`melbourne`]), and Poisson demand drawn by user or station density ([`density`],
//! [`from_users`]).
//!
//! Thousands of stations become at most `count` edge sites by k-means (deterministic for a
//! seed); each site stands at its group's medoid, a real station, and its capacity is the sum
//! of what each station of the group brings ([`StationCapacity`]). The scenario is written as
//! scenario text and read back by `cpn_model::Scenario::parse`, so it is checked like any
//! scenario file, and link latency comes from the model's own great-circle rule
//! (distance × 5 µs/km × the route factor). Every rule is in docs/twin.md.

use std::collections::BTreeSet;
use std::fmt::Write;

use cpn_model::{GeoPoint, NoImports, RouterId, Scenario, ScenarioErrors, Tier};
use cpn_trace::{BaseStation, EuaSite, LatLon};
use thiserror::Error;

use crate::rng::Rng;
use crate::twin::Arrival;
use crate::workload::{Ingress, generate, poisson};

/// Why an edge scenario could not be built.
#[derive(Debug, Error)]
pub enum EdgeError {
    #[error("edge scenario `{name}`: no base stations to place edge sites at")]
    NoStations { name: String },
    #[error(
        "edge scenario `{name}`: base scenario `{base}` has no router with coordinates to attach edge sites to"
    )]
    NoBackbone { name: String, base: String },
    #[error("edge scenario `{name}` does not read back: {errors}")]
    Invalid {
        name: String,
        errors: ScenarioErrors,
    },
}

/// A place an edge site can stand: a base station's key (for labels) and position.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgePoint {
    pub key: String,
    pub position: LatLon,
}

/// The Shanghai Telecom stations inside the Shanghai box ([`BaseStation::in_shanghai`]; the
/// 33 outliers of the published file are left out), keyed `bs<id>`.
pub fn shanghai_points(stations: &[BaseStation]) -> Vec<EdgePoint> {
    stations
        .iter()
        .filter(|s| s.in_shanghai())
        .map(|s| EdgePoint {
            key: format!("bs{}", s.id),
            position: s.position,
        })
        .collect()
}

/// The EUA base stations, keyed `acma<site id>`.
pub fn eua_points(sites: &[EuaSite]) -> Vec<EdgePoint> {
    sites
        .iter()
        .map(|s| EdgePoint {
            key: format!("acma{}", s.site_id),
            position: s.position,
        })
        .collect()
}

/// What one base station brings to the edge site that groups it.
#[derive(Debug, Clone, PartialEq)]
pub struct StationCapacity {
    pub cpu_cores: u64,
    pub memory_gib: u64,
    /// fp64 GFLOPS.
    pub gflops: u64,
    pub gpu_model: String,
    pub gpus: u64,
}

impl Default for StationCapacity {
    /// Two servers at every station, each the server of the national scenario's metro edge
    /// rooms (64 cores, 512 GiB, 40 GFLOPS fp64 per core, one NVIDIA L20): 128 cores,
    /// 1,024 GiB, 5.12 TFLOPS and 2 L20. An assumption of ours, named in docs/twin.md; none
    /// of the station files states a capacity.
    fn default() -> StationCapacity {
        StationCapacity {
            cpu_cores: 128,
            memory_gib: 1024,
            gflops: 5_120,
            gpu_model: "NVIDIA L20".to_string(),
            gpus: 2,
        }
    }
}

/// How to build the edge tier of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeSpec {
    /// The new scenario's name.
    pub name: String,
    pub description: String,
    /// Of the new routers (`<prefix>-<k>`) and sites (`<prefix>-edge-<k>`).
    pub prefix: String,
    /// At most this many edge sites.
    pub count: usize,
    pub seed: u64,
    pub per_station: StationCapacity,
    pub region: Option<String>,
    /// Grid carbon intensity as scenario text (`573.7 g/kWh`).
    pub carbon: Option<String>,
    pub price: Option<f64>,
    pub pue: f64,
    /// Bandwidth of each edge router's link to the backbone, as scenario text.
    pub uplink: String,
    /// Added to the base's sources.
    pub sources: Vec<String>,
}

/// A group of stations: the indexes of its members, and of the member nearest its centre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub medoid: usize,
    pub members: Vec<usize>,
}

/// Groups `points` into at most `count` groups by k-means: k-means++ seeding drawn with
/// `seed` (Arthur and Vassilvitskii 2007), then Lloyd's iterations (at most 100) on a local
/// plane in km around the points' mean latitude, which is exact enough within a metropolitan
/// area and wrong across the antimeridian. Fewer groups come out when there are fewer
/// distinct positions, or when an iteration empties a group. Groups are sorted by medoid;
/// every point is in exactly one.
pub fn cluster(points: &[LatLon], count: usize, seed: u64) -> Vec<Group> {
    let n = points.len();
    if n == 0 || count == 0 {
        return Vec::new();
    }
    let lat0 = points.iter().map(|p| p.lat).sum::<f64>() / n as f64;
    let (kx, ky) = (111.32 * lat0.to_radians().cos(), 110.57);
    let xy: Vec<[f64; 2]> = points.iter().map(|p| [p.lon * kx, p.lat * ky]).collect();
    let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let mut rng = Rng::new(seed);
    let mut centres = vec![xy[rng.below(n as u64) as usize]];
    let mut near: Vec<f64> = xy.iter().map(|&p| d2(p, centres[0])).collect();
    while centres.len() < count {
        let total: f64 = near.iter().sum();
        if total <= 0.0 {
            // Every position is a centre already.
            break;
        }
        let mut x = rng.unit() * total;
        let mut pick = None;
        for (i, &d) in near.iter().enumerate() {
            if d > 0.0 {
                pick = Some(i);
                if x < d {
                    break;
                }
                x -= d;
            }
        }
        let Some(i) = pick else { break };
        centres.push(xy[i]);
        for (d, &p) in near.iter_mut().zip(&xy) {
            *d = d.min(d2(p, xy[i]));
        }
    }
    let k = centres.len();
    let nearest = |p: [f64; 2], centres: &[[f64; 2]]| {
        (0..k)
            .min_by(|&a, &b| d2(p, centres[a]).total_cmp(&d2(p, centres[b])))
            .unwrap_or(0)
    };
    let mut assign = vec![usize::MAX; n];
    for _ in 0..100 {
        let mut changed = false;
        for (i, &p) in xy.iter().enumerate() {
            let c = nearest(p, &centres);
            if assign[i] != c {
                assign[i] = c;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut sums = vec![[0.0, 0.0, 0.0]; k];
        for (i, &c) in assign.iter().enumerate() {
            sums[c][0] += xy[i][0];
            sums[c][1] += xy[i][1];
            sums[c][2] += 1.0;
        }
        for (centre, s) in centres.iter_mut().zip(&sums) {
            // An emptied group keeps its centre; it may win points back.
            if s[2] > 0.0 {
                *centre = [s[0] / s[2], s[1] / s[2]];
            }
        }
    }
    let mut members = vec![Vec::new(); k];
    for (i, &c) in assign.iter().enumerate() {
        members[c].push(i);
    }
    let mut groups: Vec<Group> = members
        .into_iter()
        .zip(&centres)
        .filter_map(|(m, &c)| {
            let medoid = *m
                .iter()
                .min_by(|&&a, &&b| d2(xy[a], c).total_cmp(&d2(xy[b], c)))?;
            Some(Group { medoid, members: m })
        })
        .collect();
    groups.sort_by_key(|g| g.medoid);
    groups
}

/// Scenario text for a string: quoted, with backslashes, quotes and control characters
/// escaped as TOML wants them.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn geo(p: LatLon) -> GeoPoint {
    GeoPoint {
        lat: p.lat,
        lon: p.lon,
    }
}

/// The header of a scenario file.
fn header(
    name: &str,
    description: &str,
    currency: Option<&str>,
    route_factor: f64,
    sources: &[String],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "name = {}", quote(name));
    let _ = writeln!(out, "description = {}", quote(description));
    if let Some(c) = currency {
        let _ = writeln!(out, "currency = {}", quote(c));
    }
    let _ = writeln!(out, "route_factor = {route_factor:?}");
    out.push_str("sources = [\n");
    for s in sources {
        let _ = writeln!(out, "    {},", quote(s));
    }
    out.push_str("]\n");
    out
}

/// `base` with an edge tier at `points`: the points grouped into at most `spec.count` groups
/// ([`cluster`]); for each group a router at its medoid's coordinates, linked at
/// `spec.uplink` to the nearest router of `base` that has coordinates (great-circle distance;
/// the link's latency is the model's rule for that distance), and an edge site there whose
/// capacity is the group's size times `spec.per_station`. Each new site runs every service of
/// `base` that runs on an edge site of `base` (every service, when `base` has no edge site).
/// Everything of `base` is kept.
pub fn edge_scenario(
    base: &Scenario,
    points: &[EdgePoint],
    spec: &EdgeSpec,
) -> Result<Scenario, EdgeError> {
    if points.is_empty() {
        return Err(EdgeError::NoStations {
            name: spec.name.clone(),
        });
    }
    let backbone: Vec<(&str, GeoPoint)> = base
        .routers
        .iter()
        .filter_map(|r| Some((r.name.as_str(), r.location?)))
        .collect();
    if backbone.is_empty() {
        return Err(EdgeError::NoBackbone {
            name: spec.name.clone(),
            base: base.name.clone(),
        });
    }
    let positions: Vec<LatLon> = points.iter().map(|p| p.position).collect();
    let groups = cluster(&positions, spec.count, spec.seed);

    let mut sources = base.sources.clone();
    sources.extend(spec.sources.iter().cloned());
    let mut text = header(
        &spec.name,
        &spec.description,
        base.currency.as_deref(),
        base.route_factor,
        &sources,
    );
    // The export without its header (ours names the new scenario) and without its services
    // (written below with the new sites added).
    let exported = base.to_toml_without_services();
    let body_at = exported.find("\n[[").unwrap_or(exported.len());
    text.push_str(&exported[body_at..]);

    let c = &spec.per_station;
    let mut new_sites = Vec::with_capacity(groups.len());
    for (k, group) in groups.iter().enumerate() {
        let at = &points[group.medoid];
        let n = group.members.len() as u64;
        let router = format!("{}-{k}", spec.prefix);
        let _ = write!(
            text,
            "\n[[router]]\nid = {}\nname = {}\nlat = {:?}\nlon = {:?}\n",
            quote(&router),
            quote(&format!("at station {}, medoid of {n} stations", at.key)),
            at.position.lat,
            at.position.lon
        );
        let here = geo(at.position);
        let nearest = backbone
            .iter()
            .min_by(|a, b| here.distance_km(a.1).total_cmp(&here.distance_km(b.1)))
            .map_or("", |r| r.0);
        let _ = write!(
            text,
            "\n[[link]]\na = {}\nb = {}\nbandwidth = {}\n",
            quote(&router),
            quote(nearest),
            quote(&spec.uplink)
        );
        let site = format!("{}-edge-{k}", spec.prefix);
        let _ = write!(
            text,
            "\n[[site]]\nid = {}\nname = {}\nrouter = {}\ntier = \"edge\"\n",
            quote(&site),
            quote(&format!("edge site of {n} stations around {}", at.key)),
            quote(&router)
        );
        if let Some(region) = &spec.region {
            let _ = writeln!(text, "region = {}", quote(region));
        }
        let _ = write!(
            text,
            "cpu_cores = {}\nmemory = \"{} GiB\"\ncompute = \"{} GFLOPS\"\n",
            n * c.cpu_cores,
            n * c.memory_gib,
            n * c.gflops
        );
        if c.gpus > 0 {
            let _ = writeln!(
                text,
                "gpus = {{ {} = {} }}",
                quote(&c.gpu_model),
                n * c.gpus
            );
        }
        if let Some(price) = spec.price {
            let _ = writeln!(text, "price = {price}");
        }
        if let Some(carbon) = &spec.carbon {
            let _ = writeln!(text, "carbon = {}", quote(carbon));
        }
        let _ = writeln!(text, "pue = {:?}", spec.pue);
        new_sites.push(site);
    }

    // New edge sites join the services that run on the edge (every service, when the base
    // has no edge).
    let base_has_edge = base.sites.iter().any(|s| s.tier == Tier::Edge);
    let joined: Vec<Vec<String>> = base
        .services
        .iter()
        .map(|svc| {
            let on_edge = svc
                .sites
                .iter()
                .any(|id| base.sites[id.index()].tier == Tier::Edge);
            if on_edge || !base_has_edge {
                new_sites.clone()
            } else {
                Vec::new()
            }
        })
        .collect();
    text.push_str(&base.services_toml(&joined));
    Scenario::parse(&spec.name, &text, &mut NoImports).map_err(|errors| EdgeError::Invalid {
        name: spec.name.clone(),
        errors,
    })
}

/// The built-in national scenario with an edge tier at the Shanghai Telecom stations inside
/// the Shanghai box: at most `count` sites, each linked at 100 Gbps to the nearest national
/// router (Shanghai, Qingpu, Suzhou or Hangzhou), with the national scenario's figures for a
/// Shanghai edge room where it states them: region `CN-SH`, carbon 573.7 g/kWh (MEE/NBS
/// 2023, as its `shanghai-edge`), price 1.15 CNY per compute-hour and PUE 1.45 (its edge
/// assumptions). Capacity per station is [`StationCapacity::default`].
pub fn shanghai(stations: &[BaseStation], count: usize, seed: u64) -> Result<Scenario, EdgeError> {
    let name = "shanghai-edge".to_string();
    let base = match cpn_model::built_in("national") {
        Some(Ok(base)) => base,
        Some(Err(errors)) => return Err(EdgeError::Invalid { name, errors }),
        None => {
            return Err(EdgeError::NoBackbone {
                name,
                base: "national".to_string(),
            });
        }
    };
    let spec = EdgeSpec {
        name,
        description: format!(
            "The built-in national scenario with up to {count} edge sites at Shanghai Telecom base stations (k-means medoids of the 3,009 stations in the Shanghai box, seed {seed}), each with two edge servers per station it groups (assumption) and a 100 Gbps link to the nearest national router (assumption)."
        ),
        prefix: "sh".to_string(),
        count,
        seed,
        per_station: StationCapacity::default(),
        region: Some("CN-SH".to_string()),
        carbon: Some("573.7 g/kWh".to_string()),
        price: Some(1.15),
        pue: 1.45,
        uplink: "100 Gbps".to_string(),
        sources: vec![
            "[E1] Shanghai Telecom base stations (S. Wang et al., J. Parallel Distrib. Comput. 127, 2019; file base_stations_all.csv of github.com/GeminiLight/edge-server-placement), read from $CPN_DATA_DIR/shanghai-telecom-base-stations; research use, attribution".to_string(),
            "[E2] Edge capacity per station: two servers of this scenario's edge rooms (64 cores, 512 GiB, 40 GFLOPS per core, one NVIDIA L20 each) - assumption of the cpn project".to_string(),
        ],
    };
    edge_scenario(&base, &shanghai_points(stations), &spec)
}

/// A Melbourne CBD scenario from the EUA base stations, built from scratch since no built-in
/// scenario covers Australia: a metro core of four routers at the medoids of four groups of
/// the stations, in a ring of 100 Gbps links; one data centre (`mel-dc`, cloud tier) at the
/// core router nearest the stations' centroid; the national scenario's `ar-cloud-gaming`,
/// `llm-inference` and `video-analytics` services and their SLAs (without slices); then at
/// most `count` edge sites at the stations as [`edge_scenario`] places them, linked at
/// 100 Gbps to the nearest core router. Carbon is Victoria's 0.77 kg CO2-e/kWh (NGA Factors
/// 2024, scope 2); there is no price (the data has no Australian tariff), so cost ranks every
/// site equal. All capacities and bandwidths are assumptions, named in docs/twin.md.
pub fn melbourne(sites: &[EuaSite], count: usize, seed: u64) -> Result<Scenario, EdgeError> {
    let name = "melbourne-edge".to_string();
    let points = eua_points(sites);
    if points.is_empty() {
        return Err(EdgeError::NoStations { name });
    }
    let positions: Vec<LatLon> = points.iter().map(|p| p.position).collect();
    let core = cluster(&positions, 4, seed ^ 0xc0de);
    let n = positions.len() as f64;
    let centroid = GeoPoint {
        lat: positions.iter().map(|p| p.lat).sum::<f64>() / n,
        lon: positions.iter().map(|p| p.lon).sum::<f64>() / n,
    };
    let carbon = "[M1] Grid carbon of Victoria, 0.77 kg CO2-e/kWh: Australian National Greenhouse Accounts Factors 2024 (DCCEEW), scope 2 location-based, as compiled in $CPN_DATA_DIR/grid-carbon/grid_carbon_intensity.csv (AU-VIC)";
    let sources = vec![
        "[E3] EUA data set (github.com/PhuLai/eua-dataset, MIT; base stations: Source: ACMA Register of Radiocommunications Licences), read from $CPN_DATA_DIR/eua-melbourne".to_string(),
        carbon.to_string(),
        "[A] Metro core, data centre, capacities, bandwidths, PUE, services and SLAs: assumptions of the cpn project (services and SLAs copied from the built-in national scenario)".to_string(),
    ];
    let mut text = header(
        &name,
        "Melbourne CBD (assumed metro network): four core routers at EUA Optus base stations, one data centre, edge sites at the base stations.",
        None,
        cpn_model::DEFAULT_ROUTE_FACTOR,
        &sources,
    );
    let core_name = |k: usize| format!("mel-core-{k}");
    for (k, g) in core.iter().enumerate() {
        let p = &points[g.medoid];
        let _ = write!(
            text,
            "\n[[router]]\nid = {}\nname = {}\nlat = {:?}\nlon = {:?}\n",
            quote(&core_name(k)),
            quote(&format!("Melbourne metro core {k}, at station {}", p.key)),
            p.position.lat,
            p.position.lon
        );
    }
    // A ring (one link for two routers, none for one).
    let ring: BTreeSet<(usize, usize)> = (0..core.len())
        .map(|k| {
            let j = (k + 1) % core.len();
            (k.min(j), k.max(j))
        })
        .filter(|(a, b)| a != b)
        .collect();
    for (a, b) in ring {
        let _ = write!(
            text,
            "\n[[link]]\na = {}\nb = {}\nbandwidth = \"100 Gbps\"\n",
            quote(&core_name(a)),
            quote(&core_name(b))
        );
    }
    let dc_router = core
        .iter()
        .enumerate()
        .min_by(|a, b| {
            let da = centroid.distance_km(geo(points[a.1.medoid].position));
            let db = centroid.distance_km(geo(points[b.1.medoid].position));
            da.total_cmp(&db)
        })
        .map_or(0, |(k, _)| k);
    // 1,000 standard racks at the national scenario's rack assumption (256 cores, 2 TiB,
    // 10.24 TFLOPS each).
    let _ = write!(
        text,
        "\n[[site]]\nid = \"mel-dc\"\nname = \"Melbourne data centre (assumed)\"\nrouter = {}\ntier = \"cloud\"\nregion = \"AU-VIC\"\ncpu_cores = 256000\nmemory = \"2000 TiB\"\ncompute = \"10.24 PFLOPS\"\ngpus = {{ \"NVIDIA H20\" = 1000 }}\ncarbon = \"770 g/kWh\"\npue = 1.4\n",
        quote(&core_name(dc_router))
    );
    text.push_str(
        r#"
[[sla]]
id = "interactive"
max_latency = "10 ms"
min_bandwidth = "50 Mbps"
max_loss = "0.1%"
priority = 6

[[sla]]
id = "realtime"
max_latency = "20 ms"
min_bandwidth = "100 Mbps"
max_loss = "0.1%"
priority = 5

[[sla]]
id = "standard"
max_latency = "100 ms"
min_bandwidth = "1 Gbps"
max_loss = "0.5%"
priority = 3

[[service]]
id = "ar-cloud-gaming"
demand = "4 TFLOPS"
processing = "3 ms"
sites = ["mel-dc"]
sla = "interactive"

[[service]]
id = "llm-inference"
demand = "20 TFLOPS"
processing = "8 ms"
sites = ["mel-dc"]
sla = "realtime"

[[service]]
id = "video-analytics"
demand = "1 TFLOPS"
processing = "10 ms"
sites = ["mel-dc"]
sla = "standard"
"#,
    );
    let base =
        Scenario::parse(&name, &text, &mut NoImports).map_err(|errors| EdgeError::Invalid {
            name: name.clone(),
            errors,
        })?;
    let spec = EdgeSpec {
        name: name.clone(),
        description: format!(
            "Melbourne CBD (assumed metro network): four core routers at EUA Optus base stations, one data centre, and up to {count} edge sites at the 125 stations (k-means medoids, seed {seed}), two edge servers per station (assumption)."
        ),
        prefix: "mel".to_string(),
        count,
        seed,
        per_station: StationCapacity::default(),
        region: Some("AU-VIC".to_string()),
        carbon: Some("770 g/kWh".to_string()),
        price: None,
        pue: 1.45,
        uplink: "100 Gbps".to_string(),
        sources: vec![
            "[E2] Edge capacity per station: two servers of the national scenario's edge rooms (64 cores, 512 GiB, 40 GFLOPS per core, one NVIDIA L20 each) - assumption of the cpn project".to_string(),
        ],
    };
    edge_scenario(&base, &points, &spec)
}

/// Demand weights: each point (a user, a station) counts once for the access router
/// ([`Scenario::access_routers`]) nearest to it by great-circle distance, if that is within
/// `max_km`; routers without coordinates are never chosen. Routers with a count, in id order.
pub fn density(scenario: &Scenario, points: &[LatLon], max_km: f64) -> Vec<(RouterId, u64)> {
    let access: Vec<(RouterId, GeoPoint)> = scenario
        .access_routers()
        .into_iter()
        .filter_map(|id| Some((id, scenario.routers[id.index()].location?)))
        .collect();
    let mut counts = vec![0u64; scenario.routers.len()];
    for p in points {
        let here = geo(*p);
        let nearest = access
            .iter()
            .map(|(id, at)| (*id, here.distance_km(*at)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((id, km)) = nearest
            && km <= max_km
        {
            counts[id.index()] += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .filter(|(_, n)| *n > 0)
        .map(|(i, n)| (scenario.routers[i].id, n))
        .collect()
}

/// The mixed request mix ([`crate::twin::mixed`]) arriving as Poisson at `rate` per second,
/// each entering at a router drawn in proportion to its weight in `sources` (such as
/// [`density`] of users or stations).
pub fn from_users(
    scenario: &Scenario,
    sources: &[(RouterId, u64)],
    seed: u64,
    rate: f64,
    duration_s: u64,
) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    generate(
        scenario,
        &mut rng,
        duration_s,
        &Ingress::weighted(sources),
        poisson(rate),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> LatLon {
        LatLon { lat, lon }
    }

    #[test]
    fn clusters_cover_every_point_once_and_stand_on_one() {
        let mut rng = Rng::new(5);
        let points: Vec<LatLon> = (0..500)
            .map(|i| {
                // Three blobs some 10 km apart.
                let (lat, lon) = [(31.2, 121.4), (31.3, 121.5), (31.1, 121.6)][i % 3];
                at(lat + rng.normal(0.0, 0.01), lon + rng.normal(0.0, 0.01))
            })
            .collect();
        let groups = cluster(&points, 3, 1);
        assert_eq!(groups.len(), 3);
        let mut seen: Vec<usize> = groups.iter().flat_map(|g| g.members.clone()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..500).collect::<Vec<_>>());
        for g in &groups {
            assert!(g.members.contains(&g.medoid));
            // The blobs are found: every member of a group is from the same blob.
            let blob = g.members[0] % 3;
            assert!(g.members.iter().all(|m| m % 3 == blob));
        }
        assert_eq!(groups, cluster(&points, 3, 1));
    }

    #[test]
    fn fewer_groups_than_asked_when_positions_repeat() {
        let points = vec![at(1.0, 1.0), at(1.0, 1.0), at(2.0, 2.0)];
        let groups = cluster(&points, 5, 3);
        assert_eq!(groups.len(), 2);
        assert!(cluster(&[], 5, 3).is_empty());
        assert!(cluster(&points, 0, 3).is_empty());
    }

    #[test]
    fn quoting_escapes_what_toml_needs() {
        assert_eq!(quote(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
        assert_eq!(quote("x\ny"), "\"x\\u000Ay\"");
    }
}
