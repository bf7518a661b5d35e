//! The model of a computing power network that every part of cpn shares: routers and links,
//! compute sites in the cloud, edge and end tiers, services, SLAs, slices and tenants, and the
//! scenario file format that describes them. The controller, the scheduler, the simulator, the
//! data plane and the market all read a [`Scenario`].
//!
//! This crate is a pure core: it does no I/O and reads no clock. Files a scenario imports come
//! through a [`Loader`] that the caller supplies. Bad input is an error that names the file,
//! line, column and element, never a panic.

mod geo;
mod id;
mod money;
mod national;
mod network;
mod scenario;
pub mod synthetic;

pub use geo::{DEFAULT_ROUTE_FACTOR, FIBRE_NS_PER_KM, GeoPoint, fibre_latency};
pub use id::{LinkId, RouterId, ServiceId, SiteId, SlaId, SliceId, TenantId};
pub use money::{Price, Pue};
pub use national::{BUILT_IN, built_in};
pub use network::{
    Capacity, LatencyOrigin, Link, Priority, Router, Service, Site, Sla, Slice, Tenant, Tier,
};
pub use scenario::{
    DEFAULT_LINK_BANDWIDTH, DEFAULT_LINK_LATENCY, Loader, NoImports, Scenario, ScenarioError,
    ScenarioErrors, Summary, TierSummary,
};
