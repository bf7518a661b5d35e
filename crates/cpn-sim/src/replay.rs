//! A decision log recorded by the controller, replayed in the twin: each entry becomes an
//! event at its logged time (kept in log order when the controller's clock stepped back), and
//! the controller's own state machine (`cpn_ctl::Controller`) applies it again. Every entry
//! must decide what it decided when it was logged; the first that does not is named.

use std::collections::BTreeMap;

use cpn_ctl::{Controller, LogEntry, Record, ReplayError};
use cpn_model::Scenario;
use serde::Serialize;

use crate::kernel::Simulation;

/// What a replay went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplaySummary {
    pub entries: usize,
    /// Entries by command kind.
    pub by_kind: BTreeMap<String, usize>,
    /// From the first entry to the last, ms of the controller's time.
    pub span_ms: u64,
    /// Placements that were accepted, by site.
    pub placed_by_site: BTreeMap<String, usize>,
    /// Reservations held at the end.
    pub reservations: usize,
}

/// Replays `log` on `scenario` with the durable `records` (tenants, tokens, agents) loaded
/// first.
pub fn replay(
    scenario: Scenario,
    records: Vec<Record>,
    log: &[LogEntry],
) -> Result<ReplaySummary, ReplayError> {
    replay_on(Controller::new(scenario), records, log)
}

/// Replays `log` on a fresh controller prepared by the caller (one running the market of the
/// log's ledger, say) with the durable `records` loaded first.
pub fn replay_on(
    mut ctl: Controller,
    records: Vec<Record>,
    log: &[LogEntry],
) -> Result<ReplaySummary, ReplayError> {
    ctl.restore(records, std::iter::empty())?;
    let mut sim: Simulation<usize> = Simulation::new(0);
    let first = log.first().map_or(0, |e| e.at_ms);
    let mut at = 0u64;
    for (i, e) in log.iter().enumerate() {
        // Never before the entry ahead of it: log order is the order of the decisions.
        at = at.max(e.at_ms.saturating_sub(first).saturating_mul(1_000_000));
        // Monotone by construction, so the kernel cannot refuse it.
        let _ = sim.schedule(at, i);
    }
    let mut summary = ReplaySummary {
        entries: 0,
        by_kind: BTreeMap::new(),
        span_ms: log.last().map_or(0, |e| e.at_ms.saturating_sub(first)),
        placed_by_site: BTreeMap::new(),
        reservations: 0,
    };
    while let Some((_, i)) = sim.next() {
        let entry = &log[i];
        ctl.replay(entry)?;
        summary.entries += 1;
        *summary
            .by_kind
            .entry(entry.command.kind().to_string())
            .or_default() += 1;
        if let Some(held) = entry.outcome.strip_prefix("placed ") {
            for part in held.split_whitespace().next().unwrap_or("").split(',') {
                if let Some((_, site)) = part.split_once('@') {
                    *summary.placed_by_site.entry(site.to_string()).or_default() += 1;
                }
            }
        }
    }
    summary.reservations = ctl.scheduler().reservations().count();
    Ok(summary)
}
