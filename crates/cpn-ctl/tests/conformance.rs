//! Data-driven conformance of the controller state machine: each `tests/conformance/*.jsonl`
//! is a list of steps (one event per line, at a given second), and `*.expected` beside it is
//! what the controller answered, emitted and logged. `CPN_UPDATE_EXPECT=1` rewrites them.
//!
//! A step: `{"at": S, "token": "admin", "call": "place", "body": {...}}`. Tokens are named by
//! their secret; the harness hashes them. `call` is one of: `create_tenant`, `create_token`
//! (body: tenant, role, secret), `revoke_token` (id), `tenants`, `tokens`, `route`, `place`,
//! `reservations`, `reservation` (id), `release` (id), `circuit`, `slices`, `register`
//! (body: agent, site, key_seed, timestamp_ms), `agents`, `heartbeat` (body: agent, cpu,
//! memory), `telemetry` (body: samples), `set_link` / `set_site` (body: name, up), `map`
//! (totals and failed elements only), `tick`, `submit_task`, `tasks`, `task` (id),
//! `report_task` (body: task, report). After the last step the log is replayed on a
//! fresh controller, which must agree.

use std::fmt::Write;
use std::path::Path;

use cpn_api::{AgentRegistration, Heartbeat, Role, TokenCreate};
use cpn_ctl::{Action, Call, Controller, Event, LogEntry, Record, Reply, token_hash};
use cpn_units::Nanos;
use serde_json::Value;

fn national() -> cpn_model::Scenario {
    cpn_model::built_in("national")
        .expect("known")
        .expect("valid")
}

fn field<'a>(v: &'a Value, name: &str, line: usize) -> &'a Value {
    v.get(name)
        .unwrap_or_else(|| panic!("line {line}: no `{name}` in {v}"))
}

fn text(v: &Value, name: &str, line: usize) -> String {
    field(v, name, line)
        .as_str()
        .unwrap_or_else(|| panic!("line {line}: `{name}` is not a string"))
        .to_string()
}

fn parse<T: serde::de::DeserializeOwned>(v: &Value, line: usize) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("line {line}: body: {e}"))
}

/// The event of one step.
fn event(step: &Value, req: u64, line: usize) -> Event {
    let call_name = text(step, "call", line);
    let body = step.get("body").cloned().unwrap_or(Value::Null);
    let token = token_hash(step.get("token").and_then(Value::as_str).unwrap_or(""));
    let id = || body.get("id").and_then(Value::as_u64).unwrap_or(0);
    let call = match call_name.as_str() {
        "tick" => return Event::Tick,
        "heartbeat" => {
            return Event::Heartbeat {
                req: Some(req),
                token,
                agent: text(&body, "agent", line),
                heartbeat: Heartbeat {
                    cpu: field(&body, "cpu", line).as_f64().unwrap_or(0.0),
                    memory: field(&body, "memory", line).as_f64().unwrap_or(0.0),
                    tasks: 0,
                },
            };
        }
        "create_tenant" => Call::CreateTenant(parse(&body, line)),
        "tenants" => Call::Tenants,
        "create_token" => {
            let secret = text(&body, "secret", line);
            let role: Role = parse(field(&body, "role", line), line);
            Call::CreateToken {
                create: TokenCreate {
                    tenant: text(&body, "tenant", line),
                    role,
                    label: String::new(),
                },
                id: format!("tok-{secret}"),
                hash: token_hash(&secret),
            }
        }
        "tokens" => Call::Tokens,
        "revoke_token" => Call::RevokeToken(text(&body, "id", line)),
        "route" => Call::Route(parse(&body, line)),
        "place" => Call::Place(parse(&body, line)),
        "reservations" => Call::Reservations,
        "reservation" => Call::Reservation(id()),
        "release" => Call::Release(id()),
        "circuit" => Call::Circuit(parse(&body, line)),
        "slices" => Call::Slices,
        "register" => {
            let seed = field(&body, "key_seed", line).as_u64().unwrap_or(0) as u8;
            let ms = field(&body, "timestamp_ms", line).as_u64().unwrap_or(0);
            let registration = AgentRegistration {
                agent: text(&body, "agent", line),
                site: text(&body, "site", line),
                public_key: String::new(),
                timestamp_ms: ms,
                nonce: format!("{ms:032x}"),
                capabilities: serde_json::json!({}),
                signature: String::new(),
            }
            .sign(&ed25519_dalek::SigningKey::from_bytes(&[seed; 32]));
            Call::RegisterAgent(registration)
        }
        "agents" => Call::Agents,
        "telemetry" => Call::Telemetry(parse(field(&body, "samples", line), line)),
        "set_link" => Call::SetLink {
            link: text(&body, "name", line),
            up: field(&body, "up", line).as_bool().unwrap_or(true),
        },
        "set_site" => Call::SetSite {
            site: text(&body, "name", line),
            up: field(&body, "up", line).as_bool().unwrap_or(true),
        },
        "map" => Call::Map,
        "submit_task" => Call::SubmitTask(Box::new(parse(&body, line))),
        "tasks" => Call::Tasks,
        "task" => Call::Task(text(&body, "id", line)),
        "report_task" => Call::ReportTask {
            task: text(&body, "task", line),
            report: Box::new(parse(field(&body, "report", line), line)),
        },
        other => panic!("line {line}: unknown call `{other}`"),
    };
    Event::Api { req, token, call }
}

/// What a reply shows in the expected file: the map in short, everything else whole.
fn shown(call: &str, body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let v = if call == "map" {
        let failed = |kind: &str| -> Vec<Value> {
            v[kind]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|e| e["up"] == false)
                        .map(|e| e["name"].clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        serde_json::json!({
            "totals": v["totals"],
            "failed_links": failed("links"),
            "failed_sites": failed("sites"),
            "decisions": v["decisions"].as_array().map_or(0, Vec::len),
        })
    } else {
        v
    };
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn run(case: &Path) -> String {
    let input = std::fs::read_to_string(case).expect("read case");
    let mut ctl = Controller::new(national());
    let mut records = vec![ctl.admin_token("tok-admin", &token_hash("admin"))];
    let mut log: Vec<LogEntry> = Vec::new();
    let mut out = String::new();
    for (n, raw) in input.lines().enumerate() {
        let line = n + 1;
        if raw.trim().is_empty() || raw.starts_with("//") {
            continue;
        }
        let step: Value = serde_json::from_str(raw).unwrap_or_else(|e| panic!("line {line}: {e}"));
        let at = field(&step, "at", line).as_u64().expect("at: seconds");
        let call = text(&step, "call", line);
        let mut actions = Vec::new();
        ctl.handle(
            Nanos(at * 1_000_000_000),
            event(&step, line as u64, line),
            &mut actions,
        );
        let _ = writeln!(out, "## line {line}: {call} at {at}");
        for a in actions {
            match a {
                Action::Respond { reply, .. } => match reply {
                    Reply::Ok { status, body } => {
                        let _ = writeln!(out, "{status} {}", shown(&call, &body));
                    }
                    Reply::File { content_type, body } => {
                        let _ = writeln!(out, "200 {content_type}, {} bytes", body.len());
                    }
                    Reply::Err(e) => {
                        let _ = writeln!(out, "{} {}: {}", e.status, e.code, e.message);
                    }
                },
                Action::Emit(e) => {
                    let tenant = e.tenant.as_deref().unwrap_or("-");
                    let _ = writeln!(out, "emit {} for {tenant}", e.kind);
                }
                Action::Persist(Record::Log(entry)) => {
                    let _ = writeln!(
                        out,
                        "log {} {}: {}",
                        entry.seq,
                        entry.command.kind(),
                        entry.outcome
                    );
                    log.push(*entry);
                }
                Action::Persist(other) => records.push(other),
                Action::Steer(cpn_ctl::Steer {
                    reservation,
                    headend,
                    segments,
                    ..
                }) => {
                    let _ = writeln!(out, "steer {reservation} at {headend:?} via {segments:?}");
                }
            }
        }
    }
    let mut fresh = Controller::new(national());
    fresh
        .restore(records, log)
        .unwrap_or_else(|e| panic!("{}: the log does not replay: {e}", case.display()));
    out
}

#[test]
fn conformance_cases() {
    let dir = cpn_testdata::workspace_root().join("crates/cpn-ctl/tests/conformance");
    let cases = cpn_testdata::files_with_extension(&dir, "jsonl");
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    for case in cases {
        let actual = run(&case);
        cpn_testdata::check_expect(&case.with_extension("expected"), &actual);
    }
}
