//! Property tests of the ledger as a whole: money is conserved through any history; a
//! generated ledger verifies, and no entry can be changed, dropped, inserted or reordered
//! without `verify` naming it (or an earlier one); decoding never panics and is canonical.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cpn_ledger::block::BLOCK_HEADER_LEN;
use cpn_ledger::{Body, Entry, Ledger, LedgerHeader, Problem, VerifyError, verify};
use proptest::prelude::*;

/// Where the entries of a ledger file lie: per block, its first entry index, the byte offset
/// of its header, and each entry's (index, start, end) byte range including the length prefix.
struct Layout {
    blocks: Vec<(u64, usize, Vec<EntrySpan>)>,
}

/// An entry's index and the byte range of its length prefix and bytes.
type EntrySpan = (u64, usize, usize);

fn layout(l: &Ledger) -> Layout {
    let mut at = l.header().encode().len();
    let mut blocks = Vec::new();
    for b in l.blocks() {
        let first = b.header.tree_size - u64::from(b.header.entry_count);
        let start = at;
        at += BLOCK_HEADER_LEN + 64 + 4;
        let mut entries = Vec::new();
        for i in first..b.header.tree_size {
            let len = l.entry_bytes(i).unwrap().len();
            entries.push((i, at, at + 4 + len));
            at += 4 + len;
        }
        blocks.push((first, start, entries));
    }
    Layout { blocks }
}

/// The file of `l` with block `b`'s entries replaced by `entries` (the header unchanged, as
/// someone without the operator's key would have to leave it).
fn rewrite(l: &Ledger, b: usize, entries: &[Vec<u8>]) -> Vec<u8> {
    let bytes = l.to_bytes();
    let lay = layout(l);
    let (_, start, list) = &lay.blocks[b];
    let head_end = start + BLOCK_HEADER_LEN + 64;
    let end = list.last().map_or(head_end + 4, |e| e.2);
    let mut out = bytes[..head_end].to_vec();
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for e in entries {
        out.extend_from_slice(&(e.len() as u32).to_be_bytes());
        out.extend_from_slice(e);
    }
    out.extend_from_slice(&bytes[end..]);
    out
}

fn block_entries(l: &Ledger, b: usize) -> Vec<Vec<u8>> {
    let h = l.blocks()[b].header;
    let first = h.tree_size - u64::from(h.entry_count);
    (first..h.tree_size)
        .map(|i| l.entry_bytes(i).unwrap().to_vec())
        .collect()
}

fn expect_named(
    r: Result<cpn_ledger::Summary, VerifyError>,
    block: usize,
    index: u64,
) -> VerifyError {
    let e = r.expect_err("a tampered ledger must not verify");
    assert_eq!(e.block, block as u64, "{e}");
    assert!(
        e.index <= index,
        "named {e}, but the change was at entry {index}"
    );
    e
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn money_is_conserved_through_any_history(ops in prop::collection::vec(op_strategy(), 1..120)) {
        let l = run_ops(&ops, |l| {
            let t = l.totals();
            assert_eq!(t.balances + t.escrow, t.deposits);
        });
        let summary = verify(&l.to_bytes()).unwrap();
        prop_assert_eq!(summary.totals, l.totals());
        prop_assert_eq!(summary.root, l.root());
        prop_assert_eq!(summary.entries, l.len());
    }

    #[test]
    fn any_changed_byte_is_named(
        ops in prop::collection::vec(op_strategy(), 20..80),
        pick in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let l = run_ops(&ops, |_| {});
        let mut bytes = l.to_bytes();
        let at = pick.index(bytes.len());
        bytes[at] ^= flip;
        let r = verify(&bytes);
        let header_len = l.header().encode().len();
        if at < header_len {
            // The ledger header: its id changes, so no block signature verifies.
            prop_assert!(r.is_err());
            return Ok(());
        }
        let lay = layout(&l);
        // The block holding the byte, and the entry (or the block's first for its header).
        let b = lay.blocks.iter().rposition(|(_, start, _)| *start <= at).unwrap();
        let (first, _, entries) = &lay.blocks[b];
        let index = entries.iter().find(|e| e.1 <= at && at < e.2).map_or(*first, |e| e.0);
        expect_named(r, b, index);
    }

    #[test]
    fn dropped_inserted_and_reordered_entries_are_named(
        ops in prop::collection::vec(op_strategy(), 30..90),
        which in any::<prop::sample::Index>(),
        a in any::<prop::sample::Index>(),
        c in any::<prop::sample::Index>(),
        kind in 0u8..4,
    ) {
        let l = run_ops(&ops, |_| {});
        let nonempty: Vec<usize> = (0..l.blocks().len())
            .filter(|&b| l.blocks()[b].header.entry_count > 0)
            .collect();
        prop_assume!(!nonempty.is_empty());
        let b = nonempty[which.index(nonempty.len())];
        let mut entries = block_entries(&l, b);
        let first = l.blocks()[b].header.tree_size - entries.len() as u64;
        let i = a.index(entries.len());
        let index = first + i as u64;
        match kind {
            0 => {
                entries.remove(i);
                let e = expect_named(verify(&rewrite(&l, b, &entries)), b, index);
                prop_assert!(matches!(e.problem, Problem::Removed { .. }), "{}", e);
            }
            1 => {
                // A copy of another entry (a replay), or one the attacker signed itself.
                let copy = entries[c.index(entries.len())].clone();
                entries.insert(i, copy);
                let e = expect_named(verify(&rewrite(&l, b, &entries)), b, index);
                prop_assert!(matches!(e.problem, Problem::Inserted { .. }), "{}", e);
            }
            2 => {
                let j = c.index(entries.len());
                prop_assume!(entries[i] != entries[j]);
                entries.swap(i, j);
                let e = expect_named(verify(&rewrite(&l, b, &entries)), b, index.min(first + j as u64));
                prop_assert!(
                    matches!(e.problem, Problem::OutOfSequence { .. } | Problem::EntriesRoot),
                    "{}", e
                );
            }
            _ => {
                // An entry replaced by a validly signed one of another key (same count).
                let mut forged = Entry::decode(&entries[i]).unwrap();
                let intruder = key(99);
                forged = Entry::sign(&l.id(), &intruder, forged.seq, forged.body);
                entries[i] = forged.encode();
                let e = expect_named(verify(&rewrite(&l, b, &entries)), b, index);
                prop_assert!(
                    matches!(e.problem, Problem::OutOfSequence { .. } | Problem::EntriesRoot),
                    "{}", e
                );
            }
        }
    }

    #[test]
    fn decoding_never_panics_and_is_canonical(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(e) = Entry::decode(&bytes) {
            prop_assert_eq!(e.encode(), bytes.clone());
        }
        let _ = LedgerHeader::decode(&bytes);
        let _ = cpn_ledger::BlockHeader::decode(&bytes);
        let _ = verify(&bytes);
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Mutations of valid encodings (the interesting inputs) never panic, and what still
    /// decodes re-encodes to the same bytes.
    #[test]
    fn mutated_entries_decode_canonically_or_not_at_all(
        ops in prop::collection::vec(op_strategy(), 10..30),
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        flip in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let l = run_ops(&ops, |_| {});
        prop_assume!(!l.is_empty());
        let i = pick.index(l.len() as usize) as u64;
        let mut bytes = l.entry_bytes(i).unwrap().to_vec();
        let n = bytes.len();
        bytes[at.index(n)] ^= flip;
        bytes.truncate(n - cut.index(n / 4 + 1));
        if let Ok(e) = Entry::decode(&bytes) {
            prop_assert_eq!(e.encode(), bytes);
        }
    }

    #[test]
    fn any_cut_of_a_file_is_refused(ops in prop::collection::vec(op_strategy(), 5..40), cut in any::<prop::sample::Index>()) {
        let l = run_ops(&ops, |_| {});
        let bytes = l.to_bytes();
        let end = cut.index(bytes.len());
        let r = verify(&bytes[..end]);
        // A cut exactly at a block boundary is a valid shorter ledger; anything else fails.
        let mut boundaries = vec![l.header().encode().len()];
        for (_, start, _) in layout(&l).blocks.iter().skip(1) {
            boundaries.push(*start);
        }
        if boundaries.contains(&end) {
            prop_assert!(r.is_ok());
        } else {
            prop_assert!(r.is_err());
        }
    }
}

#[test]
fn a_reordering_of_one_authors_entries_names_the_block_and_where_it_shows() {
    let ops: Vec<Op> = (0..8)
        .map(|i| Op::Deposit {
            to: 10 + (i % 3) as u8,
            amount: 5 + i,
        })
        .collect();
    let l = run_ops(&ops, |_| {});
    let mut entries = block_entries(&l, 0);
    entries.swap(2, 5);
    let e = verify(&rewrite(&l, 0, &entries)).unwrap_err();
    assert_eq!(e.index, 0, "{e}");
    assert!(matches!(
        e.problem,
        Problem::OutOfSequence {
            at: 2,
            expected: 3,
            found: 6,
            ..
        }
    ));
}

#[test]
fn an_invalid_transition_sealed_by_the_operator_is_named() {
    // The operator can seal anything; verify still replays the rules. Build a valid ledger,
    // then a second one whose block holds an overspending bid, sealed by hand.
    let op = key(OPERATOR);
    let mut l = Ledger::new(header(1_000_000));
    l.open_block(0).unwrap();
    l.deposit(&op, id(13), units(10)).unwrap();
    l.seal_block(&op).unwrap();
    let good = l.to_bytes();
    // Bid 11 units with 10 in the account: signed correctly by the consumer.
    let body = bid(
        resources(1_000, 0, 0),
        window(3_600, 7_200),
        SILVER,
        units(11),
    );
    let e = l.sign(&key(13), body);
    let bytes = e.encode();
    let leaf = cpn_ledger::merkle::leaf_hash(&bytes);
    let mut tree = cpn_ledger::MerkleTree::new();
    for i in 0..l.len() {
        tree.push(l.leaf_hash(i).unwrap());
    }
    tree.push(leaf);
    let prev = l.blocks()[0].header;
    let h = cpn_ledger::BlockHeader {
        height: 1,
        prev: prev.hash(),
        time: 0,
        entry_count: 1,
        entries_root: leaf,
        tree_size: 2,
        ledger_root: tree.root(),
    };
    let sealed = h.sign(&l.id(), &op);
    let mut file = good;
    file.extend_from_slice(&h.encode());
    file.extend_from_slice(&sealed.signature);
    file.extend_from_slice(&1u32.to_be_bytes());
    file.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    file.extend_from_slice(&bytes);
    let err = verify(&file).unwrap_err();
    assert_eq!((err.index, err.block), (1, 1), "{err}");
    assert!(matches!(
        err.problem,
        Problem::Transition(cpn_ledger::TransitionError::InsufficientFunds { .. })
    ));
}

/// The random histories above reach every kind of entry, settlements with and without
/// refunds included; otherwise the properties would hold vacuously.
#[test]
fn random_histories_reach_every_kind_of_entry() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let mut kinds = std::collections::BTreeSet::new();
    let (mut refunds, mut full) = (0, 0);
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..48 {
        let ops = prop::collection::vec(op_strategy(), 1..120)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let l = run_ops(&ops, |_| {});
        for i in 0..l.len() {
            let e = l.entry(i).unwrap();
            if let cpn_ledger::Body::Settlement(s) = &e.body {
                if s.refund.0 > 0 {
                    refunds += 1;
                } else {
                    full += 1;
                }
            }
            kinds.insert(e.body.kind());
            *counts.entry(e.body.kind()).or_insert(0) += 1;
        }
    }
    assert_eq!(kinds.len(), cpn_ledger::Kind::ALL.len(), "{counts:?}");
    assert!(
        refunds > 0 && full > 0,
        "{refunds} refunds, {full} full payments"
    );
}

#[test]
fn entries_are_bound_to_their_ledger_and_refused_ones_change_nothing() {
    use cpn_ledger::entry::Deposit;
    use cpn_ledger::{AppendError, TransitionError};
    let op = key(OPERATOR);
    let mut a = Ledger::new(header(1_000_000));
    let mut b = Ledger::new(LedgerHeader {
        name: "another market".into(),
        ..header(1_000_000)
    });
    a.open_block(0).unwrap();
    b.open_block(0).unwrap();
    let deposit = a.sign(
        &op,
        Body::Deposit(Deposit {
            to: id(13),
            amount: units(5),
        }),
    );
    // Signed for ledger a: ledger b refuses it, a takes it once.
    assert_eq!(b.append_entry(&deposit), Err(AppendError::BadSignature));
    a.append_entry(&deposit).unwrap();
    let before = (
        a.to_bytes(),
        a.len(),
        a.root(),
        a.totals(),
        a.account(&id(13)),
    );
    let refused = [
        // The same entry again: its sequence number is used.
        a.append_entry(&deposit),
        // Only the operator deposits.
        a.append_entry(&a.sign(
            &key(13),
            Body::Deposit(Deposit {
                to: id(13),
                amount: units(1),
            }),
        )),
        // More than the balance.
        a.append_entry(&a.sign(
            &key(13),
            bid(
                resources(1_000, 0, 0),
                window(3_600, 7_200),
                SILVER,
                units(6),
            ),
        )),
        // A changed byte.
        {
            let mut bytes = deposit.encode();
            bytes[50] ^= 1;
            a.append(&bytes)
        },
    ];
    assert!(matches!(
        refused[0],
        Err(AppendError::Transition(TransitionError::Sequence { .. }))
    ));
    assert!(matches!(
        refused[1],
        Err(AppendError::Transition(TransitionError::NotOperator { .. }))
    ));
    assert!(matches!(
        refused[2],
        Err(AppendError::Transition(
            TransitionError::InsufficientFunds { .. }
        ))
    ));
    assert!(matches!(refused[3], Err(AppendError::BadSignature)));
    let after = (
        a.to_bytes(),
        a.len(),
        a.root(),
        a.totals(),
        a.account(&id(13)),
    );
    assert_eq!(before, after);
    // The batch path refuses the same, and takes the good ones around them.
    let good = a.sign(
        &key(13),
        bid(
            resources(1_000, 0, 0),
            window(3_600, 7_200),
            SILVER,
            units(5),
        ),
    );
    let bad = deposit.encode();
    let good = good.encode();
    let results = a.append_batch(&[bad.as_slice(), good.as_slice(), b"\x01"]);
    assert!(results[0].is_err() && results[2].is_err());
    assert_eq!(results[1], Ok(1));
    assert_eq!(a.account(&id(13)).balance, units(0));
}

#[test]
fn an_empty_open_block_can_be_cancelled_and_a_filled_one_cannot() {
    use cpn_ledger::AppendError;
    let op = key(OPERATOR);
    let mut l = Ledger::new(header(1_000_000));
    assert_eq!(l.cancel_block(), Err(AppendError::NoOpenBlock));
    l.open_block(5).unwrap();
    l.cancel_block().unwrap();
    assert_eq!(l.block_time(), None);
    assert!(l.blocks().is_empty());
    assert_eq!(l.last_time(), 0);
    l.open_block(7).unwrap();
    l.deposit(&op, id(3), units(1)).unwrap();
    assert_eq!(
        l.cancel_block(),
        Err(AppendError::BlockNotEmpty { entries: 1 })
    );
    l.seal_block(&op).unwrap();
    assert_eq!(l.last_time(), 7);
    assert!(cpn_ledger::verify(&l.to_bytes()).is_ok());
}
