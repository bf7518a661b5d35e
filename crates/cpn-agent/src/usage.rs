//! The agent's part in the capacity market (`docs/market.md`): for each placed contract at
//! its site whose provider registered this agent's key, it signs a usage report with that key
//! and posts it. What a report claims is what the controller measured of the contract (the
//! seconds its site was up and held the contract's reservation), fetched for the span first:
//! the agent signs for its provider that this was delivered, and the controller refuses a
//! claim above its own measurement.
//!
//! A report covers `[last report's end, now)`; it is sent once that span reaches
//! [`REPORT_SPAN_S`], or at once when the window has ended, so a contract is reported whole
//! soon after its end and the operator can settle it.

use base64::Engine as _;
use cpn_api::{AccountView, ContractView, EntryReply, MarketEntry, MarketView, MeasurementView};
use cpn_ledger::entry::Usage;
use cpn_ledger::{AccountId, Body, Entry, Hash};
use ed25519_dalek::SigningKey;

use crate::daemon::{Call, Link};

/// The longest span a report waits for while the window runs, seconds.
pub const REPORT_SPAN_S: u64 = 60;

fn get<T: serde::de::DeserializeOwned>(link: &Link, path: &str) -> Result<T, String> {
    match link.get(path) {
        Call::Ok(v) => Ok(v),
        Call::Refused(status, body) => Err(format!("GET {path}: {status}: {body}")),
        Call::Unreachable(e) => Err(e),
    }
}

/// Reports what is due for contracts at `site`; returns how many reports the controller took.
pub(crate) fn report(
    link: &Link,
    key: &SigningKey,
    site: &str,
    now_s: u64,
) -> Result<usize, String> {
    let me = hex::encode(AccountId::of(key).0);
    let account: AccountView = get(link, &format!("/api/v1/market/accounts/{me}"))?;
    let Some(provider) = account.agent_for else {
        // No provider named this key yet: nothing to report.
        return Ok(0);
    };
    let market: MarketView = get(link, "/api/v1/market")?;
    let ledger: [u8; 32] = hex::decode(&market.ledger_id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the controller's ledger_id is not 64 hex digits")?;
    let site_query: String = site
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let contracts: Vec<ContractView> = get(
        link,
        &format!("/api/v1/market/contracts?site={site_query}&status=placed"),
    )?;
    let mut seq = account.seq;
    let mut sent = 0;
    for c in contracts.iter().filter(|c| c.provider == provider) {
        let from = c.reported_until.max(c.start);
        let to = now_s.min(c.end);
        if to <= from || (to < c.end && to - from < REPORT_SPAN_S) {
            continue;
        }
        let m: MeasurementView = get(
            link,
            &format!(
                "/api/v1/market/contracts/{}/measurement?from={from}&to={to}",
                c.id
            ),
        )?;
        let body = Body::Usage(Usage {
            contract: c.id,
            from,
            to,
            compute_gflop: m.compute_gflop,
            within_sla_ppm: m.within_sla_ppm,
        });
        let entry = Entry::sign(&Hash(ledger), key, seq + 1, body);
        let text = base64::engine::general_purpose::STANDARD.encode(entry.encode());
        match link.post::<_, EntryReply>("/api/v1/market/entries", &MarketEntry { entry: text }) {
            Call::Ok(r) => {
                seq += 1;
                sent += 1;
                tracing::info!(
                    contract = c.id,
                    from,
                    to,
                    within_sla_ppm = m.within_sla_ppm,
                    index = r.index,
                    "usage reported"
                );
            }
            Call::Refused(status, body) => {
                tracing::warn!(contract = c.id, status, body = %body, "usage report refused");
            }
            Call::Unreachable(e) => return Err(e),
        }
    }
    Ok(sent)
}
