//! `cpn demo`: simulated agents (one per site, each with its own ed25519 key, registering
//! signed and heartbeating) and a stream of synthetic requests, driven through the same core
//! as real clients. Latency-critical work (a service with its SLA, held for seconds) mixes with
//! delay-tolerant work (a large raw demand placed by cost, held for minutes); now and then a
//! link fails and is repaired, so recovery shows on the map.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cpn_api::{
    AgentRegistration, Heartbeat, PlaceBatch, PlaceRequest, Role, TenantCreate, TokenCreate,
};
use cpn_ctl::{Call, Event, Reply, token_hash};
use cpn_model::Scenario;
use cpn_model::synthetic::SplitMix64;

use crate::core::{CoreHandle, now};

/// The demo's tenant.
pub const TENANT: &str = "demo";

/// Settings of the demo's load.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Requests per second, on average (Poisson arrivals).
    pub rate: f64,
    pub seed: u64,
    pub heartbeat_interval: Duration,
    /// Fail a random link this often (for a third of the period); `None` never.
    pub link_failures: Option<Duration>,
}

/// What the demo has done so far, for the summary line.
#[derive(Debug, Default)]
pub struct DemoStats {
    pub requests: AtomicU64,
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub errors: AtomicU64,
    /// Latencies of placements, µs, for percentiles.
    latencies: std::sync::Mutex<Vec<u64>>,
}

impl DemoStats {
    /// The p50 and p99 of the placement latencies since the last call, µs.
    pub fn take_percentiles(&self) -> Option<(u64, u64)> {
        let mut l = self.latencies.lock().ok()?;
        if l.is_empty() {
            return None;
        }
        l.sort_unstable();
        let p = |q: f64| l[((l.len() - 1) as f64 * q).round() as usize];
        let out = (p(0.5), p(0.99));
        l.clear();
        Some(out)
    }
}

async fn ok(core: &CoreHandle, token: &str, call: Call) -> Result<serde_json::Value, String> {
    let token = token.to_string();
    match core.call(|req| Event::Api { req, token, call }).await {
        Reply::Ok { body, .. } | Reply::File { body, .. } => {
            serde_json::from_slice(&body).map_err(|e| e.to_string())
        }
        Reply::Err(e) => Err(e.to_string()),
    }
}

/// Sets up the demo tenant and its agents, then runs agents and traffic until the returned
/// tasks are aborted. `admin` is the hash of an admin token.
pub async fn start(
    core: CoreHandle,
    scenario: Arc<Scenario>,
    admin: String,
    config: DemoConfig,
) -> Result<(Arc<DemoStats>, Vec<tokio::task::JoinHandle<()>>), String> {
    // Idempotent across restarts on the same data: an existing tenant is fine.
    if let Err(e) = ok(
        &core,
        &admin,
        Call::CreateTenant(TenantCreate {
            name: TENANT.into(),
        }),
    )
    .await
        && !e.contains("exists")
    {
        return Err(e);
    }
    let token = |role: Role| {
        let secret = crate::http::new_secret().map_err(|e| e.to_string())?;
        let call = Call::CreateToken {
            create: TokenCreate {
                tenant: TENANT.into(),
                role,
                label: format!("demo {}", role.as_str()),
            },
            id: format!("demo-{}-{}", role.as_str(), &token_hash(&secret)[..8]),
            hash: token_hash(&secret),
        };
        Ok::<_, String>((token_hash(&secret), call))
    };
    let (tenant_token, call) = token(Role::Tenant)?;
    ok(&core, &admin, call).await?;
    let (agent_token, call) = token(Role::Agent)?;
    ok(&core, &admin, call).await?;

    let mut tasks = Vec::new();
    let mut rng = SplitMix64::new(config.seed);
    for site in &scenario.sites {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| e.to_string())?;
        let agent = format!("{}-agent", site.name);
        let registration = AgentRegistration {
            agent: agent.clone(),
            site: site.name.clone(),
            public_key: String::new(),
            timestamp_ms: now().0 / 1_000_000,
            nonce: hex::encode(nonce),
            capabilities: serde_json::json!({"simulated": true, "compute": site.capacity.compute.to_string()}),
            signature: String::new(),
        }
        .sign(&key);
        ok(&core, &agent_token, Call::RegisterAgent(registration)).await?;
        let core = core.clone();
        let token = agent_token.clone();
        let interval = config.heartbeat_interval;
        let phase = rng.unit();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(interval.mul_f64(phase)).await;
            let mut load = SplitMix64::new(phase.to_bits());
            loop {
                let heartbeat = Heartbeat {
                    cpu: 0.2 + 0.6 * load.unit(),
                    memory: 0.3 + 0.4 * load.unit(),
                    tasks: load.below(16) as u32,
                };
                core.post(Event::Heartbeat {
                    req: None,
                    token: token.clone(),
                    agent: agent.clone(),
                    heartbeat,
                });
                tokio::time::sleep(interval).await;
            }
        }));
    }

    let stats = Arc::new(DemoStats::default());
    tasks.push(tokio::spawn(traffic(
        core.clone(),
        scenario.clone(),
        tenant_token,
        config.clone(),
        stats.clone(),
    )));
    if let Some(period) = config.link_failures {
        tasks.push(tokio::spawn(failures(
            core,
            scenario,
            admin,
            period,
            config.seed,
        )));
    }
    Ok((stats, tasks))
}

async fn traffic(
    core: CoreHandle,
    scenario: Arc<Scenario>,
    token: String,
    config: DemoConfig,
    stats: Arc<DemoStats>,
) {
    let mut rng = SplitMix64::new(config.seed ^ 0x5eed);
    // Requests enter where people are: the routers of edge and end sites.
    let ingress: Vec<String> = scenario
        .access_routers()
        .into_iter()
        .map(|r| scenario.routers[r.index()].name.clone())
        .collect();
    let services: Vec<String> = scenario.services.iter().map(|s| s.name.clone()).collect();
    let mut n = 0u64;
    loop {
        // Exponential gaps: a Poisson stream at `rate`.
        let gap = -(1.0 - rng.unit()).ln() / config.rate.max(0.001);
        tokio::time::sleep(Duration::from_secs_f64(gap.min(60.0))).await;
        n += 1;
        let from = ingress[rng.below(ingress.len() as u64) as usize].clone();
        let critical = rng.unit() < 0.7 && !services.is_empty();
        let request = if critical {
            PlaceRequest {
                service: Some(services[rng.below(services.len() as u64) as usize].clone()),
                duration: Some(format!("{} s", 10 + rng.below(50))),
                priority: 5,
                ..blank(format!("rt-{n}"), from)
            }
        } else {
            PlaceRequest {
                demand: Some(format!("{} TFLOPS", 20 + rng.below(200))),
                processing: Some("2 s".into()),
                duration: Some(format!("{} s", 120 + rng.below(480))),
                objective: Some(cpn_api::ObjectiveName::Cost),
                ..blank(format!("batch-{n}"), from)
            }
        };
        let started = Instant::now();
        let call = Call::Place(PlaceBatch {
            requests: vec![request],
        });
        let token = token.clone();
        stats.requests.fetch_add(1, Ordering::Relaxed);
        match core.call(|req| Event::Api { req, token, call }).await {
            Reply::Ok { body, .. } | Reply::File { body, .. } => {
                let accepted = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["results"][0]["accepted"].as_bool())
                    .unwrap_or(false);
                let counter = if accepted {
                    &stats.accepted
                } else {
                    &stats.refused
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Reply::Err(_) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Ok(mut l) = stats.latencies.lock() {
            l.push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        }
    }
}

fn blank(id: String, from: String) -> PlaceRequest {
    PlaceRequest {
        id,
        from,
        service: None,
        demand: None,
        processing: None,
        min_bandwidth: Some("10 Mbps".into()),
        max_latency: None,
        max_loss: None,
        priority: 0,
        slice: None,
        hard: false,
        start: None,
        end: None,
        duration: None,
        gpus: Default::default(),
        replicas: None,
        objective: None,
    }
}

async fn failures(
    core: CoreHandle,
    scenario: Arc<Scenario>,
    admin: String,
    period: Duration,
    seed: u64,
) {
    let mut rng = SplitMix64::new(seed ^ 0xfa11);
    loop {
        tokio::time::sleep(period.mul_f64(2.0 / 3.0)).await;
        let link = scenario.links[rng.below(scenario.links.len() as u64) as usize]
            .name
            .clone();
        let _ = ok(
            &core,
            &admin,
            Call::SetLink {
                link: link.clone(),
                up: false,
            },
        )
        .await;
        tokio::time::sleep(period.mul_f64(1.0 / 3.0)).await;
        let _ = ok(&core, &admin, Call::SetLink { link, up: true }).await;
    }
}
