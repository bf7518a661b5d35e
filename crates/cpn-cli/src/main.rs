//! `cpn`, the command of the open computing power network: argument parsing and wiring only.
//! Exit codes: 0 success, 2 bad input (a file, a flag, a value), 3 a request that no site can
//! meet, 1 an internal error.

mod agent_cmd;
mod bench_cmd;
mod bench_load;
mod client;
mod compute_cmd;
mod emu_cmd;
mod ledger_cmd;
mod market_cmd;
mod place_cmd;
mod route_cmd;
mod scenario_cmd;
mod serve_cmd;
mod sim_cmd;
mod slice_cmd;
mod srv6_cmd;
mod task_cmd;
mod token_cmd;
mod topo_cmd;
mod units_cmd;

use std::process::ExitCode;

// The controller allocates per call (JSON, names, explanations); mimalloc takes a third off
// the core's time per decision against glibc's allocator (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// The open computing power network: compute and network handled as one resource.
#[derive(Debug, Parser)]
#[command(name = "cpn", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the demo: the controller on 127.0.0.1 with the built-in national scenario,
    /// simulated agents and a stream of requests; prints the dashboard URL.
    Demo(serve_cmd::DemoArgs),
    /// Run the node agent: register this node's measured capabilities (signed), heartbeat its
    /// load, run and meter the tasks the controller assigns (docs/agent.md).
    Agent(Box<agent_cmd::AgentArgs>),
    /// The wrapper the agent runs each task in (limits, CPU-time metering).
    #[command(hide = true, name = "agent-exec")]
    AgentExec(agent_cmd::ExecArgs),
    /// Run the controller: HTTP API, dashboard, metrics, durable state (docs/controller.md).
    Serve(Box<serve_cmd::ServeArgs>),
    /// The digital twin: a workload on a scenario under every placement strategy, on
    /// identical arrivals; writes report.json, CSVs and report.html (docs/twin.md).
    Sim(Box<sim_cmd::SimArgs>),
    /// Tasks run by agents, through a running controller.
    #[command(subcommand)]
    Task(task_cmd::TaskCommand),
    /// The capacity market through a running controller: party keys, offers, bids, agent
    /// keys, rounds, contracts, accounts, deposits (docs/market.md).
    #[command(subcommand)]
    Market(market_cmd::MarketCommand),
    /// The market's ledger file: download it, verify it offline, prove an entry is in it.
    #[command(subcommand)]
    Ledger(ledger_cmd::LedgerCommand),
    /// API tokens of a controller.
    #[command(subcommand)]
    Token(token_cmd::TokenCommand),
    /// Tenants of a controller.
    #[command(subcommand)]
    Tenant(token_cmd::TenantCommand),
    /// Export, import and verify (replay) a controller's stored state.
    #[command(subcommand)]
    Data(serve_cmd::DataCommand),
    /// Benchmark inputs and timings, to compare cpn with peer libraries (BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
    /// Check and describe scenarios (a network, its compute sites, services, SLAs, slices).
    #[command(subcommand)]
    Scenario(scenario_cmd::ScenarioCommand),
    /// Import topologies from other formats.
    #[command(subcommand)]
    Topo(topo_cmd::TopoCommand),
    /// Decide where a request goes: the compute site and the network path together, under an
    /// SLA. Exits 3 when no site is feasible, with the reason for each candidate.
    Route(route_cmd::RouteArgs),
    /// Place many requests from a JSON-lines file: online with reservations and preemption,
    /// or as a batch by the heuristic or the exact solver (docs/placement.md).
    Place(place_cmd::PlaceArgs),
    /// Plan network slices over a scenario: guaranteed bandwidth on a path's links.
    #[command(subcommand)]
    Slice(slice_cmd::SliceCommand),
    /// SRv6: decode the Segment Routing Headers of a packet capture.
    #[command(subcommand)]
    Srv6(srv6_cmd::Srv6Command),
    /// An emulated network of namespaces built from a scenario (root only): up and down.
    #[command(subcommand)]
    Emu(emu_cmd::EmuCommand),
    /// Parse, print and convert quantities (`93.015 PFLOPS`, `10 Gbps`, `0.1%`).
    #[command(subcommand)]
    Units(units_cmd::UnitsCommand),
}

/// A failure, sorted by whose it is: the user's input, or ours.
#[derive(Debug)]
pub(crate) enum Failure {
    BadInput(anyhow::Error),
    Internal(anyhow::Error),
    /// The request was understood but cannot be met (no feasible site): exit code 3.
    Infeasible,
}

impl Failure {
    pub(crate) fn bad(message: impl std::fmt::Display) -> Failure {
        Failure::BadInput(anyhow::anyhow!("{message}"))
    }
}

pub(crate) type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Demo(args) => serve_cmd::demo(args),
        Command::Agent(args) => agent_cmd::agent(*args),
        Command::AgentExec(args) => agent_cmd::exec(args),
        Command::Serve(args) => serve_cmd::serve(*args),
        Command::Token(c) => token_cmd::token(c),
        Command::Task(c) => task_cmd::run(c),
        Command::Market(c) => market_cmd::run(c),
        Command::Ledger(c) => ledger_cmd::run(c),
        Command::Sim(args) => sim_cmd::run(*args),
        Command::Tenant(c) => token_cmd::tenant(c),
        Command::Data(c) => serve_cmd::data(c),
        Command::Bench(c) => bench_cmd::run(c),
        Command::Scenario(c) => scenario_cmd::run(c),
        Command::Topo(c) => topo_cmd::run(c),
        Command::Units(c) => units_cmd::run(c),
        Command::Route(args) => route_cmd::run(args),
        Command::Place(args) => place_cmd::run(args),
        Command::Slice(c) => slice_cmd::run(c),
        Command::Srv6(c) => srv6_cmd::run(c),
        Command::Emu(c) => emu_cmd::run(c),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(e)) => {
            eprintln!("internal error: {e:#}");
            ExitCode::from(1)
        }
        Err(Failure::Infeasible) => ExitCode::from(3),
    }
}
