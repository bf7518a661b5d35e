//! The HTTP API: axum handlers that turn calls into events for the core and its replies into
//! JSON, the static dashboard, the event stream, health and metrics, and the OpenAPI document
//! generated from these handlers.
//!
//! Every error is JSON `{code, message}`. Bad input gets a 4xx that says what was wrong; an
//! overloaded controller answers 429 with `Retry-After`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use cpn_api::{
    AgentRegistration, AgentView, CircuitRequest, CircuitView, ErrorBody, Heartbeat, MapView,
    PlaceBatch, PlaceReply, ReservationView, RouteReply, RouteRequest, SliceView, TelemetryBatch,
    TelemetryReply, TenantCreate, TenantView, TokenCreate, TokenCreated, TokenView,
};
use cpn_ctl::{ApiError, Call, Event, Reply, token_hash};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::oneshot;
use utoipa::OpenApi;

use crate::core::{Busy, CoreHandle, Envelope, overloaded, stopped};

mod market;

/// Limits on what one client may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, bytes.
    pub body_bytes: usize,
    /// Calls per second per token, on average.
    pub rate_per_token: f64,
    /// Calls one token may make at once above the average.
    pub burst: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_bytes: 4 << 20,
            rate_per_token: 50_000.0,
            burst: 100_000.0,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct AppState {
    core: CoreHandle,
    limits: Limits,
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
}

impl AppState {
    /// Takes one call from the token's bucket; false when it is empty.
    fn admit(&self, token: &str) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let now = Instant::now();
        let l = self.limits;
        let b = buckets.entry(token.to_string()).or_insert(Bucket {
            tokens: l.burst,
            at: now,
        });
        b.tokens =
            (b.tokens + now.duration_since(b.at).as_secs_f64() * l.rate_per_token).min(l.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// An error as the client sees it.
fn error(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = ErrorBody {
        code: e.code.to_string(),
        message: e.message.clone(),
    };
    let mut response = (status, axum::Json(body)).into_response();
    if e.status == 429 || e.status == 503 {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if e.status == 413 {
        // The rest of an oversized body is left unread, so hyper closes the connection after
        // this reply; saying so keeps a client from sending its next call on a dead connection.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn reply(r: Reply) -> Response {
    match r {
        Reply::Ok { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Reply::File { content_type, body } => {
            (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Reply::Err(e) => error(&e),
    }
}

/// The SHA-256 of the bearer token, or the refusal.
fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::unauthorized)?;
    let secret = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| {
            ApiError::new(
                401,
                "unauthorized",
                "expected `Authorization: Bearer <token>`",
            )
        })?;
    Ok(token_hash(secret.trim()))
}

/// Parses a JSON body, naming the line, column and field that is wrong.
fn body<T: serde::de::DeserializeOwned>(
    bytes: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = bytes.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(413, "too_large", format!("request body: {}", e.body_text()))
        } else {
            ApiError::bad(format!("request body: {}", e.body_text()))
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad(format!("request body: {e}")))
}

/// Runs a call through the core, with the token's rate limit, and times it.
async fn through(
    s: &AppState,
    route: &'static str,
    headers: &HeaderMap,
    call: impl FnOnce() -> Result<Call, ApiError>,
) -> Response {
    let started = Instant::now();
    let outcome = async {
        let token = bearer(headers)?;
        if !s.admit(&token) {
            return Err(ApiError::new(
                429,
                "rate_limited",
                format!(
                    "more than {} calls/s with this token",
                    s.limits.rate_per_token
                ),
            ));
        }
        let call = call()?;
        Ok(s.core.call(|req| Event::Api { req, token, call }).await)
    }
    .await;
    let r = match outcome {
        Ok(r) => r,
        Err(e) => Reply::Err(e),
    };
    let status = match &r {
        Reply::Ok { status, .. } => *status,
        Reply::File { .. } => 200,
        Reply::Err(e) => e.status,
    };
    s.core.shared.metrics.call(route, status, started.elapsed());
    reply(r)
}

/// The router of the whole service.
pub(crate) fn router(core: CoreHandle, limits: Limits) -> Router {
    let state = AppState {
        core,
        limits,
        buckets: Arc::new(Mutex::new(HashMap::new())),
    };
    Router::new()
        .route("/", get(index))
        .route("/map.js", get(map_js))
        .route("/map.css", get(map_css))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/api/v1/scenario", get(scenario))
        .route("/api/v1/map", get(map))
        .route("/api/v1/sites", get(sites))
        .route("/api/v1/sites/{name}", put(set_site))
        .route("/api/v1/links/{name}", put(set_link))
        .route("/api/v1/services", get(services))
        .route("/api/v1/route", post(route))
        .route("/api/v1/place", post(place))
        .route("/api/v1/reservations", get(reservations))
        .route(
            "/api/v1/reservations/{id}",
            get(reservation).delete(release),
        )
        .route("/api/v1/circuits", post(circuit))
        .route("/api/v1/slices", get(slices))
        .route("/api/v1/tenants", get(tenants).post(create_tenant))
        .route("/api/v1/tokens", get(tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/agents", get(agents).post(register_agent))
        .route("/api/v1/agents/{id}/heartbeat", post(heartbeat))
        .route("/api/v1/telemetry", post(telemetry))
        .route("/api/v1/tasks", get(tasks).post(submit_task))
        .route("/api/v1/tasks/{id}", get(task))
        .route("/api/v1/tasks/{id}/report", post(report_task))
        .route("/api/v1/events", get(events))
        .merge(market::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .with_state(state)
}

async fn not_found() -> Response {
    error(&ApiError::not_found("no such endpoint (see /openapi.json)"))
}

const INDEX: &str = include_str!("../web/index.html");
const MAP_JS: &str = include_str!("../web/map.js");
const MAP_CSS: &str = include_str!("../web/map.css");

fn page(content_type: &'static str, text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response()
}

async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

async fn map_js() -> Response {
    page("text/javascript; charset=utf-8", MAP_JS)
}

async fn map_css() -> Response {
    page("text/css; charset=utf-8", MAP_CSS)
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive")))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// The controller leads and its state is loaded: it takes calls.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready"), (status = 503, body = ErrorBody)))]
async fn readyz(State(s): State<AppState>) -> Response {
    if s.core.is_ready() {
        "ready\n".into_response()
    } else {
        error(&s.core.not_leader())
    }
}

/// Metrics in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text exposition 0.0.4", content_type = "text/plain")))]
async fn metrics(State(s): State<AppState>) -> Response {
    // A follower's core waits for the leadership and has no state to show.
    let ready = s.core.is_ready();
    let mut text = String::new();
    if ready {
        let (tx, rx) = oneshot::channel();
        if s.core.send(Envelope::Metrics(tx)).is_ok() {
            text = rx.await.unwrap_or_default();
        }
    }
    text.push_str("# HELP cpn_leader 1 when this controller leads and serves calls.\n# TYPE cpn_leader gauge\n");
    text.push_str(if ready {
        "cpn_leader 1\n"
    } else {
        "cpn_leader 0\n"
    });
    s.core.shared.metrics.render(&mut text);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// This document.
async fn openapi() -> Response {
    axum::Json(ApiDoc::openapi()).into_response()
}

/// The scenario's summary: counts by tier, capacities.
#[utoipa::path(get, path = "/api/v1/scenario", responses((status = 200, description = "summary"), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
async fn scenario(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "scenario", &h, || Ok(Call::Scenario)).await
}

/// The network as the dashboard draws it: routers, links, sites, recent decisions.
#[utoipa::path(get, path = "/api/v1/map", responses((status = 200, body = MapView), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
async fn map(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "map", &h, || Ok(Call::Map)).await
}

/// Compute sites with their load and state.
#[utoipa::path(get, path = "/api/v1/sites", responses((status = 200, body = Vec<cpn_api::MapSite>)), security(("bearer" = [])))]
async fn sites(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "sites", &h, || Ok(Call::Sites)).await
}

/// Services and the sites that run them.
#[utoipa::path(get, path = "/api/v1/services", responses((status = 200, body = Vec<cpn_api::MapService>)), security(("bearer" = [])))]
async fn services(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "services", &h, || Ok(Call::Services)).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpDown {
    up: bool,
}

/// Marks a site up or down (admin): its reservations are re-placed.
#[utoipa::path(put, path = "/api/v1/sites/{name}", params(("name" = String, Path, description = "the site")), request_body = UpDown, responses((status = 200, body = TelemetryReply), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn set_site(
    State(s): State<AppState>,
    Path(site): Path<String>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "set_site", &h, || {
        let u: UpDown = body(b)?;
        Ok(Call::SetSite { site, up: u.up })
    })
    .await
}

/// Marks a link up or down (admin): reservations over it are rerouted or moved.
#[utoipa::path(put, path = "/api/v1/links/{name}", params(("name" = String, Path, description = "the link")), request_body = UpDown, responses((status = 200, body = TelemetryReply), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn set_link(
    State(s): State<AppState>,
    Path(link): Path<String>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "set_link", &h, || {
        let u: UpDown = body(b)?;
        Ok(Call::SetLink { link, up: u.up })
    })
    .await
}

/// A joint decision (site + path + SLA) without a reservation, explained and logged.
#[utoipa::path(post, path = "/api/v1/route", request_body = RouteRequest, responses((status = 200, body = RouteReply), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)), security(("bearer" = [])))]
async fn route(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "route", &h, || Ok(Call::Route(body(b)?))).await
}

/// Places requests (at most 1,000 per call): a site, a path and bandwidth reserved over a
/// window, durable before the reply.
#[utoipa::path(post, path = "/api/v1/place", request_body = PlaceBatch, responses((status = 200, body = cpn_api::PlaceResults), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)), security(("bearer" = [])))]
async fn place(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "place", &h, || Ok(Call::Place(body(b)?))).await
}

/// The caller's reservations (every tenant's for an admin).
#[utoipa::path(get, path = "/api/v1/reservations", responses((status = 200, body = Vec<ReservationView>)), security(("bearer" = [])))]
async fn reservations(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "reservations", &h, || Ok(Call::Reservations)).await
}

/// One reservation; another tenant's is refused.
#[utoipa::path(get, path = "/api/v1/reservations/{id}", params(("id" = u64, Path, description = "the reservation")), responses((status = 200, body = ReservationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn reservation(State(s): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    through(&s, "reservation", &h, || Ok(Call::Reservation(id_of(&id)?))).await
}

/// Releases a reservation or a circuit.
#[utoipa::path(delete, path = "/api/v1/reservations/{id}", params(("id" = u64, Path, description = "the reservation or circuit")), responses((status = 200, description = "released"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "it holds a market contract", body = ErrorBody)), security(("bearer" = [])))]
async fn release(State(s): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    through(&s, "release", &h, || Ok(Call::Release(id_of(&id)?))).await
}

fn id_of(text: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad(format!("id: expected a reservation number, got `{text}`")))
}

/// Books bandwidth between two routers (a circuit), in a slice of the caller's tenant or best effort.
#[utoipa::path(post, path = "/api/v1/circuits", request_body = CircuitRequest, responses((status = 200, body = CircuitView), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
async fn circuit(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "circuit", &h, || Ok(Call::Circuit(body(b)?))).await
}

/// Network slices of the caller's tenant and their use now.
#[utoipa::path(get, path = "/api/v1/slices", responses((status = 200, body = Vec<SliceView>)), security(("bearer" = [])))]
async fn slices(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "slices", &h, || Ok(Call::Slices)).await
}

/// Tenants (admin).
#[utoipa::path(get, path = "/api/v1/tenants", responses((status = 200, body = Vec<TenantView>), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
async fn tenants(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "tenants", &h, || Ok(Call::Tenants)).await
}

/// Creates a tenant (admin).
#[utoipa::path(post, path = "/api/v1/tenants", request_body = TenantCreate, responses((status = 201, body = TenantView), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
async fn create_tenant(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "create_tenant", &h, || Ok(Call::CreateTenant(body(b)?))).await
}

/// Tokens, never their secrets (admin).
#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, body = Vec<TokenView>)), security(("bearer" = [])))]
async fn tokens(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "tokens", &h, || Ok(Call::Tokens)).await
}

/// Creates a token (admin): the reply is the only time its secret is shown.
#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenCreate, responses((status = 201, body = TokenCreated), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn create_token(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    let secret = match new_secret() {
        Ok(secret) => secret,
        Err(e) => return error(&e),
    };
    let id = format!("tok-{}", &token_hash(&secret)[..12]);
    let hash = token_hash(&secret);
    let response = through(&s, "create_token", &h, || {
        Ok(Call::CreateToken {
            create: body(b)?,
            id,
            hash,
        })
    })
    .await;
    if response.status() != StatusCode::CREATED {
        return response;
    }
    // Add the secret to the controller's reply, which never saw it.
    let bytes = match axum::body::to_bytes(response.into_body(), 1 << 20).await {
        Ok(b) => b,
        Err(e) => return error(&ApiError::new(500, "internal", e.to_string())),
    };
    match serde_json::from_slice::<TokenView>(&bytes) {
        Ok(view) => (
            StatusCode::CREATED,
            axum::Json(TokenCreated {
                id: view.id,
                tenant: view.tenant,
                role: view.role,
                token: secret,
            }),
        )
            .into_response(),
        Err(e) => error(&ApiError::new(500, "internal", e.to_string())),
    }
}

/// A fresh bearer secret: 32 random bytes.
pub(crate) fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::new(500, "internal", format!("randomness: {e}")))?;
    Ok(format!("cpn_{}", hex::encode(bytes)))
}

/// Revokes a token (admin).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = String, Path, description = "the token's id (not its secret)")), responses((status = 200, description = "revoked"), (status = 404, body = ErrorBody), (status = 409, description = "the last admin token", body = ErrorBody)), security(("bearer" = [])))]
async fn revoke_token(State(s): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    through(&s, "revoke_token", &h, || Ok(Call::RevokeToken(id))).await
}

/// Agents of the caller's tenant and their liveness.
#[utoipa::path(get, path = "/api/v1/agents", responses((status = 200, body = Vec<AgentView>)), security(("bearer" = [])))]
async fn agents(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "agents", &h, || Ok(Call::Agents)).await
}

/// Registers an agent: signed with its ed25519 key, fresh (timestamp and nonce), with an agent
/// token.
#[utoipa::path(post, path = "/api/v1/agents", request_body = AgentRegistration, responses((status = 201, description = "registered"), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
async fn register_agent(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "register_agent", &h, || {
        Ok(Call::RegisterAgent(body(b)?))
    })
    .await
}

/// An agent's heartbeat with its load. Three missed intervals mark its site down.
#[utoipa::path(post, path = "/api/v1/agents/{id}/heartbeat", params(("id" = String, Path, description = "the agent")), request_body = Heartbeat, responses((status = 200, body = cpn_api::HeartbeatReply), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn heartbeat(
    State(s): State<AppState>,
    Path(agent): Path<String>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let outcome = async {
        let token = bearer(&h)?;
        let heartbeat: Heartbeat = body(b)?;
        Ok::<_, ApiError>(
            s.core
                .call(|req| Event::Heartbeat {
                    req: Some(req),
                    token,
                    agent,
                    heartbeat,
                })
                .await,
        )
    }
    .await;
    let r = outcome.unwrap_or_else(Reply::Err);
    let status = match &r {
        Reply::Ok { status, .. } => *status,
        Reply::File { .. } => 200,
        Reply::Err(e) => e.status,
    };
    s.core
        .shared
        .metrics
        .call("heartbeat", status, started.elapsed());
    reply(r)
}

/// Tasks of the caller's tenant (an agent token: those its tenant's agents run).
#[utoipa::path(get, path = "/api/v1/tasks", responses((status = 200, body = Vec<cpn_api::TaskView>)), security(("bearer" = [])))]
async fn tasks(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "tasks", &h, || Ok(Call::Tasks)).await
}

/// One task, with its agent's last report.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", params(("id" = String, Path, description = "the task")), responses((status = 200, body = cpn_api::TaskView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn task(State(s): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    through(&s, "task", &h, || Ok(Call::Task(id))).await
}

/// Submits a task: placed on a site with a live agent, given to that agent, run as a child
/// process under its limits, reported back.
#[utoipa::path(post, path = "/api/v1/tasks", request_body = cpn_api::TaskSubmit, responses((status = 201, body = cpn_api::TaskView), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
async fn submit_task(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "submit_task", &h, || {
        Ok(Call::SubmitTask(Box::new(body(b)?)))
    })
    .await
}

/// An agent's report on a task it runs: started, or ended with its exit status and usage.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/report", params(("id" = String, Path, description = "the task")), request_body = cpn_api::TaskReport, responses((status = 200, body = cpn_api::TaskView), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
async fn report_task(
    State(s): State<AppState>,
    Path(task): Path<String>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "report_task", &h, || {
        Ok(Call::ReportTask {
            task,
            report: Box::new(body(b)?),
        })
    })
    .await
}

/// Measurements of links and sites (admin, or the data plane's collector).
#[utoipa::path(post, path = "/api/v1/telemetry", request_body = TelemetryBatch, responses((status = 200, body = TelemetryReply), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
async fn telemetry(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "telemetry", &h, || {
        let batch: TelemetryBatch = body(b)?;
        Ok(Call::Telemetry(batch.samples))
    })
    .await
}

/// The event stream (server-sent events): decisions, reservations, releases, recoveries, link,
/// site and agent changes; a tenant sees its own and the network's.
#[utoipa::path(get, path = "/api/v1/events", responses((status = 200, description = "text/event-stream of StreamEvent", content_type = "text/event-stream")), security(("bearer" = [])))]
async fn events(State(s): State<AppState>, h: HeaderMap) -> Response {
    let token = match bearer(&h) {
        Ok(t) => t,
        Err(e) => return error(&e),
    };
    if !s.core.is_ready() {
        return error(&s.core.not_leader());
    }
    let (tx, rx) = oneshot::channel();
    match s.core.send(Envelope::WhoAmI(token, tx)) {
        Ok(()) => {}
        Err(Busy::Overloaded) => return error(&overloaded()),
        Err(Busy::Stopped) => return error(&stopped()),
    }
    let Some(principal) = rx.await.ok().flatten() else {
        return error(&ApiError::unauthorized());
    };
    let scope = principal.scope().map(str::to_string);
    let stream =
        tokio_stream::wrappers::BroadcastStream::new(s.core.subscribe()).filter_map(move |item| {
            let scope = scope.clone();
            async move {
                let event = match item {
                    Ok(e) => e,
                    // A slow reader lost some events: say so rather than pretend.
                    Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                        let data = format!("{{\"lagged\":{n}}}");
                        return Some(Ok::<_, Infallible>(
                            SseEvent::default().event("lagged").data(data),
                        ));
                    }
                };
                let visible = match (&scope, &event.tenant) {
                    (None, _) | (_, None) => true,
                    (Some(mine), Some(theirs)) => mine == theirs,
                };
                if !visible {
                    return None;
                }
                let data = serde_json::to_string(event.as_ref()).unwrap_or_default();
                Some(Ok(SseEvent::default()
                    .event(event.kind.clone())
                    .id(event.seq.to_string())
                    .data(data)))
            }
        });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // The errors any call under /api/v1 may answer, documented once for all of them.
        let common = [
            ("400", "bad input: the message names the field"),
            ("401", "missing, unknown or revoked token"),
            ("403", "the token's role or tenant may not do this"),
            ("404", "a named element does not exist"),
            (
                "413",
                "body over the limit, or too many requests in one call",
            ),
            (
                "429",
                "over the token's rate, or the controller's queue is full; see Retry-After",
            ),
            ("503", "not leading (or not ready yet); see Retry-After"),
        ];
        for (path, item) in api.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            let operations = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.delete.as_mut(),
            ];
            for op in operations.into_iter().flatten() {
                for (status, description) in common {
                    if !op.responses.responses.contains_key(status) {
                        let response = utoipa::openapi::ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/json",
                                utoipa::openapi::ContentBuilder::new()
                                    .schema(Some(utoipa::openapi::Ref::from_schema_name(
                                        "ErrorBody",
                                    )))
                                    .build(),
                            )
                            .build();
                        op.responses
                            .responses
                            .insert(status.to_string(), response.into());
                    }
                }
            }
        }
    }
}

/// The OpenAPI 3.1 document of the API, generated from the handlers above.
#[derive(OpenApi)]
#[openapi(
    info(title = "cpn controller API", description = "The open computing power network: joint decisions of compute site, network path and SLA; reservations, slices, agents and telemetry; the capacity market on its signed ledger."),
    paths(
        healthz, readyz, metrics, scenario, map, sites, services, set_site, set_link, route, place,
        reservations, reservation, release, circuit, slices, tenants, create_tenant, tokens,
        create_token, revoke_token, agents, register_agent, heartbeat, telemetry, events, tasks,
        task, submit_task, report_task, market::market, market::submit, market::deposit,
        market::round, market::offers, market::bids, market::contracts, market::contract,
        market::measurement, market::account, market::ledger, market::inclusion,
        market::consistency
    ),
    components(schemas(
        ErrorBody, RouteRequest, RouteReply, PlaceBatch, cpn_api::PlaceRequest, PlaceReply, cpn_api::PlaceResults,
        ReservationView, CircuitRequest, CircuitView, SliceView, TenantCreate, TenantView,
        TokenCreate, TokenCreated, TokenView, AgentRegistration, AgentView, Heartbeat,
        TelemetryBatch, cpn_api::TelemetrySample, TelemetryReply, MapView, cpn_api::StreamEvent, UpDown,
        cpn_api::TaskSubmit, cpn_api::TaskLimits, cpn_api::TaskView, cpn_api::TaskReport,
        cpn_api::TaskState, cpn_api::TaskAssignment, cpn_api::HeartbeatReply,
        cpn_api::MarketEntry, cpn_api::DepositRequest, cpn_api::EntryReply, cpn_api::SlaTerms,
        cpn_api::OfferView, cpn_api::BidView, cpn_api::ContractStatusName, cpn_api::PayoutView,
        cpn_api::ContractView, cpn_api::RoundReply, cpn_api::AccountView,
        cpn_api::MeasurementView, cpn_api::TotalsView, cpn_api::MarketView,
        cpn_api::InclusionProofView, cpn_api::ConsistencyProofView
    )),
    modifiers(&Security)
)]
#[derive(Debug)]
pub struct ApiDoc;
