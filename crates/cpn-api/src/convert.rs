//! Wire requests checked against a scenario and turned into the engine's and the scheduler's.

use cpn_model::{RouterId, Scenario, ServiceId, SliceId};
use cpn_route::{Demand, Objective, Request, SlaBounds};
use cpn_sched::Isolation;
use cpn_units::{Bandwidth, Flops, Nanos, Ratio};

use crate::wire::{ObjectiveName, PlaceRequest, RouteRequest};

/// A field of a request that is wrong, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
    /// The field names something of another tenant's: a refusal, not a mistake.
    pub forbidden: bool,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
        forbidden: false,
    }
}

fn quantity<T: std::str::FromStr<Err = cpn_units::UnitError>>(
    name: &str,
    value: &Option<String>,
) -> Result<Option<T>, FieldError> {
    value
        .as_deref()
        .map(|v| v.parse::<T>().map_err(|e| field(name, e.to_string())))
        .transpose()
}

fn router(scenario: &Scenario, name: &str, which: &str) -> Result<RouterId, FieldError> {
    scenario.router(name).map(|r| r.id).ok_or_else(|| {
        field(
            which,
            format!("no router `{name}` in scenario `{}`", scenario.name),
        )
    })
}

fn service(scenario: &Scenario, name: &str) -> Result<ServiceId, FieldError> {
    scenario.service(name).map(|s| s.id).ok_or_else(|| {
        let known: Vec<&str> = scenario.services.iter().map(|s| s.name.as_str()).collect();
        field(
            "service",
            format!("no service `{name}` (known: {})", known.join(", ")),
        )
    })
}

/// The slice named `name`, which must belong to `tenant` (unless `tenant` is `None`, for an
/// administrator).
pub fn slice(scenario: &Scenario, name: &str, tenant: Option<&str>) -> Result<SliceId, FieldError> {
    let slice = scenario
        .slices
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| field("slice", format!("no slice `{name}`")))?;
    if let Some(tenant) = tenant {
        let owner = scenario
            .tenants
            .get(slice.tenant.index())
            .map_or("", |t| t.name.as_str());
        if owner != tenant {
            return Err(FieldError {
                forbidden: true,
                ..field("slice", format!("slice `{name}` belongs to another tenant"))
            });
        }
    }
    Ok(slice.id)
}

/// The engine's objective for a wire name; balanced by default.
pub fn objective(name: Option<ObjectiveName>) -> Objective {
    match name.unwrap_or_default() {
        ObjectiveName::Latency => Objective::Latency,
        ObjectiveName::Cost => Objective::Cost,
        ObjectiveName::Carbon => Objective::Carbon,
        ObjectiveName::Load => Objective::Load,
        ObjectiveName::Balanced => Objective::BALANCED,
    }
}

/// A route request checked against `scenario`.
pub fn to_route(w: &RouteRequest, scenario: &Scenario) -> Result<Request, FieldError> {
    let ingress = router(scenario, &w.from, "from")?;
    let demand = match (&w.service, &w.demand) {
        (Some(_), Some(_)) => return Err(field("demand", "give `service` or `demand`, not both")),
        (Some(name), None) => Demand::Service(service(scenario, name)?),
        (None, Some(_)) => Demand::Raw {
            demand: quantity::<Flops>("demand", &w.demand)?.unwrap_or(Flops::fp64(0)),
            processing: quantity::<Nanos>("processing", &w.processing)?.unwrap_or(Nanos::ZERO),
        },
        (None, None) => return Err(field("service", "give `service` or `demand`")),
    };
    let sla = SlaBounds {
        max_latency: quantity::<Nanos>("max_latency", &w.max_latency)?,
        min_bandwidth: quantity::<Bandwidth>("min_bandwidth", &w.min_bandwidth)?
            .unwrap_or(Bandwidth::ZERO),
        max_loss: quantity::<Ratio>("max_loss", &w.max_loss)?,
        ..SlaBounds::default()
    };
    Ok(Request {
        ingress,
        demand,
        sla,
        objective: objective(w.objective),
    })
}

/// A placement checked against `scenario`, its window resolved against `now_s` (seconds);
/// `tenant` is the caller's tenant (`None` for an administrator), which must own the slice.
pub fn to_place(
    w: &PlaceRequest,
    scenario: &Scenario,
    now_s: u64,
    tenant: Option<&str>,
) -> Result<cpn_sched::PlaceRequest, FieldError> {
    if w.id.is_empty() || w.id.len() > 200 {
        return Err(field("id", "expected 1 to 200 characters"));
    }
    let ingress = router(scenario, &w.from, "from")?;
    let service = w
        .service
        .as_deref()
        .map(|n| service(scenario, n))
        .transpose()?;
    let demand = quantity::<Flops>("demand", &w.demand)?;
    if service.is_none() && demand.is_none() {
        return Err(field("service", "give `service` or `demand`"));
    }
    let slice = w
        .slice
        .as_deref()
        .map(|n| slice(scenario, n, tenant))
        .transpose()?;
    let start = w.start.unwrap_or(now_s);
    let end = match (w.end, quantity::<Nanos>("duration", &w.duration)?) {
        (Some(_), Some(_)) => return Err(field("duration", "give `end` or `duration`, not both")),
        (Some(end), None) => end,
        (None, Some(d)) => {
            let secs = d.0.div_ceil(1_000_000_000).max(1);
            start.saturating_add(secs)
        }
        (None, None) => u64::MAX,
    };
    if start >= end {
        return Err(field("end", format!("window [{start}, {end}) is empty")));
    }
    if w.replicas == Some(0) {
        return Err(field("replicas", "expected at least 1"));
    }
    Ok(cpn_sched::PlaceRequest {
        name: w.id.clone(),
        ingress,
        service,
        demand,
        processing: quantity::<Nanos>("processing", &w.processing)?.unwrap_or(Nanos::ZERO),
        cores: 0,
        memory_mib: 0,
        gpus: w.gpus.iter().map(|(m, n)| (m.clone(), *n)).collect(),
        bandwidth: quantity::<Bandwidth>("min_bandwidth", &w.min_bandwidth)?
            .unwrap_or(Bandwidth::ZERO),
        max_latency: quantity::<Nanos>("max_latency", &w.max_latency)?,
        max_loss: quantity::<Ratio>("max_loss", &w.max_loss)?,
        priority: w.priority,
        slice,
        isolation: if w.hard {
            Isolation::Hard
        } else {
            Isolation::Soft
        },
        start,
        end,
        objective: w
            .objective
            .map_or(Objective::Latency, |o| objective(Some(o))),
    })
}
