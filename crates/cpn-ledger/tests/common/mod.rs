//! Shared by the integration tests: fixed keys, the products of the worked example in
//! `docs/market.md`, and a driver that turns random operations into a ledger.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use cpn_ledger::entry::{RegisterAgent, Usage};
use cpn_ledger::{
    AccountId, Amount, Bid, Body, ContractStatus, Ledger, LedgerHeader, Offer, Resources, Sla,
    Window,
};
use ed25519_dalek::SigningKey;

/// The ed25519 key from the 32-byte seed `[seed; 32]`.
pub(crate) fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub(crate) fn id(seed: u8) -> AccountId {
    AccountId::of(&key(seed))
}

/// `n` whole units of currency.
pub(crate) fn units(n: u64) -> Amount {
    Amount(n * 1_000_000)
}

pub(crate) const OPERATOR: u8 = 1;

pub(crate) const GOLD: Sla = Sla {
    max_latency_us: 5_000,
    min_availability_ppm: 999_900,
    max_loss_ppm: 100,
};
pub(crate) const SILVER: Sla = Sla {
    max_latency_us: 20_000,
    min_availability_ppm: 999_000,
    max_loss_ppm: 1_000,
};
pub(crate) const BRONZE: Sla = Sla {
    max_latency_us: 50_000,
    min_availability_ppm: 990_000,
    max_loss_ppm: 10_000,
};

pub(crate) fn header(penalty_ppm: u32) -> LedgerHeader {
    LedgerHeader {
        name: "cpn market".into(),
        operator: id(OPERATOR),
        penalty_ppm,
    }
}

pub(crate) fn resources(gflops: u64, cores: u32, memory_mib: u64) -> Resources {
    Resources {
        gflops,
        cores,
        memory_mib,
    }
}

pub(crate) fn window(start: u64, end: u64) -> Window {
    Window { start, end }
}

pub(crate) fn offer(site: &str, r: Resources, w: Window, price: Amount, sla: Sla) -> Body {
    Body::Offer(Offer {
        site: site.into(),
        resources: r,
        window: w,
        price,
        sla,
    })
}

pub(crate) fn bid(r: Resources, w: Window, sla: Sla, max_price: Amount) -> Body {
    Body::Bid(Bid {
        requirement: r,
        window: w,
        sla,
        max_price,
    })
}

pub(crate) fn register(agent: u8) -> Body {
    Body::RegisterAgent(RegisterAgent { agent: id(agent) })
}

pub(crate) fn usage(contract: u64, from: u64, to: u64, gflop: u64, within_ppm: u32) -> Body {
    Body::Usage(Usage {
        contract,
        from,
        to,
        compute_gflop: gflop,
        within_sla_ppm: within_ppm,
    })
}

/// Signs `body` as `seed`'s next entry and appends it, panicking if it is refused.
pub(crate) fn append(l: &mut Ledger, seed: u8, body: Body) -> u64 {
    let e = l.sign(&key(seed), body);
    l.append_entry(&e)
        .unwrap_or_else(|err| panic!("entry of key {seed} refused: {err}"))
}

/// One random step of a market's life. Numbers pick among a few keys and values so that
/// steps often refer to each other and are often invalid (then they are refused).
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Deposit {
        to: u8,
        amount: u64,
    },
    Register {
        provider: u8,
        agent: u8,
    },
    Offer {
        provider: u8,
        gflops: u64,
        start: u64,
        len: u64,
        price: u64,
        gold: bool,
    },
    Bid {
        consumer: u8,
        gflops: u64,
        start: u64,
        len: u64,
        price: u64,
        gold: bool,
    },
    Round,
    Place {
        pick: usize,
        ok: bool,
    },
    Usage {
        pick: usize,
        agent: u8,
        frac: u32,
        compute: u64,
    },
    Settle {
        pick: usize,
    },
    Seal {
        advance: u64,
    },
}

pub(crate) fn op_strategy() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    let party = 10u8..16;
    prop_oneof![
        2 => (party.clone(), 1u64..500).prop_map(|(to, amount)| Op::Deposit { to, amount }),
        1 => (10u8..13, 20u8..24).prop_map(|(provider, agent)| Op::Register { provider, agent }),
        // Few distinct products, so that classes often hold several bids and offers.
        5 => (10u8..13, 1u64..4, 0u64..2, 2u64..4, 1u64..10, proptest::bool::weighted(0.5)).prop_map(
            |(provider, gflops, start, len, price, gold)| Op::Offer {
                provider, gflops, start, len, price, gold
            }
        ),
        6 => (13u8..16, prop_oneof![3 => Just(1u64), 1 => Just(2)], Just(1u64), Just(1u64), 8u64..20, proptest::bool::weighted(0.1)).prop_map(
            |(consumer, gflops, start, len, price, gold)| Op::Bid {
                consumer, gflops, start, len, price, gold
            }
        ),
        1 => Just(Op::Round),
        3 => (any::<usize>(), proptest::bool::weighted(0.8))
            .prop_map(|(pick, ok)| Op::Place { pick, ok }),
        6 => (
            any::<usize>(),
            20u8..24,
            prop_oneof![Just(1_000_000u32), 0u32..=1_000_000],
            prop_oneof![Just(8_000_000u64), 0u64..8_000_000],
        )
            .prop_map(|(pick, agent, frac, compute)| Op::Usage { pick, agent, frac, compute }),
        2 => any::<usize>().prop_map(|pick| Op::Settle { pick }),
        // Time moves by whole hours, so that the orders of a round are mostly for one hour.
        2 => prop_oneof![Just(0u64), Just(3_600), 0u64..5_000].prop_map(|advance| Op::Seal { advance }),
    ]
}

/// Runs `ops` on a new ledger (penalty 1.5) after a deposit to every party, and seals the
/// last block. Refused entries are
/// skipped; `check` runs after every step.
pub(crate) fn run_ops(ops: &[Op], mut check: impl FnMut(&Ledger)) -> Ledger {
    let op_key = key(OPERATOR);
    let mut l = Ledger::new(header(1_500_000));
    let mut now = 0u64;
    l.open_block(now).unwrap();
    // Everyone starts with some money, so that most bids can be paid for.
    for who in 10u8..16 {
        l.deposit(&op_key, id(who), units(300)).unwrap();
    }
    let hour = 3_600u64;
    for op in ops {
        // Most picks land on a contract in the state the step needs; one in four on any.
        let in_state = |placed: bool| -> Vec<u64> {
            l.contracts()
                .filter(|(_, c)| match c.status {
                    ContractStatus::Pending => !placed,
                    ContractStatus::Placed { .. } => placed,
                    _ => false,
                })
                .map(|(i, _)| i)
                .collect()
        };
        let all: Vec<u64> = l.contracts().map(|(i, _)| i).collect();
        let (pending, placed) = (in_state(false), in_state(true));
        let pick_from = |p: usize, list: &[u64]| {
            let list = if p.is_multiple_of(4) || list.is_empty() {
                &all[..]
            } else {
                list
            };
            list.get((p / 4) % list.len().max(1)).copied()
        };
        let _ = match op {
            Op::Deposit { to, amount } => l.deposit(&op_key, id(*to), units(*amount)),
            Op::Register { provider, agent } => {
                let e = l.sign(&key(*provider), register(*agent));
                l.append_entry(&e)
            }
            Op::Offer {
                provider,
                gflops,
                start,
                len,
                price,
                gold,
            } => {
                let s = (now / hour + start) * hour;
                let body = offer(
                    &format!("site-{provider}"),
                    resources(gflops * 1_000, 0, 0),
                    window(s, s + len * hour),
                    units(*price),
                    if *gold { GOLD } else { SILVER },
                );
                let e = l.sign(&key(*provider), body);
                l.append_entry(&e)
            }
            Op::Bid {
                consumer,
                gflops,
                start,
                len,
                price,
                gold,
            } => {
                let s = (now / hour + start) * hour;
                let body = bid(
                    resources(gflops * 1_000, 0, 0),
                    window(s, s + len * hour),
                    if *gold { GOLD } else { SILVER },
                    units(*price),
                );
                let e = l.sign(&key(*consumer), body);
                l.append_entry(&e)
            }
            Op::Round => l.run_round(&op_key).map(|_| 0),
            Op::Place { pick: p, ok } => match pick_from(*p, &pending) {
                Some(c) if *ok => l.confirm_placement(&op_key, c, c + 1_000),
                Some(c) => l.fail_placement(&op_key, c, "no capacity"),
                None => Ok(0),
            },
            Op::Usage {
                pick: p,
                agent,
                frac,
                compute,
            } => match pick_from(*p, &placed) {
                Some(c) => {
                    let terms = l.contract(c).unwrap().clone();
                    // Mostly the provider's own agent, when it has one.
                    let own =
                        (20u8..24).find(|a| l.agent_of(&id(*a)) == Some(terms.terms.provider));
                    let agent = match own {
                        Some(a) if p % 3 != 0 => a,
                        _ => *agent,
                    };
                    let from = terms.delivery.reported_until.max(terms.terms.window.start);
                    let to = (from + hour).min(terms.terms.window.end).min(now);
                    if to > from {
                        let e = l.sign(&key(agent), usage(c, from, to, *compute, *frac));
                        l.append_entry(&e)
                    } else {
                        Ok(0)
                    }
                }
                None => Ok(0),
            },
            Op::Settle { pick: p } => match pick_from(*p, &placed) {
                Some(c) => l.settle(&op_key, c),
                None => Ok(0),
            },
            Op::Seal { advance } => {
                l.seal_block(&op_key).unwrap();
                now += advance;
                l.open_block(now).unwrap();
                Ok(0)
            }
        };
        check(&l);
    }
    l.seal_block(&op_key).unwrap();
    l
}
