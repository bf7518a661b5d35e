//! `cpn serve` (the controller), `cpn demo` (the controller with simulated agents and traffic
//! on the built-in scenario) and `cpn data` (export, import and replay of a data directory).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::{Args, Subcommand};
use cpn_server::ServerConfig;
use cpn_store::{RedbStore, Store};
use cpn_units::Nanos;
use serde::Deserialize;

use crate::scenario_cmd::load;
use crate::{Failure, Outcome};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// A TOML file with any of the settings below (flags and environment win over it).
    #[arg(long, env = "CPN_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:7878].
    #[arg(long, env = "CPN_LISTEN")]
    listen: Option<SocketAddr>,
    /// Data directory of the embedded store [default: ./cpn-data].
    #[arg(long, env = "CPN_DATA", conflicts_with = "store")]
    data: Option<PathBuf>,
    /// A shared store for high availability: etcd://host:port[,host:port...]. Controllers on
    /// the same store elect one leader; the others wait and take over.
    #[arg(long, env = "CPN_STORE")]
    store: Option<String>,
    /// The scenario to start an empty store with: a TOML file or a built-in name.
    #[arg(long, env = "CPN_SCENARIO")]
    scenario: Option<String>,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, env = "CPN_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "CPN_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// This controller's name among its peers [default: cpn-<pid>].
    #[arg(long, env = "CPN_NAME")]
    name: Option<String>,
    /// Agents' heartbeat interval: three missed ones mark a site down [default: 1 s].
    #[arg(long, env = "CPN_HEARTBEAT_INTERVAL")]
    heartbeat_interval: Option<String>,
    /// Where the first start writes the admin token [default: <data>/admin.token].
    #[arg(long, env = "CPN_ADMIN_TOKEN_FILE")]
    admin_token_file: Option<PathBuf>,
    /// Calls per second allowed per token [default: 50000].
    #[arg(long, env = "CPN_RATE_LIMIT")]
    rate_limit: Option<f64>,
    /// The market operator's ed25519 key file (64 hex digits), created with mode 0600 on
    /// first start [default: <data>/operator.key]. Controllers sharing a store (--store) need
    /// the same one, given here: without it they run no market.
    #[arg(long, env = "CPN_OPERATOR_KEY")]
    operator_key: Option<PathBuf>,
    /// How often the timer clears a market round when orders are open, at multiples of this
    /// since the epoch; `0` clears only on `POST /api/v1/market/rounds` [default: 60 s].
    #[arg(long, env = "CPN_MARKET_ROUND_INTERVAL")]
    market_round_interval: Option<String>,
    /// How long after a contract's window the operator waits for usage reports before it
    /// settles with what was reported [default: 60 s].
    #[arg(long, env = "CPN_MARKET_SETTLE_GRACE")]
    market_settle_grace: Option<String>,
    /// The penalty factor of a new ledger in ppm of the missed fraction (2000000 refunds twice
    /// the missed fraction, up to the price) [default: 2000000].
    #[arg(long, env = "CPN_MARKET_PENALTY_PPM")]
    market_penalty_ppm: Option<u32>,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
    /// Program a data plane with the controller's decisions: `emu`, the emulated network of
    /// `cpn emu up` (same scenario, root only): each reservation's path becomes its headend's
    /// seg6 route and its slice HTB classes on the path's links; releases remove them.
    #[arg(long, value_enum)]
    dataplane: Option<DataplaneArg>,
    /// The emulation to program (`cpn emu up --name`).
    #[arg(long, default_value = "cpn")]
    emu_name: String,
    /// Where the emulation's state file is.
    #[arg(long, default_value = cpn_dataplane::emu::STATE_DIR, env = "CPN_EMU_STATE_DIR")]
    emu_state_dir: PathBuf,
    /// The alternate-marking period of in-flow telemetry with `--dataplane emu`.
    #[arg(long, default_value = "100 ms")]
    ifit_period: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum DataplaneArg {
    Emu,
}

/// The data plane of `--dataplane emu`: where the core sends steering orders, and where the
/// data plane's telemetry comes back as controller events.
struct EmuDataplane {
    steer: std::sync::mpsc::Sender<cpn_ctl::Steer>,
    telemetry: tokio::sync::mpsc::UnboundedReceiver<cpn_ctl::Event>,
}

/// How often (in in-flow telemetry periods) each steered flow's delay is probed.
const DELAY_EVERY: u32 = 5;
/// STAMP probes per flow and measurement, and how long each is waited for.
const DELAY_PROBES: u32 = 5;
const DELAY_TIMEOUT: Duration = Duration::from_millis(20);

/// A steered flow whose delay is probed: its client, its site and the address probed there.
struct Probed {
    /// The order in which flows were steered: of the flows of one headend and destination,
    /// only the last one's path is programmed, so only it is probed.
    order: u64,
    ingress: cpn_model::RouterId,
    site: cpn_model::SiteId,
    to: std::net::Ipv6Addr,
    /// The round trip last reported, ns.
    reported: Option<u64>,
}

/// Starts the data plane's thread for `--dataplane emu`. It takes the steering orders the
/// core commits and programs the emulation, and measures every steered flow by alternate
/// marking each `period`: a link whose loss moved by 0.2 points or more since it was last
/// reported is reported to the controller as telemetry (which moves the reservations whose
/// loss bound it breaks). Every [`DELAY_EVERY`] periods it sends [`DELAY_PROBES`] STAMP
/// probes along each flow's segment list and reports the medians as the reservation's
/// measured delay when the flow has none yet or its round trip moved by a quarter or more.
/// A failure is logged and the next order or period taken: one bad order never stops the
/// controller.
fn start_emu_dataplane(
    scenario: Option<&cpn_model::Scenario>,
    name: &str,
    state_dir: &std::path::Path,
    period: Duration,
) -> Result<EmuDataplane, Failure> {
    use cpn_dataplane::delay::PathProber;
    use cpn_dataplane::emu;
    use cpn_dataplane::ifit::{Monitor, Segment};
    use cpn_dataplane::steer::{Flow, Steering};
    use std::sync::mpsc::RecvTimeoutError;
    let scenario =
        scenario.ok_or_else(|| Failure::bad("--dataplane emu needs the scenario (--scenario)"))?;
    let record = emu::read_state(state_dir, name).map_err(|e| {
        Failure::bad(format!(
            "--dataplane emu: {e} (run `cpn emu up SCENARIO --name {name}` first)"
        ))
    })?;
    if record.scenario != scenario.name || !record.complete {
        return Err(Failure::bad(format!(
            "--dataplane emu: emulation `{name}` is of scenario `{}`{}, not of `{}`",
            record.scenario,
            if record.complete {
                ""
            } else {
                " and did not finish coming up"
            },
            scenario.name
        )));
    }
    let layout = emu::Layout::new(scenario, name, record.scale).map_err(Failure::bad)?;
    let mut steering = Steering::new(layout, scenario, cpn_dataplane::Linux);
    let (tx, rx) = std::sync::mpsc::channel::<cpn_ctl::Steer>();
    let (events, telemetry) = tokio::sync::mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("cpn-dataplane".into())
        .spawn(move || {
            let mut monitor = Monitor::new();
            let mut reported: std::collections::BTreeMap<String, f64> = Default::default();
            let mut prober = PathProber::new();
            let mut probed: std::collections::BTreeMap<u64, Probed> = Default::default();
            let mut steered = 0u64;
            let mut periods = 0u32;
            let mut next_tick = std::time::Instant::now() + period;
            loop {
                let wait = next_tick.saturating_duration_since(std::time::Instant::now());
                match rx.recv_timeout(wait) {
                    Ok(order) => {
                        let id = order.reservation;
                        let result = match order.route {
                            Some(r) => {
                                let headend = steering.layout().router(r.ingress);
                                let arcs = r.arcs.clone();
                                let prefix = r
                                    .service
                                    .and_then(|s| cpn_route::srv6::service_prefix(s).ok())
                                    .unwrap_or(cpn_route::srv6::RAW_DEMAND_PREFIX);
                                steered += 1;
                                probed.insert(
                                    id,
                                    Probed {
                                        order: steered,
                                        ingress: r.ingress,
                                        site: r.site,
                                        to: emu::service_addr(prefix),
                                        reported: None,
                                    },
                                );
                                let flow = Flow {
                                    ingress: r.ingress,
                                    site: r.site,
                                    arcs: r.arcs,
                                    service: r.service,
                                    slice: r.slice,
                                };
                                steering.steer(id, flow).and_then(|c| {
                                    monitor
                                        .watch(id, steering.layout(), &headend, &arcs)
                                        .map(|()| c)
                                })
                            }
                            None => {
                                probed.remove(&id);
                                steering
                                    .release(id)
                                    .and_then(|c| monitor.forget(id).map(|()| c))
                            }
                        };
                        match result {
                            Ok(c) => tracing::info!(
                                reservation = id,
                                headend = %order.headend,
                                added = c.added.len(),
                                replaced = c.replaced.len(),
                                removed = c.removed.len(),
                                "data plane programmed"
                            ),
                            Err(e) => tracing::error!(reservation = id, error = %e, "data plane not programmed"),
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                next_tick += period;
                periods = periods.wrapping_add(1);
                if periods.is_multiple_of(DELAY_EVERY) {
                    for event in measure_delays(&mut prober, &mut probed, steering.layout()) {
                        let _ = events.send(event);
                    }
                }
                if monitor.is_idle() {
                    continue;
                }
                let blocks = match monitor.tick(period / 5) {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::error!(error = %e, "in-flow telemetry failed this period");
                        continue;
                    }
                };
                let mut samples = Vec::new();
                for (_, block) in blocks {
                    if block.sent < 100 {
                        continue;
                    }
                    for (segment, loss) in block.per_segment() {
                        let Segment::Link(link) = segment else { continue };
                        let last = reported.get(&link).copied().unwrap_or(0.0);
                        if (loss - last).abs() >= 0.002 {
                            reported.insert(link.clone(), loss);
                            samples.push(cpn_api::TelemetrySample {
                                link: Some(link),
                                loss: Some(format!("{:.3}%", loss * 100.0)),
                                ..no_sample()
                            });
                        }
                    }
                }
                if !samples.is_empty() {
                    tracing::info!(samples = samples.len(), "in-flow telemetry: loss changed");
                    let _ = events.send(cpn_ctl::Event::Telemetry { samples });
                }
            }
        })
        .map_err(|e| Failure::Internal(e.into()))?;
    Ok(EmuDataplane {
        steer: tx,
        telemetry,
    })
}

fn no_sample() -> cpn_api::TelemetrySample {
    cpn_api::TelemetrySample {
        link: None,
        site: None,
        reservation: None,
        round_trip: None,
        forward: None,
        backward: None,
        latency: None,
        loss: None,
        up: None,
    }
}

/// Probes the delay of every steered flow whose path is programmed (the last steered of its
/// headend and destination) and returns a telemetry event for each whose round trip is
/// new or moved by a quarter or more since it was last reported: one event per reservation,
/// so that one released meanwhile does not take the others' reports with it.
fn measure_delays(
    prober: &mut cpn_dataplane::delay::PathProber,
    probed: &mut std::collections::BTreeMap<u64, Probed>,
    layout: &cpn_dataplane::emu::Layout,
) -> Vec<cpn_ctl::Event> {
    let mut last: std::collections::BTreeMap<(cpn_model::RouterId, std::net::Ipv6Addr), u64> =
        Default::default();
    for p in probed.values() {
        let order = last.entry((p.ingress, p.to)).or_default();
        *order = (*order).max(p.order);
    }
    let mut events = Vec::new();
    for (&id, p) in probed.iter_mut() {
        if last.get(&(p.ingress, p.to)) != Some(&p.order) {
            continue;
        }
        let measured = prober.measure(
            &layout.client(p.ingress),
            cpn_dataplane::emu::client_addr(p.ingress.0, true),
            &layout.site(p.site),
            p.to,
            DELAY_PROBES,
            DELAY_TIMEOUT,
        );
        let d = match measured {
            Ok(Some(d)) => d,
            Ok(None) => {
                tracing::warn!(reservation = id, "delay probes: none answered");
                continue;
            }
            Err(e) => {
                tracing::error!(reservation = id, error = %e, "delay probes failed");
                continue;
            }
        };
        let moved = p
            .reported
            .is_none_or(|before| d.round_trip_ns.abs_diff(before).saturating_mul(4) >= before);
        if !moved {
            continue;
        }
        p.reported = Some(d.round_trip_ns);
        let ns = |v: u64| format!("{v} ns");
        events.push(cpn_ctl::Event::Telemetry {
            samples: vec![cpn_api::TelemetrySample {
                reservation: Some(id),
                round_trip: Some(ns(d.round_trip_ns)),
                forward: d.forward_ns.map(ns),
                backward: d.backward_ns.map(ns),
                ..no_sample()
            }],
        });
    }
    events
}

/// The settings a config file may hold: the flags' names with underscores.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    store: Option<String>,
    scenario: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    name: Option<String>,
    heartbeat_interval: Option<String>,
    admin_token_file: Option<PathBuf>,
    rate_limit: Option<f64>,
    operator_key: Option<PathBuf>,
    market_round_interval: Option<String>,
    market_settle_grace: Option<String>,
    market_penalty_ppm: Option<u32>,
}

fn read_config(path: &Path) -> Result<FileConfig, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::bad(format!("--config `{}`: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| Failure::bad(format!("--config `{}`: {e}", path.display())))
}

/// Whole seconds of a duration flag, 0 allowed.
fn seconds(flag: &str, text: &str) -> Result<u64, Failure> {
    let n: Nanos = text
        .trim()
        .parse()
        .or_else(|e| {
            if text.trim() == "0" {
                Ok(Nanos::ZERO)
            } else {
                Err(e)
            }
        })
        .map_err(|e| Failure::bad(format!("--{flag}: {e}")))?;
    Ok(n.0 / 1_000_000_000)
}

/// The market's setup: the operator's key (made on first start when `create`), its settings.
pub(crate) fn market_setup(
    key: &Path,
    create: bool,
    round_interval: Option<&str>,
    settle_grace: Option<&str>,
    penalty_ppm: Option<u32>,
) -> Result<Option<cpn_server::MarketSetup>, Failure> {
    if !create && !key.exists() {
        return Ok(None);
    }
    let operator = cpn_agent::identity::load_or_create(key)
        .map_err(|e| Failure::bad(format!("--operator-key: {e}")))?;
    let penalty_ppm = penalty_ppm.unwrap_or(2_000_000);
    if penalty_ppm > 100_000_000 {
        return Err(Failure::bad(
            "--market-penalty-ppm: expected at most 100000000 (100 times)",
        ));
    }
    Ok(Some(cpn_server::MarketSetup {
        operator,
        key_file: key.display().to_string(),
        penalty_ppm,
        config: cpn_ctl::MarketConfig {
            round_interval_s: round_interval
                .map(|t| seconds("market-round-interval", t))
                .transpose()?
                .unwrap_or(60),
            settle_grace_s: settle_grace
                .map(|t| seconds("market-settle-grace", t))
                .transpose()?
                .unwrap_or(60),
        },
    }))
}

fn duration(flag: &str, text: &str) -> Result<Duration, Failure> {
    let n: Nanos = text
        .parse()
        .map_err(|e| Failure::bad(format!("--{flag}: {e}")))?;
    if n.0 == 0 {
        return Err(Failure::bad(format!("--{flag}: must be more than zero")));
    }
    Ok(Duration::from_nanos(n.0))
}

pub(crate) fn init_logs(json: bool, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CPN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Opens the store: etcd when an address is given, else redb in the data directory.
pub(crate) fn open_store(data: &Path, store: Option<&str>) -> Result<Box<dyn Store>, Failure> {
    match store {
        Some(address) => {
            let endpoints = cpn_store::parse_address(address)
                .map_err(|e| Failure::bad(format!("--store: {e}")))?;
            let store =
                cpn_store::EtcdStore::connect(&endpoints, cpn_store::EtcdStore::DEFAULT_PREFIX)
                    .map_err(|e| Failure::bad(format!("--store `{address}`: {e}")))?;
            Ok(Box::new(store))
        }
        None => Ok(Box::new(
            RedbStore::open(data).map_err(|e| Failure::bad(format!("--data: {e}")))?,
        )),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(anyhow::anyhow!("tokio runtime: {e}")))
}

/// Waits for Ctrl-C or SIGTERM.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// Writes a secret readable by its owner only.
fn write_secret(path: &Path, secret: &str) -> Result<(), Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::bad(format!("admin token file `{}`: {e}", path.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure::bad(format!("admin token file `{}`: {e}", path.display())))?;
    writeln!(file, "{secret}")
        .map_err(|e| Failure::bad(format!("admin token file `{}`: {e}", path.display())))
}

/// The admin secret to create on a store with no token: `CPN_ADMIN_TOKEN`, or a new one.
fn bootstrap_secret() -> Result<(String, bool), Failure> {
    match std::env::var("CPN_ADMIN_TOKEN") {
        Ok(s) if !s.trim().is_empty() => Ok((s.trim().to_string(), false)),
        _ => {
            let mut bytes = [0u8; 32];
            getrandom_fill(&mut bytes)?;
            Ok((format!("cpn_{}", hex_encode(&bytes)), true))
        }
    }
}

fn getrandom_fill(bytes: &mut [u8]) -> Result<(), Failure> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(bytes))
        .map_err(|e| Failure::Internal(anyhow::anyhow!("randomness: {e}")))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn serve(args: ServeArgs) -> Outcome {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => FileConfig::default(),
    };
    init_logs(args.log_json, "info");
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 7878)));
    let data = args
        .data
        .or(file.data)
        .unwrap_or_else(|| PathBuf::from("cpn-data"));
    let store_address = args.store.or(file.store);
    let scenario = match args.scenario.or(file.scenario) {
        Some(s) => Some(load(&s)?),
        None => None,
    };
    let tls = match (
        args.tls_cert.or(file.tls_cert),
        args.tls_key.or(file.tls_key),
    ) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err(Failure::bad("give both --tls-cert and --tls-key")),
    };
    let heartbeat = match args.heartbeat_interval.or(file.heartbeat_interval) {
        Some(t) => duration("heartbeat-interval", &t)?,
        None => Duration::from_secs(1),
    };
    let token_file = args
        .admin_token_file
        .or(file.admin_token_file)
        .unwrap_or_else(|| data.join("admin.token"));
    // Market settings are checked before anything is opened or made.
    for (flag, value) in [
        ("market-round-interval", &args.market_round_interval),
        ("market-settle-grace", &args.market_settle_grace),
        ("market-round-interval", &file.market_round_interval),
        ("market-settle-grace", &file.market_settle_grace),
    ] {
        if let Some(v) = value {
            seconds(flag, v)?;
        }
    }
    let store = open_store(&data, store_address.as_deref())?;
    // The operator's key is made only once the store opened: a start that fails leaves
    // nothing behind.
    // A shared store's controllers must sign with one key: it is never made for them.
    let key = args.operator_key.or(file.operator_key);
    let market = match (&key, &store_address) {
        (None, Some(_)) => {
            tracing::warn!("a shared store and no --operator-key: this controller runs no market");
            None
        }
        _ => market_setup(
            &key.unwrap_or_else(|| data.join("operator.key")),
            true,
            args.market_round_interval
                .or(file.market_round_interval)
                .as_deref(),
            args.market_settle_grace
                .or(file.market_settle_grace)
                .as_deref(),
            args.market_penalty_ppm.or(file.market_penalty_ppm),
        )?,
    };
    let (secret, generated) = bootstrap_secret()?;
    let mut config = ServerConfig::new(listen);
    if let Some(name) = args.name.or(file.name) {
        config.name = name;
    }
    let mut telemetry = None;
    if let Some(DataplaneArg::Emu) = args.dataplane {
        let period = duration("ifit-period", &args.ifit_period)?;
        if period < Duration::from_millis(10) {
            return Err(Failure::bad("--ifit-period: at least 10 ms"));
        }
        let dataplane = start_emu_dataplane(
            scenario.as_ref(),
            &args.emu_name,
            &args.emu_state_dir,
            period,
        )?;
        config.steer = Some(dataplane.steer);
        telemetry = Some(dataplane.telemetry);
    }
    config.scenario = scenario;
    config.market = market;
    config.tls = tls;
    config.heartbeat_interval = heartbeat;
    if let Some(rate) = args.rate_limit.or(file.rate_limit) {
        config.limits.rate_per_token = rate;
        config.limits.burst = rate.max(1.0);
    }
    config.bootstrap_token_hash = Some(cpn_ctl::token_hash(&secret));
    let rt = runtime()?;
    rt.block_on(async move {
        let running = cpn_server::start(config, store)
            .await
            .map_err(Failure::bad)?;
        eprintln!("cpn controller listening on {}", running.url());
        // The data plane's telemetry goes to the core as events. The forwarder holds a
        // handle of the core, so it is stopped before the core is.
        let forward = telemetry.map(|mut rx| {
            let core = running.core.clone();
            tokio::spawn(async move {
                while let Some(event) = rx.recv().await {
                    if !core.post(event) {
                        tracing::warn!("the controller is busy: in-flow telemetry dropped");
                    }
                }
            })
        });
        let bootstrapped = running.core.clone();
        let wrote = tokio::spawn(async move {
            // The token file is written once the core has created the token, never before.
            // Readiness is read first: the core sets `bootstrapped` before `ready`.
            loop {
                let ready = bootstrapped.is_ready();
                if bootstrapped.bootstrapped() {
                    if generated && write_secret(&token_file, &secret).is_ok() {
                        tracing::info!(file = %token_file.display(), "wrote the admin token");
                    }
                    return;
                }
                if ready {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        tokio::select! {
            _ = stop_signal() => {}
            _ = running.wait_core() => {}
        }
        // A core that never got as far as its state (it could not load it, or it still waits
        // for the leadership) created no token: stop waiting for one. One that did is let
        // finish writing the file.
        if running.core.bootstrapped() {
            let _ = wrote.await;
        } else {
            wrote.abort();
        }
        if let Some(f) = forward {
            f.abort();
            let _ = f.await;
        }
        running.shutdown().await.map_err(Failure::bad)
    })
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// The scenario: a TOML file or a built-in name.
    #[arg(long, default_value = "national")]
    scenario: String,
    /// Synthetic requests per second.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Stop after this long (such as `60 s`); until Ctrl-C by default.
    #[arg(long)]
    duration: Option<String>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the state in this directory (a fresh temporary one by default).
    #[arg(long)]
    data: Option<PathBuf>,
}

pub(crate) fn demo(args: DemoArgs) -> Outcome {
    init_logs(false, "warn");
    let scenario = load(&args.scenario)?;
    if !(args.rate > 0.0 && args.rate <= 100_000.0) {
        return Err(Failure::bad(
            "--rate: expected more than 0 and at most 100000 per second",
        ));
    }
    let stop_after = args
        .duration
        .as_deref()
        .map(|d| duration("duration", d))
        .transpose()?;
    let temp = match &args.data {
        Some(_) => None,
        None => Some(
            tempdir()
                .map_err(|e| Failure::Internal(anyhow::anyhow!("temporary directory: {e}")))?,
        ),
    };
    let data = args
        .data
        .clone()
        .or_else(|| temp.as_ref().map(|t| t.0.clone()))
        .unwrap_or_default();
    let store = open_store(&data, None)?;
    let (secret, _) = bootstrap_secret()?;
    let admin = cpn_ctl::token_hash(&secret);
    let mut config = ServerConfig::new(args.listen);
    config.name = "demo".into();
    config.scenario = Some(scenario.clone());
    config.bootstrap_token_hash = Some(admin.clone());
    let rt = runtime()?;
    let outcome = rt.block_on(async move {
        let running = cpn_server::start(config, store).await.map_err(Failure::bad)?;
        if !running.ready(Duration::from_secs(30)).await {
            let e = running.shutdown().await.err().map_or("not ready".to_string(), |e| e.to_string());
            return Err(Failure::bad(e));
        }
        let demo = cpn_server::demo::DemoConfig {
            rate: args.rate,
            seed: args.seed,
            heartbeat_interval: Duration::from_secs(1),
            link_failures: Some(Duration::from_secs(90)),
        };
        let (stats, tasks) = cpn_server::demo::start(running.core.clone(), Arc::new(scenario), admin, demo)
            .await
            .map_err(Failure::bad)?;
        println!("cpn demo: the national computing power network, live");
        println!("  dashboard  {}/#token={secret}", running.url());
        println!("  API        {}/openapi.json   metrics {}/metrics", running.url(), running.url());
        println!("  CLI        cpn route --server {} --token {secret} --from beijing --service ar-cloud-gaming", running.url());
        println!("  Ctrl-C stops.");
        let summary = async {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                let (p50, p99) = stats.take_percentiles().unwrap_or((0, 0));
                let line = format!(
                    "requests {:>7}  accepted {:>7}  refused {:>5}  errors {:>3}  agents {:>3}  place p50 {:>5} µs  p99 {:>6} µs",
                    stats.requests.load(Ordering::Relaxed),
                    stats.accepted.load(Ordering::Relaxed),
                    stats.refused.load(Ordering::Relaxed),
                    stats.errors.load(Ordering::Relaxed),
                    running.core.agents_alive(),
                    p50,
                    p99,
                );
                print!("\r{line}");
                let _ = std::io::stdout().flush();
            }
        };
        let stop = async {
            match stop_after {
                Some(d) => tokio::time::sleep(d).await,
                None => stop_signal().await,
            }
        };
        tokio::select! {
            _ = summary => {}
            _ = stop => {}
        }
        println!();
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
        running.shutdown().await.map_err(Failure::bad)?;
        println!("cpn demo: stopped cleanly");
        Ok(())
    });
    drop(temp);
    outcome
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir() -> std::io::Result<TempDir> {
    let mut bytes = [0u8; 8];
    getrandom_fill(&mut bytes).map_err(|_| std::io::Error::other("randomness"))?;
    let path = std::env::temp_dir().join(format!("cpn-demo-{}", hex_encode(&bytes)));
    std::fs::create_dir_all(&path)?;
    Ok(TempDir(path))
}

#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// Writes every table of a stopped controller's store as JSON lines.
    Export {
        #[arg(long, default_value = "cpn-data")]
        data: PathBuf,
        #[arg(long)]
        store: Option<String>,
        /// The file to write ('-' for standard output).
        #[arg(long, default_value = "-")]
        out: String,
    },
    /// Loads an export into an empty store, then replays it to check it.
    Import {
        #[arg(long, default_value = "cpn-data")]
        data: PathBuf,
        #[arg(long)]
        store: Option<String>,
        /// The market operator's key the ledger was made with [default: <data>/operator.key,
        /// when it exists].
        #[arg(long)]
        operator_key: Option<PathBuf>,
        /// The export file.
        file: PathBuf,
    },
    /// Replays a store's decision log on its scenario and checks every decision comes out the
    /// same.
    Verify {
        #[arg(long, default_value = "cpn-data")]
        data: PathBuf,
        #[arg(long)]
        store: Option<String>,
        /// The market operator's key [default: <data>/operator.key, when it exists].
        #[arg(long)]
        operator_key: Option<PathBuf>,
    },
}

/// One line of an export.
#[derive(Debug, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportLine {
    table: String,
    key: String,
    value: String,
}

pub(crate) fn data(command: DataCommand) -> Outcome {
    match command {
        DataCommand::Export { data, store, out } => {
            let store = open_store(&data, store.as_deref())?;
            let rows = cpn_store::export(store.as_ref()).map_err(Failure::bad)?;
            let mut text = String::new();
            for (table, key, value) in rows {
                let value = String::from_utf8(value).map_err(|e| {
                    Failure::bad(format!(
                        "table {}, key `{key}`: not UTF-8: {e}",
                        table.name()
                    ))
                })?;
                let line = ExportLine {
                    table: table.name().to_string(),
                    key,
                    value,
                };
                text.push_str(
                    &serde_json::to_string(&line).map_err(|e| Failure::Internal(e.into()))?,
                );
                text.push('\n');
            }
            if out == "-" {
                print!("{text}");
            } else {
                std::fs::write(&out, text)
                    .map_err(|e| Failure::bad(format!("--out `{out}`: {e}")))?;
            }
            Ok(())
        }
        DataCommand::Import {
            data,
            store,
            operator_key,
            file,
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::bad(format!("`{}`: {e}", file.display())))?;
            let mut ops = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let at = |m: String| Failure::bad(format!("{}:{}: {m}", file.display(), n + 1));
                let row: ExportLine = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
                let table = cpn_store::Table::ALL
                    .into_iter()
                    .find(|t| t.name() == row.table)
                    .ok_or_else(|| {
                        at(format!(
                            "table: no table `{}` (known: meta, tenants, tokens, agents, log)",
                            row.table
                        ))
                    })?;
                ops.push(cpn_store::Op::Put {
                    table,
                    key: row.key,
                    value: row.value.into_bytes(),
                });
            }
            let mut store = open_store(&data, store.as_deref())?;
            store
                .acquire_leadership("cpn-import")
                .map_err(Failure::bad)?;
            let occupied = cpn_store::Table::ALL
                .into_iter()
                .filter(|t| *t != cpn_store::Table::Meta)
                .map(|t| store.scan(t).map(|rows| !rows.is_empty()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Failure::bad)?
                .into_iter()
                .any(|b| b)
                || store
                    .get(cpn_store::Table::Meta, "scenario")
                    .map_err(Failure::bad)?
                    .is_some();
            if occupied {
                return Err(Failure::bad(format!(
                    "the store at {} is not empty: import only into an empty one, so nothing stored is lost",
                    store.describe()
                )));
            }
            store.commit(&ops).map_err(Failure::bad)?;
            let key = operator_key.unwrap_or_else(|| data.join("operator.key"));
            let market = market_setup(&key, false, None, None, None)?;
            let (ctl, replayed) =
                cpn_server::load(store.as_mut(), None, market.as_ref()).map_err(Failure::bad)?;
            println!(
                "imported {} rows; scenario `{}`, {replayed} log entries replayed identically",
                ops.len(),
                ctl.scenario().name
            );
            Ok(())
        }
        DataCommand::Verify {
            data,
            store,
            operator_key,
        } => {
            let key = operator_key.unwrap_or_else(|| data.join("operator.key"));
            let market = market_setup(&key, false, None, None, None)?;
            let mut store = open_store(&data, store.as_deref())?;
            let (ctl, replayed) =
                cpn_server::load(store.as_mut(), None, market.as_ref()).map_err(Failure::bad)?;
            println!(
                "scenario `{}`: {replayed} log entries replayed, every decision the same; {} reservations held",
                ctl.scenario().name,
                ctl.scheduler().reservations().count()
            );
            if let Some(ledger) = ctl.ledger() {
                let summary = cpn_ledger::verify(&ledger.to_bytes()).map_err(Failure::bad)?;
                println!(
                    "market ledger: {} entries in {} blocks, root {}, verified",
                    summary.entries,
                    summary.blocks,
                    hex_encode(&summary.root.0)
                );
            }
            Ok(())
        }
    }
}
