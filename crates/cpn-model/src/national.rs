//! The scenarios built into the binary. `national` is China's East-Data-West-Compute network
//! (8 national computing hubs, 10 data-centre clusters, eastern demand cities at the edge and
//! pools of end devices); every figure in it names its source, see `docs/national.md`.

use crate::scenario::{NoImports, Scenario, ScenarioErrors};

/// Name and TOML text of every built-in scenario.
pub const BUILT_IN: &[(&str, &str)] = &[("national", include_str!("../scenarios/national.toml"))];

/// The built-in scenario `name`, read and checked, or `None` when there is none by that name.
pub fn built_in(name: &str) -> Option<Result<Scenario, ScenarioErrors>> {
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| Scenario::parse(n, text, &mut NoImports))
}
