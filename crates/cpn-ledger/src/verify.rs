//! Offline verification of a ledger file, naming the first entry that cannot be trusted.
//!
//! The file is read block by block. Signatures of all entries are verified first, in
//! parallel and in batches; then the blocks are checked in order, and in each block:
//!
//! 1. the header decodes and carries the operator's signature (else the header was altered);
//! 2. it continues the chain: height one more, previous hash equal to the previous block's
//!    (the ledger id for the first), time not going back, tree size grown by its count;
//! 3. the file holds as many entries as the signed header counts (else entries were removed
//!    or inserted);
//! 4. the entries hash to the header's entries root. When they do not, the entries changed
//!    after sealing; the first entry that does not decode or whose signature fails is named
//!    (altered: the change is in that entry's own bytes); else the block's first entry is
//!    named, with the first entry whose author's sequence number is not the next one
//!    (removed, replaced or reordered) if there is one: a block's root shows that its entries
//!    changed, not which, and an entry replaced early in the block shows only where its
//!    author's next entry stands;
//! 5. the ledger root after the block equals the header's;
//! 6. each entry decodes, is signed by its author, and is a valid transition of the state.
//!
//! A problem found at the level of a block names the block's first entry, so the index named
//! is never after the entry that was changed. What a file alone cannot show is that blocks
//! were cut off its end: compare [`Summary`]'s size and root with a block header you trust
//! (a consistency proof shows the older one is a prefix).

use rayon::prelude::*;

use crate::account::AccountId;
use crate::block::{BlockHeader, LedgerHeader, SealedBlock};
use crate::codec::{DecodeError, Reader};
use crate::entry::{ENTRY_HEADER_LEN, Entry, SIGNATURE_LEN, signed_message};
use crate::ledger::Ledger;
use crate::merkle::{Hash, leaf_hash, root_of};
use crate::signature::{self, Check, Keys};
use crate::state::{Totals, TransitionError};

/// What a verified ledger holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub ledger_id: Hash,
    pub blocks: u64,
    pub entries: u64,
    /// The Merkle root of all entries.
    pub root: Hash,
    /// The last block's hash (the ledger id when there is no block).
    pub head: Hash,
    /// The last block's time (0 when there is no block).
    pub time: u64,
    pub totals: Totals,
}

/// What is wrong, at the first entry that cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the ledger header cannot be read: {0}")]
    Header(DecodeError),
    #[error("the block header cannot be read: {0}")]
    BlockHeader(DecodeError),
    #[error("altered block header: its signature is not the operator's")]
    BlockSignature,
    #[error("broken chain: {0}")]
    Chain(&'static str),
    #[error("entries removed: the block header counts {expected}, the file holds {found}")]
    Removed { expected: u32, found: u32 },
    #[error("entries inserted: the block header counts {expected}, the file holds {found}")]
    Inserted { expected: u32, found: u32 },
    #[error("altered: the entry cannot be read: {0}")]
    Malformed(DecodeError),
    #[error("altered or forged: the entry's signature does not verify with its author's key")]
    BadSignature,
    #[error(
        "removed, replaced or reordered: at entry {at}, {author}'s entry number {found} stands where number {expected} is due"
    )]
    OutOfSequence {
        /// Where the sequence shows the change; the change itself may be earlier in the block.
        at: u64,
        author: AccountId,
        expected: u64,
        found: u64,
    },
    #[error("reordered or replaced: the block's entries do not hash to its entries root")]
    EntriesRoot,
    #[error("invalid transition: {0}")]
    Transition(TransitionError),
    #[error("{extra} bytes after the last block")]
    Trailing { extra: usize },
}

/// The first thing wrong with a ledger file: the entry index and block it was found at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {index} (block {block}): {problem}")]
pub struct VerifyError {
    /// The first entry that cannot be trusted; for a block-level problem, the block's first.
    pub index: u64,
    pub block: u64,
    pub problem: Problem,
}

/// Verifies a whole ledger file: see the module documentation.
pub fn verify(bytes: &[u8]) -> Result<Summary, VerifyError> {
    let ledger = restore(bytes)?;
    let blocks = ledger.blocks();
    Ok(Summary {
        ledger_id: ledger.id(),
        blocks: blocks.len() as u64,
        entries: ledger.len(),
        root: ledger.root(),
        head: blocks.last().map_or(ledger.id(), |b| b.header.hash()),
        time: blocks.last().map_or(0, |b| b.header.time),
        totals: ledger.totals(),
    })
}

/// A block as the file holds it.
struct RawBlock<'a> {
    header: BlockHeader,
    signature: [u8; 64],
    /// The entry count the file states.
    count: u32,
    entries: Vec<&'a [u8]>,
    /// Reading stopped inside this block's entries: at entry `.0`, for this reason.
    cut: Option<(usize, DecodeError)>,
}

/// What reading the blocks gave: the blocks read, and why reading stopped early, if it did.
struct Parsed<'a> {
    blocks: Vec<RawBlock<'a>>,
    /// A block header that could not be read, or bytes after the last block.
    stop: Option<Problem>,
}

fn parse_blocks<'a>(r: &mut Reader<'a>) -> Parsed<'a> {
    let mut blocks = Vec::new();
    while r.remaining() > 0 {
        let header = match BlockHeader::read(r) {
            Ok(h) => h,
            Err(e) => {
                return Parsed {
                    blocks,
                    stop: Some(Problem::BlockHeader(e)),
                };
            }
        };
        let tail = r
            .bytes64("block signature")
            .and_then(|s| Ok((s, r.u32("entry count")?)));
        let (signature, count) = match tail {
            Ok(t) => t,
            Err(e) => {
                return Parsed {
                    blocks,
                    stop: Some(Problem::BlockHeader(e)),
                };
            }
        };
        let mut entries = Vec::new();
        let mut cut = None;
        for j in 0..count as usize {
            let entry = r
                .u32("entry length")
                .and_then(|len| r.take("entry", len as usize));
            match entry {
                Ok(e) => entries.push(e),
                Err(e) => {
                    cut = Some((j, e));
                    break;
                }
            }
        }
        let stop = cut.is_some();
        blocks.push(RawBlock {
            header,
            signature,
            count,
            entries,
            cut,
        });
        if stop {
            return Parsed { blocks, stop: None };
        }
    }
    Parsed { blocks, stop: None }
}

/// The outcome of the checks that need no state, per entry.
#[derive(Clone)]
enum Checked {
    Good(Hash),
    Malformed(DecodeError, Hash),
    BadSignature(Hash),
}

impl Checked {
    fn leaf(&self) -> Hash {
        match self {
            Checked::Good(h) | Checked::Malformed(_, h) | Checked::BadSignature(h) => *h,
        }
    }
}

/// Decodes, hashes and checks the signature of every entry, in parallel.
fn check_entries(id: &Hash, entries: &[&[u8]]) -> Vec<Checked> {
    let mut keys = Keys::default();
    keys.load_all(entries.iter().filter_map(|e| {
        let a: [u8; 32] = e.get(2..ENTRY_HEADER_LEN - 8)?.try_into().ok()?;
        Some(AccountId(a))
    }));
    entries
        .par_chunks(signature::BATCH)
        .flat_map_iter(|chunk| {
            let decoded: Vec<Result<Entry, DecodeError>> =
                chunk.iter().map(|b| Entry::decode(b)).collect();
            let messages: Vec<Vec<u8>> = chunk
                .iter()
                .zip(&decoded)
                .map(|(b, d)| match d {
                    Ok(_) => signed_message(id, &b[..b.len() - SIGNATURE_LEN]),
                    Err(_) => Vec::new(),
                })
                .collect();
            let checks: Vec<Check<'_>> = decoded
                .iter()
                .zip(&messages)
                .filter_map(|(d, m)| {
                    d.as_ref().ok().map(|e| Check {
                        key: keys.loaded(&e.author),
                        message: m,
                        signature: e.signature,
                    })
                })
                .collect();
            let mut good = signature::verify_batch(&checks).into_iter();
            chunk
                .iter()
                .zip(decoded)
                .map(|(b, d)| {
                    let leaf = leaf_hash(b);
                    match d {
                        Err(e) => Checked::Malformed(e, leaf),
                        Ok(_) if good.next() == Some(true) => Checked::Good(leaf),
                        Ok(_) => Checked::BadSignature(leaf),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Verifies a ledger file and rebuilds the ledger it holds.
pub(crate) fn restore(bytes: &[u8]) -> Result<Ledger, VerifyError> {
    let mut r = Reader::new(bytes);
    let header = LedgerHeader::read(&mut r).map_err(|e| VerifyError {
        index: 0,
        block: 0,
        problem: Problem::Header(e),
    })?;
    let mut ledger = Ledger::new(header.clone());
    let id = ledger.id();
    let parsed = parse_blocks(&mut r);
    let all: Vec<&[u8]> = parsed
        .blocks
        .iter()
        .flat_map(|b| b.entries.iter().copied())
        .collect();
    let checked = check_entries(&id, &all);
    let operator = signature::verifying_key(&header.operator);

    let mut next = 0usize; // index into `all` and `checked`
    let mut prev_hash = id;
    let mut prev_time = 0u64;
    for (height, block) in parsed.blocks.iter().enumerate() {
        let first = ledger.len();
        let fail = |problem| VerifyError {
            index: first,
            block: height as u64,
            problem,
        };
        let h = &block.header;
        let message = h.signed_message(&id);
        let signed = signature::verify_one(&Check {
            key: operator,
            message: &message,
            signature: block.signature,
        });
        if !signed {
            return Err(fail(Problem::BlockSignature));
        }
        if h.height != height as u64 {
            return Err(fail(Problem::Chain(
                "the block's height is not the next one",
            )));
        }
        if h.prev != prev_hash {
            return Err(fail(Problem::Chain(
                "the previous hash is not the previous block's hash",
            )));
        }
        if h.time < prev_time {
            return Err(fail(Problem::Chain("the block's time goes back")));
        }
        if h.tree_size != first + u64::from(h.entry_count) {
            return Err(fail(Problem::Chain(
                "the tree size is not the entries so far plus the block's",
            )));
        }
        if block.count < h.entry_count {
            return Err(fail(Problem::Removed {
                expected: h.entry_count,
                found: block.count,
            }));
        }
        if block.count > h.entry_count {
            return Err(fail(Problem::Inserted {
                expected: h.entry_count,
                found: block.count,
            }));
        }
        let n = block.entries.len();
        let mine = &checked[next..next + n];
        let leaves: Vec<Hash> = mine.iter().map(Checked::leaf).collect();
        if block.cut.is_some() || root_of(&leaves) != h.entries_root {
            // Changed after sealing: find the first entry that shows it.
            let at = diagnose(&ledger, first, mine, &all[next..next + n]);
            if let Some((j, problem)) = at {
                return Err(VerifyError {
                    index: first + j as u64,
                    block: height as u64,
                    problem,
                });
            }
            if let Some((j, e)) = &block.cut {
                return Err(VerifyError {
                    index: first + *j as u64,
                    block: height as u64,
                    problem: Problem::Malformed(e.clone()),
                });
            }
            return Err(fail(Problem::EntriesRoot));
        }
        for (j, (c, bytes)) in mine.iter().zip(&all[next..next + n]).enumerate() {
            let index = first + j as u64;
            let err = |problem| VerifyError {
                index,
                block: height as u64,
                problem,
            };
            match c {
                Checked::Malformed(e, _) => return Err(err(Problem::Malformed(e.clone()))),
                Checked::BadSignature(_) => return Err(err(Problem::BadSignature)),
                Checked::Good(leaf) => {
                    let entry = Entry::decode(bytes).map_err(|e| err(Problem::Malformed(e)))?;
                    ledger
                        .state
                        .apply(index, h.time, &entry)
                        .map_err(|e| err(Problem::Transition(e)))?;
                    ledger.push_leaf(bytes, *leaf);
                }
            }
        }
        if ledger.root() != h.ledger_root {
            return Err(fail(Problem::Chain(
                "the ledger root is not the root of the entries so far",
            )));
        }
        ledger.push_block(SealedBlock {
            header: *h,
            signature: block.signature,
        });
        next += n;
        prev_hash = h.hash();
        prev_time = h.time;
    }
    let end = VerifyError {
        index: ledger.len(),
        block: parsed.blocks.len() as u64,
        problem: Problem::Trailing { extra: 0 },
    };
    if let Some(problem) = parsed.stop {
        return Err(VerifyError { problem, ..end });
    }
    if r.remaining() > 0 {
        return Err(VerifyError {
            problem: Problem::Trailing {
                extra: r.remaining(),
            },
            ..end
        });
    }
    Ok(ledger)
}

/// In a block whose entries changed after sealing, the first entry that shows how: one that
/// does not decode or whose signature fails (the change is in that entry's bytes), or whose
/// sequence number is not its author's next. The last kind is named at the block's first
/// entry: an entry replaced or removed earlier in the block shows only where its author's
/// next entry stands.
fn diagnose(
    ledger: &Ledger,
    first: u64,
    checked: &[Checked],
    raw: &[&[u8]],
) -> Option<(usize, Problem)> {
    let mut seqs: std::collections::HashMap<AccountId, u64> = std::collections::HashMap::new();
    for (j, (c, bytes)) in checked.iter().zip(raw).enumerate() {
        match c {
            Checked::Malformed(e, _) => return Some((j, Problem::Malformed(e.clone()))),
            Checked::BadSignature(_) => return Some((j, Problem::BadSignature)),
            Checked::Good(_) => {
                let entry = Entry::decode(bytes).ok()?;
                let last = seqs
                    .entry(entry.author)
                    .or_insert_with(|| ledger.account(&entry.author).seq);
                let expected = last.wrapping_add(1);
                if entry.seq != expected {
                    return Some((
                        0,
                        Problem::OutOfSequence {
                            at: first + j as u64,
                            author: entry.author,
                            expected,
                            found: entry.seq,
                        },
                    ));
                }
                *last = expected;
            }
        }
    }
    None
}
