//! The ledger: the market's state machine together with everything that makes it verifiable
//! (the entries' bytes, the Merkle tree over all of them, the chain of signed blocks).
//!
//! The controller drives it in blocks: [`Ledger::open_block`] with the block's time (the
//! only clock the ledger knows), then entries as they come ([`Ledger::append`] for one,
//! [`Ledger::append_batch`] for many: their signatures are verified together), then
//! [`Ledger::seal_block`] with the operator's key. Every entry is checked completely before it
//! changes anything, so a refused entry is simply not in the ledger. The operator's own
//! entries (rounds, contracts, placements, settlements) have helpers that build, sign and
//! append them.
//!
//! Placement is two-phase: a round records contracts as *pending*; the controller asks the
//! scheduler to reserve each one and then records either [`Ledger::confirm_placement`] or
//! [`Ledger::fail_placement`] (which gives the consumer its escrow back). Only a placed
//! contract takes usage reports and settles.
//!
//! [`Ledger::to_bytes`] writes the sealed blocks as a ledger file and [`Ledger::from_bytes`]
//! restores a ledger from one by verifying it completely (see `verify`).

use ed25519_dalek::SigningKey;

use crate::account::{AccountId, Amount};
use crate::block::{BlockHeader, LedgerHeader, SealedBlock};
use crate::codec::{DecodeError, Writer};
use crate::contract::{Contract, Payout};
use crate::entry::signed_message;
use crate::entry::{Body, Deposit, Entry, Placement, Round, SIGNATURE_LEN, Settlement, Unplaced};
use crate::market::{OpenBid, OpenOffer};
use crate::merkle::{Hash, MerkleTree, ProofError, leaf_hash, root_of};
use crate::signature::{self, Check, Keys};
use crate::state::{Account, ContractState, State, Totals, TransitionError};

/// Why an entry or a block was refused. The ledger is unchanged after any of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error("no block is open: open one with its time first")]
    NoOpenBlock,
    #[error("a block is already open; seal it first")]
    BlockOpen,
    #[error("block time {time} is before the previous block's time {previous}")]
    TimeBackwards { time: u64, previous: u64 },
    #[error("the open block holds {entries} entries: seal it")]
    BlockNotEmpty { entries: u64 },
    #[error("a block holds at most {max} entries")]
    BlockFull { max: u32 },
    #[error("the key is not the ledger's operator key")]
    NotOperatorKey,
    #[error("entry does not decode: {0}")]
    Decode(#[from] DecodeError),
    #[error("entry's signature does not verify with its author's key")]
    BadSignature,
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

#[derive(Debug, Clone, Copy)]
struct OpenBlock {
    time: u64,
    first: u64,
}

/// A ledger in memory. See the module documentation.
#[derive(Debug, Clone)]
pub struct Ledger {
    header: LedgerHeader,
    id: Hash,
    pub(crate) state: State,
    tree: MerkleTree,
    /// Every entry's bytes, one after another; `ends[i]` is where entry `i` ends.
    data: Vec<u8>,
    ends: Vec<usize>,
    blocks: Vec<SealedBlock>,
    open: Option<OpenBlock>,
    keys: Keys,
}

impl Ledger {
    /// A new, empty ledger.
    pub fn new(header: LedgerHeader) -> Ledger {
        let id = header.id();
        let state = State::new(header.operator, header.penalty_ppm);
        Ledger {
            header,
            id,
            state,
            tree: MerkleTree::new(),
            data: Vec::new(),
            ends: Vec::new(),
            blocks: Vec::new(),
            open: None,
            keys: Keys::default(),
        }
    }

    pub fn header(&self) -> &LedgerHeader {
        &self.header
    }

    /// The ledger id: what every signature in it is bound to.
    pub fn id(&self) -> Hash {
        self.id
    }

    // ---- blocks -------------------------------------------------------------------------

    /// Opens a block at `time` (seconds): the time every entry of the block is judged at.
    pub fn open_block(&mut self, time: u64) -> Result<(), AppendError> {
        if self.open.is_some() {
            return Err(AppendError::BlockOpen);
        }
        if let Some(last) = self.blocks.last()
            && time < last.header.time
        {
            return Err(AppendError::TimeBackwards {
                time,
                previous: last.header.time,
            });
        }
        self.open = Some(OpenBlock {
            time,
            first: self.tree.len(),
        });
        Ok(())
    }

    /// The open block's time, if a block is open.
    pub fn block_time(&self) -> Option<u64> {
        self.open.map(|o| o.time)
    }

    /// Seals the open block with the operator's signature; an empty block is allowed.
    pub fn seal_block(&mut self, operator: &SigningKey) -> Result<SealedBlock, AppendError> {
        if AccountId::of(operator) != self.header.operator {
            return Err(AppendError::NotOperatorKey);
        }
        let open = self.open.ok_or(AppendError::NoOpenBlock)?;
        let n = self.tree.len();
        let leaves: Vec<Hash> = (open.first..n).filter_map(|i| self.tree.leaf(i)).collect();
        let header = BlockHeader {
            height: self.blocks.len() as u64,
            prev: self.blocks.last().map_or(self.id, |b| b.header.hash()),
            time: open.time,
            entry_count: u32::try_from(n - open.first).unwrap_or(u32::MAX),
            entries_root: root_of(&leaves),
            tree_size: n,
            ledger_root: self.tree.root(),
        };
        let sealed = header.sign(&self.id, operator);
        self.blocks.push(sealed);
        self.open = None;
        Ok(sealed)
    }

    /// Closes the open block without sealing it, when no entry was appended to it: a caller
    /// that opened a block for entries that were all refused leaves the ledger as it was.
    /// Refused (the block stays open) once the block holds an entry.
    pub fn cancel_block(&mut self) -> Result<(), AppendError> {
        let open = self.open.ok_or(AppendError::NoOpenBlock)?;
        if self.tree.len() != open.first {
            return Err(AppendError::BlockNotEmpty {
                entries: self.tree.len() - open.first,
            });
        }
        self.open = None;
        Ok(())
    }

    /// The time of the last sealed block (0 before the first): a new block may not be earlier.
    pub fn last_time(&self) -> u64 {
        self.blocks.last().map_or(0, |b| b.header.time)
    }

    /// The sealed blocks, oldest first.
    pub fn blocks(&self) -> &[SealedBlock] {
        &self.blocks
    }

    // ---- entries ------------------------------------------------------------------------

    /// Appends one encoded entry to the open block: decode, verify the signature, apply,
    /// hash. Returns the entry's index in the ledger.
    pub fn append(&mut self, bytes: &[u8]) -> Result<u64, AppendError> {
        let open = self.open.ok_or(AppendError::NoOpenBlock)?;
        let entry = Entry::decode(bytes)?;
        let message = signed_message(&self.id, unsigned(bytes));
        let check = Check {
            key: self.keys.get(&entry.author),
            message: &message,
            signature: entry.signature,
        };
        if !signature::verify_one(&check) {
            return Err(AppendError::BadSignature);
        }
        self.commit(open, &entry, bytes)
    }

    /// Appends an entry (encoding it first).
    pub fn append_entry(&mut self, entry: &Entry) -> Result<u64, AppendError> {
        self.append(&entry.encode())
    }

    /// Appends many encoded entries in order, verifying their signatures together (in
    /// batches, on all cores) before applying them one by one. Each gets its own result; a
    /// refused entry does not stop the ones after it.
    pub fn append_batch(&mut self, entries: &[&[u8]]) -> Vec<Result<u64, AppendError>> {
        let Some(open) = self.open else {
            return entries
                .iter()
                .map(|_| Err(AppendError::NoOpenBlock))
                .collect();
        };
        let decoded: Vec<Result<Entry, DecodeError>> =
            entries.iter().map(|b| Entry::decode(b)).collect();
        self.keys.load_all(
            decoded
                .iter()
                .filter_map(|e| e.as_ref().ok().map(|e| e.author)),
        );
        let messages: Vec<Vec<u8>> = entries
            .iter()
            .zip(&decoded)
            .map(|(b, e)| match e {
                Ok(_) => signed_message(&self.id, unsigned(b)),
                Err(_) => Vec::new(),
            })
            .collect();
        let checks: Vec<Check<'_>> = decoded
            .iter()
            .zip(&messages)
            .filter_map(|(e, m)| {
                e.as_ref().ok().map(|e| Check {
                    key: self.keys.loaded(&e.author),
                    message: m,
                    signature: e.signature,
                })
            })
            .collect();
        let mut good = signature::verify_parallel(&checks).into_iter();
        let mut out = Vec::with_capacity(entries.len());
        for (bytes, e) in entries.iter().zip(decoded) {
            out.push(match e {
                Err(e) => Err(AppendError::Decode(e)),
                Ok(entry) => {
                    if good.next() == Some(true) {
                        self.commit(open, &entry, bytes)
                    } else {
                        Err(AppendError::BadSignature)
                    }
                }
            });
        }
        out
    }

    fn commit(&mut self, open: OpenBlock, entry: &Entry, bytes: &[u8]) -> Result<u64, AppendError> {
        let index = self.tree.len();
        if index - open.first >= u64::from(u32::MAX) {
            return Err(AppendError::BlockFull { max: u32::MAX });
        }
        self.state.apply(index, open.time, entry)?;
        self.push_leaf(bytes, leaf_hash(bytes));
        Ok(index)
    }

    pub(crate) fn push_leaf(&mut self, bytes: &[u8], leaf: Hash) {
        self.tree.push(leaf);
        self.data.extend_from_slice(bytes);
        self.ends.push(self.data.len());
    }

    /// Signs `body` as `key`'s next entry in this ledger (it is not appended).
    pub fn sign(&self, key: &SigningKey, body: Body) -> Entry {
        let seq = self.state.account(&AccountId::of(key)).seq + 1;
        Entry::sign(&self.id, key, seq, body)
    }

    /// The number of entries (also the size of the Merkle tree).
    pub fn len(&self) -> u64 {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// The bytes of entry `index`.
    pub fn entry_bytes(&self, index: u64) -> Option<&[u8]> {
        let i = usize::try_from(index).ok()?;
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.data.get(start..end)
    }

    /// Entry `index`, decoded.
    pub fn entry(&self, index: u64) -> Option<Entry> {
        Entry::decode(self.entry_bytes(index)?).ok()
    }

    // ---- the operator's entries ---------------------------------------------------------

    fn append_operator(&mut self, operator: &SigningKey, body: Body) -> Result<u64, AppendError> {
        if AccountId::of(operator) != self.header.operator {
            return Err(AppendError::NotOperatorKey);
        }
        let entry = self.sign(operator, body);
        self.append_entry(&entry)
    }

    /// Deposits `amount` into `to`.
    pub fn deposit(
        &mut self,
        operator: &SigningKey,
        to: AccountId,
        amount: Amount,
    ) -> Result<u64, AppendError> {
        self.append_operator(operator, Body::Deposit(Deposit { to, amount }))
    }

    /// The contracts a round cleared now (at the open block's time) would record.
    pub fn clearing(&self) -> Result<Vec<Contract>, AppendError> {
        let open = self.open.ok_or(AppendError::NoOpenBlock)?;
        Ok(self
            .state
            .clearing(open.time)?
            .into_iter()
            .map(|(c, _)| c)
            .collect())
    }

    /// Clears the next round: appends the round's entry and one contract entry per trade,
    /// and returns the contracts' indices (their ids). Each contract is pending until
    /// [`Ledger::confirm_placement`] or [`Ledger::fail_placement`].
    pub fn run_round(&mut self, operator: &SigningKey) -> Result<Vec<u64>, AppendError> {
        let contracts = self.clearing()?;
        let round = Round {
            round: self.state.round() + 1,
            contracts: u32::try_from(contracts.len()).unwrap_or(u32::MAX),
        };
        self.append_operator(operator, Body::Round(round))?;
        contracts
            .into_iter()
            .map(|c| self.append_operator(operator, Body::Contract(c)))
            .collect()
    }

    /// Records that the scheduler placed `contract` under `reservation`.
    pub fn confirm_placement(
        &mut self,
        operator: &SigningKey,
        contract: u64,
        reservation: u64,
    ) -> Result<u64, AppendError> {
        let body = Body::Placement(Placement {
            contract,
            reservation,
        });
        self.append_operator(operator, body)
    }

    /// Records that `contract` could not be placed; the consumer gets its escrow back.
    pub fn fail_placement(
        &mut self,
        operator: &SigningKey,
        contract: u64,
        reason: &str,
    ) -> Result<u64, AppendError> {
        let body = Body::Unplaced(Unplaced {
            contract,
            reason: reason.to_owned(),
        });
        self.append_operator(operator, body)
    }

    /// What settling `contract` now would pay.
    pub fn payout(&self, contract: u64) -> Option<Payout> {
        self.state.payout(contract)
    }

    /// Settles `contract` by its rule against the usage reported.
    pub fn settle(&mut self, operator: &SigningKey, contract: u64) -> Result<u64, AppendError> {
        let p = self
            .payout(contract)
            .ok_or(TransitionError::UnknownContract { index: contract })?;
        let body = Body::Settlement(Settlement {
            contract,
            compliance_ppm: p.compliance_ppm,
            to_provider: p.to_provider,
            refund: p.refund,
        });
        self.append_operator(operator, body)
    }

    // ---- the market's state -------------------------------------------------------------

    pub fn account(&self, id: &AccountId) -> Account {
        self.state.account(id)
    }

    /// The provider an agent key reports for.
    pub fn agent_of(&self, agent: &AccountId) -> Option<AccountId> {
        self.state.agent_of(agent)
    }

    /// Contract `index` (the index of its contract entry).
    pub fn contract(&self, index: u64) -> Option<&ContractState> {
        self.state.contract(index)
    }

    pub fn contracts(&self) -> impl Iterator<Item = (u64, &ContractState)> {
        self.state.contracts()
    }

    pub fn open_offers(&self) -> impl Iterator<Item = &OpenOffer> {
        self.state.open_offers()
    }

    pub fn open_bids(&self) -> impl Iterator<Item = &OpenBid> {
        self.state.open_bids()
    }

    /// The last round cleared (0 before the first).
    pub fn round(&self) -> u64 {
        self.state.round()
    }

    /// Contracts the last round computed that have no contract entry yet.
    pub fn pending_contracts(&self) -> impl Iterator<Item = &Contract> {
        self.state.pending_contracts()
    }

    pub fn totals(&self) -> Totals {
        self.state.totals()
    }

    // ---- proofs -------------------------------------------------------------------------

    /// The Merkle root of all entries.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The Merkle root of the first `size` entries.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.tree.root_at(size)
    }

    /// The leaf hash of entry `index`.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        self.tree.leaf(index)
    }

    /// The proof that entry `index` is in the ledger of the first `size` entries; check it
    /// with [`crate::verify_inclusion`].
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.tree.inclusion_proof(index, size)
    }

    /// The proof that the ledger of `first` entries is a prefix of the ledger of `second`;
    /// check it with [`crate::verify_consistency`].
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, ProofError> {
        self.tree.consistency_proof(first, second)
    }

    // ---- the file -----------------------------------------------------------------------

    /// The ledger file of the sealed blocks (entries of a block still open are left out):
    /// the ledger header, then per block its header, the operator's signature, the number of
    /// entries (u32), and each entry as a u32 length and its bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let sealed_end = self
            .blocks
            .last()
            .map_or(0, |b| self.offset(b.header.tree_size));
        let mut w =
            Writer::with_capacity(sealed_end + self.ends.len() * 4 + self.blocks.len() * 200 + 64);
        w.bytes(&self.header.encode());
        for b in &self.blocks {
            w.bytes(&b.header.encode());
            w.bytes(&b.signature);
            w.u32(b.header.entry_count);
            let first = b.header.tree_size - u64::from(b.header.entry_count);
            for i in first..b.header.tree_size {
                let bytes = self.entry_bytes(i).unwrap_or_default();
                w.u32(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
                w.bytes(bytes);
            }
        }
        w.buf
    }

    fn offset(&self, size: u64) -> usize {
        match usize::try_from(size) {
            Ok(0) | Err(_) => 0,
            Ok(n) => self.ends.get(n - 1).copied().unwrap_or(0),
        }
    }

    /// Restores a ledger from its file, verifying everything (see [`crate::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Ledger, crate::verify::VerifyError> {
        crate::verify::restore(bytes)
    }

    pub(crate) fn push_block(&mut self, block: SealedBlock) {
        self.blocks.push(block);
    }
}

/// An entry's bytes without its signature (what the signature covers, after the prefix).
fn unsigned(bytes: &[u8]) -> &[u8] {
    bytes
        .get(..bytes.len().saturating_sub(SIGNATURE_LEN))
        .unwrap_or_default()
}
