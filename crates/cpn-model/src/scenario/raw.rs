//! The scenario file as written: TOML tables with the position of every value kept, so that
//! the checks that follow can point at the exact line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub(crate) type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub(crate) name: Option<S<String>>,
    pub(crate) description: Option<String>,
    pub(crate) currency: Option<String>,
    pub(crate) route_factor: Option<S<f64>>,
    #[serde(default)]
    pub(crate) sources: Vec<String>,
    pub(crate) import: Option<S<String>>,
    #[serde(default)]
    pub(crate) router: Vec<S<RawRouter>>,
    #[serde(default)]
    pub(crate) link: Vec<S<RawLink>>,
    #[serde(default)]
    pub(crate) site: Vec<S<RawSite>>,
    #[serde(default)]
    pub(crate) service: Vec<S<RawService>>,
    #[serde(default)]
    pub(crate) sla: Vec<S<RawSla>>,
    #[serde(default)]
    pub(crate) slice: Vec<S<RawSlice>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRouter {
    pub(crate) id: S<String>,
    pub(crate) name: Option<String>,
    pub(crate) lat: Option<S<f64>>,
    pub(crate) lon: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    pub(crate) id: Option<S<String>>,
    pub(crate) a: S<String>,
    pub(crate) b: S<String>,
    pub(crate) bandwidth: S<String>,
    pub(crate) latency: Option<S<String>>,
    pub(crate) loss: Option<S<String>>,
    pub(crate) igp_metric: Option<S<i64>>,
    pub(crate) up: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSite {
    pub(crate) id: S<String>,
    pub(crate) name: Option<String>,
    pub(crate) router: S<String>,
    pub(crate) tier: S<String>,
    pub(crate) region: Option<String>,
    pub(crate) cpu_cores: Option<S<i64>>,
    pub(crate) memory: Option<S<String>>,
    pub(crate) compute: S<String>,
    #[serde(default)]
    pub(crate) gpus: BTreeMap<String, S<i64>>,
    pub(crate) price: Option<S<f64>>,
    pub(crate) carbon: Option<S<String>>,
    pub(crate) pue: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    pub(crate) id: S<String>,
    pub(crate) demand: S<String>,
    pub(crate) processing: S<String>,
    pub(crate) sites: S<Vec<S<String>>>,
    pub(crate) sla: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSla {
    pub(crate) id: S<String>,
    pub(crate) max_latency: Option<S<String>>,
    pub(crate) min_bandwidth: Option<S<String>>,
    pub(crate) max_loss: Option<S<String>>,
    pub(crate) priority: Option<S<i64>>,
    pub(crate) slice: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlice {
    pub(crate) id: S<String>,
    pub(crate) tenant: S<String>,
    pub(crate) guaranteed: S<String>,
}
