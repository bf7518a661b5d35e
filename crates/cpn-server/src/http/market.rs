//! The capacity market and its ledger over HTTP (`docs/market.md`): signed entries in,
//! the book, contracts, accounts, measurements, the ledger file and its proofs out.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use cpn_api::{
    AccountView, BidView, ConsistencyProofView, ContractView, DepositRequest, EntryReply,
    ErrorBody, InclusionProofView, MarketEntry, MarketView, MeasurementView, OfferView, RoundReply,
};
use cpn_ctl::{ApiError, Call};

use super::{AppState, body, through};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/market", get(market))
        .route("/api/v1/market/entries", post(submit))
        .route("/api/v1/market/deposits", post(deposit))
        .route("/api/v1/market/rounds", post(round))
        .route("/api/v1/market/offers", get(offers))
        .route("/api/v1/market/bids", get(bids))
        .route("/api/v1/market/contracts", get(contracts))
        .route("/api/v1/market/contracts/{id}", get(contract))
        .route(
            "/api/v1/market/contracts/{id}/measurement",
            get(measurement),
        )
        .route("/api/v1/market/accounts/{account}", get(account))
        .route("/api/v1/ledger", get(ledger))
        .route("/api/v1/ledger/inclusion", get(inclusion))
        .route("/api/v1/ledger/consistency", get(consistency))
}

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The query's parameters, or the refusal naming what could not be read.
fn params(q: Params) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(m)| m)
        .map_err(|e| ApiError::bad(format!("query: {}", e.body_text())))
}

/// An optional whole-number parameter.
fn number(p: &HashMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    p.get(name)
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                ApiError::bad(format!(
                    "{name}: expected a whole number from 0 to {}, got `{}`",
                    u64::MAX,
                    v.chars().take(40).collect::<String>()
                ))
            })
        })
        .transpose()
}

fn required(p: &HashMap<String, String>, name: &str) -> Result<u64, ApiError> {
    number(p, name)?.ok_or_else(|| ApiError::bad(format!("{name}: required")))
}

fn contract_id(text: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad(format!("id: expected a contract number, got `{text}`")))
}

/// The ledger's identity and head: what clients sign against (`ledger_id`) and check proofs
/// with (`root`, `entries`).
#[utoipa::path(get, path = "/api/v1/market", responses((status = 200, body = MarketView)), security(("bearer" = [])))]
pub(super) async fn market(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "market", &h, || Ok(Call::Market)).await
}

/// Appends a party's signed entry: an offer, a bid, an agent key's registration (tenant or
/// admin token), or a usage report (also an agent token). The operator's entries are the
/// controller's own.
#[utoipa::path(post, path = "/api/v1/market/entries", request_body = MarketEntry, responses((status = 201, body = EntryReply), (status = 409, description = "the ledger's rules refuse it (sequence, funds, window, a usage claim above what was measured)", body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn submit(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "market_entry", &h, || Ok(Call::MarketEntry(body(b)?))).await
}

/// Deposits money paid into the market into an account (admin).
#[utoipa::path(post, path = "/api/v1/market/deposits", request_body = DepositRequest, responses((status = 201, body = EntryReply), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn deposit(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    through(&s, "market_deposit", &h, || {
        Ok(Call::MarketDeposit(body(b)?))
    })
    .await
}

/// Clears a round now (admin) and places each contract through the scheduler.
#[utoipa::path(post, path = "/api/v1/market/rounds", responses((status = 201, body = RoundReply), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn round(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "market_round", &h, || Ok(Call::MarketRound)).await
}

/// Offers waiting for the next round.
#[utoipa::path(get, path = "/api/v1/market/offers", responses((status = 200, body = Vec<OfferView>)), security(("bearer" = [])))]
pub(super) async fn offers(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "market_offers", &h, || Ok(Call::MarketOffers)).await
}

/// Bids waiting for the next round.
#[utoipa::path(get, path = "/api/v1/market/bids", responses((status = 200, body = Vec<BidView>)), security(("bearer" = [])))]
pub(super) async fn bids(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "market_bids", &h, || Ok(Call::MarketBids)).await
}

/// Contracts, oldest first, optionally of one site or status.
#[utoipa::path(get, path = "/api/v1/market/contracts", params(("site" = Option<String>, Query, description = "only contracts at this site"), ("status" = Option<String>, Query, description = "pending, placed, unplaced or settled")), responses((status = 200, body = Vec<ContractView>)), security(("bearer" = [])))]
pub(super) async fn contracts(State(s): State<AppState>, q: Params, h: HeaderMap) -> Response {
    through(&s, "market_contracts", &h, || {
        let mut p = params(q)?;
        Ok(Call::MarketContracts {
            site: p.remove("site"),
            status: p.remove("status"),
        })
    })
    .await
}

/// One contract: its terms, placement, delivery and payout.
#[utoipa::path(get, path = "/api/v1/market/contracts/{id}", params(("id" = u64, Path, description = "the contract (its entry's index)")), responses((status = 200, body = ContractView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn contract(
    State(s): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    through(&s, "market_contract", &h, || {
        Ok(Call::MarketContract(contract_id(&id)?))
    })
    .await
}

/// What the controller measured of a contract over a span (by default the span its next
/// usage report covers): the most that report may claim.
#[utoipa::path(get, path = "/api/v1/market/contracts/{id}/measurement", params(("id" = u64, Path, description = "the contract"), ("from" = Option<u64>, Query, description = "span start, Unix seconds"), ("to" = Option<u64>, Query, description = "span end, Unix seconds")), responses((status = 200, body = MeasurementView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn measurement(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Params,
    h: HeaderMap,
) -> Response {
    through(&s, "market_measurement", &h, || {
        let p = params(q)?;
        Ok(Call::MarketMeasurement {
            contract: contract_id(&id)?,
            from: number(&p, "from")?,
            to: number(&p, "to")?,
        })
    })
    .await
}

/// An account's balance and sequence number (its next entry is `seq + 1`).
#[utoipa::path(get, path = "/api/v1/market/accounts/{account}", params(("account" = String, Path, description = "the account's ed25519 public key, 64 hex digits")), responses((status = 200, body = AccountView)), security(("bearer" = [])))]
pub(super) async fn account(
    State(s): State<AppState>,
    Path(account): Path<String>,
    h: HeaderMap,
) -> Response {
    through(&s, "market_account", &h, || {
        Ok(Call::MarketAccount(account))
    })
    .await
}

/// The whole ledger file (`docs/ledger.md`): check it offline with `cpn ledger verify`.
#[utoipa::path(get, path = "/api/v1/ledger", responses((status = 200, description = "the ledger file", content_type = "application/octet-stream")), security(("bearer" = [])))]
pub(super) async fn ledger(State(s): State<AppState>, h: HeaderMap) -> Response {
    through(&s, "ledger", &h, || Ok(Call::Ledger)).await
}

/// The proof that entry `index` is in the ledger of its first `size` entries (by default
/// all of them).
#[utoipa::path(get, path = "/api/v1/ledger/inclusion", params(("index" = u64, Query, description = "the entry"), ("size" = Option<u64>, Query, description = "the ledger's size the proof is for")), responses((status = 200, body = InclusionProofView)), security(("bearer" = [])))]
pub(super) async fn inclusion(State(s): State<AppState>, q: Params, h: HeaderMap) -> Response {
    through(&s, "ledger_inclusion", &h, || {
        let p = params(q)?;
        Ok(Call::LedgerInclusion {
            index: required(&p, "index")?,
            size: number(&p, "size")?,
        })
    })
    .await
}

/// The proof that the ledger of `first` entries is a prefix of the one of `second` (by
/// default, all entries).
#[utoipa::path(get, path = "/api/v1/ledger/consistency", params(("first" = u64, Query, description = "the older size"), ("second" = Option<u64>, Query, description = "the newer size")), responses((status = 200, body = ConsistencyProofView)), security(("bearer" = [])))]
pub(super) async fn consistency(State(s): State<AppState>, q: Params, h: HeaderMap) -> Response {
    through(&s, "ledger_consistency", &h, || {
        let p = params(q)?;
        Ok(Call::LedgerConsistency {
            first: required(&p, "first")?,
            second: number(&p, "second")?,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_name_their_parameter() {
        let p: HashMap<String, String> = [("from".to_string(), "-1".to_string())].into();
        let e = number(&p, "from").expect_err("negative");
        assert!(
            e.message.starts_with("from: expected a whole number"),
            "{e}"
        );
        assert_eq!(number(&p, "to").expect("absent"), None);
        assert!(
            required(&p, "to")
                .expect_err("required")
                .message
                .contains("to: required")
        );
    }
}
