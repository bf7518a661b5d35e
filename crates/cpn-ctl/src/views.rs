//! The controller's state as the API shows it: names, not indexes; only what the caller may see.

use cpn_api::{
    CandidateView, CircuitView, LatencyUs, MapLink, MapMeasured, MapRouter, MapService, MapSite,
    MapTotals, MapView, RecoveryView, ReservationView, RouteReply, SliceView,
};
use cpn_model::{LinkId, SiteId};
use cpn_route::Report;
use cpn_sched::{Circuit, Recovery, Reservation};
use cpn_units::Nanos;

use crate::controller::Controller;

fn router_names(c: &Controller, nodes: &[u32]) -> Vec<String> {
    nodes
        .iter()
        .map(|&n| c.scenario.routers[n as usize].name.clone())
        .collect()
}

pub(crate) fn reservation(c: &Controller, r: &Reservation) -> ReservationView {
    ReservationView {
        id: r.id.0,
        tenant: c.owner(r.id.0).to_string(),
        name: r.request.name.clone(),
        site: c.scenario.sites[r.site.index()].name.clone(),
        path: router_names(c, &r.path.nodes),
        bandwidth: r.request.bandwidth.to_string(),
        start: r.request.start,
        end: (r.request.end != u64::MAX).then_some(r.request.end),
        latency_us: r.latency.total,
        compute_gflops: r.compute_gflops(),
        measured_delay: c.measured.get(&r.id.0).copied(),
    }
}

pub(crate) fn circuit(c: &Controller, k: &Circuit) -> CircuitView {
    CircuitView {
        id: k.id.0,
        tenant: c.owner(k.id.0).to_string(),
        name: k.name.clone(),
        path: router_names(c, &k.path.nodes),
        bandwidth: k.bandwidth.to_string(),
        slice: k.slice.map(|s| c.scenario.slices[s.index()].name.clone()),
        start: k.start,
        end: (k.end != u64::MAX).then_some(k.end),
    }
}

pub(crate) fn recovery(r: &Recovery) -> RecoveryView {
    match r {
        Recovery::Rerouted { old, new, name } => RecoveryView {
            outcome: "rerouted".into(),
            name: name.clone(),
            old: old.0,
            new: Some(new.0),
            reason: None,
        },
        Recovery::Moved { old, new, name, .. } => RecoveryView {
            outcome: "moved".into(),
            name: name.clone(),
            old: old.0,
            new: Some(new.0),
            reason: None,
        },
        Recovery::Lost { old, name, reason } => RecoveryView {
            outcome: "lost".into(),
            name: name.clone(),
            old: old.0,
            new: None,
            reason: Some(reason.clone()),
        },
    }
}

pub(crate) fn route_reply(r: &Report, id: u64) -> RouteReply {
    RouteReply {
        id: id.to_string(),
        feasible: r.feasible,
        site: r.site.clone(),
        path: if r.feasible {
            r.path.clone()
        } else {
            Vec::new()
        },
        latency: r.latency_us.as_ref().map(|l| LatencyUs {
            total_us: l.total,
            network_us: l.network_rtt,
            processing_us: l.processing,
            queueing_us: l.queueing,
        }),
        sids: r.sids.clone(),
        cost: r.cost,
        carbon_g: r.carbon_g,
        reason: (!r.feasible).then(|| {
            r.candidates
                .iter()
                .filter_map(|c| c.reason.as_deref())
                .next()
                .map_or("no candidate site".to_string(), |first| {
                    format!("no feasible site; first candidate: {first}")
                })
        }),
        candidates: r
            .candidates
            .iter()
            .map(|c| CandidateView {
                site: c.site.clone(),
                feasible: c.verdict != "rejected",
                chosen: c.verdict == "chosen",
                latency_us: c.latency_us.as_ref().map(|l| l.total),
                score: c.score,
                reason: c.reason.clone().unwrap_or_else(|| c.verdict.to_string()),
            })
            .collect(),
    }
}

/// Compute booked at a site now over its capacity.
pub(crate) fn site_load(c: &Controller, site: SiteId, now_s: u64) -> f64 {
    c.sched.compute_calendar(site).map_or(0.0, |k| {
        if k.capacity() == 0 {
            0.0
        } else {
            k.usage_at(now_s) as f64 / k.capacity() as f64
        }
    })
}

/// Bandwidth booked on a link now over its capacity.
pub(crate) fn link_utilisation(c: &Controller, link: LinkId, now_s: u64) -> f64 {
    let cal = c.sched.link_calendar(link);
    if cal.capacity() == 0 {
        0.0
    } else {
        cal.occupied_at(now_s) as f64 / cal.capacity() as f64
    }
}

pub(crate) fn map(c: &Controller, now: Nanos, scope: Option<&str>) -> MapView {
    let now_s = now.0 / 1_000_000_000;
    let s = &c.scenario;
    let graph = c.sched.engine().graph();
    let routers = s
        .routers
        .iter()
        .map(|r| MapRouter {
            name: r.name.clone(),
            label: r.label.clone(),
            lat: r.location.map(|p| p.lat),
            lon: r.location.map(|p| p.lon),
            up: true,
        })
        .collect();
    let links = s
        .links
        .iter()
        .map(|l| MapLink {
            name: l.name.clone(),
            a: s.routers[l.a.index()].name.clone(),
            b: s.routers[l.b.index()].name.clone(),
            bandwidth: l.bandwidth.to_string(),
            latency_us: l.latency.0 / 1_000,
            utilisation: link_utilisation(c, l.id, now_s),
            up: graph.is_up(l.id),
        })
        .collect();
    let sites = s
        .sites
        .iter()
        .map(|site| MapSite {
            name: site.name.clone(),
            label: site.label.clone(),
            tier: site.tier.to_string(),
            router: s.routers[site.router.index()].name.clone(),
            up: c.site_up[site.id.index()],
            load: site_load(c, site.id, now_s),
            agents: c.agents_alive_at(&site.name),
            compute: site.capacity.compute.to_string(),
            price: site.price.map(|p| p.as_f64()),
            carbon_g_per_kwh: site.carbon.map(|k| k.0 as f64 / 1_000.0),
        })
        .collect();
    let services = s
        .services
        .iter()
        .map(|v| MapService {
            name: v.name.clone(),
            sites: v
                .sites
                .iter()
                .map(|&id| s.sites[id.index()].name.clone())
                .collect(),
        })
        .collect();
    let measured = c
        .measured
        .iter()
        .filter(|(id, _)| scope.is_none() || Some(c.owner(**id)) == scope)
        .filter_map(|(&id, &delay)| {
            let r = c.sched.reservation(cpn_sched::ReservationId(id))?;
            Some(MapMeasured {
                reservation: id,
                name: r.request.name.clone(),
                site: s.sites[r.site.index()].name.clone(),
                path: router_names(c, &r.path.nodes),
                delay,
            })
        })
        .collect();
    let decisions = c
        .recent
        .iter()
        .filter(|(tenant, _)| scope.is_none() || tenant.as_deref() == scope)
        .map(|(_, d)| d.clone())
        .collect();
    MapView {
        scenario: s.name.clone(),
        routers,
        links,
        sites,
        services,
        decisions,
        measured,
        totals: MapTotals {
            decisions: c.stats.routes + c.stats.placements,
            rejections: c.stats.rejections.values().sum(),
            reservations: c.sched.reservations().count(),
            agents_up: c.agents_alive(),
        },
    }
}

pub(crate) fn slices(c: &Controller, now: Nanos, scope: Option<&str>) -> Vec<SliceView> {
    let now_s = now.0 / 1_000_000_000;
    let s = &c.scenario;
    s.slices
        .iter()
        .filter_map(|slice| {
            let tenant = s
                .tenants
                .get(slice.tenant.index())
                .map_or(String::new(), |t| t.name.clone());
            if scope.is_some_and(|t| t != tenant) {
                return None;
            }
            let used_bps = s
                .links
                .iter()
                .filter_map(|l| {
                    let used = c
                        .sched
                        .link_calendar(l.id)
                        .traffic_at(Some(slice.id), now_s);
                    (used > 0).then(|| (l.name.clone(), used))
                })
                .collect();
            Some(SliceView {
                name: slice.name.clone(),
                tenant,
                guaranteed: slice.guaranteed.to_string(),
                used_bps,
            })
        })
        .collect()
}

/// Compute in GFLOPS of a site's capacity, for metrics.
pub(crate) fn site_capacity_gflops(c: &Controller, site: SiteId) -> u64 {
    c.sched.compute_calendar(site).map_or(0, |k| k.capacity())
}
