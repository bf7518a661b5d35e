//! The controller's core: a state machine that takes one [`Event`] at a time (an API call, an
//! agent's heartbeat, telemetry, the timer, a link or site change) and returns [`Action`]s
//! (persist, respond, emit on the event stream, steer the data plane).
//!
//! It does no I/O and reads no clock: time comes in with each event. So the same code runs in
//! the controller and in the simulator, and the decision log it writes replays to the same
//! decisions ([`Controller::replay`]). It never answers a call whose changes it has not first
//! asked to persist: the server sends a reply only after the `Persist` actions before it are
//! durable.

mod controller;
mod event;
mod log;
mod market;
mod metrics;
mod task;
mod views;

pub use controller::{ADMIN_TENANT, Controller, MAX_BATCH, Principal, Stats, token_hash};
pub use event::{
    Action, AgentRecord, ApiError, Call, Event, Record, Reply, Steer, SteerRoute, TenantRecord,
    TokenRecord,
};
pub use log::{Command, LogEntry, ReplayError};
pub use market::{MarketConfig, MarketError};
