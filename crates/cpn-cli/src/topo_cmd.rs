//! `cpn topo`: bring topologies from other formats into scenario files.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use cpn_model::Scenario;

use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum TopoCommand {
    /// Import an Internet Topology Zoo GraphML file as a scenario TOML file: one router per
    /// node, one link per edge (parallel edges kept), latency from coordinates.
    Import {
        /// The GraphML file.
        graphml: PathBuf,
        /// Where to write the scenario (`-` for standard output).
        #[arg(short, long)]
        output: PathBuf,
        /// The scenario's name (default: the network's name in the file, else the file name).
        #[arg(long)]
        name: Option<String>,
    },
}

pub(crate) fn run(command: TopoCommand) -> Outcome {
    let TopoCommand::Import {
        graphml,
        output,
        name,
    } = command;
    let text = std::fs::read_to_string(&graphml)
        .map_err(|e| Failure::bad(format!("cannot read `{}`: {e}", graphml.display())))?;
    let topology = cpn_topo::parse_graphml(&text)
        .map_err(|e| Failure::bad(format!("{}: {e}", graphml.display())))?;
    let stem = graphml
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.or_else(|| topology.name.clone()).unwrap_or(stem);
    let scenario = Scenario::from_topology(&name, &topology);
    for w in &scenario.warnings {
        eprintln!("warning: {}: {w}", graphml.display());
    }
    let toml = format!(
        "# imported by `cpn topo import` from {}\n{}",
        graphml.display(),
        scenario.to_toml()
    );
    if output.as_os_str() == "-" {
        print!("{toml}");
    } else {
        std::fs::write(&output, toml)
            .with_context(|| format!("writing {}", output.display()))
            .map_err(Failure::Internal)?;
        eprintln!(
            "{}: {} routers, {} links -> {}",
            graphml.display(),
            scenario.routers.len(),
            scenario.links.len(),
            output.display()
        );
    }
    Ok(())
}
