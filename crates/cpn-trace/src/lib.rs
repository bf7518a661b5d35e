//! Reading third-party workload traces and site sets into typed records, for the digital
//! twin (the simulator) and the scenarios it runs. This crate owns the file formats: the Azure
//! LLM inference trace 2023 ([`read_azure_llm`]), the Alibaba GPU cluster trace 2023 "openb"
//! ([`read_openb_tasks`], [`read_openb_nodes`]), the Alibaba 2018 / Azure 2019 / Google 2019
//! utilisation series ([`read_usage`]), the EUA Melbourne base stations and users
//! ([`read_eua_sites`], [`read_eua_users`]) and the Shanghai Telecom base stations
//! ([`read_shanghai_base_stations`]). Each `read_*` takes any reader and an origin (the name
//! used in errors); each `load_*` opens a file and reads it.
//!
//! It does no I/O other than reading the reader or file it is given, and never panics on bad
//! input: a malformed row is an error that names the origin, the line, the column and what
//! was expected (`azure_code.csv:17: TIMESTAMP: expected a timestamp like 2023-11-16
//! 18:15:46.6805900, got "x"`), and reading stops there. There is no lenient mode. Values are
//! checked for their ranges (coordinates, utilisation fractions, GPU shares) but no defaults
//! are invented: what a file leaves empty is `None`.
//!
//! Tokens become compute demand by [`ComputeRule`]: `FLOP = 2 × parameters × (context +
//! generated tokens)`, the forward-pass rule of thumb of Kaplan et al., "Scaling Laws for
//! Neural Language Models" (2020), for a model of 70 B parameters unless stated, and a
//! processing time of `FLOP / throughput` at a site's stated sustained throughput of the same
//! precision. See `docs/traces.md`.

mod error;
mod llm;
mod openb;
mod sites;
mod table;
mod usage;

use std::path::Path;

pub use error::TraceError;
pub use llm::{ComputeRule, LlmRequest, load_azure_llm, read_azure_llm};
pub use openb::{
    GpuNode, GpuTask, PodPhase, Qos, load_openb_nodes, load_openb_tasks, read_openb_nodes,
    read_openb_tasks,
};
pub use sites::{
    BaseStation, EuaSite, EuaUser, EuaUserInfo, LatLon, load_eua_sites, load_eua_users,
    load_shanghai_base_stations, read_eua_sites, read_eua_users, read_shanghai_base_stations,
};
pub use usage::{USAGE_STEP_S, UsageSample, UsageSeries, UsageSource, load_usage, read_usage};

/// Opens `path` and reads it with `read`, naming the file by its path in errors.
fn load<T>(
    path: &Path,
    read: impl FnOnce(std::io::BufReader<std::fs::File>, &str) -> Result<T, TraceError>,
) -> Result<T, TraceError> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| TraceError::Io {
        origin: origin.clone(),
        source,
    })?;
    read(std::io::BufReader::new(file), &origin)
}
