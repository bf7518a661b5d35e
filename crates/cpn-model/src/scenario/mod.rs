//! A scenario: one network described in one TOML file (the format is in `docs/scenario.md`),
//! read into tables of checked elements.

mod build;
mod error;
mod import;
mod raw;
mod summary;
mod write;

use std::collections::HashMap;

use serde::Serialize;

pub use error::{ScenarioError, ScenarioErrors};
pub use import::{DEFAULT_LINK_BANDWIDTH, DEFAULT_LINK_LATENCY};
pub use summary::{Summary, TierSummary};

use crate::id::{RouterId, ServiceId, SiteId};
use crate::network::{Link, Router, Service, Site, Sla, Slice, Tenant};

/// Reads the files a scenario imports. The model does no I/O itself: the caller decides where
/// a relative path points (the command line resolves it against the scenario's folder).
pub trait Loader {
    fn load(&mut self, path: &str) -> Result<String, String>;
}

/// A loader for text that must not import anything (the built-in scenarios, tests).
#[derive(Debug, Default)]
pub struct NoImports;

impl Loader for NoImports {
    fn load(&mut self, path: &str) -> Result<String, String> {
        Err(format!(
            "imports are not available here (asked for `{path}`)"
        ))
    }
}

/// A checked network: every element in a table indexed by its id, every reference resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    /// The currency unit of site prices.
    pub currency: Option<String>,
    /// Fibre route length over great-circle distance, used to derive link latency.
    pub route_factor: f64,
    pub sources: Vec<String>,
    pub routers: Vec<Router>,
    pub links: Vec<Link>,
    pub sites: Vec<Site>,
    pub services: Vec<Service>,
    pub slas: Vec<Sla>,
    pub slices: Vec<Slice>,
    pub tenants: Vec<Tenant>,
    /// What was accepted but deserves a look (defaults filled in, loops).
    pub warnings: Vec<String>,
    #[serde(skip)]
    names: Names,
}

#[derive(Debug, Clone, Default)]
struct Names {
    routers: HashMap<String, RouterId>,
    sites: HashMap<String, SiteId>,
    services: HashMap<String, ServiceId>,
}

impl Scenario {
    /// Reads a scenario from `text`; `origin` names it in error messages (a file path).
    pub fn parse(
        origin: &str,
        text: &str,
        loader: &mut dyn Loader,
    ) -> Result<Scenario, ScenarioErrors> {
        build::build(origin, text, loader)
    }

    /// Routers and links from a GraphML topology (see `cpn topo import`), with the defaults
    /// and warnings described at [`DEFAULT_LINK_BANDWIDTH`] and [`DEFAULT_LINK_LATENCY`].
    pub fn from_topology(name: &str, topology: &cpn_topo::Topology) -> Scenario {
        let mut scenario = Scenario::empty();
        scenario.name = name.trim().to_string();
        let imported = import::Imported::from_topology(topology, scenario.route_factor);
        scenario.routers = imported.routers;
        scenario.links = imported.links;
        scenario.warnings = imported.warnings;
        scenario.index();
        scenario
    }

    /// The scenario as a TOML file that reads back to the same scenario.
    pub fn to_toml(&self) -> String {
        write::to_toml(self)
    }

    /// [`Scenario::to_toml`] without its services, which come last: a caller that grows the
    /// scenario appends routers, links and sites to it, then [`Scenario::services_toml`].
    pub fn to_toml_without_services(&self) -> String {
        write::body(self)
    }

    /// The services as [`Scenario::to_toml`] writes them, service `i` also on the sites named
    /// in `extra_sites[i]`.
    pub fn services_toml(&self, extra_sites: &[Vec<String>]) -> String {
        write::services(self, extra_sites)
    }

    pub fn summary(&self) -> Summary {
        summary::summarise(self)
    }

    pub fn router(&self, name: &str) -> Option<&Router> {
        self.names
            .routers
            .get(name)
            .map(|id| &self.routers[id.index()])
    }

    pub fn site(&self, name: &str) -> Option<&Site> {
        self.names.sites.get(name).map(|id| &self.sites[id.index()])
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.names
            .services
            .get(name)
            .map(|id| &self.services[id.index()])
    }

    /// Where demand enters: the routers of the edge and end sites, in id order; every router
    /// when the scenario has no such site.
    pub fn access_routers(&self) -> Vec<RouterId> {
        let mut routers: Vec<RouterId> = self
            .sites
            .iter()
            .filter(|s| s.tier != crate::network::Tier::Cloud)
            .map(|s| s.router)
            .collect();
        routers.sort();
        routers.dedup();
        if routers.is_empty() {
            routers = self.routers.iter().map(|r| r.id).collect();
        }
        routers
    }

    /// Builds the name lookups once the tables are final.
    fn index(&mut self) {
        self.names = Names {
            routers: self
                .routers
                .iter()
                .map(|r| (r.name.clone(), r.id))
                .collect(),
            sites: self.sites.iter().map(|s| (s.name.clone(), s.id)).collect(),
            services: self
                .services
                .iter()
                .map(|s| (s.name.clone(), s.id))
                .collect(),
        };
    }
}

impl PartialEq for Scenario {
    /// Two scenarios are equal when their contents are; the lookups follow from them.
    fn eq(&self, other: &Scenario) -> bool {
        self.name == other.name
            && self.description == other.description
            && self.currency == other.currency
            && self.route_factor == other.route_factor
            && self.sources == other.sources
            && self.routers == other.routers
            && self.links == other.links
            && self.sites == other.sites
            && self.services == other.services
            && self.slas == other.slas
            && self.slices == other.slices
            && self.tenants == other.tenants
    }
}
