//! What goes into the controller and what comes out of it.

use cpn_api::{
    AgentRegistration, CircuitRequest, Heartbeat, PlaceBatch, RouteRequest, TelemetrySample,
    TenantCreate, TokenCreate,
};
use cpn_model::{LinkId, SiteId};
use serde::{Deserialize, Serialize};

use crate::log::LogEntry;

/// Everything that can happen to the controller. Sockets, timers and the data plane turn what
/// they see into these; nothing else reaches the state.
#[derive(Debug, Clone)]
pub enum Event {
    /// A call of the API, by the holder of a token (its SHA-256, see [`crate::token_hash`]).
    Api { req: u64, token: String, call: Call },
    /// An agent's heartbeat, by the agent's token.
    Heartbeat {
        req: Option<u64>,
        token: String,
        agent: String,
        heartbeat: Heartbeat,
    },
    /// Measurements from the data plane's telemetry (trusted, no token).
    Telemetry { samples: Vec<TelemetrySample> },
    /// The periodic timer: agent liveness, expiry of reservations whose window ended.
    Tick,
    /// A link failed or came back, as the network reported it.
    LinkChange { link: LinkId, up: bool },
    /// A site failed or came back, as its operator reported it.
    SiteChange { site: SiteId, up: bool },
}

/// The calls of the API.
#[derive(Debug, Clone)]
pub enum Call {
    Scenario,
    Map,
    Sites,
    Services,
    Route(RouteRequest),
    Place(PlaceBatch),
    Reservations,
    Reservation(u64),
    Release(u64),
    Circuit(CircuitRequest),
    Slices,
    CreateTenant(TenantCreate),
    Tenants,
    /// A new token: the server drew the secret; the controller sees only its hash.
    CreateToken {
        create: TokenCreate,
        id: String,
        hash: String,
    },
    Tokens,
    RevokeToken(String),
    RegisterAgent(AgentRegistration),
    Agents,
    Telemetry(Vec<TelemetrySample>),
    /// A task to place and run on an agent.
    SubmitTask(Box<cpn_api::TaskSubmit>),
    Tasks,
    Task(String),
    /// An agent's report on a task it runs.
    ReportTask {
        task: String,
        report: Box<cpn_api::TaskReport>,
    },
    /// An operator marks a link or a site up or down, by name.
    SetLink {
        link: String,
        up: bool,
    },
    SetSite {
        site: String,
        up: bool,
    },
    /// The market's ledger: its identity and head.
    Market,
    /// A party's signed entry (offer, bid, agent key, usage report), base64.
    MarketEntry(cpn_api::MarketEntry),
    /// Money paid into an account (admin).
    MarketDeposit(cpn_api::DepositRequest),
    /// Clear a round now (admin).
    MarketRound,
    MarketOffers,
    MarketBids,
    MarketContracts {
        site: Option<String>,
        status: Option<String>,
    },
    MarketContract(u64),
    /// What the controller measured of a contract over a span.
    MarketMeasurement {
        contract: u64,
        from: Option<u64>,
        to: Option<u64>,
    },
    MarketAccount(String),
    /// The whole ledger file.
    Ledger,
    LedgerInclusion {
        index: u64,
        size: Option<u64>,
    },
    LedgerConsistency {
        first: u64,
        second: Option<u64>,
    },
}

/// What the controller asks its surroundings to do, in order. A reply is sent only after
/// every `Persist` before it is durable.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Make this durable.
    Persist(Record),
    /// Answer the call `req`.
    Respond { req: u64, reply: Reply },
    /// Tell subscribers of the event stream.
    Emit(cpn_api::StreamEvent),
    /// Program the data plane: steer a reservation's traffic (or stop, with no segments).
    Steer(Steer),
}

/// A reservation's traffic to steer, or to stop steering (`route` is `None`, `segments`
/// empty) when it is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Steer {
    pub reservation: u64,
    /// The headend's name, and the routers after it, by name (for people and logs).
    pub headend: String,
    pub segments: Vec<String>,
    /// What a data plane needs to program the path, in the scenario's indices.
    pub route: Option<SteerRoute>,
}

/// The path a reservation's traffic takes: from its ingress router over `arcs` (the routing
/// graph's arcs, first hop first, so parallel links are told apart) to `site`, for the
/// service's anycast prefix (or the raw-demand prefix), in `slice` when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SteerRoute {
    pub ingress: cpn_model::RouterId,
    pub site: SiteId,
    pub arcs: Vec<u32>,
    pub service: Option<cpn_model::ServiceId>,
    pub slice: Option<cpn_model::SliceId>,
}

/// A reply: JSON with a status.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Ok {
        status: u16,
        body: Vec<u8>,
    },
    /// A 200 reply that is not JSON (the ledger file).
    File {
        content_type: &'static str,
        body: Vec<u8>,
    },
    Err(ApiError),
}

/// A refused call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "bad_request", message)
    }

    /// A request refused for `e`, its message after `context`: 403 when it names another
    /// tenant's element, 400 otherwise.
    pub fn of_field(context: &str, e: &cpn_api::FieldError) -> ApiError {
        let message = format!("{context}{e}");
        if e.forbidden {
            ApiError::forbidden(message)
        } else {
            ApiError::bad(message)
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "unauthorized", "missing, unknown or revoked token")
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(409, "conflict", message)
    }
}

/// A durable record. Tenants, tokens and agents are tables; everything that changed the
/// network state is an entry of the decision log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Record {
    Log(Box<LogEntry>),
    Tenant(TenantRecord),
    Token(TokenRecord),
    /// The token with this hash is revoked.
    RevokeToken {
        hash: String,
    },
    Agent(AgentRecord),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: String,
    /// SHA-256 of the secret, hex.
    pub hash: String,
    pub tenant: String,
    pub role: cpn_api::Role,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub id: String,
    pub tenant: String,
    pub site: String,
    pub public_key: String,
    /// The time of its newest registration: an older or equal one is a replay.
    pub registered_ms: u64,
    pub capabilities: String,
}
