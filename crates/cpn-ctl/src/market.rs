//! The capacity market in the controller (`docs/market.md`): one [`Ledger`], signed by the
//! operator's key, changed only by logged commands, so that replaying the decision log gives
//! the same ledger byte for byte (ed25519 signatures are deterministic, and each command
//! seals its own block at the command's time).
//!
//! - A party's signed entry (offer, bid, agent key, usage report) is a `MarketEntry`; the
//!   operator's deposits are `MarketDeposit`.
//! - A round (`MarketRound`, from the timer or an admin) clears the book and places each new
//!   contract with the scheduler at the offer's site, entered at the site's own router,
//!   never preempting: `Placement` with the reservation, or `Unplaced` with the scheduler's
//!   reason (the consumer's escrow goes back). The reservation's window is the contract's, so
//!   it is released when the window ends.
//! - The delivery a contract's usage reports may claim is what the controller measured: the
//!   seconds of the span in which the contract's site was up (site and link commands,
//!   telemetry, agents' liveness) and still held the contract's reservation.
//! - `MarketSettle` settles a placed contract after its window, once its usage covers the
//!   window or the grace period has passed.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use cpn_api::{
    AccountView, BidView, ContractStatusName, ContractView, EntryReply, MeasurementView, OfferView,
    PayoutView, RoundReply, SlaTerms, TotalsView,
};
use cpn_ledger::entry::MAX_REASON_LEN;
use cpn_ledger::{
    AccountId, Amount, AppendError, Body, ContractState, ContractStatus, Entry, Hash, Kind, Ledger,
    LedgerHeader, Sla,
};
use cpn_model::SiteId;
use cpn_sched::{Isolation, PlaceRequest, Recovery, ReservationId};
use cpn_units::{Flops, Nanos, Ratio};
use ed25519_dalek::SigningKey;

use crate::controller::{ADMIN_TENANT, Applied, Controller, json};
use crate::event::{ApiError, Reply};
use crate::log::Command;

/// How the market runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketConfig {
    /// Rounds are cleared at every multiple of this many seconds (since the Unix epoch) when
    /// orders are open; 0 clears rounds only on an admin's call.
    pub round_interval_s: u64,
    /// A placed contract is settled this long after its window ends even if its usage
    /// reports do not cover the window (the time no report covers counts as missed).
    pub settle_grace_s: u64,
}

impl Default for MarketConfig {
    fn default() -> MarketConfig {
        MarketConfig {
            round_interval_s: 60,
            settle_grace_s: 60,
        }
    }
}

/// Why the market could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketError {
    #[error(
        "the operator key {key} is not the ledger's operator {operator}: give the key the ledger was created with"
    )]
    OtherOperator { key: String, operator: String },
}

/// A placed contract as the controller follows it.
#[derive(Debug, Clone, Copy)]
struct Track {
    site: SiteId,
    /// Its reservation at its site, while it holds one there.
    reservation: Option<u64>,
    /// The second from which it no longer holds a reservation at its site.
    held_until: u64,
}

/// The market's state in the controller.
pub(crate) struct Market {
    pub(crate) ledger: Ledger,
    key: SigningKey,
    config: MarketConfig,
    tracks: BTreeMap<u64, Track>,
    /// The contract of each reservation held for one.
    by_reservation: HashMap<u64, u64>,
    /// Why each unplaced contract was not placed.
    reasons: BTreeMap<u64, String>,
    /// The tenant that posted each bid: it owns the contract's reservation.
    bid_tenants: HashMap<u64, String>,
    /// When the timer clears the next round (not logged: it only decides when to issue
    /// a logged round).
    next_round_s: Option<u64>,
}

impl std::fmt::Debug for Market {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Market")
            .field("entries", &self.ledger.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What a market command did, for its reply and its digest.
#[derive(Debug)]
pub(crate) struct MarketApplied {
    pub(crate) kind: &'static str,
    /// The index of the (first) entry appended.
    pub(crate) index: u64,
    /// A round's contracts: id, and the reservation or `None` when unplaced.
    pub(crate) contracts: Vec<(u64, Option<u64>)>,
    pub(crate) size: u64,
    pub(crate) root: Hash,
}

impl MarketApplied {
    pub(crate) fn digest(&self) -> String {
        let mut s = format!(
            "ledger {} #{} size={} root={}",
            self.kind,
            self.index,
            self.size,
            hex::encode(self.root.0)
        );
        if self.kind == "round" {
            let parts: Vec<String> = self
                .contracts
                .iter()
                .map(|(c, r)| match r {
                    Some(r) => format!("{c}@{r}"),
                    None => format!("{c}:unplaced"),
                })
                .collect();
            s.push_str(&format!(" contracts [{}]", parts.join(",")));
        }
        s
    }
}

pub(crate) fn hex_id(id: &AccountId) -> String {
    hex::encode(id.0)
}

/// An account id from 64 hex digits that name a usable ed25519 key.
pub(crate) fn parse_account(field: &str, text: &str) -> Result<AccountId, ApiError> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            ApiError::bad(format!(
                "{field}: expected 64 hex digits (an ed25519 public key), got `{}`",
                text.chars().take(80).collect::<String>()
            ))
        })?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| ApiError::bad(format!("{field}: not an ed25519 public key")))?;
    Ok(AccountId(bytes))
}

/// An entry from its base64 text.
pub(crate) fn decode_entry(text: &str) -> Result<(Vec<u8>, Entry), ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| ApiError::bad(format!("entry: expected base64 of the entry's bytes: {e}")))?;
    let entry = Entry::decode(&bytes).map_err(|e| ApiError::bad(format!("entry: {e}")))?;
    Ok((bytes, entry))
}

/// The refusal of an entry the ledger would not take.
fn refused(e: AppendError) -> ApiError {
    match e {
        AppendError::Decode(d) => ApiError::bad(format!("entry: {d}")),
        AppendError::BadSignature => ApiError::new(
            400,
            "bad_signature",
            "entry: signature: does not verify with the author's key over this ledger's id (GET /api/v1/market gives `ledger_id`)",
        ),
        AppendError::Transition(t) => ApiError::conflict(format!("entry refused: {t}")),
        other => ApiError::new(500, "internal", format!("ledger: {other}")),
    }
}

fn sla_terms(s: &Sla) -> SlaTerms {
    SlaTerms {
        max_latency_us: s.max_latency_us,
        min_availability_ppm: s.min_availability_ppm,
        max_loss_ppm: s.max_loss_ppm,
    }
}

fn to_u64(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// A reason cut to what an `Unplaced` entry holds, at a character boundary.
fn short_reason(reason: &str) -> String {
    let mut end = reason.len().min(MAX_REASON_LEN);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

impl Market {
    pub(crate) fn new(
        header: LedgerHeader,
        key: SigningKey,
        config: MarketConfig,
    ) -> Result<Market, MarketError> {
        let id = AccountId::of(&key);
        if id != header.operator {
            return Err(MarketError::OtherOperator {
                key: hex_id(&id),
                operator: hex_id(&header.operator),
            });
        }
        Ok(Market {
            ledger: Ledger::new(header),
            key,
            config,
            tracks: BTreeMap::new(),
            by_reservation: HashMap::new(),
            reasons: BTreeMap::new(),
            bid_tenants: HashMap::new(),
            next_round_s: None,
        })
    }

    /// Runs `f` in a block of its own at `now_s` (never before the last block): sealed when
    /// it appended anything, else closed unsealed, so a refused command leaves no trace.
    fn in_block<T>(
        &mut self,
        now_s: u64,
        f: impl FnOnce(&mut Market) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let time = now_s.max(self.ledger.last_time());
        self.ledger
            .open_block(time)
            .map_err(|e| ApiError::new(500, "internal", format!("ledger: {e}")))?;
        let before = self.ledger.len();
        let outcome = f(self);
        if self.ledger.len() == before {
            let _ = self.ledger.cancel_block();
        } else if let Err(e) = self.ledger.seal_block(&self.key) {
            return Err(ApiError::new(500, "internal", format!("ledger: {e}")));
        }
        outcome
    }

    fn applied(&self, kind: &'static str, index: u64) -> MarketApplied {
        MarketApplied {
            kind,
            index,
            contracts: Vec::new(),
            size: self.ledger.len(),
            root: self.ledger.root(),
        }
    }

    fn contract_view(&self, id: u64, c: &ContractState) -> ContractView {
        let t = &c.terms;
        let (status, reservation) = match c.status {
            ContractStatus::Pending => (ContractStatusName::Pending, None),
            ContractStatus::Placed { reservation } => {
                (ContractStatusName::Placed, Some(reservation))
            }
            ContractStatus::Unplaced => (ContractStatusName::Unplaced, None),
            ContractStatus::Settled => (ContractStatusName::Settled, None),
        };
        let payout = matches!(
            status,
            ContractStatusName::Placed | ContractStatusName::Settled
        )
        .then(|| self.ledger.payout(id))
        .flatten()
        .map(|p| PayoutView {
            compliance_ppm: p.compliance_ppm,
            to_provider: p.to_provider.0,
            refund: p.refund.0,
        });
        ContractView {
            id,
            round: t.round,
            offer: t.offer,
            bid: t.bid,
            provider: hex_id(&t.provider),
            consumer: hex_id(&t.consumer),
            site: t.site.clone(),
            gflops: t.resources.gflops,
            cores: t.resources.cores,
            memory_mib: t.resources.memory_mib,
            start: t.window.start,
            end: t.window.end,
            sla: sla_terms(&t.sla),
            buyer_price: t.buyer_price.0,
            seller_price: t.seller_price.0,
            consumer_total: t.consumer_total.0,
            provider_total: t.provider_total.0,
            penalty_ppm: t.penalty_ppm,
            status,
            reservation,
            reason: self.reasons.get(&id).cloned(),
            escrow: c.escrow.0,
            reported_until: c.delivery.reported_until,
            delivered_gflop: to_u64(c.delivery.compute_gflop),
            payout,
        }
    }

    pub(crate) fn summary(&self) -> cpn_api::MarketView {
        let l = &self.ledger;
        let h = l.header();
        let totals = l.totals();
        cpn_api::MarketView {
            name: h.name.clone(),
            ledger_id: hex::encode(l.id().0),
            operator: hex_id(&h.operator),
            penalty_ppm: h.penalty_ppm,
            entries: l.len(),
            blocks: l.blocks().len() as u64,
            root: hex::encode(l.root().0),
            head: hex::encode(l.blocks().last().map_or(l.id(), |b| b.header.hash()).0),
            time: l.last_time(),
            round: l.round(),
            open_offers: l.open_offers().count() as u64,
            open_bids: l.open_bids().count() as u64,
            totals: TotalsView {
                deposits: to_u64(totals.deposits),
                balances: to_u64(totals.balances),
                escrow: to_u64(totals.escrow),
            },
        }
    }
}

impl Controller {
    fn market(&self) -> Result<&Market, ApiError> {
        self.market.as_deref().ok_or_else(|| {
            ApiError::new(
                404,
                "not_found",
                "this controller runs no market (no operator key)",
            )
        })
    }

    fn market_mut(&mut self) -> Result<&mut Market, ApiError> {
        self.market.as_deref_mut().ok_or_else(|| {
            ApiError::new(
                404,
                "not_found",
                "this controller runs no market (no operator key)",
            )
        })
    }

    /// Opens the market on a ledger with `header`, signed with `key`. Call before
    /// [`Controller::restore`], so that the log's market commands replay.
    pub fn enable_market(
        &mut self,
        header: LedgerHeader,
        key: SigningKey,
        config: MarketConfig,
    ) -> Result<(), MarketError> {
        self.market = Some(Box::new(Market::new(header, key, config)?));
        Ok(())
    }

    /// The market's ledger, when the market runs.
    pub fn ledger(&self) -> Option<&Ledger> {
        self.market.as_deref().map(|m| &m.ledger)
    }

    pub(crate) fn market_summary(&self) -> Result<Reply, ApiError> {
        Ok(json(200, &self.market()?.summary()))
    }

    pub(crate) fn market_offers(&self) -> Result<Reply, ApiError> {
        let list: Vec<OfferView> = self
            .market()?
            .ledger
            .open_offers()
            .map(|o| OfferView {
                index: o.index,
                provider: hex_id(&o.provider),
                site: o.offer.site.clone(),
                gflops: o.offer.resources.gflops,
                cores: o.offer.resources.cores,
                memory_mib: o.offer.resources.memory_mib,
                start: o.offer.window.start,
                end: o.offer.window.end,
                price: o.offer.price.0,
                sla: sla_terms(&o.offer.sla),
            })
            .collect();
        Ok(json(200, &list))
    }

    pub(crate) fn market_bids(&self) -> Result<Reply, ApiError> {
        let list: Vec<BidView> = self
            .market()?
            .ledger
            .open_bids()
            .map(|b| BidView {
                index: b.index,
                consumer: hex_id(&b.consumer),
                gflops: b.bid.requirement.gflops,
                cores: b.bid.requirement.cores,
                memory_mib: b.bid.requirement.memory_mib,
                start: b.bid.window.start,
                end: b.bid.window.end,
                max_price: b.bid.max_price.0,
                sla: sla_terms(&b.bid.sla),
                escrow: b.escrow.0,
            })
            .collect();
        Ok(json(200, &list))
    }

    pub(crate) fn market_contracts(
        &self,
        site: Option<&str>,
        status: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let status = match status {
            None => None,
            Some(s) => Some(
                serde_json::from_value::<ContractStatusName>(serde_json::Value::String(
                    s.to_string(),
                ))
                .map_err(|_| {
                    ApiError::bad(format!(
                        "status: expected pending, placed, unplaced or settled, got `{s}`"
                    ))
                })?,
            ),
        };
        let m = self.market()?;
        let list: Vec<ContractView> = m
            .ledger
            .contracts()
            .filter(|(_, c)| site.is_none_or(|s| c.terms.site == s))
            .map(|(id, c)| m.contract_view(id, c))
            .filter(|v| status.is_none_or(|s| v.status == s))
            .collect();
        Ok(json(200, &list))
    }

    pub(crate) fn market_contract(&self, id: u64) -> Result<Reply, ApiError> {
        let m = self.market()?;
        let c = m
            .ledger
            .contract(id)
            .ok_or_else(|| ApiError::not_found(format!("no contract {id}")))?;
        Ok(json(200, &m.contract_view(id, c)))
    }

    pub(crate) fn market_account(&self, account: &str) -> Result<Reply, ApiError> {
        let m = self.market()?;
        let id = parse_account("account", account)?;
        let a = m.ledger.account(&id);
        Ok(json(
            200,
            &AccountView {
                account: hex_id(&id),
                balance: a.balance.0,
                seq: a.seq,
                agent_for: m.ledger.agent_of(&id).map(|p| hex_id(&p)),
            },
        ))
    }

    /// What the controller measured of a placed contract over `[from, to)`; the span
    /// defaults to the one its next usage report covers (from the last report's end to now,
    /// within the window).
    pub(crate) fn market_measure(
        &self,
        now_s: u64,
        contract: u64,
        from: Option<u64>,
        to: Option<u64>,
    ) -> Result<MeasurementView, ApiError> {
        let m = self.market()?;
        let c = m
            .ledger
            .contract(contract)
            .ok_or_else(|| ApiError::not_found(format!("no contract {contract}")))?;
        let w = c.terms.window;
        let from = from.unwrap_or(c.delivery.reported_until.max(w.start));
        let to = to.unwrap_or(now_s.min(w.end));
        if from < w.start || to > w.end || from >= to {
            return Err(ApiError::bad(format!(
                "from, to: expected a non-empty span within the contract's window [{}, {}), got [{from}, {to})",
                w.start, w.end
            )));
        }
        let seconds = match m.tracks.get(&contract) {
            Some(t) => self.up_seconds(t.site, from, to.min(t.held_until)),
            // Never placed: nothing was delivered.
            None => 0,
        };
        let span = to - from;
        Ok(MeasurementView {
            contract,
            from,
            to,
            within_sla_seconds: seconds,
            within_sla_ppm: u32::try_from(u128::from(seconds) * 1_000_000 / u128::from(span))
                .unwrap_or(u32::MAX),
            compute_gflop: c.terms.resources.gflops.saturating_mul(seconds),
        })
    }

    /// Seconds of `[from, to)` in which `site` was up, by the changes the controller applied.
    fn up_seconds(&self, site: SiteId, from: u64, to: u64) -> u64 {
        if to <= from {
            return 0;
        }
        let history = self
            .site_history
            .get(site.index())
            .map_or(&[][..], Vec::as_slice);
        let (mut up, mut at, mut total) = (true, from, 0);
        for &(t, state) in history {
            if t >= to {
                break;
            }
            if t > at {
                if up {
                    total += t - at;
                }
                at = t;
            }
            up = state;
        }
        if up {
            total += to - at;
        }
        total
    }

    /// The ledger file of every sealed block (`Ledger::to_bytes`).
    pub(crate) fn ledger_file(&self) -> Result<Reply, ApiError> {
        Ok(Reply::File {
            content_type: "application/octet-stream",
            body: self.market()?.ledger.to_bytes(),
        })
    }

    pub(crate) fn ledger_inclusion(
        &self,
        index: u64,
        size: Option<u64>,
    ) -> Result<Reply, ApiError> {
        let l = &self.market()?.ledger;
        let size = size.unwrap_or(l.len());
        let bad = |e: cpn_ledger::ProofError| {
            ApiError::bad(format!(
                "index, size: {e} (the ledger holds {} entries)",
                l.len()
            ))
        };
        if size > l.len() || index >= size {
            return Err(ApiError::bad(format!(
                "index, size: expected index < size <= {}, got index {index}, size {size}",
                l.len()
            )));
        }
        let proof = l.inclusion_proof(index, size).map_err(bad)?;
        let root = l.root_at(size).map_err(bad)?;
        let leaf = l
            .leaf_hash(index)
            .ok_or_else(|| ApiError::not_found(format!("no entry {index}")))?;
        Ok(json(
            200,
            &cpn_api::InclusionProofView {
                index,
                size,
                leaf: hex::encode(leaf.0),
                root: hex::encode(root.0),
                proof: proof.iter().map(|h| hex::encode(h.0)).collect(),
            },
        ))
    }

    pub(crate) fn ledger_consistency(
        &self,
        first: u64,
        second: Option<u64>,
    ) -> Result<Reply, ApiError> {
        let l = &self.market()?.ledger;
        let second = second.unwrap_or(l.len());
        if second > l.len() || first > second {
            return Err(ApiError::bad(format!(
                "first, second: expected first <= second <= {}, got first {first}, second {second}",
                l.len()
            )));
        }
        let bad = |e: cpn_ledger::ProofError| ApiError::bad(format!("first, second: {e}"));
        let proof = l.consistency_proof(first, second).map_err(bad)?;
        Ok(json(
            200,
            &cpn_api::ConsistencyProofView {
                first,
                second,
                first_root: hex::encode(l.root_at(first).map_err(bad)?.0),
                second_root: hex::encode(l.root_at(second).map_err(bad)?.0),
                proof: proof.iter().map(|h| hex::encode(h.0)).collect(),
            },
        ))
    }

    // ---- commands ------------------------------------------------------------------------

    pub(crate) fn apply_market(
        &mut self,
        now: Nanos,
        tenant: Option<&str>,
        command: &Command,
    ) -> Result<Applied, ApiError> {
        let now_s = now.0 / 1_000_000_000;
        match command {
            Command::MarketEntry { entry } => self.apply_entry(now_s, tenant, entry),
            Command::MarketDeposit { account, amount } => {
                let to = parse_account("account", account)?;
                if *amount == 0 {
                    return Err(ApiError::bad("amount: expected more than 0 micro-units"));
                }
                let m = self.market_mut()?;
                let index = m.in_block(now_s, |m| {
                    m.ledger
                        .deposit(&m.key, to, Amount(*amount))
                        .map_err(refused)
                })?;
                Ok(Applied::Market(m.applied("deposit", index)))
            }
            Command::MarketRound {} => self.apply_round(now_s),
            Command::MarketSettle { contract } => {
                let m = self.market_mut()?;
                let index = m.in_block(now_s, |m| {
                    m.ledger.settle(&m.key, *contract).map_err(refused)
                })?;
                m.tracks.remove(contract);
                Ok(Applied::Market(m.applied("settlement", index)))
            }
            _ => Err(ApiError::new(500, "internal", "not a market command")),
        }
    }

    fn apply_entry(
        &mut self,
        now_s: u64,
        tenant: Option<&str>,
        text: &str,
    ) -> Result<Applied, ApiError> {
        let (bytes, entry) = decode_entry(text)?;
        match &entry.body {
            Body::Offer(o) if self.scenario.site(&o.site).is_none() => {
                return Err(ApiError::bad(format!(
                    "entry: offer: site: no site `{}` in the scenario",
                    o.site
                )));
            }
            Body::Usage(u) => {
                let measured = self.market_measure(now_s, u.contract, Some(u.from), Some(u.to))?;
                if u.within_sla_ppm > measured.within_sla_ppm
                    || u.compute_gflop > measured.compute_gflop
                {
                    return Err(ApiError::conflict(format!(
                        "entry: usage: claims {} ppm within the SLA and {} GFLOP for [{}, {}); the controller measured at most {} ppm and {} GFLOP (the site up and the contract held for {} of {} s)",
                        u.within_sla_ppm,
                        u.compute_gflop,
                        u.from,
                        u.to,
                        measured.within_sla_ppm,
                        measured.compute_gflop,
                        measured.within_sla_seconds,
                        u.to - u.from
                    )));
                }
            }
            _ => {}
        }
        let kind = entry.body.kind();
        let m = self.market_mut()?;
        let index = m.in_block(now_s, |m| m.ledger.append(&bytes).map_err(refused))?;
        if kind == Kind::Bid
            && let Some(t) = tenant
        {
            m.bid_tenants.insert(index, t.to_string());
        }
        Ok(Applied::Market(m.applied(kind.name(), index)))
    }

    /// Clears a round and places its contracts, all in one block.
    fn apply_round(&mut self, now_s: u64) -> Result<Applied, ApiError> {
        let mut market = self
            .market
            .take()
            .ok_or_else(|| ApiError::not_found("this controller runs no market"))?;
        let outcome = market.in_block(now_s, |m| {
            let first = m.ledger.len();
            let ids = m.ledger.run_round(&m.key).map_err(refused)?;
            let mut placed = Vec::with_capacity(ids.len());
            // From here on nothing is refused: the round's entries are in the block, and
            // the command is logged with whatever follows, which a replay repeats exactly.
            for id in ids {
                let placement = self.place_contract(m, id).and_then(|r| {
                    match m.ledger.confirm_placement(&m.key, id, r) {
                        Ok(_) => Ok(r),
                        Err(e) => {
                            self.forget_contract(m, id, r);
                            Err(format!("the ledger refused the placement: {e}"))
                        }
                    }
                });
                let reservation = match placement {
                    Ok(r) => Some(r),
                    Err(reason) => {
                        let reason = short_reason(&reason);
                        // Only a pending contract's own operator entry: it is taken.
                        let _ = m.ledger.fail_placement(&m.key, id, &reason);
                        m.reasons.insert(id, reason);
                        None
                    }
                };
                placed.push((id, reservation));
            }
            Ok((first, placed))
        });
        let applied = outcome.map(|(first, contracts)| MarketApplied {
            contracts,
            ..market.applied("round", first)
        });
        self.market = Some(market);
        applied.map(Applied::Market)
    }

    /// Reserves a contract with the scheduler: at the offer's site only, for the bid's
    /// resources and window, under the offer's latency and loss bounds, never preempting.
    fn place_contract(&mut self, m: &mut Market, id: u64) -> Result<u64, String> {
        let c = m
            .ledger
            .contract(id)
            .ok_or_else(|| format!("contract {id} is not in the ledger"))?;
        let t = c.terms.clone();
        let site = self
            .scenario
            .site(&t.site)
            .ok_or_else(|| format!("no site `{}` in the scenario", t.site))?;
        let (site_id, router) = (site.id, site.router);
        if !self.site_up[site_id.index()] {
            return Err(format!("site `{}` is down", t.site));
        }
        let request = PlaceRequest {
            demand: Some(Flops::fp64(u128::from(t.resources.gflops) * 1_000_000_000)),
            cores: u64::from(t.resources.cores),
            memory_mib: t.resources.memory_mib,
            max_latency: Some(Nanos::from_micros(u64::from(t.sla.max_latency_us))),
            max_loss: Some(Ratio(u64::from(t.sla.max_loss_ppm) * 1_000_000)),
            isolation: Isolation::Soft,
            start: t.window.start,
            end: t.window.end,
            ..PlaceRequest::new(format!("contract-{id}"), router)
        };
        let reservation = match self.sched.place_among(&request, &[site_id]) {
            Ok(Ok(r)) => r.0,
            Ok(Err(refusal)) => return Err(refusal.reason),
            Err(e) => return Err(e.to_string()),
        };
        let owner = m
            .bid_tenants
            .get(&t.bid)
            .cloned()
            .unwrap_or_else(|| ADMIN_TENANT.to_string());
        self.owners.insert(reservation, owner);
        self.stats.placements += 1;
        m.tracks.insert(
            id,
            Track {
                site: site_id,
                reservation: Some(reservation),
                held_until: u64::MAX,
            },
        );
        m.by_reservation.insert(reservation, id);
        Ok(reservation)
    }

    /// Gives back a reservation made for a contract the ledger did not record as placed.
    fn forget_contract(&mut self, m: &mut Market, id: u64, reservation: u64) {
        let _ = self.sched.release(ReservationId(reservation));
        self.owners.remove(&reservation);
        m.tracks.remove(&id);
        m.by_reservation.remove(&reservation);
    }

    /// The contract a reservation is held for, if any.
    pub(crate) fn contract_of(&self, reservation: u64) -> Option<u64> {
        self.market
            .as_deref()
            .and_then(|m| m.by_reservation.get(&reservation).copied())
    }

    /// Follows contracts' reservations through failures: a new path at the same site keeps
    /// the contract held; a move to another site or a loss ends what its provider delivers.
    pub(crate) fn market_recoveries(&mut self, now_s: u64, recoveries: &[Recovery]) {
        let Some(m) = self.market.as_deref_mut() else {
            return;
        };
        for r in recoveries {
            let (old, new, same_site) = match r {
                Recovery::Rerouted { old, new, .. } => (old, Some(new), true),
                Recovery::Moved { old, new, .. } => (old, Some(new), false),
                Recovery::Lost { old, .. } => (old, None, false),
            };
            let Some(contract) = m.by_reservation.remove(&old.0) else {
                continue;
            };
            let Some(track) = m.tracks.get_mut(&contract) else {
                continue;
            };
            if same_site {
                let new = new.map(|n| n.0);
                track.reservation = new;
                if let Some(n) = new {
                    m.by_reservation.insert(n, contract);
                }
            } else {
                track.reservation = None;
                track.held_until = track.held_until.min(now_s);
            }
        }
    }

    /// Contracts whose window ended: their reservations went with the expiry.
    pub(crate) fn market_released(&mut self, released: &[ReservationId]) {
        if let Some(m) = self.market.as_deref_mut() {
            for id in released {
                if let Some(c) = m.by_reservation.remove(&id.0)
                    && let Some(t) = m.tracks.get_mut(&c)
                {
                    t.reservation = None;
                }
            }
        }
    }

    /// The timer's part: a round at each multiple of the interval when orders are open, and
    /// the settlement of contracts whose window ended and whose usage is in (or whose grace
    /// period passed).
    pub(crate) fn market_tick(&mut self, now: Nanos, out: &mut Vec<crate::event::Action>) {
        let now_s = now.0 / 1_000_000_000;
        let Some(m) = self.market.as_deref_mut() else {
            return;
        };
        let interval = m.config.round_interval_s;
        let mut round = false;
        // The next multiple of the interval after now; none when rounds are on call only.
        let boundary = |interval: u64| {
            now_s
                .checked_div(interval)
                .map(|n| (n + 1).saturating_mul(interval))
        };
        if let Some(after_now) = boundary(interval) {
            let next = *m.next_round_s.get_or_insert(after_now);
            if now_s >= next {
                m.next_round_s = Some(after_now);
                round = m.ledger.open_bids().next().is_some()
                    || m.ledger.open_offers().next().is_some();
            }
        }
        let grace = m.config.settle_grace_s;
        let due: Vec<u64> = m
            .tracks
            .keys()
            .filter_map(|&id| {
                let c = m.ledger.contract(id)?;
                let end = c.terms.window.end;
                let reported = c.delivery.reported_until >= end;
                let placed = matches!(c.status, ContractStatus::Placed { .. });
                (placed && now_s >= end && (reported || now_s >= end.saturating_add(grace)))
                    .then_some(id)
            })
            .collect();
        if round {
            let _ = self.command(now, None, Command::MarketRound {}, out);
        }
        for contract in due {
            let _ = self.command(now, None, Command::MarketSettle { contract }, out);
        }
    }

    /// The reply of a market command.
    pub(crate) fn market_reply(&self, applied: &MarketApplied) -> Reply {
        let Some(m) = self.market.as_deref() else {
            return Reply::Err(ApiError::new(500, "internal", "the market vanished"));
        };
        if applied.kind == "round" {
            let contracts = applied
                .contracts
                .iter()
                .filter_map(|(id, _)| m.ledger.contract(*id).map(|c| m.contract_view(*id, c)))
                .collect();
            return json(
                201,
                &RoundReply {
                    round: m.ledger.round(),
                    contracts,
                    size: applied.size,
                    root: hex::encode(applied.root.0),
                },
            );
        }
        json(
            201,
            &EntryReply {
                index: applied.index,
                kind: applied.kind.to_string(),
                size: applied.size,
                root: hex::encode(applied.root.0),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_REASON_LEN);
        let short = short_reason(&long);
        assert!(short.len() <= MAX_REASON_LEN);
        assert!(short.chars().all(|c| c == 'é'));
        assert_eq!(short_reason("no room"), "no room");
    }
}
