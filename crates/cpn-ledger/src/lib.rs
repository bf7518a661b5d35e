//! Trusted compute trading for cpn: a capacity market kept on a signed, hash-chained,
//! verifiable ledger, and settled against the SLA that was delivered (issue 8).
//!
//! Every party holds an ed25519 key; its account id is the public key. Providers post offers
//! and consumers post bids (`market`); the operator clears periodic rounds by McAfee's double
//! auction, class by class, into contracts (`contract`) whose payment waits in escrow; the
//! controller confirms placement (two-phase: a contract the scheduler cannot place is recorded
//! as unplaced and its escrow goes back); the provider's agent reports usage and SLA
//! compliance, and the operator settles: payment to the provider, a pro-rated refund to the
//! consumer when the SLA was missed. Each of these is an `entry`, signed by its author in a
//! canonical binary encoding; `state` holds the rules every entry must follow; the `ledger`
//! groups entries into blocks chained by hash and signed by the operator, and keeps an
//! RFC 9162 Merkle tree over all entries (`merkle`) for inclusion and consistency proofs;
//! `verify` checks a whole ledger file offline and names the first entry that cannot be
//! trusted. `docs/market.md` and `docs/ledger.md` are the specifications.
//!
//! This crate never does I/O and never reads a clock: a block's time is a value the caller
//! passes in, and the same file always verifies to the same state. It never panics on input
//! bytes; every amount is an integer of micro-units and every sum is checked.

pub mod account;
pub mod block;
pub mod codec;
pub mod contract;
pub mod entry;
pub mod ledger;
pub mod market;
pub mod merkle;
mod signature;
pub mod state;
pub mod verify;

pub use account::{AccountId, Amount};
pub use block::{BlockHeader, LedgerHeader, SealedBlock};
pub use codec::DecodeError;
pub use contract::{Contract, ContractStatus, Delivery, Payout};
pub use entry::{Body, Entry, Kind};
pub use ledger::{AppendError, Ledger};
pub use market::{Bid, Offer, Resources, Sla, Window};
pub use merkle::{Hash, MerkleTree, ProofError, verify_consistency, verify_inclusion};
pub use state::{Account, ContractState, Totals, TransitionError};
pub use verify::{Problem, Summary, VerifyError, verify};
