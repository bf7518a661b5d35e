//! The decision log: every command that changed the state (or decided anything), in order,
//! with a digest of its outcome. Replaying the log on the scenario rebuilds the state, and the
//! digests prove the replay decided the same.

use cpn_api::{
    CircuitRequest, PlaceRequest, RouteRequest, TaskReport, TaskSubmit, TelemetrySample,
};
use serde::{Deserialize, Serialize};

/// One entry of the decision log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its place in the log, from 1.
    pub seq: u64,
    /// The controller's time when it was decided, milliseconds.
    pub at_ms: u64,
    /// The tenant it was decided for; `None` for the operator and the network.
    pub tenant: Option<String>,
    pub command: Command,
    /// What was decided, in short: replay must give the same.
    pub outcome: String,
}

/// A command, resolved: everything that depended on the clock (a window's start) is filled in,
/// so that applying it again gives the same result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    Route {
        request: RouteRequest,
    },
    Place {
        request: PlaceRequest,
    },
    Release {
        reservation: u64,
    },
    Circuit {
        request: CircuitRequest,
    },
    Link {
        link: String,
        up: bool,
    },
    Site {
        site: String,
        up: bool,
    },
    Telemetry {
        samples: Vec<TelemetrySample>,
    },
    /// Reservations whose window ended by `now_s` are released.
    Expire {
        now_s: u64,
    },
    /// A task, placed among the sites that had a live agent when it came.
    Task {
        task: TaskSubmit,
        sites: Vec<String>,
    },
    /// A task whose site has no live agent, placed again among these sites.
    Replace {
        task: String,
        sites: Vec<String>,
    },
    /// The tasks of an agent that died go back to be assigned again.
    Unassign {
        agent: String,
    },
    /// A task given to an agent.
    Assign {
        task: String,
        agent: String,
    },
    /// An agent's report on a task.
    TaskReport {
        task: String,
        report: TaskReport,
    },
    /// A party's signed ledger entry, base64 of its canonical bytes.
    MarketEntry {
        entry: String,
    },
    /// The operator deposits `amount` micro-units into `account` (hex).
    MarketDeposit {
        account: String,
        amount: u64,
    },
    /// A clearing round, and the placement of its contracts.
    MarketRound {},
    /// The settlement of a placed contract whose window ended.
    MarketSettle {
        contract: u64,
    },
}

/// Why a log could not be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("log entry {seq}: expected number {expected}")]
    Gap { seq: u64, expected: u64 },
    #[error("log entry {seq} ({kind}): replay decided `{replayed}`, the log says `{logged}`")]
    Diverged {
        seq: u64,
        kind: &'static str,
        logged: String,
        replayed: String,
    },
    #[error("log entry {seq}: {message}")]
    Invalid { seq: u64, message: String },
}

impl Command {
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Route { .. } => "route",
            Command::Place { .. } => "place",
            Command::Release { .. } => "release",
            Command::Circuit { .. } => "circuit",
            Command::Link { .. } => "link",
            Command::Site { .. } => "site",
            Command::Telemetry { .. } => "telemetry",
            Command::Expire { .. } => "expire",
            Command::Task { .. } => "task",
            Command::Assign { .. } => "assign",
            Command::Replace { .. } => "replace",
            Command::Unassign { .. } => "unassign",
            Command::TaskReport { .. } => "task_report",
            Command::MarketEntry { .. } => "market_entry",
            Command::MarketDeposit { .. } => "market_deposit",
            Command::MarketRound {} => "market_round",
            Command::MarketSettle { .. } => "market_settle",
        }
    }
}
