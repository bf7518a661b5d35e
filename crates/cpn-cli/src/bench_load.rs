//! `cpn bench heartbeats`: load a running controller with many agents heartbeating at a fixed
//! rate, and measure the controller's CPU from /proc while it serves them (BENCHMARKS.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;

use crate::client::Remote;
use crate::{Failure, Outcome};

#[derive(Debug, Args)]
pub(crate) struct HeartbeatArgs {
    #[command(flatten)]
    remote: Remote,
    /// The controller's process id, to read its CPU time.
    #[arg(long)]
    pid: u32,
    /// Agents to register (all at one site each, round robin over the scenario's sites).
    #[arg(long, default_value_t = 10_000)]
    agents: u32,
    /// Heartbeats per second in all (each agent once a second at the default).
    #[arg(long, default_value_t = 10_000)]
    rate: u32,
    /// How long to measure, seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Client threads.
    #[arg(long, default_value_t = 32)]
    threads: u32,
}

/// User plus system CPU seconds of a process, from /proc/PID/stat.
fn cpu_seconds(pid: u32) -> Result<f64, Failure> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| Failure::bad(format!("--pid {pid}: {e}")))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    Ok((ticks(11) + ticks(12)) / 100.0)
}

pub(crate) fn heartbeats(args: HeartbeatArgs) -> Outcome {
    let client = args
        .remote
        .client()?
        .ok_or_else(|| Failure::bad("--server and --token (an agent token) are needed"))?;
    let sites: Vec<cpn_api::MapSite> = client.get("/api/v1/sites").or_else(|_| {
        // An agent token may not read the map: the sites of the built-in scenario then.
        let national = cpn_model::built_in("national")
            .and_then(Result::ok)
            .ok_or_else(|| Failure::bad("no built-in scenario"))?;
        Ok::<_, Failure>(
            national
                .sites
                .iter()
                .map(|s| cpn_api::MapSite {
                    name: s.name.clone(),
                    label: None,
                    tier: String::new(),
                    router: String::new(),
                    up: true,
                    load: 0.0,
                    agents: 0,
                    compute: String::new(),
                    price: None,
                    carbon_g_per_kwh: None,
                })
                .collect(),
        )
    })?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    eprintln!("registering {} agents ...", args.agents);
    let started = Instant::now();
    for i in 0..args.agents {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&i.to_le_bytes());
        seed[4] = 0xbe;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let registration = cpn_api::AgentRegistration {
            agent: format!("load-{i}"),
            site: sites[i as usize % sites.len()].name.clone(),
            public_key: String::new(),
            timestamp_ms: now_ms + u64::from(i),
            nonce: format!("{:032x}", u128::from(i) + 1),
            capabilities: serde_json::json!({}),
            signature: String::new(),
        }
        .sign(&key);
        let _: serde_json::Value = client.post("/api/v1/agents", &registration)?;
    }
    eprintln!(
        "registered in {:.1} s; heartbeating at {}/s for {} s",
        started.elapsed().as_secs_f64(),
        args.rate,
        args.seconds
    );
    let sent = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let cpu_before = cpu_seconds(args.pid)?;
    let t0 = Instant::now();
    let per_thread = f64::from(args.rate) / f64::from(args.threads);
    let mut threads = Vec::new();
    for t in 0..args.threads {
        let client = args
            .remote
            .client()?
            .ok_or_else(|| Failure::bad("--server"))?;
        let (sent, failed) = (sent.clone(), failed.clone());
        let (agents, threads_n, seconds) = (args.agents, args.threads, args.seconds);
        threads.push(std::thread::spawn(move || {
            let gap = Duration::from_secs_f64(1.0 / per_thread);
            let mut next = Instant::now();
            let mut k: u64 = 0;
            let end = Instant::now() + Duration::from_secs(seconds);
            while Instant::now() < end {
                let agent = (u64::from(t) + k * u64::from(threads_n)) % u64::from(agents);
                k += 1;
                let hb = cpn_api::Heartbeat {
                    cpu: 0.5,
                    memory: 0.5,
                    tasks: 1,
                };
                let ok = client
                    .post::<_, serde_json::Value>(
                        &format!("/api/v1/agents/load-{agent}/heartbeat"),
                        &hb,
                    )
                    .is_ok();
                let counter = if ok { &sent } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
                next += gap;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    next = now;
                }
            }
        }));
    }
    for t in threads {
        let _ = t.join();
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(args.pid)? - cpu_before;
    let n = sent.load(Ordering::Relaxed);
    let report = serde_json::json!({
        "agents": args.agents,
        "heartbeats": n,
        "failed": failed.load(Ordering::Relaxed),
        "seconds": wall,
        "heartbeats_per_s": n as f64 / wall,
        "controller_cpu_seconds": cpu,
        "controller_cores": cpu / wall,
        // The controller's cores scaled to exactly 10,000 heartbeats per second.
        "cores_at_10k_per_s": if n > 0 { cpu / n as f64 * 10_000.0 } else { 0.0 },
    });
    println!("{report}");
    Ok(())
}
