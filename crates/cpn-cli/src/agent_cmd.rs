//! `cpn agent` (the node agent) and `cpn agent-exec` (the wrapper it runs each task in).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::Args;
use cpn_agent::daemon::AgentConfig;
use cpn_units::Nanos;

use crate::{Failure, Outcome};

#[derive(Debug, Args)]
pub(crate) struct AgentArgs {
    /// The controller's URL.
    #[arg(long, env = "CPN_SERVER")]
    server: String,
    /// An agent token of the tenant that owns this node.
    #[arg(long, env = "CPN_TOKEN", hide_env_values = true)]
    token: String,
    /// The site this node belongs to (a site of the controller's scenario).
    #[arg(long)]
    site: String,
    /// The agent's name [default: <site>-<first 8 hex digits of its public key>].
    #[arg(long)]
    name: Option<String>,
    /// The ed25519 identity key, created on first start [default: ./cpn-agent.key].
    #[arg(long, default_value = "cpn-agent.key")]
    key: PathBuf,
    /// Heartbeat interval (jittered by ±10 %).
    #[arg(long, default_value = "1 s")]
    interval: String,
    /// Where task outputs go.
    #[arg(long, default_value = "cpn-agent-work")]
    work_dir: PathBuf,
    /// A PEM certificate to trust for an https controller.
    #[arg(long, env = "CPN_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// Register with these capabilities (JSON, such as `cpn bench compute --json` wrote)
    /// instead of measuring the node at start.
    #[arg(long)]
    capabilities: Option<PathBuf>,
}

pub(crate) fn agent(args: AgentArgs) -> Outcome {
    crate::serve_cmd::init_logs(false, "info");
    let interval: Nanos = args
        .interval
        .parse()
        .map_err(|e| Failure::bad(format!("--interval: {e}")))?;
    if interval.0 < 10_000_000 {
        return Err(Failure::bad("--interval: at least 10 ms"));
    }
    let key = cpn_agent::identity::load_or_create(&args.key).map_err(Failure::bad)?;
    let name = args.name.unwrap_or_else(|| {
        format!(
            "{}-{}",
            args.site,
            &hex_prefix(key.verifying_key().as_bytes())
        )
    });
    let capabilities = match &args.capabilities {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::bad(format!("--capabilities `{}`: {e}", path.display())))?;
            serde_json::from_str(&text)
                .map_err(|e| Failure::bad(format!("--capabilities `{}`: {e}", path.display())))?
        }
        None => measured_capabilities()?,
    };
    let exec = std::env::current_exe()
        .map_err(|e| Failure::Internal(anyhow::anyhow!("the agent's own program: {e}")))?;
    let config = AgentConfig {
        server: args.server,
        token: args.token,
        site: args.site,
        name,
        interval: Duration::from_nanos(interval.0),
        ca_cert: args.ca_cert,
        work_dir: args.work_dir,
        capabilities,
        exec,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| Failure::Internal(anyhow::anyhow!("signal handler: {e}")))?;
    }
    cpn_agent::daemon::run(config, key, stop).map_err(Failure::bad)
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// What the agent tells the controller of its node when no file is given: a quick
/// measurement (as `cpn bench compute --quick` makes it) with its CATS metrics.
fn measured_capabilities() -> Result<serde_json::Value, Failure> {
    tracing::info!("measuring this node (quick)");
    let m = cpn_agent::measure::measure(&cpn_agent::measure::Config::quick());
    let cats = cpn_agent::cats::report(&m)
        .map_err(|e| Failure::Internal(anyhow::anyhow!("scoring the measurement: {e}")))?;
    let mut value = serde_json::to_value(&m).map_err(|e| Failure::Internal(e.into()))?;
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "cats".into(),
            serde_json::to_value(&cats).map_err(|e| Failure::Internal(e.into()))?,
        );
    }
    Ok(value)
}

#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    /// Where to write what happened, as JSON.
    #[arg(long)]
    report: PathBuf,
    #[arg(long)]
    cpu_seconds: Option<u64>,
    #[arg(long)]
    memory_mib: Option<u64>,
    #[arg(long)]
    wall_seconds: Option<u64>,
    /// A cgroup v2 directory to run in.
    #[arg(long)]
    cgroup: Option<PathBuf>,
    /// The task's program and arguments.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

pub(crate) fn exec(args: ExecArgs) -> Outcome {
    let limits = cpn_api::TaskLimits {
        cpu_seconds: args.cpu_seconds,
        memory_mib: args.memory_mib,
        wall_seconds: args.wall_seconds,
    };
    let report = cpn_agent::exec::run(&args.command, limits, args.cgroup.as_deref());
    let text = serde_json::to_string(&report).map_err(|e| Failure::Internal(e.into()))?;
    std::fs::write(&args.report, text)
        .map_err(|e| Failure::bad(format!("--report `{}`: {e}", args.report.display())))
}
