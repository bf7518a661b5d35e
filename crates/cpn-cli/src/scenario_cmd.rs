//! `cpn scenario`: validate and show scenario files and the built-in scenarios.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use cpn_model::{BUILT_IN, Loader, Scenario, Summary, Tier, built_in};

use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum ScenarioCommand {
    /// Check a scenario file; print every error with its file:line:column.
    Validate {
        /// A scenario TOML file, or the name of a built-in scenario (`national`).
        scenario: String,
    },
    /// Describe a scenario: counts, tiers, capacity.
    Show {
        /// A scenario TOML file, or the name of a built-in scenario (`national`).
        scenario: String,
        /// Print the summary as JSON.
        #[arg(long, conflicts_with = "toml")]
        json: bool,
        /// Print the whole scenario as TOML (a starting point for one of your own).
        #[arg(long)]
        toml: bool,
    },
    /// List the built-in scenarios.
    List,
}

pub(crate) fn run(command: ScenarioCommand) -> Outcome {
    match command {
        ScenarioCommand::Validate { scenario } => {
            let s = load(&scenario)?;
            print_warnings(&s);
            let m = s.summary();
            println!(
                "{scenario}: ok ({} routers, {} links, {} sites, {} services, {} slas, {} slices)",
                m.routers, m.links, m.sites, m.services, m.slas, m.slices
            );
        }
        ScenarioCommand::Show {
            scenario,
            json,
            toml,
        } => {
            let s = load(&scenario)?;
            if json {
                let text = serde_json::to_string_pretty(&s.summary())
                    .context("writing JSON")
                    .map_err(Failure::Internal)?;
                println!("{text}");
            } else if toml {
                print!("{}", s.to_toml());
            } else {
                print_warnings(&s);
                print_summary(&s.summary());
                print_sites(&s);
            }
        }
        ScenarioCommand::List => {
            for (name, _) in BUILT_IN {
                println!("{name}");
            }
        }
    }
    Ok(())
}

/// Reads a scenario from a file, or the built-in one of that name when no such file exists.
pub(crate) fn load(arg: &str) -> Result<Scenario, Failure> {
    let path = Path::new(arg);
    if !path.exists()
        && let Some(scenario) = built_in(arg)
    {
        return scenario
            .map_err(|e| Failure::Internal(anyhow::anyhow!("built-in scenario is broken:\n{e}")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
        Failure::bad(format!(
            "cannot read scenario `{arg}`: {e} (built-in scenarios: {})",
            names.join(", ")
        ))
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Scenario::parse(arg, &text, &mut FileLoader { base }).map_err(Failure::bad)
}

/// Resolves the files a scenario imports against the scenario's own folder.
struct FileLoader {
    base: PathBuf,
}

impl Loader for FileLoader {
    fn load(&mut self, path: &str) -> Result<String, String> {
        let full = self.base.join(path);
        std::fs::read_to_string(&full).map_err(|e| format!("{}: {e}", full.display()))
    }
}

fn print_warnings(s: &Scenario) {
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
}

fn print_summary(m: &Summary) {
    println!("scenario {}", m.name);
    println!(
        "  routers   {:>6}  ({} without coordinates)",
        m.routers, m.routers_without_location
    );
    println!(
        "  links     {:>6}  ({} up, {} capacity in all)",
        m.links, m.links_up, m.link_capacity
    );
    println!("  sites     {:>6}", m.sites);
    for tier in Tier::ALL {
        let Some(t) = m.tiers.get(&tier) else {
            continue;
        };
        let compute: Vec<String> = t.compute.values().map(ToString::to_string).collect();
        println!(
            "    {:<6} {:>4} sites, {} cores, {} memory, {} GPUs, {}",
            tier.name(),
            t.sites,
            t.cpu_cores,
            t.memory,
            t.gpus,
            if compute.is_empty() {
                "no compute".to_string()
            } else {
                compute.join(" + ")
            }
        );
    }
    println!("  services  {:>6}", m.services);
    println!("  slas      {:>6}", m.slas);
    println!("  slices    {:>6}  ({} tenants)", m.slices, m.tenants);
    if m.warnings > 0 {
        println!("  warnings  {:>6}", m.warnings);
    }
}

fn print_sites(s: &Scenario) {
    if s.sites.is_empty() {
        return;
    }
    let currency = s.currency.as_deref().unwrap_or("");
    println!();
    println!(
        "  {:<22} {:<5} {:<12} {:>16} {:>12} {:>5} {:>9}",
        "site", "tier", "router", "compute", "carbon", "pue", "price/h"
    );
    for site in &s.sites {
        let router = &s.routers[site.router.index()].name;
        let carbon = site.carbon.map_or("-".to_string(), |c| c.to_string());
        let price = site
            .price
            .map_or("-".to_string(), |p| format!("{p} {currency}"));
        println!(
            "  {:<22} {:<5} {:<12} {:>16} {:>12} {:>5} {:>9}",
            site.name,
            site.tier.name(),
            router,
            site.capacity.compute.to_string(),
            carbon,
            site.pue.to_string(),
            price.trim_end()
        );
    }
    if !s.services.is_empty() {
        println!();
        println!(
            "  {:<22} {:>14} {:>12}  sites",
            "service", "demand", "processing"
        );
        for svc in &s.services {
            println!(
                "  {:<22} {:>14} {:>12}  {}",
                svc.name,
                svc.demand.to_string(),
                svc.processing.to_string(),
                svc.sites.len()
            );
        }
    }
}
