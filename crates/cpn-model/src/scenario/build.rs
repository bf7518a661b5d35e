//! From the file as written to a checked [`Scenario`]: every reference resolved to an id,
//! every quantity read in its unit, every bound checked. All problems are collected, not just
//! the first, each with its position.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::str::FromStr;

use cpn_units::{Bandwidth, Bytes, Carbon, Dimension, Flops, Nanos, Ratio, UnitError};

use super::error::{LineIndex, ScenarioError, ScenarioErrors, element_at};
use super::import::Imported;
use super::raw::{RawLink, RawRouter, RawScenario, RawService, RawSite, RawSla, RawSlice, S};
use super::{Loader, Scenario};
use crate::geo::{DEFAULT_ROUTE_FACTOR, GeoPoint, fibre_latency};
use crate::id::{LinkId, RouterId, ServiceId, SiteId, SlaId, SliceId, TenantId};
use crate::money::{Price, Pue};
use crate::network::{
    Capacity, LatencyOrigin, Link, Priority, Router, Service, Site, Sla, Slice, Tenant, Tier,
};

/// Reads `text` (from `origin`, a file name for messages) into a checked scenario.
pub(crate) fn build(
    origin: &str,
    text: &str,
    loader: &mut dyn Loader,
) -> Result<Scenario, ScenarioErrors> {
    let lines = LineIndex::new(text);
    let raw: RawScenario = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let (line, column) = lines.position(offset);
        ScenarioErrors(vec![ScenarioError {
            origin: origin.to_string(),
            line,
            column,
            element: element_at(text, offset),
            message: e.message().trim().to_string(),
        }])
    })?;
    let mut b = Builder {
        origin,
        lines,
        errors: Vec::new(),
        scenario: Scenario::empty(),
        names: Names::default(),
    };
    b.meta(&raw);
    if let Some(import) = &raw.import {
        b.import(import, loader);
    }
    raw.router.iter().for_each(|r| b.router(r));
    b.check_no_huge_tables(&raw);
    raw.link.iter().for_each(|l| b.link(l));
    raw.site.iter().for_each(|s| b.site(s));
    raw.slice.iter().for_each(|s| b.slice(s));
    raw.sla.iter().for_each(|s| b.sla(s));
    raw.service.iter().for_each(|s| b.service(s));
    if b.errors.is_empty() {
        b.scenario.index();
        Ok(b.scenario)
    } else {
        b.errors.sort_by_key(|e| (e.line, e.column));
        Err(ScenarioErrors(b.errors))
    }
}

struct Builder<'a> {
    origin: &'a str,
    lines: LineIndex<'a>,
    errors: Vec<ScenarioError>,
    scenario: Scenario,
    names: Names,
}

/// Ids already taken, per kind, for duplicate checks and references.
#[derive(Default)]
struct Names {
    routers: HashMap<String, RouterId>,
    links: HashMap<String, usize>,
    sites: HashMap<String, SiteId>,
    slices: HashMap<String, SliceId>,
    tenants: HashMap<String, TenantId>,
    slas: HashMap<String, SlaId>,
    services: HashMap<String, ServiceId>,
}

/// The longest id accepted, in characters.
const MAX_ID_CHARS: usize = 64;

impl Builder<'_> {
    fn error(&mut self, span: Range<usize>, element: Option<&str>, message: impl Into<String>) {
        let (line, column) = self.lines.position(span.start);
        self.errors.push(ScenarioError {
            origin: self.origin.to_string(),
            line,
            column,
            element: element.map(str::to_string),
            message: message.into(),
        });
    }

    fn meta(&mut self, raw: &RawScenario) {
        let s = &mut self.scenario;
        s.name = raw
            .name
            .as_ref()
            .map_or_else(|| self.origin.to_string(), |n| n.get_ref().clone());
        s.description = raw.description.clone();
        s.currency = raw.currency.clone();
        s.sources = raw.sources.clone();
        if let Some(factor) = &raw.route_factor {
            let value = *factor.get_ref();
            if !(1.0..=10.0).contains(&value) {
                self.error(factor.span(), Some("top level"), format!("route_factor {value} is out of range: expected a number from 1.0 to 10.0 (route length over great-circle distance)"));
            } else {
                self.scenario.route_factor = value;
            }
        }
    }

    fn import(&mut self, import: &S<String>, loader: &mut dyn Loader) {
        let path = import.get_ref();
        let element = format!("import `{path}`");
        let text = match loader.load(path) {
            Ok(text) => text,
            Err(why) => {
                return self.error(
                    import.span(),
                    Some(&element),
                    format!("cannot read it: {why}"),
                );
            }
        };
        let topology = match cpn_topo::parse_graphml(&text) {
            Ok(t) => t,
            Err(e) => {
                return self.error(
                    import.span(),
                    Some(&element),
                    format!("not valid GraphML: {e}"),
                );
            }
        };
        let Imported {
            routers,
            links,
            warnings,
        } = Imported::from_topology(&topology, self.scenario.route_factor);
        for router in routers {
            self.names.routers.insert(router.name.clone(), router.id);
            self.scenario.routers.push(router);
        }
        for link in &links {
            let base = link.name.split('#').next().unwrap_or(&link.name);
            *self.names.links.entry(base.to_string()).or_insert(0) += 1;
        }
        self.scenario.links.extend(links);
        self.scenario
            .warnings
            .extend(warnings.into_iter().map(|w| format!("{path}: {w}")));
    }

    /// Ids are words: letters (of any script), digits and `-_.:`, so that they can be written
    /// on a command line and in URLs without quoting.
    fn valid_id(&mut self, id: &S<String>, kind: &str) -> bool {
        let text = id.get_ref();
        let ok = !text.is_empty()
            && text.chars().count() <= MAX_ID_CHARS
            && text
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.:".contains(c));
        if !ok {
            self.error(
                id.span(),
                Some(&format!("{kind} `{text}`")),
                format!(
                    "invalid id: use 1 to {MAX_ID_CHARS} letters, digits, `-`, `_`, `.` or `:`"
                ),
            );
        }
        ok
    }

    /// Checks a new element's id: valid, and not taken by another element of its kind.
    /// Returns the id and the element as messages name it (`site `dc``).
    fn declare(
        &mut self,
        id: &S<String>,
        kind: &str,
        taken: fn(&Names, &str) -> bool,
    ) -> Option<(String, String)> {
        if !self.valid_id(id, kind) {
            return None;
        }
        let name = id.get_ref().clone();
        let element = format!("{kind} `{name}`");
        if taken(&self.names, &name) {
            self.error(
                id.span(),
                Some(&element),
                format!("duplicate id: another {kind} has it"),
            );
            return None;
        }
        Some((name, element))
    }

    fn check_no_huge_tables(&mut self, raw: &RawScenario) {
        // Ids are u32 indexes; a file with more elements than that is refused, not truncated.
        let too_many = [
            raw.router.len(),
            raw.link.len(),
            raw.site.len(),
            raw.service.len(),
        ]
        .iter()
        .any(|&n| n > u32::MAX as usize / 2);
        if too_many {
            self.error(0..0, None, "too many elements: at most 2^31 of each kind");
        }
    }

    fn router(&mut self, raw: &S<RawRouter>) {
        let r = raw.get_ref();
        let Some((name, element)) =
            self.declare(&r.id, "router", |n, id| n.routers.contains_key(id))
        else {
            return;
        };
        let location = match (&r.lat, &r.lon) {
            (None, None) => None,
            (Some(lat), Some(lon)) => {
                let (la, lo) = (*lat.get_ref(), *lon.get_ref());
                let mut ok = true;
                if !(-90.0..=90.0).contains(&la) {
                    self.error(
                        lat.span(),
                        Some(&element),
                        format!("lat {la} is out of range: expected degrees from -90 to 90"),
                    );
                    ok = false;
                }
                if !(-180.0..=180.0).contains(&lo) {
                    self.error(
                        lon.span(),
                        Some(&element),
                        format!("lon {lo} is out of range: expected degrees from -180 to 180"),
                    );
                    ok = false;
                }
                ok.then_some(GeoPoint { lat: la, lon: lo })
            }
            (Some(given), None) | (None, Some(given)) => {
                self.error(
                    given.span(),
                    Some(&element),
                    "give both lat and lon, or neither",
                );
                None
            }
        };
        let id = RouterId::at(self.scenario.routers.len());
        self.names.routers.insert(name.clone(), id);
        self.scenario.routers.push(Router {
            id,
            name,
            label: r.name.clone(),
            location,
        });
    }

    fn router_ref(&mut self, name: &S<String>, element: &str) -> Option<RouterId> {
        let found = self.names.routers.get(name.get_ref()).copied();
        if found.is_none() {
            self.error(
                name.span(),
                Some(element),
                format!("unknown router `{}`", name.get_ref()),
            );
        }
        found
    }

    fn quantity<T: FromStr<Err = UnitError>>(
        &mut self,
        field: &str,
        value: &S<String>,
        element: &str,
    ) -> Option<T> {
        match value.get_ref().parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(value.span(), Some(element), format!("{field}: {e}"));
                None
            }
        }
    }

    fn link(&mut self, raw: &S<RawLink>) {
        let l = raw.get_ref();
        let name = match &l.id {
            Some(id) if !self.valid_id(id, "link") => return,
            Some(id) => id.get_ref().clone(),
            None => format!("{}-{}", l.a.get_ref(), l.b.get_ref()),
        };
        let element = format!("link `{name}`");
        if let Some(id) = &l.id
            && self.names.links.contains_key(id.get_ref())
        {
            return self.error(
                id.span(),
                Some(&element),
                "duplicate id: another link has it",
            );
        }
        let a = self.router_ref(&l.a, &element);
        let b = self.router_ref(&l.b, &element);
        let bandwidth: Option<Bandwidth> = self.quantity("bandwidth", &l.bandwidth, &element);
        if bandwidth == Some(Bandwidth::ZERO) {
            self.error(l.bandwidth.span(), Some(&element), "bandwidth must be greater than zero (set `up = false` for a link that carries nothing)");
        }
        let loss = match &l.loss {
            Some(loss) => self.ratio("loss", loss, &element),
            None => Some(Ratio::ZERO),
        };
        let latency = match &l.latency {
            Some(latency) => self
                .quantity::<Nanos>("latency", latency, &element)
                .map(|v| (v, LatencyOrigin::Given)),
            None => self.derived_latency(a, b, raw.span(), &element),
        };
        let igp_metric = match &l.igp_metric {
            Some(metric) => {
                let value = *metric.get_ref();
                // IS-IS wide metrics are 24 bits; OSPF's are 16 or 24. Zero would make a free link.
                match u32::try_from(value)
                    .ok()
                    .filter(|v| (1..=0xFF_FFFF).contains(v))
                {
                    Some(v) => Some(v),
                    None => {
                        self.error(metric.span(), Some(&element), format!("igp_metric {value} is out of range: expected an integer from 1 to 16777215"));
                        return;
                    }
                }
            }
            None => None,
        };
        let (Some(a), Some(b), Some(bandwidth), Some(loss), Some((latency, latency_origin))) =
            (a, b, bandwidth, loss, latency)
        else {
            return;
        };
        if a == b {
            self.scenario.warnings.push(format!(
                "{element}: both ends are router `{}`; a loop carries no traffic",
                l.a.get_ref()
            ));
        }
        let seen = self.names.links.entry(name.clone()).or_insert(0);
        *seen += 1;
        let name = if *seen > 1 {
            format!("{name}#{seen}")
        } else {
            name
        };
        let igp_metric = igp_metric.unwrap_or_else(|| default_igp_metric(latency));
        self.scenario.links.push(Link {
            id: LinkId::at(self.scenario.links.len()),
            name,
            a,
            b,
            bandwidth,
            latency,
            latency_origin,
            loss,
            igp_metric,
            up: l.up.unwrap_or(true),
        });
    }

    fn derived_latency(
        &mut self,
        a: Option<RouterId>,
        b: Option<RouterId>,
        span: Range<usize>,
        element: &str,
    ) -> Option<(Nanos, LatencyOrigin)> {
        let (a, b) = (a?, b?);
        let routers = &self.scenario.routers;
        let (ra, rb) = (&routers[a.index()], &routers[b.index()]);
        match (ra.location, rb.location) {
            (Some(pa), Some(pb)) => {
                let km = pa.distance_km(pb);
                Some((
                    fibre_latency(km, self.scenario.route_factor),
                    LatencyOrigin::Distance { km },
                ))
            }
            _ => {
                let missing = if ra.location.is_none() {
                    &ra.name
                } else {
                    &rb.name
                };
                let message = format!(
                    "no latency given and router `{missing}` has no coordinates: give `latency` or the router's lat and lon"
                );
                self.error(span, Some(element), message);
                None
            }
        }
    }

    fn ratio(&mut self, field: &str, value: &S<String>, element: &str) -> Option<Ratio> {
        let ratio: Ratio = self.quantity(field, value, element)?;
        if ratio > Ratio::ONE {
            self.error(
                value.span(),
                Some(element),
                format!("{field} {ratio} is above 100%"),
            );
            return None;
        }
        Some(ratio)
    }

    fn count(&mut self, field: &str, value: &S<i64>, element: &str) -> Option<u64> {
        let v = *value.get_ref();
        let count = u64::try_from(v).ok();
        if count.is_none() {
            self.error(
                value.span(),
                Some(element),
                format!("{field} {v} is negative: expected a count of 0 or more"),
            );
        }
        count
    }

    fn site(&mut self, raw: &S<RawSite>) {
        let s = raw.get_ref();
        let Some((name, element)) = self.declare(&s.id, "site", |n, id| n.sites.contains_key(id))
        else {
            return;
        };
        let router = self.router_ref(&s.router, &element);
        let tier = Tier::parse(s.tier.get_ref());
        if tier.is_none() {
            self.error(
                s.tier.span(),
                Some(&element),
                format!(
                    "unknown tier `{}`: expected cloud, edge or end",
                    s.tier.get_ref()
                ),
            );
        }
        let cpu_cores = s
            .cpu_cores
            .as_ref()
            .map_or(Some(0), |c| self.count("cpu_cores", c, &element));
        let memory = s
            .memory
            .as_ref()
            .map_or(Some(Bytes::ZERO), |m| self.quantity("memory", m, &element));
        let compute: Option<Flops> = self.quantity("compute", &s.compute, &element);
        let mut gpus = BTreeMap::new();
        for (model, count) in &s.gpus {
            if let Some(n) = self.count(&format!("gpus.{model}"), count, &element) {
                gpus.insert(model.clone(), n);
            }
        }
        let price = s
            .price
            .as_ref()
            .map(|p| self.decimal("price", p, &element, Price::from_decimal));
        let pue = s.pue.as_ref().map_or(Some(Pue::ONE), |p| {
            self.decimal("pue", p, &element, Pue::from_decimal)
        });
        let carbon = s
            .carbon
            .as_ref()
            .map(|c| self.quantity::<Carbon>("carbon", c, &element));
        let (Some(router), Some(tier), Some(cpu_cores), Some(memory), Some(compute), Some(pue)) =
            (router, tier, cpu_cores, memory, compute, pue)
        else {
            return;
        };
        let (Some(price), Some(carbon)) = (price.transpose_ok(), carbon.transpose_ok()) else {
            return;
        };
        let id = SiteId::at(self.scenario.sites.len());
        self.names.sites.insert(name.clone(), id);
        self.scenario.sites.push(Site {
            id,
            name,
            label: s.name.clone(),
            tier,
            router,
            region: s.region.clone(),
            capacity: Capacity {
                cpu_cores,
                memory,
                gpus,
                compute,
            },
            price,
            carbon,
            pue,
        });
    }

    fn decimal<T>(
        &mut self,
        field: &str,
        value: &S<f64>,
        element: &str,
        read: fn(f64) -> Result<T, String>,
    ) -> Option<T> {
        match read(*value.get_ref()) {
            Ok(v) => Some(v),
            Err(why) => {
                self.error(value.span(), Some(element), format!("{field}: {why}"));
                None
            }
        }
    }

    fn slice(&mut self, raw: &S<RawSlice>) {
        let s = raw.get_ref();
        if !self.valid_id(&s.tenant, "tenant") {
            return;
        }
        let Some((name, element)) = self.declare(&s.id, "slice", |n, id| n.slices.contains_key(id))
        else {
            return;
        };
        let Some(guaranteed) = self.quantity::<Bandwidth>("guaranteed", &s.guaranteed, &element)
        else {
            return;
        };
        if guaranteed == Bandwidth::ZERO {
            return self.error(
                s.guaranteed.span(),
                Some(&element),
                "guaranteed bandwidth must be greater than zero",
            );
        }
        let tenant_name = s.tenant.get_ref();
        let tenant = match self.names.tenants.get(tenant_name) {
            Some(&t) => t,
            None => {
                let id = TenantId::at(self.scenario.tenants.len());
                self.names.tenants.insert(tenant_name.clone(), id);
                self.scenario.tenants.push(Tenant {
                    id,
                    name: tenant_name.clone(),
                });
                id
            }
        };
        let id = SliceId::at(self.scenario.slices.len());
        self.names.slices.insert(name.clone(), id);
        self.scenario.slices.push(Slice {
            id,
            name,
            tenant,
            guaranteed,
        });
    }

    fn sla(&mut self, raw: &S<RawSla>) {
        let s = raw.get_ref();
        let Some((name, element)) = self.declare(&s.id, "sla", |n, id| n.slas.contains_key(id))
        else {
            return;
        };
        let max_latency = s
            .max_latency
            .as_ref()
            .map(|v| self.quantity::<Nanos>("max_latency", v, &element));
        let min_bandwidth = s.min_bandwidth.as_ref().map_or(Some(Bandwidth::ZERO), |v| {
            self.quantity("min_bandwidth", v, &element)
        });
        let max_loss = s
            .max_loss
            .as_ref()
            .map(|v| self.ratio("max_loss", v, &element));
        let priority = match &s.priority {
            Some(p) => match u8::try_from(*p.get_ref())
                .ok()
                .filter(|v| *v <= Priority::MAX.0)
            {
                Some(v) => Some(Priority(v)),
                None => {
                    self.error(
                        p.span(),
                        Some(&element),
                        format!(
                            "priority {} is out of range: expected 0 (lowest) to 7 (highest)",
                            p.get_ref()
                        ),
                    );
                    None
                }
            },
            None => Some(Priority::default()),
        };
        let slice = match &s.slice {
            Some(name) => match self.names.slices.get(name.get_ref()) {
                Some(&x) => Some(Some(x)),
                None => {
                    self.error(
                        name.span(),
                        Some(&element),
                        format!("unknown slice `{}`", name.get_ref()),
                    );
                    None
                }
            },
            None => Some(None),
        };
        let (Some(max_latency), Some(min_bandwidth), Some(max_loss), Some(priority), Some(slice)) = (
            max_latency.transpose_ok(),
            min_bandwidth,
            max_loss.transpose_ok(),
            priority,
            slice,
        ) else {
            return;
        };
        let id = SlaId::at(self.scenario.slas.len());
        self.names.slas.insert(name.clone(), id);
        self.scenario.slas.push(Sla {
            id,
            name,
            max_latency,
            min_bandwidth,
            max_loss,
            priority,
            slice,
        });
    }

    fn service(&mut self, raw: &S<RawService>) {
        let s = raw.get_ref();
        let Some((name, element)) =
            self.declare(&s.id, "service", |n, id| n.services.contains_key(id))
        else {
            return;
        };
        let demand: Option<Flops> = self.quantity("demand", &s.demand, &element);
        if demand.is_some_and(|d| d.per_second == 0) {
            self.error(
                s.demand.span(),
                Some(&element),
                "demand must be greater than zero",
            );
        }
        let processing: Option<Nanos> = self.quantity("processing", &s.processing, &element);
        if s.sites.get_ref().is_empty() {
            self.error(
                s.sites.span(),
                Some(&element),
                "sites is empty: a service needs at least one site that runs it",
            );
        }
        let mut sites = Vec::new();
        for site in s.sites.get_ref() {
            match self.names.sites.get(site.get_ref()).copied() {
                None => self.error(
                    site.span(),
                    Some(&element),
                    format!("unknown site `{}`", site.get_ref()),
                ),
                Some(x) if sites.contains(&x) => self.error(
                    site.span(),
                    Some(&element),
                    format!("site `{}` is listed twice", site.get_ref()),
                ),
                Some(x) => {
                    let x = &self.scenario.sites[x.index()];
                    let (x_id, x_name, x_precision) =
                        (x.id, x.name.clone(), x.capacity.compute.precision);
                    // Demand and capacity in different precisions cannot be compared; say so
                    // now rather than let a scheduler compare fp16 demand with fp64 capacity.
                    if let Some(d) = demand
                        && d.precision != x_precision
                    {
                        let message = format!(
                            "demand is in {} but site `{}` states its compute in {}: use one precision",
                            Dimension::Compute(d.precision),
                            x_name,
                            Dimension::Compute(x_precision)
                        );
                        self.error(site.span(), Some(&element), message);
                    }
                    sites.push(x_id);
                }
            }
        }
        let sla = match &s.sla {
            Some(name) => match self.names.slas.get(name.get_ref()) {
                Some(&x) => Some(Some(x)),
                None => {
                    self.error(
                        name.span(),
                        Some(&element),
                        format!("unknown sla `{}`", name.get_ref()),
                    );
                    None
                }
            },
            None => Some(None),
        };
        let (Some(demand), Some(processing), Some(sla)) = (demand, processing, sla) else {
            return;
        };
        let id = ServiceId::at(self.scenario.services.len());
        self.names.services.insert(name.clone(), id);
        self.scenario.services.push(Service {
            id,
            name,
            demand,
            processing,
            sites,
            sla,
        });
    }
}

/// The IGP metric of a link without one: its latency in whole µs, at least 1.
pub(crate) fn default_igp_metric(latency: Nanos) -> u32 {
    u32::try_from(latency.as_micros_rounded())
        .unwrap_or(0xFF_FFFF)
        .clamp(1, 0xFF_FFFF)
}

/// `Option<Option<T>>` from an optional field whose reading may fail: `Some(None)` when the
/// field is absent, `None` when it was present and wrong.
trait TransposeOk<T> {
    fn transpose_ok(self) -> Option<Option<T>>;
}

impl<T> TransposeOk<T> for Option<Option<T>> {
    fn transpose_ok(self) -> Option<Option<T>> {
        match self {
            None => Some(None),
            Some(None) => None,
            Some(Some(v)) => Some(Some(v)),
        }
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::empty()
    }
}

impl Scenario {
    pub(crate) fn empty() -> Scenario {
        Scenario {
            name: String::new(),
            description: None,
            currency: None,
            route_factor: DEFAULT_ROUTE_FACTOR,
            sources: Vec::new(),
            routers: Vec::new(),
            links: Vec::new(),
            sites: Vec::new(),
            services: Vec::new(),
            slas: Vec::new(),
            slices: Vec::new(),
            tenants: Vec::new(),
            warnings: Vec::new(),
            names: Default::default(),
        }
    }
}
