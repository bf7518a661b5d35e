//! Request and reply bodies of the HTTP API, as JSON.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error reply: a stable code a program can match, and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`, `too_large`,
    /// `rate_limited`, `unavailable`, `not_leader`.
    pub code: String,
    pub message: String,
}

/// The objective a decision optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveName {
    Latency,
    Cost,
    Carbon,
    Load,
    #[default]
    Balanced,
}

/// A joint decision without a reservation: which site and path would serve this now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRequest {
    /// The ingress router, by name.
    pub from: String,
    /// A service of the scenario, by name; or give `demand`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// A raw compute demand, such as `"2 TFLOPS"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand: Option<String>,
    /// Processing time of a raw demand, such as `"5 ms"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<String>,
    /// End-to-end latency bound, such as `"20 ms"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency: Option<String>,
    /// Free bandwidth every link of the path must have, such as `"100 Mbps"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_bandwidth: Option<String>,
    /// End-to-end loss bound, such as `"0.1%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_loss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<ObjectiveName>,
}

/// A request for compute and a path, reserved over a window of time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceRequest {
    /// The caller's name for the request, carried into replies.
    pub id: String,
    /// The ingress router, by name.
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_bandwidth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_loss: Option<String>,
    /// 0 (lowest, never preempts) to 255.
    #[serde(default)]
    pub priority: u8,
    /// A network slice of the caller's tenant, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
    /// Hard isolation in the slice (only the slice's guarantee), rather than soft.
    #[serde(default)]
    pub hard: bool,
    /// Window start in seconds since the controller's epoch; default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// Window end in seconds; default `start + duration`, or until released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
    /// How long to hold the reservation, such as `"10 min"`, instead of `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Accelerators by model, such as `{"NVIDIA A100": 8}`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub gpus: std::collections::BTreeMap<String, u64>,
    /// Copies placed all or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<ObjectiveName>,
}

/// Several placements in one call, placed in order, each committed on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceBatch {
    pub requests: Vec<PlaceRequest>,
}

/// Latency of a decision, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LatencyUs {
    pub total_us: u64,
    pub network_us: u64,
    pub processing_us: u64,
    pub queueing_us: u64,
}

/// One candidate site of a decision and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CandidateView {
    pub site: String,
    pub feasible: bool,
    pub chosen: bool,
    pub latency_us: Option<u64>,
    pub score: Option<f64>,
    pub reason: String,
}

/// A decision: the chosen site and path, or why there is none, with every candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RouteReply {
    /// The decision's number in the decision log.
    pub id: String,
    pub feasible: bool,
    pub site: Option<String>,
    /// Routers from the ingress to the site's router.
    pub path: Vec<String>,
    pub latency: Option<LatencyUs>,
    /// The SRv6 segment list that steers the path.
    pub sids: Vec<String>,
    pub cost: Option<f64>,
    pub carbon_g: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub candidates: Vec<CandidateView>,
}

/// The outcome of one placement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaceReply {
    /// The request's own id.
    pub id: String,
    pub accepted: bool,
    /// The reservations made (one per replica).
    pub reservations: Vec<ReservationView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Reservations of lower priority given up for this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preempted: Vec<u64>,
}

/// The outcomes of a batch of placements, in the order of the requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaceResults {
    pub results: Vec<PlaceReply>,
}

/// What a reservation holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReservationView {
    pub id: u64,
    pub tenant: String,
    /// The request's id.
    pub name: String,
    pub site: String,
    pub path: Vec<String>,
    pub bandwidth: String,
    pub start: u64,
    /// `null` while held until released.
    pub end: Option<u64>,
    pub latency_us: u64,
    pub compute_gflops: u64,
    /// The delay last measured along its path by the data plane's probes, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_delay: Option<MeasuredDelay>,
}

/// A delay measured along a reservation's path (STAMP probes, RFC 8762). Separate from the
/// path's `latency_us`, which is what the decision counted on the scenario's links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MeasuredDelay {
    pub round_trip_ns: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backward_ns: Option<u64>,
    /// The controller's time of the measurement's report, ms since the Unix epoch.
    pub at_ms: u64,
}

/// Bandwidth without compute between two routers (a circuit), optionally in a slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitRequest {
    pub id: String,
    pub from: String,
    pub to: String,
    pub bandwidth: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
    #[serde(default)]
    pub hard: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// A booked circuit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CircuitView {
    pub id: u64,
    pub tenant: String,
    pub name: String,
    pub path: Vec<String>,
    pub bandwidth: String,
    pub slice: Option<String>,
    pub start: u64,
    pub end: Option<u64>,
}

/// A network slice and what is used of it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SliceView {
    pub name: String,
    pub tenant: String,
    pub guaranteed: String,
    /// Traffic booked in the slice now, per link that carries any, bits/s.
    pub used_bps: std::collections::BTreeMap<String, u64>,
}

/// A tenant of the controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantView {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantCreate {
    pub name: String,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, every tenant.
    Admin,
    /// Its own tenant's requests, reservations and slices.
    Tenant,
    /// Register and report as an agent of its tenant.
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Tenant => "tenant",
            Role::Agent => "agent",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    pub tenant: String,
    pub role: Role,
    /// A note for people, such as who holds it.
    #[serde(default)]
    pub label: String,
}

/// A token as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub tenant: String,
    pub role: Role,
    pub label: String,
}

/// A token just created: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    pub id: String,
    pub tenant: String,
    pub role: Role,
    /// The bearer secret; the controller keeps only its SHA-256.
    pub token: String,
}

/// The load an agent reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// CPU busy, 0 to 1.
    pub cpu: f64,
    /// Memory in use, 0 to 1.
    pub memory: f64,
    #[serde(default)]
    pub tasks: u32,
}

/// A registered agent as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentView {
    pub id: String,
    pub tenant: String,
    pub site: String,
    pub public_key: String,
    pub alive: bool,
    /// Milliseconds since its last heartbeat, when it sent one.
    pub last_seen_ms_ago: Option<u64>,
    /// The controller's time of its last heartbeat, ms since the Unix epoch.
    pub last_seen_at_ms: Option<u64>,
    pub cpu: Option<f64>,
}

/// A measurement of a link, a site or a reservation's path, from telemetry (in-flow, probes
/// or agents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySample {
    /// A link by name, or give `site` or `reservation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// A reservation by id: the delay measured along its path (`round_trip`, and `forward`
    /// and `backward` when the clocks agree). It is stored and shown beside the reservation;
    /// it never changes the links' latencies that decisions use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<u64>,
    /// Round trip of the reservation's path, such as `"37 µs"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_trip: Option<String>,
    /// One-way delay from the headend's client to the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<String>,
    /// One-way delay from the site back to the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backward: Option<String>,
    /// One-way latency of the link, such as `"2.5 ms"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
    /// Loss of the link, such as `"0.5%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<String>,
    /// Whether the element works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TelemetryBatch {
    pub samples: Vec<TelemetrySample>,
}

/// What a change of state did to the reservations it hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecoveryView {
    /// `rerouted`, `moved` or `lost`.
    pub outcome: String,
    pub name: String,
    pub old: u64,
    pub new: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TelemetryReply {
    pub applied: usize,
    pub recoveries: Vec<RecoveryView>,
}

/// The network as the dashboard draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MapView {
    pub scenario: String,
    pub routers: Vec<MapRouter>,
    pub links: Vec<MapLink>,
    pub sites: Vec<MapSite>,
    pub services: Vec<MapService>,
    /// The most recent decisions, newest first.
    pub decisions: Vec<MapDecision>,
    /// Delays measured along held reservations' paths, by reservation id.
    #[serde(default)]
    pub measured: Vec<MapMeasured>,
    pub totals: MapTotals,
}

/// A held reservation's path and the delay measured along it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MapMeasured {
    pub reservation: u64,
    pub name: String,
    pub site: String,
    pub path: Vec<String>,
    pub delay: MeasuredDelay,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MapRouter {
    pub name: String,
    pub label: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub up: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MapLink {
    pub name: String,
    pub a: String,
    pub b: String,
    pub bandwidth: String,
    pub latency_us: u64,
    /// Booked now over capacity, 0 to 1.
    pub utilisation: f64,
    pub up: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MapSite {
    pub name: String,
    pub label: Option<String>,
    pub tier: String,
    pub router: String,
    pub up: bool,
    /// Compute booked now over capacity, 0 to 1.
    pub load: f64,
    pub agents: usize,
    pub compute: String,
    pub price: Option<f64>,
    pub carbon_g_per_kwh: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MapService {
    pub name: String,
    pub sites: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MapDecision {
    pub id: String,
    pub request: String,
    pub site: String,
    pub path: Vec<String>,
    pub latency_us: u64,
    pub at_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MapTotals {
    pub decisions: u64,
    pub rejections: u64,
    pub reservations: usize,
    pub agents_up: usize,
}

/// One message of the event stream (`GET /api/v1/events`, server-sent events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamEvent {
    /// Increasing number of the event.
    pub seq: u64,
    /// When the controller emitted it: ms since the Unix epoch (the simulator's clock in the
    /// twin).
    pub at_ms: u64,
    /// `decision`, `reservation`, `release`, `link`, `site`, `agent`, `recovery`.
    pub kind: String,
    /// The tenant it belongs to; `null` for network-wide events every tenant sees.
    pub tenant: Option<String>,
    pub data: serde_json::Value,
}

/// Limits a task runs under on its agent's node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskLimits {
    /// CPU time, seconds (RLIMIT_CPU, and cgroup `cpu.max` when the agent can write one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<u64>,
    /// Memory, MiB (RLIMIT_AS, or cgroup `memory.max`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
    /// Wall-clock time, seconds: the agent kills the task after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_seconds: Option<u64>,
}

/// Work to run: a placement (the site and path it needs) and the command an agent at the
/// chosen site runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskSubmit {
    /// Where and what: the placement's `id` is the task's id.
    pub request: PlaceRequest,
    /// The program and its arguments, run without a shell.
    pub command: Vec<String>,
    #[serde(default)]
    pub limits: TaskLimits,
}

/// What an agent is asked to run (in its heartbeat's reply).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskAssignment {
    pub id: String,
    pub command: Vec<String>,
    pub limits: TaskLimits,
    /// How many times the task was assigned before (after a site failed).
    pub attempt: u32,
}

/// The reply to a heartbeat: the tasks assigned to the agent and not yet started.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatReply {
    pub tasks: Vec<TaskAssignment>,
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Placed on a site; waiting for an agent there.
    Placed,
    /// Given to an agent, not started yet.
    Assigned,
    Running,
    /// Ended (any exit status); the usage is final.
    Exited,
    /// Could not be started (the agent says why).
    Failed,
    /// No site could take it (at submission, or after its site failed).
    Refused,
}

/// An agent's report on a task: the metering that trading settles on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskReport {
    pub agent: String,
    /// `running` (started), `exited` or `failed`.
    pub state: TaskState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// User plus system CPU time of the task and its children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rss_kib: Option<u64>,
    /// `cgroup` or `rlimit`: how the limits were enforced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A task as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskView {
    pub id: String,
    pub tenant: String,
    pub state: TaskState,
    pub command: Vec<String>,
    pub limits: TaskLimits,
    pub site: Option<String>,
    pub reservation: Option<u64>,
    pub agent: Option<String>,
    /// Assignments so far (more than one after a failure moved it).
    pub attempts: u32,
    /// The last report of the agent that ran it.
    pub report: Option<TaskReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
