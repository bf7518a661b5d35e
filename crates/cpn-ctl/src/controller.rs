//! The controller state machine: [`Controller::handle`] takes an event at a time and pushes
//! the actions it calls for. Every change of the network state goes through [`Controller::apply`]
//! with a [`Command`], both when it happens and when the log is replayed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use cpn_api::{
    AgentRegistration, CircuitRequest, Heartbeat, MapDecision, PlaceReply,
    REGISTRATION_MAX_SKEW_MS, Role, RouteRequest, StreamEvent, TelemetrySample, TokenView,
};
use cpn_model::{LinkId, Scenario, SiteId};
use cpn_route::srv6::{Mode, RAW_DEMAND_PREFIX, service_prefix};
use cpn_route::{Demand, Report, steering};
use cpn_sched::{Isolation, Placed, Recovery, ReservationId, Scheduler};
use cpn_units::{Bandwidth, Nanos, Ratio};
use serde::Serialize;

use crate::event::{
    Action, AgentRecord, ApiError, Call, Event, Record, Reply, Steer, SteerRoute, TenantRecord,
    TokenRecord,
};
use crate::log::{Command, LogEntry, ReplayError};
use crate::views;

/// The most placements one call may carry.
pub const MAX_BATCH: usize = 1_000;
/// The tenant of the operator's own tokens.
pub const ADMIN_TENANT: &str = "admin";
/// How many recent decisions the map shows.
const RECENT: usize = 20;

/// Counters the controller keeps for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub routes: u64,
    pub placements: u64,
    pub releases: u64,
    /// Refused calls and infeasible requests, by reason.
    pub rejections: BTreeMap<&'static str, u64>,
    pub heartbeats: u64,
    pub registrations: u64,
    pub recoveries: u64,
    pub log_entries: u64,
}

impl Stats {
    fn reject(&mut self, reason: &'static str) {
        *self.rejections.entry(reason).or_default() += 1;
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: String,
    pub role: Role,
}

impl Principal {
    /// The tenant whose resources the caller is limited to; `None` for an administrator.
    pub fn scope(&self) -> Option<&str> {
        (self.role != Role::Admin).then_some(self.tenant.as_str())
    }

    fn may_see(&self, owner: &str) -> bool {
        self.role == Role::Admin || self.tenant == owner
    }
}

/// What an agent's heartbeats say of it.
#[derive(Debug, Clone, Copy)]
struct Liveness {
    last: Nanos,
    heartbeat: Heartbeat,
    alive: bool,
}

/// The controller: the scenario, what is reserved, who may do what, who is alive.
#[derive(Debug)]
pub struct Controller {
    pub(crate) scenario: Arc<Scenario>,
    pub(crate) sched: Scheduler,
    /// The tenant of each reservation and circuit.
    pub(crate) owners: HashMap<u64, String>,
    /// The delay last measured along a held reservation's path, by reservation id. Shown, and
    /// never fed to the links' latencies that decisions use.
    pub(crate) measured: BTreeMap<u64, cpn_api::MeasuredDelay>,
    tenants: BTreeMap<String, TenantRecord>,
    /// By the hash of the secret.
    tokens: HashMap<String, TokenRecord>,
    pub(crate) agents: BTreeMap<String, AgentRecord>,
    live: HashMap<String, Liveness>,
    /// Whether each site works, as the last command about it said.
    pub(crate) site_up: Vec<bool>,
    pub(crate) recent: VecDeque<(Option<String>, MapDecision)>,
    next_seq: u64,
    stream_seq: u64,
    heartbeat_interval: Nanos,
    pub(crate) stats: Stats,
    /// Tasks by id.
    pub(crate) tasks: BTreeMap<String, crate::task::Task>,
    /// Set when a task may have become assignable (placed, or an agent came alive).
    pub(crate) maybe_assignable: bool,
    /// The second up to which ended windows were released.
    expired_until: u64,
    /// Each site's changes of state, `(second, up)` in order, as commands applied them: what a
    /// market contract's delivery is measured on.
    pub(crate) site_history: Vec<Vec<(u64, bool)>>,
    /// The capacity market and its ledger, when an operator key was given.
    pub(crate) market: Option<Box<crate::market::Market>>,
    /// The time of the event being handled.
    now: Nanos,
}

/// A telemetry sample checked against the scenario, ready to apply.
#[derive(Debug)]
enum Sample {
    Delay {
        id: u64,
        delay: cpn_api::MeasuredDelay,
    },
    Link {
        id: LinkId,
        latency: Option<Nanos>,
        loss: Option<Ratio>,
        up: Option<bool>,
    },
    Site {
        id: SiteId,
        up: Option<bool>,
    },
}

/// What applying a command did, for its reply and its digest.
#[derive(Debug)]
pub(crate) enum Applied {
    Route(Box<Report>),
    Place(PlaceReply),
    /// The reservation released and its tenant.
    Release(u64, String),
    Circuit(cpn_api::CircuitView),
    /// What a failure or repair did to reservations, each with its tenant.
    Changed(Vec<(Recovery, String)>),
    /// A task submitted: placed, or refused.
    Task(cpn_api::TaskView),
    /// A task assigned or reported on.
    TaskChanged(cpn_api::TaskView),
    /// Tasks taken back from an agent that died.
    Unassigned(Vec<String>),
    /// A market command: entries appended to the ledger.
    Market(crate::market::MarketApplied),
}

pub(crate) fn json<T: Serialize>(status: u16, value: &T) -> Reply {
    match serde_json::to_vec(value) {
        Ok(body) => Reply::Ok { status, body },
        Err(e) => Reply::Err(ApiError::new(500, "internal", e.to_string())),
    }
}

/// SHA-256 of a bearer secret, in hex: what the controller keeps of a token.
pub fn token_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

impl Controller {
    /// A controller for `scenario` with nothing reserved, no tenant and no token.
    pub fn new(scenario: Scenario) -> Controller {
        let sites = scenario.sites.len();
        Controller {
            sched: Scheduler::new(&scenario),
            scenario: Arc::new(scenario),
            owners: HashMap::new(),
            measured: BTreeMap::new(),
            tenants: BTreeMap::new(),
            tokens: HashMap::new(),
            agents: BTreeMap::new(),
            live: HashMap::new(),
            site_up: vec![true; sites],
            recent: VecDeque::new(),
            next_seq: 1,
            stream_seq: 0,
            heartbeat_interval: Nanos(1_000_000_000),
            stats: Stats::default(),
            tasks: BTreeMap::new(),
            maybe_assignable: false,
            expired_until: 0,
            site_history: vec![Vec::new(); sites],
            market: None,
            now: Nanos::ZERO,
        }
    }

    /// Agents are declared dead after three missed heartbeats of this interval.
    pub fn set_heartbeat_interval(&mut self, interval: Nanos) {
        self.heartbeat_interval = interval;
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn scheduler(&self) -> &Scheduler {
        &self.sched
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The number the next log entry will have.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Loads the durable tables (tenants, tokens, agents) and replays the decision log, checking
    /// that every entry decides as it did.
    pub fn restore(
        &mut self,
        records: impl IntoIterator<Item = Record>,
        log: impl IntoIterator<Item = LogEntry>,
    ) -> Result<(), ReplayError> {
        for record in records {
            self.load(record);
        }
        for entry in log {
            self.replay(&entry)?;
        }
        Ok(())
    }

    fn load(&mut self, record: Record) {
        match record {
            Record::Tenant(t) => {
                self.tenants.insert(t.name.clone(), t);
            }
            Record::Token(t) => {
                self.tokens.insert(t.hash.clone(), t);
            }
            Record::RevokeToken { hash } => {
                self.tokens.remove(&hash);
            }
            Record::Agent(a) => {
                self.agents.insert(a.id.clone(), a);
            }
            Record::Log(entry) => {
                // Loading a log entry without checking it is what replay is for; keep the
                // numbering right at least.
                self.next_seq = self.next_seq.max(entry.seq + 1);
            }
        }
    }

    /// Applies one log entry again and checks it decides the same.
    pub fn replay(&mut self, entry: &LogEntry) -> Result<(), ReplayError> {
        if entry.seq != self.next_seq {
            return Err(ReplayError::Gap {
                seq: entry.seq,
                expected: self.next_seq,
            });
        }
        let now = Nanos(entry.at_ms.saturating_mul(1_000_000));
        let applied = self
            .apply(now, entry.tenant.as_deref(), &entry.command)
            .map_err(|e| ReplayError::Invalid {
                seq: entry.seq,
                message: e.message,
            })?;
        let replayed = digest(&applied);
        if replayed != entry.outcome {
            return Err(ReplayError::Diverged {
                seq: entry.seq,
                kind: entry.command.kind(),
                logged: entry.outcome.clone(),
                replayed,
            });
        }
        self.next_seq += 1;
        Ok(())
    }

    /// A token for the operator, made outside the API (at first start, or by
    /// `cpn token create --data`): the record to store.
    pub fn admin_token(&mut self, id: &str, hash: &str) -> Record {
        let record = TokenRecord {
            id: id.to_string(),
            hash: hash.to_string(),
            tenant: ADMIN_TENANT.to_string(),
            role: Role::Admin,
            label: "bootstrap".into(),
        };
        self.tokens.insert(hash.to_string(), record.clone());
        Record::Token(record)
    }

    pub fn has_tokens(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// Handles one event at `now` (time since the Unix epoch, or the simulator's clock),
    /// pushing the actions it calls for onto `out`.
    pub fn handle(&mut self, now: Nanos, event: Event, out: &mut Vec<Action>) {
        self.now = now;
        match event {
            Event::Api { req, token, call } => {
                let reply = match self.principal(&token) {
                    Ok(p) => self.call(now, &p, call, out),
                    Err(e) => Err(e),
                };
                let reply = reply.unwrap_or_else(|e| {
                    self.stats.reject(e.code);
                    Reply::Err(e)
                });
                if self.maybe_assignable {
                    self.maybe_assignable = false;
                    self.assign_pending(now, out);
                }
                out.push(Action::Respond { req, reply });
            }
            Event::Heartbeat {
                req,
                token,
                agent,
                heartbeat,
            } => {
                let reply = match self.heartbeat(now, &token, &agent, heartbeat, out) {
                    Ok(()) => {
                        if self.maybe_assignable {
                            self.maybe_assignable = false;
                            self.assign_pending(now, out);
                        }
                        json(200, &self.assignments(&agent))
                    }
                    Err(e) => {
                        self.stats.reject(e.code);
                        Reply::Err(e)
                    }
                };
                if let Some(req) = req {
                    out.push(Action::Respond { req, reply });
                }
            }
            Event::Telemetry { samples } => {
                let _ = self.command(now, None, Command::Telemetry { samples }, out);
            }
            Event::Tick => {
                self.tick(now, out);
                self.market_tick(now, out);
                if self.maybe_assignable {
                    self.maybe_assignable = false;
                    self.assign_pending(now, out);
                }
            }
            Event::LinkChange { link, up } => {
                if let Some(l) = self.scenario.links.get(link.index()) {
                    let link = l.name.clone();
                    let _ = self.command(now, None, Command::Link { link, up }, out);
                }
            }
            Event::SiteChange { site, up } => {
                if let Some(s) = self.scenario.sites.get(site.index()) {
                    let site = s.name.clone();
                    let _ = self.command(now, None, Command::Site { site, up }, out);
                }
            }
        }
    }

    /// Who holds the token with this hash, if anyone.
    pub fn principal_of(&self, token: &str) -> Option<Principal> {
        self.principal(token).ok()
    }

    fn principal(&self, token: &str) -> Result<Principal, ApiError> {
        self.tokens
            .get(token)
            .map(|t| Principal {
                tenant: t.tenant.clone(),
                role: t.role,
            })
            .ok_or_else(ApiError::unauthorized)
    }

    fn call(
        &mut self,
        now: Nanos,
        p: &Principal,
        call: Call,
        out: &mut Vec<Action>,
    ) -> Result<Reply, ApiError> {
        let admin = || {
            if p.role == Role::Admin {
                Ok(())
            } else {
                Err(ApiError::forbidden("this call needs an admin token"))
            }
        };
        let client = || {
            if p.role == Role::Agent {
                Err(ApiError::forbidden(
                    "an agent token may only register and report",
                ))
            } else {
                Ok(())
            }
        };
        let tenant = p.scope().map(str::to_string);
        match call {
            Call::Scenario => {
                client()?;
                Ok(json(200, &self.scenario.summary()))
            }
            Call::Map => {
                client()?;
                Ok(json(200, &views::map(self, now, p.scope())))
            }
            Call::Sites => {
                client()?;
                Ok(json(200, &views::map(self, now, p.scope()).sites))
            }
            Call::Services => {
                client()?;
                Ok(json(200, &views::map(self, now, p.scope()).services))
            }
            Call::Route(request) => {
                client()?;
                let applied = self.command(now, tenant, Command::Route { request }, out)?;
                Ok(self.reply_of(applied))
            }
            Call::Place(batch) => {
                client()?;
                if batch.requests.len() > MAX_BATCH {
                    return Err(ApiError::new(
                        413,
                        "too_large",
                        format!(
                            "requests: {} in one call, at most {MAX_BATCH}",
                            batch.requests.len()
                        ),
                    ));
                }
                // Every request is checked before any is placed: a bad one refuses the call
                // and places nothing.
                let now_s = now.0 / 1_000_000_000;
                let mut resolved = Vec::with_capacity(batch.requests.len());
                for (i, wire) in batch.requests.into_iter().enumerate() {
                    let place = cpn_api::to_place(&wire, &self.scenario, now_s, p.scope())
                        .map_err(|e| {
                            ApiError::of_field(&format!("requests[{i}] `{}`: ", wire.id), &e)
                        })?;
                    let mut wire = wire;
                    wire.start = Some(place.start);
                    wire.end = (place.end != u64::MAX).then_some(place.end);
                    wire.duration = None;
                    resolved.push(wire);
                }
                let mut results = Vec::with_capacity(resolved.len());
                for request in resolved {
                    match self.command(now, tenant.clone(), Command::Place { request }, out)? {
                        Applied::Place(reply) => results.push(reply),
                        _ => {
                            return Err(ApiError::new(
                                500,
                                "internal",
                                "placement gave no placement",
                            ));
                        }
                    }
                }
                Ok(json(200, &cpn_api::PlaceResults { results }))
            }
            Call::Reservations => {
                client()?;
                let list: Vec<_> = self
                    .sched
                    .reservations()
                    .filter(|r| p.may_see(self.owner(r.id.0)))
                    .map(|r| views::reservation(self, r))
                    .collect();
                Ok(json(200, &list))
            }
            Call::Reservation(id) => {
                client()?;
                let r = self
                    .sched
                    .reservation(ReservationId(id))
                    .ok_or_else(|| ApiError::not_found(format!("no reservation {id}")))?;
                if !p.may_see(self.owner(id)) {
                    return Err(ApiError::forbidden(format!(
                        "reservation {id} belongs to another tenant"
                    )));
                }
                Ok(json(200, &views::reservation(self, r)))
            }
            Call::Release(id) => {
                client()?;
                let known = self.sched.reservation(ReservationId(id)).is_some()
                    || self.sched.circuit(ReservationId(id)).is_some();
                if !known {
                    return Err(ApiError::not_found(format!("no reservation {id}")));
                }
                if !p.may_see(self.owner(id)) {
                    return Err(ApiError::forbidden(format!(
                        "reservation {id} belongs to another tenant"
                    )));
                }
                if let Some(contract) = self.contract_of(id) {
                    return Err(ApiError::conflict(format!(
                        "reservation {id} holds market contract {contract}: it is released when the contract's window ends"
                    )));
                }
                let applied =
                    self.command(now, tenant, Command::Release { reservation: id }, out)?;
                Ok(self.reply_of(applied))
            }
            Call::Circuit(mut request) => {
                client()?;
                if let Some(slice) = &request.slice {
                    cpn_api::slice(&self.scenario, slice, p.scope())
                        .map_err(|e| ApiError::of_field("", &e))?;
                }
                request.start = Some(request.start.unwrap_or(now.0 / 1_000_000_000));
                let applied = self.command(now, tenant, Command::Circuit { request }, out)?;
                Ok(self.reply_of(applied))
            }
            Call::Slices => {
                client()?;
                Ok(json(200, &views::slices(self, now, p.scope())))
            }
            Call::CreateTenant(create) => {
                admin()?;
                check_name("name", &create.name)?;
                if self.tenants.contains_key(&create.name) || create.name == ADMIN_TENANT {
                    return Err(ApiError::conflict(format!(
                        "tenant `{}` exists",
                        create.name
                    )));
                }
                let record = TenantRecord { name: create.name };
                self.tenants.insert(record.name.clone(), record.clone());
                out.push(Action::Persist(Record::Tenant(record.clone())));
                Ok(json(201, &cpn_api::TenantView { name: record.name }))
            }
            Call::Tenants => {
                admin()?;
                let list: Vec<_> = self
                    .tenants
                    .keys()
                    .map(|name| cpn_api::TenantView { name: name.clone() })
                    .collect();
                Ok(json(200, &list))
            }
            Call::CreateToken { create, id, hash } => {
                admin()?;
                if create.tenant != ADMIN_TENANT && !self.tenants.contains_key(&create.tenant) {
                    return Err(ApiError::not_found(format!(
                        "tenant: no tenant `{}`",
                        create.tenant
                    )));
                }
                if (create.tenant == ADMIN_TENANT) != (create.role == Role::Admin) {
                    return Err(ApiError::bad(
                        "role: admin tokens belong to the `admin` tenant, and only they",
                    ));
                }
                let record = TokenRecord {
                    id,
                    hash: hash.clone(),
                    tenant: create.tenant,
                    role: create.role,
                    label: create.label,
                };
                self.tokens.insert(hash, record.clone());
                out.push(Action::Persist(Record::Token(record.clone())));
                // The secret is added by the server, which alone ever saw it.
                Ok(json(201, &token_view(&record)))
            }
            Call::Tokens => {
                admin()?;
                let mut list: Vec<TokenView> = self.tokens.values().map(token_view).collect();
                list.sort_by(|a, b| a.id.cmp(&b.id));
                Ok(json(200, &list))
            }
            Call::RevokeToken(id) => {
                admin()?;
                let hash = self
                    .tokens
                    .values()
                    .find(|t| t.id == id)
                    .map(|t| t.hash.clone())
                    .ok_or_else(|| ApiError::not_found(format!("no token `{id}`")))?;
                let admins = self
                    .tokens
                    .values()
                    .filter(|t| t.role == Role::Admin)
                    .count();
                if self
                    .tokens
                    .get(&hash)
                    .is_some_and(|t| t.role == Role::Admin)
                    && admins == 1
                {
                    return Err(ApiError::conflict(format!(
                        "token `{id}` is the last admin token: create another admin token before revoking it"
                    )));
                }
                self.tokens.remove(&hash);
                out.push(Action::Persist(Record::RevokeToken { hash }));
                Ok(json(200, &serde_json::json!({ "revoked": id })))
            }
            Call::RegisterAgent(registration) => self.register(now, p, registration, out),
            Call::SubmitTask(submit) => {
                client()?;
                self.submit_task(now, p, *submit, out)
            }
            Call::Tasks => Ok(json(200, &self.task_views(p))),
            Call::Task(id) => Ok(json(200, &self.task_view(p, &id)?)),
            Call::ReportTask { task, report } => self.report_task(now, p, task, *report, out),
            Call::Agents => {
                client()?;
                Ok(json(200, &self.agent_views(now, p)))
            }
            Call::Telemetry(samples) => {
                admin()?;
                let applied = self.command(now, None, Command::Telemetry { samples }, out)?;
                Ok(self.reply_of(applied))
            }
            Call::SetLink { link, up } => {
                admin()?;
                let applied = self.command(now, None, Command::Link { link, up }, out)?;
                Ok(self.reply_of(applied))
            }
            Call::SetSite { site, up } => {
                admin()?;
                let applied = self.command(now, None, Command::Site { site, up }, out)?;
                Ok(self.reply_of(applied))
            }
            Call::Market => self.market_summary(),
            Call::MarketEntry(body) => {
                let (_, entry) = crate::market::decode_entry(&body.entry)?;
                let kind = entry.body.kind();
                match (kind, p.role) {
                    (
                        cpn_ledger::Kind::Offer
                        | cpn_ledger::Kind::Bid
                        | cpn_ledger::Kind::RegisterAgent,
                        Role::Agent,
                    ) => {
                        return Err(ApiError::forbidden(format!(
                            "entry: kind `{}`: an agent token may only post usage reports",
                            kind.name()
                        )));
                    }
                    (
                        cpn_ledger::Kind::Offer
                        | cpn_ledger::Kind::Bid
                        | cpn_ledger::Kind::RegisterAgent
                        | cpn_ledger::Kind::Usage,
                        _,
                    ) => {}
                    _ => {
                        return Err(ApiError::forbidden(format!(
                            "entry: kind `{}`: the controller writes the operator's entries (deposits: POST /api/v1/market/deposits; rounds: POST /api/v1/market/rounds)",
                            kind.name()
                        )));
                    }
                }
                let command = Command::MarketEntry { entry: body.entry };
                let applied = self.command(now, tenant, command, out)?;
                Ok(self.reply_of(applied))
            }
            Call::MarketDeposit(d) => {
                admin()?;
                let command = Command::MarketDeposit {
                    account: d.account,
                    amount: d.amount,
                };
                let applied = self.command(now, None, command, out)?;
                Ok(self.reply_of(applied))
            }
            Call::MarketRound => {
                admin()?;
                let applied = self.command(now, None, Command::MarketRound {}, out)?;
                Ok(self.reply_of(applied))
            }
            Call::MarketOffers => self.market_offers(),
            Call::MarketBids => self.market_bids(),
            Call::MarketContracts { site, status } => {
                self.market_contracts(site.as_deref(), status.as_deref())
            }
            Call::MarketContract(id) => self.market_contract(id),
            Call::MarketMeasurement { contract, from, to } => Ok(json(
                200,
                &self.market_measure(now.0 / 1_000_000_000, contract, from, to)?,
            )),
            Call::MarketAccount(account) => self.market_account(&account),
            Call::Ledger => self.ledger_file(),
            Call::LedgerInclusion { index, size } => self.ledger_inclusion(index, size),
            Call::LedgerConsistency { first, second } => self.ledger_consistency(first, second),
        }
    }

    pub(crate) fn owner(&self, id: u64) -> &str {
        self.owners.get(&id).map_or(ADMIN_TENANT, String::as_str)
    }

    fn reply_of(&self, applied: Applied) -> Reply {
        match applied {
            Applied::Route(report) => json(200, &views::route_reply(&report, self.next_seq - 1)),
            Applied::Place(reply) => json(200, &reply),
            Applied::Release(id, _) => json(200, &serde_json::json!({ "released": id })),
            Applied::Circuit(view) => json(200, &view),
            Applied::Task(view) => json(201, &view),
            Applied::TaskChanged(view) => json(200, &view),
            Applied::Unassigned(tasks) => json(200, &tasks),
            Applied::Market(m) => self.market_reply(&m),
            Applied::Changed(recoveries) => json(
                200,
                &cpn_api::TelemetryReply {
                    applied: 1,
                    recoveries: recoveries.iter().map(|(r, _)| views::recovery(r)).collect(),
                },
            ),
        }
    }

    /// Applies a command, logs it and tells the stream.
    pub(crate) fn command(
        &mut self,
        now: Nanos,
        tenant: Option<String>,
        command: Command,
        out: &mut Vec<Action>,
    ) -> Result<Applied, ApiError> {
        let applied = self.apply(now, tenant.as_deref(), &command)?;
        let entry = LogEntry {
            seq: self.next_seq,
            at_ms: now.0 / 1_000_000,
            tenant: tenant.clone(),
            outcome: digest(&applied),
            command,
        };
        self.next_seq += 1;
        self.stats.log_entries += 1;
        self.emit_applied(&entry, &applied, out);
        out.push(Action::Persist(Record::Log(Box::new(entry))));
        Ok(applied)
    }

    fn emit(
        &mut self,
        kind: &str,
        tenant: Option<String>,
        data: serde_json::Value,
        out: &mut Vec<Action>,
    ) {
        self.stream_seq += 1;
        out.push(Action::Emit(StreamEvent {
            seq: self.stream_seq,
            at_ms: self.now.0 / 1_000_000,
            kind: kind.to_string(),
            tenant,
            data,
        }));
    }

    fn emit_applied(&mut self, entry: &LogEntry, applied: &Applied, out: &mut Vec<Action>) {
        // A tenant's own decisions go to that tenant; an administrator's to the administrators
        // (never to every tenant, as network-wide events do).
        let tenant = Some(
            entry
                .tenant
                .clone()
                .unwrap_or_else(|| ADMIN_TENANT.to_string()),
        );
        match applied {
            Applied::Route(report) => {
                let data = serde_json::json!({
                    "id": entry.seq, "feasible": report.feasible, "site": report.site,
                    "path": report.path,
                });
                self.emit("decision", tenant, data, out);
            }
            Applied::Place(reply) => {
                let data = serde_json::to_value(reply).unwrap_or_default();
                self.emit("reservation", tenant, data, out);
                for r in &reply.reservations {
                    self.steer(r.id, out);
                }
            }
            Applied::Release(id, owner) => {
                let data = serde_json::json!({ "id": id });
                self.emit("release", Some(owner.clone()), data, out);
                out.push(Action::Steer(Steer {
                    reservation: *id,
                    headend: String::new(),
                    segments: Vec::new(),
                    route: None,
                }));
            }
            Applied::Circuit(view) => {
                let data = serde_json::to_value(view).unwrap_or_default();
                self.emit("circuit", tenant, data, out);
            }
            Applied::Unassigned(tasks) => {
                let data = serde_json::json!({ "tasks": tasks });
                self.emit("unassign", Some(ADMIN_TENANT.to_string()), data, out);
            }
            Applied::Market(m) => {
                // The ledger is public: anyone holding it can read every entry.
                let data = serde_json::json!({
                    "kind": m.kind, "index": m.index, "size": m.size,
                    "root": hex::encode(m.root.0),
                    "contracts": m.contracts.iter().map(|(c, r)| {
                        serde_json::json!({ "contract": c, "reservation": r })
                    }).collect::<Vec<_>>(),
                });
                self.emit("market", None, data, out);
                for (_, r) in &m.contracts {
                    if let Some(r) = r {
                        self.steer(*r, out);
                    }
                }
            }
            Applied::Task(view) | Applied::TaskChanged(view) => {
                let data = serde_json::to_value(view).unwrap_or_default();
                self.emit("task", Some(view.tenant.clone()), data, out);
            }
            Applied::Changed(recoveries) => {
                let data = serde_json::to_value(&entry.command).unwrap_or_default();
                self.emit(entry.command.kind(), None, data, out);
                for (r, owner) in recoveries {
                    let view = views::recovery(r);
                    let data = serde_json::to_value(&view).unwrap_or_default();
                    self.emit("recovery", Some(owner.clone()), data, out);
                    // The old reservation is gone: its steering goes before the new one's.
                    out.push(Action::Steer(Steer {
                        reservation: view.old,
                        headend: String::new(),
                        segments: Vec::new(),
                        route: None,
                    }));
                    if let Some(new) = view.new {
                        self.steer(new, out);
                    }
                }
            }
        }
    }

    /// A steering order for every live reservation: what a data plane attached after a
    /// start or a reload needs to program the paths the state already holds.
    pub fn steering(&self) -> Vec<Steer> {
        let mut actions = Vec::new();
        for r in self.sched.reservations() {
            self.steer(r.id.0, &mut actions);
        }
        actions
            .into_iter()
            .filter_map(|a| match a {
                Action::Steer(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    /// Asks the data plane to steer a reservation's traffic along its path.
    fn steer(&self, id: u64, out: &mut Vec<Action>) {
        let Some(r) = self.sched.reservation(ReservationId(id)) else {
            return;
        };
        let nodes = &r.path.nodes;
        let Some(&first) = nodes.first() else { return };
        let name = |n: u32| self.scenario.routers[n as usize].name.clone();
        out.push(Action::Steer(Steer {
            reservation: id,
            headend: name(first),
            segments: nodes.iter().skip(1).map(|&n| name(n)).collect(),
            route: Some(SteerRoute {
                ingress: cpn_model::RouterId(first),
                site: r.site,
                arcs: r.path.arcs.clone(),
                service: r.request.service,
                slice: r.request.slice,
            }),
        }));
    }

    /// Applies a command to the state: the one place where the network state changes.
    fn apply(
        &mut self,
        now: Nanos,
        tenant: Option<&str>,
        command: &Command,
    ) -> Result<Applied, ApiError> {
        let now_s = now.0 / 1_000_000_000;
        // Replay applies without `handle`: what the state records of time comes from here.
        self.now = now;
        match command {
            Command::MarketEntry { .. }
            | Command::MarketDeposit { .. }
            | Command::MarketRound {}
            | Command::MarketSettle { .. } => self.apply_market(now, tenant, command),
            Command::Route { request } => self
                .route(now, tenant, request)
                .map(|r| Applied::Route(Box::new(r))),
            Command::Place { request } => {
                let place = cpn_api::to_place(request, &self.scenario, now_s, tenant)
                    .map_err(|e| ApiError::bad(format!("`{}`: {e}", request.id)))?;
                self.place(now, tenant, place, request.replicas.unwrap_or(1))
                    .map(Applied::Place)
            }
            Command::Release { reservation } => {
                let id = ReservationId(*reservation);
                if self.sched.reservation(id).is_some() {
                    self.sched
                        .release(id)
                        .map_err(|e| ApiError::not_found(e.to_string()))?;
                } else {
                    self.sched
                        .release_bandwidth(id)
                        .map_err(|e| ApiError::not_found(e.to_string()))?;
                }
                self.measured.remove(reservation);
                let owner = self
                    .owners
                    .remove(reservation)
                    .unwrap_or_else(|| ADMIN_TENANT.to_string());
                self.stats.releases += 1;
                Ok(Applied::Release(*reservation, owner))
            }
            Command::Circuit { request } => {
                self.circuit(now_s, tenant, request).map(Applied::Circuit)
            }
            Command::Link { link, up } => {
                let id = self
                    .scenario
                    .links
                    .iter()
                    .find(|l| &l.name == link)
                    .map(|l| l.id)
                    .ok_or_else(|| ApiError::not_found(format!("link: no link `{link}`")))?;
                let recoveries = if *up {
                    self.sched.link_up(id);
                    Vec::new()
                } else {
                    self.sched
                        .link_down(id)
                        .map_err(|e| ApiError::bad(e.to_string()))?
                };
                Ok(Applied::Changed(self.transfer(recoveries)))
            }
            Command::Site { site, up } => {
                let id = self
                    .scenario
                    .site(site)
                    .map(|s| s.id)
                    .ok_or_else(|| ApiError::not_found(format!("site: no site `{site}`")))?;
                let recoveries = self
                    .set_site(id, *up)
                    .map_err(|e| ApiError::bad(e.to_string()))?;
                Ok(Applied::Changed(self.transfer(recoveries)))
            }
            Command::Telemetry { samples } => {
                // Every sample is checked before any is applied: a batch with a bad sample
                // changes nothing, so what is logged is exactly what changed.
                let resolved = samples
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.resolve_sample(now, i, s))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut recoveries = Vec::new();
                for (i, r) in resolved.into_iter().enumerate() {
                    recoveries.extend(self.apply_sample(i, r)?);
                }
                Ok(Applied::Changed(self.transfer(recoveries)))
            }
            Command::Task { task, sites } => self.apply_task(now, tenant, task, sites),
            Command::Assign { task, agent } => self.apply_assign(task, agent),
            Command::Replace { task, sites } => self.apply_replace(now, task, sites),
            Command::Unassign { agent } => Ok(self.apply_unassign(agent)),
            Command::TaskReport { task, report } => self.apply_report(task, report),
            Command::Expire { now_s } => {
                let ended: Vec<ReservationId> = self
                    .sched
                    .reservations()
                    .filter(|r| r.request.end <= *now_s)
                    .map(|r| r.id)
                    .collect();
                for id in &ended {
                    self.sched
                        .release(*id)
                        .map_err(|e| ApiError::bad(e.to_string()))?;
                    self.owners.remove(&id.0);
                    self.measured.remove(&id.0);
                }
                self.market_released(&ended);
                let circuits: Vec<ReservationId> = self
                    .sched
                    .circuits()
                    .filter(|c| c.end <= *now_s)
                    .map(|c| c.id)
                    .collect();
                for id in &circuits {
                    self.sched
                        .release_bandwidth(*id)
                        .map_err(|e| ApiError::bad(e.to_string()))?;
                    self.owners.remove(&id.0);
                    self.measured.remove(&id.0);
                }
                self.stats.releases += (ended.len() + circuits.len()) as u64;
                Ok(Applied::Changed(Vec::new()))
            }
        }
    }

    fn route(
        &mut self,
        now: Nanos,
        tenant: Option<&str>,
        request: &RouteRequest,
    ) -> Result<Report, ApiError> {
        let req =
            cpn_api::to_route(request, &self.scenario).map_err(|e| ApiError::bad(e.to_string()))?;
        let decision = self
            .sched
            .decide_at(&req, now.0 / 1_000_000_000)
            .map_err(|e| ApiError::bad(e.to_string()))?;
        let dest = match req.demand {
            Demand::Service(id) => service_prefix(id).unwrap_or(RAW_DEMAND_PREFIX),
            Demand::Raw { .. } => RAW_DEMAND_PREFIX,
        };
        let graph = self.sched.engine().graph();
        let segments = steering(
            &decision,
            &self.scenario,
            graph,
            dest,
            Mode::Loose,
            8,
            "cpn0",
        )
        .ok()
        .flatten();
        let report = Report::new(
            &decision,
            req.objective,
            &self.scenario,
            graph,
            segments.as_ref().map(|(l, c)| (l, c.clone())),
        );
        self.stats.routes += 1;
        if let (Some(site), Some(l)) = (&report.site, &report.latency_us) {
            self.remember(
                tenant,
                now,
                self.next_seq,
                &request.from,
                site,
                report.path.clone(),
                l.total,
            );
        } else {
            self.stats.reject("infeasible");
        }
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    fn remember(
        &mut self,
        tenant: Option<&str>,
        now: Nanos,
        seq: u64,
        request: &str,
        site: &str,
        path: Vec<String>,
        latency_us: u64,
    ) {
        if self.recent.len() == RECENT {
            self.recent.pop_back();
        }
        self.recent.push_front((
            tenant.map(str::to_string),
            MapDecision {
                id: seq.to_string(),
                request: request.to_string(),
                site: site.to_string(),
                path,
                latency_us,
                at_ms: now.0 / 1_000_000,
            },
        ));
    }

    fn place(
        &mut self,
        now: Nanos,
        tenant: Option<&str>,
        request: cpn_sched::PlaceRequest,
        replicas: u32,
    ) -> Result<PlaceReply, ApiError> {
        let name = request.name.clone();
        let owner = tenant.unwrap_or(ADMIN_TENANT).to_string();
        let outcome = if replicas > 1 {
            self.sched
                .place_replicas(&request, replicas)
                .map_err(|e| ApiError::bad(e.to_string()))?
                .map(|ids| (ids, Vec::new()))
        } else {
            match self
                .sched
                .place(request)
                .map_err(|e| ApiError::bad(e.to_string()))?
            {
                Placed::Accepted {
                    reservation,
                    preempted,
                } => Ok((vec![reservation], preempted)),
                Placed::Refused(refusal) => Err(refusal),
            }
        };
        self.stats.placements += 1;
        match outcome {
            Ok((ids, preempted)) => {
                for p in &preempted {
                    if let Some(new) = p.replaced_by {
                        let old_owner = self.owners.get(&p.reservation.0).cloned();
                        if let Some(o) = old_owner {
                            self.owners.insert(new.0, o);
                        }
                    }
                    self.owners.remove(&p.reservation.0);
                    self.measured.remove(&p.reservation.0);
                }
                for id in &ids {
                    self.owners.insert(id.0, owner.clone());
                }
                let reservations: Vec<_> = ids
                    .iter()
                    .filter_map(|id| self.sched.reservation(*id))
                    .map(|r| views::reservation(self, r))
                    .collect();
                if let Some(first) = reservations.first() {
                    let (site, path, latency) =
                        (first.site.clone(), first.path.clone(), first.latency_us);
                    self.remember(tenant, now, self.next_seq, &name, &site, path, latency);
                }
                Ok(PlaceReply {
                    id: name,
                    accepted: true,
                    reservations,
                    reason: None,
                    preempted: preempted.iter().map(|p| p.reservation.0).collect(),
                })
            }
            Err(refusal) => {
                self.stats.reject("no_feasible_site");
                Ok(PlaceReply {
                    id: name,
                    accepted: false,
                    reservations: Vec::new(),
                    reason: Some(refusal.reason),
                    preempted: Vec::new(),
                })
            }
        }
    }

    fn circuit(
        &mut self,
        now_s: u64,
        tenant: Option<&str>,
        w: &CircuitRequest,
    ) -> Result<cpn_api::CircuitView, ApiError> {
        let router = |name: &str, field: &str| {
            self.scenario
                .router(name)
                .map(|r| r.id)
                .ok_or_else(|| ApiError::bad(format!("{field}: no router `{name}`")))
        };
        let (from, to) = (router(&w.from, "from")?, router(&w.to, "to")?);
        let bandwidth: Bandwidth = w
            .bandwidth
            .parse()
            .map_err(|e| ApiError::bad(format!("bandwidth: {e}")))?;
        let slice = w
            .slice
            .as_deref()
            .map(|s| cpn_api::slice(&self.scenario, s, tenant))
            .transpose()
            .map_err(|e| ApiError::of_field("", &e))?;
        let start = w.start.unwrap_or(now_s);
        let end = match &w.duration {
            Some(d) => {
                let d: Nanos = d
                    .parse()
                    .map_err(|e| ApiError::bad(format!("duration: {e}")))?;
                start.saturating_add(d.0.div_ceil(1_000_000_000).max(1))
            }
            None => u64::MAX,
        };
        let isolation = if w.hard {
            Isolation::Hard
        } else {
            Isolation::Soft
        };
        let id = self
            .sched
            .book_bandwidth(&w.id, from, to, bandwidth, (start, end), slice, isolation)
            .map_err(|e| ApiError::bad(e.to_string()))?
            .map_err(|reason| ApiError::new(409, "no_capacity", reason))?;
        self.owners
            .insert(id.0, tenant.unwrap_or(ADMIN_TENANT).to_string());
        let c = self
            .sched
            .circuit(id)
            .ok_or_else(|| ApiError::new(500, "internal", "circuit vanished"))?;
        Ok(views::circuit(self, c))
    }

    /// One telemetry sample checked and resolved against the scenario, changing nothing:
    /// latency and loss of a link, a link or site up or down, the delay measured along a
    /// reservation's path.
    fn resolve_sample(
        &self,
        now: Nanos,
        i: usize,
        s: &TelemetrySample,
    ) -> Result<Sample, ApiError> {
        let bad = |m: String| ApiError::bad(format!("samples[{i}]: {m}"));
        let path_fields = s.round_trip.is_some() || s.forward.is_some() || s.backward.is_some();
        match (&s.link, &s.site, s.reservation) {
            _ if path_fields && s.reservation.is_none() => Err(bad(
                "round_trip, forward, backward: only with `reservation`".into(),
            )),
            (None, None, Some(id)) => {
                if s.latency.is_some() || s.loss.is_some() || s.up.is_some() {
                    return Err(bad(
                        "reservation: give round_trip (and forward, backward), not latency, loss or up"
                            .into(),
                    ));
                }
                if self.sched.reservation(ReservationId(id)).is_none() {
                    return Err(bad(format!("reservation: no reservation {id}")));
                }
                let parse = |field: &str, v: Option<&str>| {
                    v.map(str::parse::<Nanos>)
                        .transpose()
                        .map(|n| n.map(|n| n.0))
                        .map_err(|e| bad(format!("{field}: {e}")))
                };
                let round_trip_ns = parse("round_trip", s.round_trip.as_deref())?
                    .ok_or_else(|| bad("round_trip: required with `reservation`".into()))?;
                let delay = cpn_api::MeasuredDelay {
                    round_trip_ns,
                    forward_ns: parse("forward", s.forward.as_deref())?,
                    backward_ns: parse("backward", s.backward.as_deref())?,
                    at_ms: now.0 / 1_000_000,
                };
                Ok(Sample::Delay { id, delay })
            }
            (Some(link), None, None) => {
                let id: LinkId = self
                    .scenario
                    .links
                    .iter()
                    .find(|l| &l.name == link)
                    .map(|l| l.id)
                    .ok_or_else(|| bad(format!("link: no link `{link}`")))?;
                let latency = s
                    .latency
                    .as_deref()
                    .map(str::parse::<Nanos>)
                    .transpose()
                    .map_err(|e| bad(format!("latency: {e}")))?;
                let loss = s
                    .loss
                    .as_deref()
                    .map(str::parse::<Ratio>)
                    .transpose()
                    .map_err(|e| bad(format!("loss: {e}")))?;
                Ok(Sample::Link {
                    id,
                    latency,
                    loss,
                    up: s.up,
                })
            }
            (None, Some(site), None) => {
                let id: SiteId = self
                    .scenario
                    .site(site)
                    .map(|s| s.id)
                    .ok_or_else(|| bad(format!("site: no site `{site}`")))?;
                Ok(Sample::Site { id, up: s.up })
            }
            _ => Err(bad(
                "give `link`, `site` or `reservation`, one of them".into()
            )),
        }
    }

    /// Applies a resolved sample (sample `i` of its batch).
    fn apply_sample(&mut self, i: usize, sample: Sample) -> Result<Vec<Recovery>, ApiError> {
        let bad = |m: String| ApiError::bad(format!("samples[{i}]: {m}"));
        match sample {
            Sample::Delay { id, delay } => {
                // An earlier sample of the batch may have released the reservation.
                if self.sched.reservation(ReservationId(id)).is_some() {
                    self.measured.insert(id, delay);
                }
                Ok(Vec::new())
            }
            Sample::Link {
                id,
                latency,
                loss,
                up,
            } => {
                self.sched.set_link_metrics(id, latency, loss);
                match up {
                    Some(false) => self.sched.link_down(id).map_err(|e| bad(e.to_string())),
                    Some(true) => {
                        self.sched.link_up(id);
                        Ok(Vec::new())
                    }
                    // A measured loss may break reservations' loss bounds: they move.
                    None if loss.is_some() => {
                        self.sched.link_measured(id).map_err(|e| bad(e.to_string()))
                    }
                    None => Ok(Vec::new()),
                }
            }
            Sample::Site { id, up } => match up {
                Some(up) => self.set_site(id, up).map_err(|e| bad(e.to_string())),
                None => Ok(Vec::new()),
            },
        }
    }

    fn set_site(&mut self, id: SiteId, up: bool) -> Result<Vec<Recovery>, cpn_sched::SchedError> {
        if self.site_up[id.index()] != up
            && let Some(history) = self.site_history.get_mut(id.index())
        {
            history.push((self.now.0 / 1_000_000_000, up));
        }
        self.site_up[id.index()] = up;
        if up {
            self.sched.site_up(id);
            Ok(Vec::new())
        } else {
            self.sched.site_down(id)
        }
    }

    /// Moves the ownership of reservations that a failure re-placed; each recovery comes
    /// back with its tenant.
    fn transfer(&mut self, recoveries: Vec<Recovery>) -> Vec<(Recovery, String)> {
        self.stats.recoveries += recoveries.len() as u64;
        self.market_recoveries(self.now.0 / 1_000_000_000, &recoveries);
        let recoveries = recoveries
            .into_iter()
            .map(|r| {
                let (old, new) = match &r {
                    Recovery::Rerouted { old, new, .. } | Recovery::Moved { old, new, .. } => {
                        (*old, Some(*new))
                    }
                    Recovery::Lost { old, .. } => (*old, None),
                };
                // A moved reservation is a new one on another path: nothing measured yet.
                self.measured.remove(&old.0);
                let owner = self
                    .owners
                    .remove(&old.0)
                    .unwrap_or_else(|| ADMIN_TENANT.to_string());
                if let Some(new) = new {
                    self.owners.insert(new.0, owner.clone());
                }
                (r, owner)
            })
            .collect::<Vec<_>>();
        self.tasks_follow(&recoveries);
        recoveries
    }

    fn register(
        &mut self,
        now: Nanos,
        p: &Principal,
        r: AgentRegistration,
        out: &mut Vec<Action>,
    ) -> Result<Reply, ApiError> {
        if p.role == Role::Tenant {
            return Err(ApiError::forbidden(
                "registration needs an agent or admin token",
            ));
        }
        check_name("agent", &r.agent)?;
        r.verify()
            .map_err(|e| ApiError::new(401, "bad_signature", e.to_string()))?;
        let now_ms = now.0 / 1_000_000;
        if now_ms.abs_diff(r.timestamp_ms) > REGISTRATION_MAX_SKEW_MS {
            return Err(ApiError::new(
                401,
                "stale_registration",
                format!(
                    "timestamp_ms {} is more than {} s from the controller's clock {now_ms}",
                    r.timestamp_ms,
                    REGISTRATION_MAX_SKEW_MS / 1000
                ),
            ));
        }
        if self.scenario.site(&r.site).is_none() {
            return Err(ApiError::bad(format!("site: no site `{}`", r.site)));
        }
        if let Some(old) = self.agents.get(&r.agent) {
            if old.public_key != r.public_key {
                return Err(ApiError::conflict(format!(
                    "agent `{}` is registered with another key",
                    r.agent
                )));
            }
            if old.tenant != p.tenant && p.role != Role::Admin {
                return Err(ApiError::forbidden(format!(
                    "agent `{}` belongs to another tenant",
                    r.agent
                )));
            }
            if r.timestamp_ms <= old.registered_ms {
                return Err(ApiError::new(
                    401,
                    "replayed_registration",
                    format!(
                        "registration of {} is not newer than the one of {}: a replay",
                        r.timestamp_ms, old.registered_ms
                    ),
                ));
            }
        }
        let record = AgentRecord {
            id: r.agent.clone(),
            tenant: p.tenant.clone(),
            site: r.site.clone(),
            public_key: r.public_key.clone(),
            registered_ms: r.timestamp_ms,
            capabilities: r.capabilities.to_string(),
        };
        self.agents.insert(record.id.clone(), record.clone());
        self.stats.registrations += 1;
        out.push(Action::Persist(Record::Agent(record.clone())));
        let data =
            serde_json::json!({ "agent": record.id, "site": record.site, "event": "registered" });
        self.emit("agent", Some(record.tenant.clone()), data, out);
        Ok(json(
            201,
            &serde_json::json!({ "agent": record.id, "site": record.site }),
        ))
    }

    fn heartbeat(
        &mut self,
        now: Nanos,
        token: &str,
        agent: &str,
        heartbeat: Heartbeat,
        out: &mut Vec<Action>,
    ) -> Result<(), ApiError> {
        let p = self.principal(token)?;
        let record = self
            .agents
            .get(agent)
            .ok_or_else(|| ApiError::not_found(format!("no agent `{agent}`: register first")))?;
        if !p.may_see(&record.tenant) || p.role == Role::Tenant {
            return Err(ApiError::forbidden(format!("agent `{agent}` is not yours")));
        }
        if !(0.0..=1.0).contains(&heartbeat.cpu) || !(0.0..=1.0).contains(&heartbeat.memory) {
            return Err(ApiError::bad("cpu, memory: expected fractions from 0 to 1"));
        }
        let (site, owner) = (record.site.clone(), record.tenant.clone());
        self.stats.heartbeats += 1;
        let was_alive = self.live.get(agent).is_some_and(|l| l.alive);
        self.live.insert(
            agent.to_string(),
            Liveness {
                last: now,
                heartbeat,
                alive: true,
            },
        );
        if !was_alive {
            self.maybe_assignable = true;
            let data = serde_json::json!({ "agent": agent, "site": site, "event": "alive" });
            self.emit("agent", Some(owner), data, out);
            if let Some(s) = self.scenario.site(&site).map(|s| s.id)
                && !self.site_up[s.index()]
            {
                let _ = self.command(now, None, Command::Site { site, up: true }, out);
            }
        }
        Ok(())
    }

    fn tick(&mut self, now: Nanos, out: &mut Vec<Action>) {
        let deadline = Nanos(self.heartbeat_interval.0.saturating_mul(3));
        let mut died = Vec::new();
        for (agent, live) in &mut self.live {
            if live.alive && now.0.saturating_sub(live.last.0) > deadline.0 {
                live.alive = false;
                died.push(agent.clone());
            }
        }
        died.sort();
        for agent in died {
            let Some((site, owner)) = self
                .agents
                .get(&agent)
                .map(|a| (a.site.clone(), a.tenant.clone()))
            else {
                continue;
            };
            let data = serde_json::json!({ "agent": agent, "site": site, "event": "dead" });
            self.emit("agent", Some(owner), data, out);
            if self.has_active_tasks(&agent) {
                let _ = self.command(
                    now,
                    None,
                    Command::Unassign {
                        agent: agent.clone(),
                    },
                    out,
                );
            }
            let any_alive = self
                .agents
                .values()
                .filter(|a| a.site == site)
                .any(|a| self.live.get(&a.id).is_some_and(|l| l.alive));
            let Some(id) = self.scenario.site(&site).map(|s| s.id) else {
                continue;
            };
            if !any_alive && self.site_up[id.index()] {
                let _ = self.command(now, None, Command::Site { site, up: false }, out);
            }
        }
        // Windows are whole seconds: look for ended ones once a second, however often the
        // timer ticks for liveness.
        let now_s = now.0 / 1_000_000_000;
        if now_s <= self.expired_until {
            return;
        }
        self.expired_until = now_s;
        let ended = self.sched.reservations().any(|r| r.request.end <= now_s)
            || self.sched.circuits().any(|c| c.end <= now_s);
        if ended {
            let _ = self.command(now, None, Command::Expire { now_s }, out);
        }
    }

    fn agent_views(&self, now: Nanos, p: &Principal) -> Vec<cpn_api::AgentView> {
        self.agents
            .values()
            .filter(|a| p.may_see(&a.tenant))
            .map(|a| {
                let live = self.live.get(&a.id);
                cpn_api::AgentView {
                    id: a.id.clone(),
                    tenant: a.tenant.clone(),
                    site: a.site.clone(),
                    public_key: a.public_key.clone(),
                    alive: live.is_some_and(|l| l.alive),
                    last_seen_ms_ago: live.map(|l| now.0.saturating_sub(l.last.0) / 1_000_000),
                    last_seen_at_ms: live.map(|l| l.last.0 / 1_000_000),
                    cpu: live.map(|l| l.heartbeat.cpu),
                }
            })
            .collect()
    }

    /// Agents alive per site, and the load they report.
    pub(crate) fn agents_alive_at(&self, site: &str) -> usize {
        self.agents
            .values()
            .filter(|a| a.site == site && self.live.get(&a.id).is_some_and(|l| l.alive))
            .count()
    }

    pub(crate) fn is_alive(&self, agent: &str) -> bool {
        self.live.get(agent).is_some_and(|l| l.alive)
    }

    pub fn agents_alive(&self) -> usize {
        self.live.values().filter(|l| l.alive).count()
    }

    pub fn agents_registered(&self) -> usize {
        self.agents.len()
    }
}

fn token_view(t: &TokenRecord) -> TokenView {
    TokenView {
        id: t.id.clone(),
        tenant: t.tenant.clone(),
        role: t.role,
        label: t.label.clone(),
    }
}

/// Names of tenants and agents: short, printable, no separators that storage keys use.
fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "{field}: expected 1 to 64 characters of letters, digits, `-`, `_` or `.`, got `{name}`"
        )))
    }
}

/// The outcome of a command in short, for the log and its replay.
fn digest(applied: &Applied) -> String {
    match applied {
        Applied::Route(r) => match &r.site {
            Some(site) => format!("site={site} path={}", r.path.join(">")),
            None => "infeasible".to_string(),
        },
        Applied::Place(p) if p.accepted => {
            let held: Vec<String> = p
                .reservations
                .iter()
                .map(|r| format!("{}@{}", r.id, r.site))
                .collect();
            let mut s = format!("placed {}", held.join(","));
            if !p.preempted.is_empty() {
                let ids: Vec<String> = p.preempted.iter().map(u64::to_string).collect();
                s.push_str(&format!(" preempted {}", ids.join(",")));
            }
            s
        }
        Applied::Place(_) => "refused".to_string(),
        Applied::Release(id, _) => format!("released {id}"),
        Applied::Circuit(c) => format!("circuit {} path={}", c.id, c.path.join(">")),
        Applied::Task(t) => match (&t.site, t.reservation) {
            (Some(site), Some(r)) => format!("task {} placed {r}@{site}", t.id),
            _ => format!("task {} refused", t.id),
        },
        Applied::Unassigned(tasks) => format!("unassigned [{}]", tasks.join(",")),
        Applied::Market(m) => m.digest(),
        Applied::TaskChanged(t) => format!(
            "task {} {:?} agent={}",
            t.id,
            t.state,
            t.agent.as_deref().unwrap_or("-")
        ),
        Applied::Changed(recoveries) => {
            let parts: Vec<String> = recoveries
                .iter()
                .map(|(r, _)| {
                    let v = views::recovery(r);
                    format!(
                        "{}:{}>{}",
                        v.outcome,
                        v.old,
                        v.new.map_or("-".into(), |n| n.to_string())
                    )
                })
                .collect();
            format!("changed [{}]", parts.join(","))
        }
    }
}
