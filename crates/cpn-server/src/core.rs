//! The core thread: the one owner of the controller state machine and of the store.
//!
//! ```text
//!  HTTP tasks ──┐                          ┌──> oneshot replies (after the commit)
//!  timer task ──┼─> bounded channel ─> core thread ─> store.commit(batch)
//!  demo agents ─┘   (full: 429)            └──> broadcast: event stream (SSE)
//! ```
//!
//! The core takes every event waiting in the channel (up to a batch), hands each to the
//! controller, commits every record they produced in one durable commit, and only then sends the
//! replies: an acknowledged change is always on disk (group commit). If the commit fails, every
//! call of the batch is refused and the state is rebuilt from the store, so memory never holds
//! what the store does not.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cpn_ctl::{Action, ApiError, Controller, Event, LogEntry, Principal, Record, Reply};
use cpn_model::Scenario;
use cpn_store::{Op, Store, StoreError, Table, log_key};
use cpn_units::Nanos;
use tokio::sync::{broadcast, oneshot};

use crate::metrics::Metrics;

/// The most events handled per commit.
const BATCH: usize = 4_096;

/// What the core thread is asked to do.
#[derive(Debug)]
pub(crate) enum Envelope {
    /// An event, and where to send its reply (if it has one).
    Event(Event, Option<oneshot::Sender<Reply>>),
    /// Who holds a token (for the event stream's filter).
    WhoAmI(String, oneshot::Sender<Option<Principal>>),
    /// The controller's metrics in Prometheus text.
    Metrics(oneshot::Sender<String>),
}

/// The sending side of the core's channel, shared by every task. The core thread holds only
/// [`Shared`]: when the last handle is dropped, the channel closes and the core stops.
#[derive(Debug, Clone)]
pub struct CoreHandle {
    tx: SyncSender<Envelope>,
    next_req: Arc<AtomicU64>,
    pub(crate) shared: Arc<Shared>,
}

/// What the core publishes to the tasks around it.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) events: broadcast::Sender<Arc<cpn_api::StreamEvent>>,
    pub(crate) ready: AtomicBool,
    pub(crate) leader: std::sync::Mutex<Option<String>>,
    bootstrapped: AtomicBool,
    agents_alive: AtomicU64,
    pub(crate) metrics: Metrics,
    /// Where steering orders go, when a data plane is attached.
    steer: Option<std::sync::mpsc::Sender<cpn_ctl::Steer>>,
}

/// Why a call could not be handed to the core.
#[derive(Debug)]
pub(crate) enum Busy {
    Overloaded,
    Stopped,
}

impl CoreHandle {
    /// Hands an event to the core without waiting; a full channel is overload.
    pub(crate) fn send(&self, envelope: Envelope) -> Result<(), Busy> {
        self.tx.try_send(envelope).map_err(|e| match e {
            TrySendError::Full(_) => Busy::Overloaded,
            TrySendError::Disconnected(_) => Busy::Stopped,
        })
    }

    /// A fresh request number.
    pub(crate) fn req(&self) -> u64 {
        self.next_req.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends an event and waits for its reply. A controller that does not lead (or has not
    /// loaded its state yet) refuses at once with 503 `not_leader`, naming the leader.
    pub async fn call(&self, event_of: impl FnOnce(u64) -> Event) -> Reply {
        if !self.is_ready() {
            return Reply::Err(self.not_leader());
        }
        let (tx, rx) = oneshot::channel();
        let event = event_of(self.req());
        match self.send(Envelope::Event(event, Some(tx))) {
            Ok(()) => rx.await.unwrap_or_else(|_| Reply::Err(stopped())),
            Err(Busy::Overloaded) => Reply::Err(overloaded()),
            Err(Busy::Stopped) => Reply::Err(stopped()),
        }
    }

    /// Sends an event with no reply (the timer, in-process agents, telemetry).
    pub fn post(&self, event: Event) -> bool {
        self.send(Envelope::Event(event, None)).is_ok()
    }

    /// The refusal of a controller that does not lead.
    pub(crate) fn not_leader(&self) -> ApiError {
        let leader = self.shared.leader.lock().ok().and_then(|l| l.clone());
        let message = match leader {
            Some(l) => format!("this controller is not leading; the leader is `{l}`"),
            None => "this controller is not leading yet".to_string(),
        };
        ApiError::new(503, "not_leader", message)
    }

    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::Acquire)
    }

    /// Whether this start created the bootstrap admin token (the store had none).
    pub fn bootstrapped(&self) -> bool {
        self.shared.bootstrapped.load(Ordering::Acquire)
    }

    /// Agents alive at the last timer tick.
    pub fn agents_alive(&self) -> u64 {
        self.shared.agents_alive.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<cpn_api::StreamEvent>> {
        self.shared.events.subscribe()
    }
}

pub(crate) fn overloaded() -> ApiError {
    ApiError::new(
        429,
        "rate_limited",
        "the controller is overloaded: retry shortly",
    )
}

pub(crate) fn stopped() -> ApiError {
    ApiError::new(
        503,
        "unavailable",
        "the controller is stopping or not leading",
    )
}

/// The wall clock as the controller's time.
pub(crate) fn now() -> Nanos {
    Nanos(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
    )
}

/// Encodes records as store operations.
pub fn ops_of(records: &[Record]) -> Result<Vec<Op>, StoreError> {
    records
        .iter()
        .map(|r| {
            Ok(match r {
                Record::Log(e) => Op::Put {
                    table: Table::Log,
                    key: log_key(e.seq),
                    value: enc(e)?,
                },
                Record::Tenant(t) => Op::Put {
                    table: Table::Tenants,
                    key: t.name.clone(),
                    value: enc(t)?,
                },
                Record::Token(t) => Op::Put {
                    table: Table::Tokens,
                    key: t.hash.clone(),
                    value: enc(t)?,
                },
                Record::RevokeToken { hash } => Op::Delete {
                    table: Table::Tokens,
                    key: hash.clone(),
                },
                Record::Agent(a) => Op::Put {
                    table: Table::Agents,
                    key: a.id.clone(),
                    value: enc(a)?,
                },
            })
        })
        .collect()
}

fn enc<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Backend(format!("encoding: {e}")))
}

/// Why the state in a store could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("table {table}, key `{key}`: {message}")]
    Decode {
        table: &'static str,
        key: String,
        message: String,
    },
    #[error("the stored scenario: {0}")]
    Scenario(String),
    #[error("replaying the decision log: {0}")]
    Replay(#[from] cpn_ctl::ReplayError),
    #[error(
        "the data holds scenario `{stored}` but `{given}` was given: a decision log replays only on its own scenario (start with another data directory, or without --scenario)"
    )]
    OtherScenario { stored: String, given: String },
    #[error("the data holds no scenario: start once with --scenario FILE|national")]
    NoScenario,
    #[error("the data holds a market ledger: give its operator key (--operator-key FILE)")]
    NoOperatorKey,
    #[error("operator key `{file}`: {message}")]
    Market { file: String, message: String },
}

fn decode<T: serde::de::DeserializeOwned>(
    table: Table,
    key: &str,
    value: &[u8],
) -> Result<T, LoadError> {
    serde_json::from_slice(value).map_err(|e| LoadError::Decode {
        table: table.name(),
        key: key.to_string(),
        message: e.to_string(),
    })
}

/// The scenario text stored in the meta table, written at first start.
const SCENARIO_KEY: &str = "scenario";

/// The market ledger's header (hex of its encoding), written at first start: it fixes the
/// operator's key and the penalty factor for the ledger's life.
const LEDGER_KEY: &str = "ledger_header";

/// How the controller runs its capacity market.
#[derive(Clone)]
pub struct MarketSetup {
    /// The operator's key: it signs the market's own entries and its blocks.
    pub operator: ed25519_dalek::SigningKey,
    /// Where the key came from, for messages.
    pub key_file: String,
    /// The penalty factor of a new ledger, ppm (a stored ledger keeps its own).
    pub penalty_ppm: u32,
    pub config: cpn_ctl::MarketConfig,
}

impl std::fmt::Debug for MarketSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("MarketSetup")
            .field("key_file", &self.key_file)
            .field("penalty_ppm", &self.penalty_ppm)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Opens the market of a store: the stored ledger header, or a new one written now. A ledger
/// that holds nothing yet (`traded` false: no market command in the log) is made again for
/// the given key, so that a store moved to another machine needs no key it never used.
fn open_market(
    store: &mut dyn Store,
    ctl: &mut Controller,
    market: Option<&MarketSetup>,
    traded: bool,
) -> Result<(), LoadError> {
    let stored = store.get(Table::Meta, LEDGER_KEY)?;
    let Some(setup) = market else {
        return if stored.is_some() && traded {
            Err(LoadError::NoOperatorKey)
        } else {
            Ok(())
        };
    };
    let operator = cpn_ledger::AccountId::of(&setup.operator);
    let header = match stored {
        Some(text) => {
            let bytes = hex::decode(&text).map_err(|e| LoadError::Decode {
                table: Table::Meta.name(),
                key: LEDGER_KEY.into(),
                message: e.to_string(),
            })?;
            let header =
                cpn_ledger::LedgerHeader::decode(&bytes).map_err(|e| LoadError::Decode {
                    table: Table::Meta.name(),
                    key: LEDGER_KEY.into(),
                    message: e.to_string(),
                })?;
            if header.operator == operator || traded {
                Some(header)
            } else {
                None
            }
        }
        None => None,
    };
    let header = match header {
        Some(header) => header,
        None => {
            let header = cpn_ledger::LedgerHeader {
                name: format!("cpn market on {}", ctl.scenario().name),
                operator,
                penalty_ppm: setup.penalty_ppm,
            };
            store.commit(&[Op::Put {
                table: Table::Meta,
                key: LEDGER_KEY.into(),
                value: hex::encode(header.encode()).into_bytes(),
            }])?;
            header
        }
    };
    ctl.enable_market(header, setup.operator.clone(), setup.config)
        .map_err(|e| LoadError::Market {
            file: setup.key_file.clone(),
            message: e.to_string(),
        })
}

/// Builds the controller from what the store holds, writing `given` as the scenario of an
/// empty store. Returns the controller and the number of log entries replayed.
pub fn load(
    store: &mut dyn Store,
    given: Option<&Scenario>,
    market: Option<&MarketSetup>,
) -> Result<(Controller, usize), LoadError> {
    cpn_store::check_schema(store)?;
    let stored = store.get(Table::Meta, SCENARIO_KEY)?;
    let scenario = match (stored, given) {
        (Some(text), given) => {
            let (scenario, text) = parse_stored(text)?;
            if let Some(given) = given
                && given.to_toml() != text
            {
                return Err(LoadError::OtherScenario {
                    stored: scenario.name.clone(),
                    given: given.name.clone(),
                });
            }
            scenario
        }
        (None, Some(given)) => {
            store.commit(&[Op::Put {
                table: Table::Meta,
                key: SCENARIO_KEY.into(),
                value: given.to_toml().into_bytes(),
            }])?;
            given.clone()
        }
        (None, None) => return Err(LoadError::NoScenario),
    };
    let (mut ctl, records, log) = prepare(store, scenario, market, true)?;
    let n = log.len();
    ctl.restore(records, log)?;
    Ok((ctl, n))
}

/// A controller on `scenario` with the store's market opened (`always`, or only when the
/// log traded: a replay elsewhere writes nothing), and the records and log to apply.
fn prepare(
    store: &mut dyn Store,
    scenario: Scenario,
    market: Option<&MarketSetup>,
    always: bool,
) -> Result<(Controller, Vec<Record>, Vec<LogEntry>), LoadError> {
    let (records, log) = read_records(store)?;
    let mut ctl = Controller::new(scenario);
    let traded = log.iter().any(|e| e.command.kind().starts_with("market_"));
    if always || traded {
        open_market(store, &mut ctl, market, traded)?;
    }
    Ok((ctl, records, log))
}

/// What replaying a store's log elsewhere (the twin's `cpn sim --replay`) starts from: a
/// controller on the stored scenario, with the market of the stored ledger when the log
/// traded, and the durable records and the log, not yet applied.
pub fn replay_start(
    store: &mut dyn Store,
    market: Option<&MarketSetup>,
) -> Result<(Controller, Vec<Record>, Vec<LogEntry>), LoadError> {
    cpn_store::check_schema(store)?;
    let text = store
        .get(Table::Meta, SCENARIO_KEY)?
        .ok_or(LoadError::NoScenario)?;
    let (scenario, _) = parse_stored(text)?;
    prepare(store, scenario, market, false)
}

fn parse_stored(text: Vec<u8>) -> Result<(Scenario, String), LoadError> {
    let text = String::from_utf8(text).map_err(|e| LoadError::Scenario(e.to_string()))?;
    let scenario = Scenario::parse("stored scenario", &text, &mut cpn_model::NoImports)
        .map_err(|e| LoadError::Scenario(e.to_string()))?;
    Ok((scenario, text))
}

/// The scenario a store holds (the one its decision log replays on).
pub fn read_scenario(store: &dyn Store) -> Result<Scenario, LoadError> {
    let text = store
        .get(Table::Meta, SCENARIO_KEY)?
        .ok_or(LoadError::NoScenario)?;
    parse_stored(text).map(|(scenario, _)| scenario)
}

/// The durable tables (tenants, tokens, agents) and the decision log, decoded, as a replay
/// needs them.
pub fn read_records(store: &dyn Store) -> Result<(Vec<Record>, Vec<LogEntry>), LoadError> {
    let mut records = Vec::new();
    for (key, value) in store.scan(Table::Tenants)? {
        records.push(Record::Tenant(decode(Table::Tenants, &key, &value)?));
    }
    for (key, value) in store.scan(Table::Tokens)? {
        records.push(Record::Token(decode(Table::Tokens, &key, &value)?));
    }
    for (key, value) in store.scan(Table::Agents)? {
        records.push(Record::Agent(decode(Table::Agents, &key, &value)?));
    }
    let mut log: Vec<LogEntry> = Vec::new();
    for (key, value) in store.scan(Table::Log)? {
        log.push(decode(Table::Log, &key, &value)?);
    }
    Ok((records, log))
}

/// Settings of the core thread.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub name: String,
    pub heartbeat_interval: Duration,
    pub queue: usize,
    /// The data plane's inbox of steering orders (`cpn serve --dataplane emu`), if any.
    pub steer: Option<std::sync::mpsc::Sender<cpn_ctl::Steer>>,
    /// The capacity market's operator key and settings, if any.
    pub market: Option<MarketSetup>,
}

/// Starts the core thread on `store`: it waits for the leadership, loads the state, then serves.
/// `on_ready` runs on the core thread once the state is loaded (to write a bootstrap token).
pub(crate) fn start(
    config: CoreConfig,
    store: Box<dyn Store>,
    scenario: Option<Scenario>,
    bootstrap: Option<String>,
) -> (CoreHandle, std::thread::JoinHandle<Result<(), String>>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(config.queue);
    let (events, _) = broadcast::channel(4_096);
    let shared = Arc::new(Shared {
        events,
        ready: AtomicBool::new(false),
        leader: std::sync::Mutex::new(None),
        bootstrapped: AtomicBool::new(false),
        agents_alive: AtomicU64::new(0),
        metrics: Metrics::default(),
        steer: config.steer.clone(),
    });
    let handle = CoreHandle {
        tx,
        next_req: Arc::new(AtomicU64::new(1)),
        shared: shared.clone(),
    };
    let h = shared;
    let thread = std::thread::Builder::new()
        .name("cpn-core".into())
        .spawn(move || run(config, store, scenario, bootstrap, rx, h))
        .unwrap_or_else(|e| {
            // Without its core thread the controller cannot run at all.
            panic!("cannot start the core thread: {e}")
        });
    (handle, thread)
}

fn set_leader(h: &Shared, store: &dyn Store) {
    if let Ok(mut l) = h.leader.lock() {
        *l = store.leader();
    }
}

fn run(
    config: CoreConfig,
    mut store: Box<dyn Store>,
    scenario: Option<Scenario>,
    bootstrap: Option<String>,
    rx: Receiver<Envelope>,
    h: Arc<Shared>,
) -> Result<(), String> {
    loop {
        // Follow until this process leads; meanwhile calls are refused as not leading. A
        // shared store blocks in `acquire_leadership` while another process leads, so the wait
        // runs on a thread of its own and this one keeps refusing calls.
        tracing::info!(store = %store.describe(), name = %config.name, "waiting for the leadership");
        set_leader(&h, store.as_ref());
        let (won, leading) = std::sync::mpsc::channel();
        let name = config.name.clone();
        std::thread::Builder::new()
            .name("cpn-follow".into())
            .spawn(move || {
                let mut store = store;
                while let Err(e) = store.acquire_leadership(&name) {
                    tracing::warn!(error = %e, "cannot acquire the leadership; retrying");
                    std::thread::sleep(Duration::from_millis(500));
                }
                let _ = won.send(store);
            })
            .map_err(|e| format!("cannot start the thread that waits for the leadership: {e}"))?;
        store = loop {
            match leading.try_recv() {
                Ok(store) => break store,
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    return Err("the thread that waits for the leadership stopped".into());
                }
            }
            // Every caller gone: stop; the waiting thread ends with the process.
            if drain_refusing(&rx, Duration::from_millis(20)) {
                return Ok(());
            }
        };
        set_leader(&h, store.as_ref());
        let started = Instant::now();
        let (mut ctl, replayed) = load(store.as_mut(), scenario.as_ref(), config.market.as_ref())
            .map_err(|e| e.to_string())?;
        ctl.set_heartbeat_interval(Nanos(
            u64::try_from(config.heartbeat_interval.as_nanos()).unwrap_or(u64::MAX),
        ));
        if let Some(hash) = &bootstrap
            && !ctl.has_tokens()
        {
            let record = ctl.admin_token("admin-bootstrap", hash);
            let ops = ops_of(&[record]).map_err(|e| e.to_string())?;
            store.commit(&ops).map_err(|e| e.to_string())?;
            h.bootstrapped.store(true, Ordering::Release);
            tracing::info!("created the bootstrap admin token");
        }
        tracing::info!(
            replayed,
            ms = started.elapsed().as_millis() as u64,
            scenario = %ctl.scenario().name,
            "state loaded; leading"
        );
        // A data plane learns the paths of the reservations the state already holds.
        if let Some(tx) = &h.steer {
            for order in ctl.steering() {
                if tx.send(order).is_err() {
                    tracing::error!("the data plane is gone; restored steering not sent");
                    break;
                }
            }
        }
        h.ready.store(true, Ordering::Release);
        let outcome = serve(&mut ctl, store.as_mut(), &rx, &h);
        h.ready.store(false, Ordering::Release);
        match outcome {
            Serve::Stopped => return Ok(()),
            Serve::LostStore(e) => {
                tracing::error!(error = %e, "commit failed: the state is reloaded from the store");
                // Calls queued meanwhile are refused now rather than held until the
                // leadership comes back.
                while let Ok(envelope) = rx.try_recv() {
                    refuse(envelope);
                }
            }
        }
    }
}

/// Refuses whatever arrives for `wait`; true when every sender is gone.
fn drain_refusing(rx: &Receiver<Envelope>, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(envelope) => refuse(envelope),
            Err(RecvTimeoutError::Timeout) => return false,
            Err(RecvTimeoutError::Disconnected) => return true,
        }
    }
}

fn refuse(envelope: Envelope) {
    match envelope {
        Envelope::Event(_, Some(reply)) => {
            let _ = reply.send(Reply::Err(ApiError::new(
                503,
                "not_leader",
                "this controller is not leading: send the call to the leader",
            )));
        }
        Envelope::Event(_, None) => {}
        Envelope::WhoAmI(_, reply) => {
            let _ = reply.send(None);
        }
        Envelope::Metrics(reply) => {
            let _ = reply.send(String::new());
        }
    }
}

enum Serve {
    Stopped,
    LostStore(StoreError),
}

fn serve(
    ctl: &mut Controller,
    store: &mut dyn Store,
    rx: &Receiver<Envelope>,
    h: &Shared,
) -> Serve {
    let mut actions = Vec::new();
    let mut waiting: Vec<(usize, oneshot::Sender<Reply>)> = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    loop {
        let first = match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => {
                if !store.is_leader() {
                    return Serve::LostStore(StoreError::NotLeader("lease lost".into()));
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return Serve::Stopped,
        };
        actions.clear();
        waiting.clear();
        records.clear();
        let started = Instant::now();
        let mut pending = Some(first);
        let mut n = 0;
        let mut ticked = false;
        while let Some(envelope) = pending.take() {
            n += 1;
            match envelope {
                Envelope::Event(event, reply) => {
                    ticked |= matches!(event, Event::Tick);
                    let before = actions.len();
                    ctl.handle(now(), event, &mut actions);
                    if let Some(reply) = reply {
                        // The reply is the event's last `Respond`.
                        let at = actions[before..]
                            .iter()
                            .rposition(|a| matches!(a, Action::Respond { .. }))
                            .map(|i| before + i);
                        match at {
                            Some(i) => waiting.push((i, reply)),
                            None => {
                                let _ = reply.send(Reply::Ok {
                                    status: 202,
                                    body: b"{}".to_vec(),
                                });
                            }
                        }
                    }
                }
                Envelope::WhoAmI(token, reply) => {
                    let _ = reply.send(ctl.principal_of(&token));
                }
                Envelope::Metrics(reply) => {
                    let mut text = String::new();
                    ctl.metrics(now(), &mut text);
                    let _ = reply.send(text);
                }
            }
            if n < BATCH {
                pending = rx.try_recv().ok();
            }
        }
        for a in &actions {
            if let Action::Persist(r) = a {
                records.push(r.clone());
            }
        }
        if !records.is_empty() {
            let committed = ops_of(&records).and_then(|ops| store.commit(&ops));
            if let Err(e) = committed {
                for (_, reply) in waiting.drain(..) {
                    let _ = reply.send(Reply::Err(ApiError::new(
                        503,
                        "unavailable",
                        format!("not stored, nothing was changed: {e}"),
                    )));
                }
                return Serve::LostStore(e);
            }
        }
        h.metrics.batch(n, records.len(), started.elapsed());
        if ticked {
            h.agents_alive
                .store(ctl.agents_alive() as u64, Ordering::Relaxed);
        }
        // `waiting` holds the index of each awaited reply's action, in action order.
        let mut waiting = waiting.drain(..).peekable();
        for (i, action) in actions.drain(..).enumerate() {
            match action {
                Action::Respond { reply, .. } => {
                    if let Some((_, sender)) = waiting.next_if(|(k, _)| *k == i) {
                        let _ = sender.send(reply);
                    }
                }
                Action::Emit(event) => {
                    let _ = h.events.send(Arc::new(event));
                }
                Action::Steer(steer) => {
                    // The data plane runs on its own thread; a full or closed channel must
                    // not stop the controller, so the order is dropped with a log line.
                    if let Some(tx) = &h.steer
                        && let Err(e) = tx.send(steer)
                    {
                        tracing::error!(error = %e, "the data plane is gone; steering order dropped");
                    }
                }
                Action::Persist(_) => {}
            }
        }
    }
}
