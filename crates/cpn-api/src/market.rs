//! The capacity market and its ledger on the wire (`docs/market.md`). Entries travel as their
//! canonical bytes in base64, signed by their author; keys and hashes as 64 hex digits;
//! amounts as integers of micro-units; times as Unix seconds.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A signed ledger entry: an offer, a bid, an agent's registration or a usage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketEntry {
    /// The entry's canonical encoding (`docs/ledger.md`), base64 (standard alphabet, padded).
    pub entry: String,
}

/// Money paid into the market from outside (admin): the operator deposits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositRequest {
    /// The account: an ed25519 public key, 64 hex digits.
    pub account: String,
    /// Micro-units, more than 0.
    pub amount: u64,
}

/// An entry the ledger took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryReply {
    /// Its index in the ledger (a contract's id, an offer's or a bid's number).
    pub index: u64,
    pub kind: String,
    /// The ledger's size and Merkle root after it.
    pub size: u64,
    pub root: String,
}

/// A service level in integers: what an offer commits to or a bid asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlaTerms {
    pub max_latency_us: u32,
    pub min_availability_ppm: u32,
    pub max_loss_ppm: u32,
}

/// An offer waiting for the next round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferView {
    pub index: u64,
    pub provider: String,
    pub site: String,
    pub gflops: u64,
    pub cores: u32,
    pub memory_mib: u64,
    pub start: u64,
    pub end: u64,
    /// Micro-units per compute-hour.
    pub price: u64,
    pub sla: SlaTerms,
}

/// A bid waiting for the next round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BidView {
    pub index: u64,
    pub consumer: String,
    pub gflops: u64,
    pub cores: u32,
    pub memory_mib: u64,
    pub start: u64,
    pub end: u64,
    /// Micro-units per compute-hour.
    pub max_price: u64,
    pub sla: SlaTerms,
    /// What the bid holds in escrow, micro-units.
    pub escrow: u64,
}

/// Where a contract stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatusName {
    Pending,
    Placed,
    Unplaced,
    Settled,
}

/// What settling a contract pays (or, before it settles, would pay now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PayoutView {
    pub compliance_ppm: u32,
    pub to_provider: u64,
    pub refund: u64,
}

/// A contract of a clearing round and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContractView {
    /// The index of its contract entry.
    pub id: u64,
    pub round: u64,
    pub offer: u64,
    pub bid: u64,
    pub provider: String,
    pub consumer: String,
    pub site: String,
    pub gflops: u64,
    pub cores: u32,
    pub memory_mib: u64,
    pub start: u64,
    pub end: u64,
    /// The offer's SLA: what the provider's delivery is measured against.
    pub sla: SlaTerms,
    pub buyer_price: u64,
    pub seller_price: u64,
    pub consumer_total: u64,
    pub provider_total: u64,
    pub penalty_ppm: u32,
    pub status: ContractStatusName,
    /// The scheduler's reservation, once placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<u64>,
    /// Why it could not be placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What it holds in escrow now, micro-units.
    pub escrow: u64,
    /// The end of the last usage report's span (0 before any).
    pub reported_until: u64,
    /// Compute delivered by the reports, GFLOP.
    pub delivered_gflop: u64,
    /// The settlement, or what settling now would pay (placed contracts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout: Option<PayoutView>,
}

/// A round cleared: its contracts, each placed or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoundReply {
    pub round: u64,
    pub contracts: Vec<ContractView>,
    pub size: u64,
    pub root: String,
}

/// An account of the market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    pub account: String,
    /// Micro-units free to spend.
    pub balance: u64,
    /// The number of the account's last entry: its next entry is `seq + 1`.
    pub seq: u64,
    /// The provider this key reports usage for, when it is a registered agent key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_for: Option<String>,
}

/// What the controller measured of a contract over a span: the most a usage report of that
/// span may claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MeasurementView {
    pub contract: u64,
    pub from: u64,
    pub to: u64,
    /// Seconds of the span in which the contract's site was up and held its reservation.
    pub within_sla_seconds: u64,
    /// `within_sla_seconds` over the span's seconds, ppm, rounded down.
    pub within_sla_ppm: u32,
    /// The contract's GFLOPS over those seconds.
    pub compute_gflop: u64,
}

/// Money in the market: every deposit is in a balance or in escrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotalsView {
    pub deposits: u64,
    pub balances: u64,
    pub escrow: u64,
}

/// The ledger's identity and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MarketView {
    pub name: String,
    /// What every entry's signature is bound to, hex.
    pub ledger_id: String,
    pub operator: String,
    pub penalty_ppm: u32,
    pub entries: u64,
    pub blocks: u64,
    pub root: String,
    /// The last block's hash (the ledger id before any block).
    pub head: String,
    /// The last block's time.
    pub time: u64,
    /// The last round cleared (0 before the first).
    pub round: u64,
    pub open_offers: u64,
    pub open_bids: u64,
    pub totals: TotalsView,
}

/// The proof that an entry is in the ledger of the first `size` entries (RFC 9162 §2.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InclusionProofView {
    pub index: u64,
    pub size: u64,
    /// The entry's leaf hash.
    pub leaf: String,
    /// The root of the first `size` entries.
    pub root: String,
    pub proof: Vec<String>,
}

/// The proof that the ledger of `first` entries is a prefix of the one of `second`
/// (RFC 9162 §2.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyProofView {
    pub first: u64,
    pub second: u64,
    pub first_root: String,
    pub second_root: String,
    pub proof: Vec<String>,
}
