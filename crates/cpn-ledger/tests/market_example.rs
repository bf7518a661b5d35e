//! The worked example of `docs/market.md`, end to end: deposits, agents, offers and bids, one
//! clearing round (two classes: one trading at McAfee's p0, one with trade reduction),
//! placements (one fails), usage reports, settlements with refunds for missed SLAs; then the
//! serialised ledger verifies and every balance is the one computed by hand in the document.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use cpn_ledger::{
    Amount, ContractStatus, Ledger, Payout, TransitionError, verify, verify_consistency,
    verify_inclusion,
};

/// Keys of the example, by the names the document uses.
const P1: u8 = 11;
const P2: u8 = 12;
const P3: u8 = 13;
const P4: u8 = 14;
const P5: u8 = 15;
const P6: u8 = 16;
const P7: u8 = 17;
const P8: u8 = 18;
const C1: u8 = 21;
const C2: u8 = 22;
const C3: u8 = 23;
const C4: u8 = 24;
const C5: u8 = 25;
const C6: u8 = 26;
const AGENT1: u8 = 31;
const AGENT2: u8 = 32;
const AGENT5: u8 = 35;

#[test]
fn the_worked_example_of_docs_market_md() {
    let op = key(OPERATOR);
    let mut l = Ledger::new(header(2_000_000));

    // Block 0 at t = 0: money, agents, the order book.
    l.open_block(0).unwrap();
    for c in [C1, C2, C3, C4, C5, C6] {
        l.deposit(&op, id(c), units(100)).unwrap();
    }
    append(&mut l, P1, register(AGENT1));
    append(&mut l, P2, register(AGENT2));
    append(&mut l, P5, register(AGENT5));
    // Class A: 2 TFLOPS, 8 cores, 16 GiB for [3600, 10800), silver: 4 compute-hours.
    let a_need = resources(2_000, 8, 16_384);
    let a_win = window(3_600, 10_800);
    // Class B: 1 TFLOPS for [3600, 7200), silver: 1 compute-hour.
    let b_need = resources(1_000, 0, 0);
    let b_win = window(3_600, 7_200);
    let big = resources(4_000, 16, 65_536);
    append(
        &mut l,
        P1,
        offer("cloud-1", big, window(0, 86_400), units(2), GOLD),
    );
    append(&mut l, P2, offer("edge-2", a_need, a_win, units(4), SILVER));
    append(&mut l, P3, offer("edge-3", a_need, a_win, units(5), SILVER));
    append(
        &mut l,
        P4,
        offer("edge-4", a_need, window(0, 86_400), units(7), SILVER),
    );
    append(
        &mut l,
        P5,
        offer("edge-5", b_need, window(0, 7_200), units(3), SILVER),
    );
    let mid = resources(1_500, 4, 8_192);
    append(&mut l, P6, offer("edge-6", mid, b_win, units(6), GOLD));
    append(&mut l, P7, offer("edge-7", b_need, b_win, units(8), SILVER));
    append(
        &mut l,
        P8,
        offer("edge-8", big, window(0, 86_400), units(1), BRONZE),
    );
    let c1_bid = append(&mut l, C1, bid(a_need, a_win, SILVER, units(9)));
    let c2_bid = append(&mut l, C2, bid(a_need, a_win, SILVER, units(8)));
    let c3_bid = append(&mut l, C3, bid(a_need, a_win, SILVER, units(6)));
    append(&mut l, C4, bid(a_need, a_win, SILVER, units(3)));
    let c5_bid = append(&mut l, C5, bid(b_need, b_win, SILVER, units(10)));
    append(&mut l, C6, bid(b_need, b_win, SILVER, units(7)));
    // Each bid holds its most in escrow: 9 x 4 = 36 for C1 ... 7 x 1 = 7 for C6.
    assert_eq!(l.account(&id(C1)).balance, units(64));
    assert_eq!(l.account(&id(C6)).balance, units(93));
    assert_eq!(l.len(), 23);
    l.seal_block(&op).unwrap();

    // Block 1 at t = 1000: round 1.
    l.open_block(1_000).unwrap();
    let contracts = l.run_round(&op).unwrap();
    assert_eq!(contracts, vec![24, 25, 26, 27]);
    let terms: Vec<_> = contracts
        .iter()
        .map(|&c| l.contract(c).unwrap().terms.clone())
        .collect();
    let who: Vec<_> = terms.iter().map(|t| (t.provider, t.consumer)).collect();
    assert_eq!(
        who,
        vec![
            (id(P1), id(C1)),
            (id(P2), id(C2)),
            (id(P3), id(C3)),
            (id(P5), id(C5))
        ]
    );
    assert_eq!(
        terms.iter().map(|t| t.bid).collect::<Vec<_>>(),
        vec![c1_bid, c2_bid, c3_bid, c5_bid]
    );
    // Class A: k = 3, p0 = (3 + 7) / 2 = 5 within [5, 6]: all three trade at 5.
    for t in &terms[..3] {
        assert_eq!((t.buyer_price, t.seller_price), (units(5), units(5)));
        assert_eq!((t.consumer_total, t.provider_total), (units(20), units(20)));
    }
    assert_eq!(terms[0].site, "cloud-1");
    assert_eq!(terms[0].sla, GOLD);
    // Class B: k = 2 and no third bid: one trade, C5 pays 7, P5 receives 6.
    let b = &terms[3];
    assert_eq!((b.buyer_price, b.seller_price), (units(7), units(6)));
    assert_eq!((b.consumer_total, b.provider_total), (units(7), units(6)));
    // The change of each escrow went back; unmatched bids' escrow too.
    assert_eq!(l.account(&id(C1)).balance, units(80));
    assert_eq!(l.account(&id(C4)).balance, units(100));
    assert_eq!(l.account(&id(C5)).balance, units(93));
    assert_eq!(l.account(&id(C6)).balance, units(100));
    assert_eq!(l.open_offers().count() + l.open_bids().count(), 0);
    l.seal_block(&op).unwrap();

    // Block 2 at t = 1100: the scheduler placed three; P3's site had no room.
    l.open_block(1_100).unwrap();
    l.confirm_placement(&op, 24, 101).unwrap();
    l.confirm_placement(&op, 25, 102).unwrap();
    l.fail_placement(&op, 26, "edge-3: no capacity in the window")
        .unwrap();
    l.confirm_placement(&op, 27, 103).unwrap();
    assert_eq!(
        l.contract(24).unwrap().status,
        ContractStatus::Placed { reservation: 101 }
    );
    assert_eq!(l.contract(26).unwrap().status, ContractStatus::Unplaced);
    assert_eq!(l.account(&id(C3)).balance, units(100));
    assert_eq!(l.account(&id(OPERATOR)).balance, units(1));
    // An unplaced contract takes no report and does not settle.
    let e = l.sign(&key(AGENT1), usage(26, 3_600, 4_000, 1, 1_000_000));
    assert!(l.append_entry(&e).is_err());
    l.seal_block(&op).unwrap();

    // Block 3 at t = 7200: the first reports.
    l.open_block(7_200).unwrap();
    append(
        &mut l,
        AGENT1,
        usage(24, 3_600, 7_200, 7_200_000, 1_000_000),
    );
    append(
        &mut l,
        AGENT5,
        usage(27, 3_600, 7_200, 2_700_000, 1_000_000),
    );
    // Settling before the window's end is refused.
    let early = l.settle(&op, 24).unwrap_err();
    assert!(matches!(
        early,
        cpn_ledger::AppendError::Transition(TransitionError::SettledEarly { .. })
    ));
    // Another provider's agent cannot report for P1.
    let e = l.sign(&key(AGENT2), usage(24, 7_200, 8_000, 1, 1_000_000));
    assert!(matches!(
        l.append_entry(&e),
        Err(cpn_ledger::AppendError::Transition(
            TransitionError::NotProvidersAgent { .. }
        ))
    ));
    l.seal_block(&op).unwrap();

    // Block 4 at t = 10800: the last reports and the settlements.
    l.open_block(10_800).unwrap();
    append(&mut l, AGENT1, usage(24, 7_200, 10_800, 7_200_000, 800_000));
    append(
        &mut l,
        AGENT2,
        usage(25, 3_600, 10_800, 14_400_000, 1_000_000),
    );
    assert_eq!(
        l.payout(24),
        Some(Payout {
            compliance_ppm: 900_000,
            to_provider: units(16),
            refund: units(4)
        })
    );
    assert_eq!(
        l.payout(27),
        Some(Payout {
            compliance_ppm: 750_000,
            to_provider: units(3),
            refund: units(3)
        })
    );
    for c in [24, 25, 27] {
        l.settle(&op, c).unwrap();
    }
    l.seal_block(&op).unwrap();

    let expect = [
        (C1, 84),
        (C2, 80),
        (C3, 100),
        (C4, 100),
        (C5, 96),
        (C6, 100),
        (P1, 16),
        (P2, 20),
        (P5, 3),
        (OPERATOR, 1),
    ];
    for (who, balance) in expect {
        assert_eq!(l.account(&id(who)).balance, units(balance), "key {who}");
    }
    for p in [P3, P4, P6, P7, P8] {
        assert_eq!(l.account(&id(p)).balance, Amount::ZERO);
    }
    let totals = l.totals();
    assert_eq!(
        (totals.deposits, totals.balances, totals.escrow),
        (600_000_000, 600_000_000, 0)
    );

    // The file verifies offline to the same state.
    let bytes = l.to_bytes();
    let summary = verify(&bytes).unwrap();
    assert_eq!(summary.entries, l.len());
    assert_eq!(summary.blocks, 5);
    assert_eq!(summary.root, l.root());
    assert_eq!(summary.totals, totals);
    let back = Ledger::from_bytes(&bytes).unwrap();
    for (who, balance) in expect {
        assert_eq!(back.account(&id(who)).balance, units(balance));
    }
    assert_eq!(back.to_bytes(), bytes);

    // Proofs: the settlement of contract 24 is in the ledger, and the ledger after round 1
    // is a prefix of the final one.
    let n = l.len();
    let last = n - 1;
    let proof = l.inclusion_proof(last, n).unwrap();
    verify_inclusion(&l.leaf_hash(last).unwrap(), last, n, &proof, &l.root()).unwrap();
    let after_round = l.blocks()[1].header;
    let proof = l.consistency_proof(after_round.tree_size, n).unwrap();
    verify_consistency(
        after_round.tree_size,
        n,
        &after_round.ledger_root,
        &l.root(),
        &proof,
    )
    .unwrap();

    // Overspending is refused live, and a ledger holding it does not verify.
    let mut l2 = Ledger::from_bytes(&bytes).unwrap();
    l2.open_block(10_800).unwrap();
    let greedy = l2.sign(
        &key(C4),
        bid(a_need, window(20_000, 27_200), SILVER, units(26)),
    );
    assert!(matches!(
        l2.append_entry(&greedy),
        Err(cpn_ledger::AppendError::Transition(
            TransitionError::InsufficientFunds { .. }
        ))
    ));
}
