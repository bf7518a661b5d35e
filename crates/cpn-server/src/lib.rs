//! The cpn controller as a service (`cpn serve`, `cpn demo`): the HTTP API around the core
//! state machine of `cpn-ctl`, a store from `cpn-store` (redb, or etcd with leader election),
//! TLS with rustls, Prometheus metrics, the digital network map, and the demo's simulated
//! agents and request stream.
//!
//! Tasks and threads:
//!
//! ```text
//!   axum (HTTP/TLS) tasks ─┐
//!   timer task (Tick) ─────┼─> core thread: Controller + Store ─> replies, SSE broadcast
//!   demo agents, traffic ──┘
//! ```
//!
//! This crate owns sockets, clocks and randomness; it never decides anything itself.

mod core;
pub mod demo;
mod http;
mod metrics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cpn_model::Scenario;
use cpn_store::Store;

pub use crate::core::{
    CoreConfig, CoreHandle, LoadError, MarketSetup, load, ops_of, read_records, read_scenario,
    replay_start,
};
pub use crate::http::{ApiDoc, Limits};

/// How to run a controller.
#[derive(Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// This controller's name among its peers (the etcd leader key holds it).
    pub name: String,
    pub scenario: Option<Scenario>,
    /// PEM certificate chain and private key: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub heartbeat_interval: Duration,
    pub limits: Limits,
    /// SHA-256 of an admin secret to create when the store has no token at all.
    pub bootstrap_token_hash: Option<String>,
    /// Events waiting for the core before calls are refused with 429.
    pub queue: usize,
    /// Where steering orders go after they are committed (a data plane's inbox), if any.
    pub steer: Option<std::sync::mpsc::Sender<cpn_ctl::Steer>>,
    /// The capacity market: its operator key and settings (none: no market).
    pub market: Option<MarketSetup>,
}

impl ServerConfig {
    pub fn new(listen: SocketAddr) -> ServerConfig {
        ServerConfig {
            listen,
            name: format!("cpn-{}", std::process::id()),
            scenario: None,
            tls: None,
            heartbeat_interval: Duration::from_secs(1),
            limits: Limits::default(),
            bootstrap_token_hash: None,
            queue: 65_536,
            steer: None,
            market: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("listening on {addr}: {message}")]
    Listen { addr: SocketAddr, message: String },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the controller stopped: {0}")]
    Core(String),
}

/// A running controller.
#[derive(Debug)]
pub struct Running {
    /// Where it listens (the real port when 0 was asked).
    pub addr: SocketAddr,
    pub core: CoreHandle,
    handle: axum_server::Handle<SocketAddr>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    timer: tokio::task::JoinHandle<()>,
    core_thread: std::thread::JoinHandle<Result<(), String>>,
    pub tls: bool,
}

fn tls_config(cert: &PathBuf, key: &PathBuf) -> Result<rustls::ServerConfig, ServerError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect)
        .map_err(|e| ServerError::Tls(format!("certificate `{}`: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "certificate `{}`: no PEM certificate in it",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServerError::Tls(format!("private key `{}`: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(format!("certificate and key: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Starts a controller on `store`. The HTTP server answers at once; calls are taken once the
/// controller leads and has loaded its state (see `/readyz`).
pub async fn start(config: ServerConfig, store: Box<dyn Store>) -> Result<Running, ServerError> {
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls_config(cert, key)?),
        None => None,
    };
    let (core, core_thread) = core::start(
        CoreConfig {
            name: config.name.clone(),
            heartbeat_interval: config.heartbeat_interval,
            queue: config.queue,
            steer: config.steer.clone(),
            market: config.market,
        },
        store,
        config.scenario,
        config.bootstrap_token_hash,
    );
    let app = http::router(core.clone(), config.limits).into_make_service();
    let handle = axum_server::Handle::new();
    let listen_error = |e: std::io::Error| ServerError::Listen {
        addr: config.listen,
        message: e.to_string(),
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(listen_error)?;
    listener.set_nonblocking(true).map_err(listen_error)?;
    let addr = listener.local_addr().map_err(listen_error)?;
    let is_tls = tls.is_some();
    let server = match tls {
        Some(tls) => {
            let rustls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
            let server = axum_server::from_tcp_rustls(listener, rustls)
                .map_err(listen_error)?
                .handle(handle.clone());
            tokio::spawn(server.serve(app))
        }
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(listen_error)?
                .handle(handle.clone());
            tokio::spawn(server.serve(app))
        }
    };
    let tick_core = core.clone();
    // A tenth of the heartbeat interval: an agent is declared dead at most that late after
    // its third missed heartbeat.
    let period = (config.heartbeat_interval / 10).max(Duration::from_millis(20));
    let timer = tokio::spawn(async move {
        let mut every = tokio::time::interval(period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            if tick_core.is_ready() {
                tick_core.post(cpn_ctl::Event::Tick);
            }
        }
    });
    tracing::info!(%addr, tls = is_tls, "listening");
    Ok(Running {
        addr,
        core,
        handle,
        server,
        timer,
        core_thread,
        tls: is_tls,
    })
}

impl Running {
    /// The base URL of the API.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Waits until the controller leads and has loaded its state, or `limit` passes.
    pub async fn ready(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if self.core.is_ready() {
                return true;
            }
            if self.core_thread.is_finished() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Whether the core thread ended (a store it could not load, or a stop).
    pub fn core_finished(&self) -> bool {
        self.core_thread.is_finished()
    }

    /// Stops taking calls, finishes the ones in flight, then stops the core (which commits
    /// nothing half-way: a batch is committed whole or not at all).
    pub async fn shutdown(self) -> Result<(), ServerError> {
        // Calls finish in milliseconds; only event streams stay open, and they are cut.
        self.handle.graceful_shutdown(Some(Duration::from_secs(2)));
        tracing::debug!("stopping the HTTP server");
        let _ = self.server.await;
        self.timer.abort();
        let _ = self.timer.await;
        tracing::debug!("HTTP server stopped; stopping the core");
        drop(self.core);
        let thread = self.core_thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|e| ServerError::Core(e.to_string()))?
            .map_err(|_| ServerError::Core("the core thread panicked".into()))?
            .map_err(ServerError::Core)
    }

    /// Runs until the core thread stops by itself (it cannot load its state): its error.
    pub async fn wait_core(&self) -> String {
        while !self.core_thread.is_finished() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        "the controller's core stopped".to_string()
    }
}
