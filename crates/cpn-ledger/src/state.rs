//! The market's state and the rules an entry must follow to change it. `State::apply` is the
//! only way the state changes, live and in verification alike. It checks everything before it
//! changes anything, so a refused entry leaves the state as it was.
//!
//! The rules (`docs/market.md` and `docs/ledger.md` say why):
//! - every author's entries carry sequence numbers 1, 2, 3 ... in ledger order;
//! - only the operator deposits, clears rounds, records contracts and placements, and settles;
//! - a bid locks its most (max price for its compute-hours) in escrow when posted; no balance
//!   ever goes below zero;
//! - a round clears every open order: the trades it computes must follow it at once as
//!   contract entries, equal field by field; every other order expires, and an expired bid's
//!   escrow goes back;
//! - a contract holds the consumer's payment in escrow until placed (then the market keeps its
//!   margin) or unplaced (then all of it goes back), and a placed one until settled;
//! - only an agent the provider registered reports usage, in order, within the window and not
//!   beyond the block time; settlement comes after the window and must equal the contract's rule.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::account::{AccountId, Amount};
use crate::contract::{Contract, ContractStatus, Delivery, settle};
use crate::entry::{Body, Entry, Kind, Settlement, Usage};
use crate::market::{self, OpenBid, OpenOffer, cost};

/// An account's balance and the sequence number of its last entry (0 before any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    pub balance: Amount,
    pub seq: u64,
}

/// A contract and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractState {
    pub terms: Contract,
    pub status: ContractStatus,
    /// What the contract holds in escrow now.
    pub escrow: Amount,
    pub delivery: Delivery,
}

/// Money in the market: what was deposited, and where it is now. Balances plus escrow always
/// equal deposits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub deposits: u128,
    pub balances: u128,
    pub escrow: u128,
}

/// Why an entry cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("sequence: {author}'s next entry is number {expected}, not {found}")]
    Sequence {
        author: AccountId,
        expected: u64,
        found: u64,
    },
    #[error("{kind} entries are the operator's, and {author} is not the operator")]
    NotOperator {
        kind: &'static str,
        author: AccountId,
    },
    #[error("insufficient funds: {account} holds {have} and needs {need}")]
    InsufficientFunds {
        account: AccountId,
        have: Amount,
        need: Amount,
    },
    #[error("overflow: {what} does not fit in an amount")]
    Overflow { what: &'static str },
    #[error("agent {agent} is already registered")]
    AgentTaken { agent: AccountId },
    #[error("an account cannot be its own agent")]
    SelfAgent,
    #[error("window starts at {start}, before the block time {now}")]
    WindowStarted { start: u64, now: u64 },
    #[error("round {found} out of order: the next round is {expected}")]
    RoundOutOfOrder { expected: u64, found: u64 },
    #[error("round {round} clears {computed} contracts, but its entry says {stated}")]
    RoundCount {
        round: u64,
        computed: usize,
        stated: u32,
    },
    #[error("round {round} still expects {remaining} contract entries before any other entry")]
    RoundIncomplete { round: u64, remaining: usize },
    #[error("no round expects a contract entry here")]
    UnexpectedContract,
    #[error("contract differs from the trade round {round} computed, in {field}")]
    ContractMismatch { round: u64, field: &'static str },
    #[error("no contract at entry {index}")]
    UnknownContract { index: u64 },
    #[error("contract {index} is {status}, not {expected}")]
    WrongStatus {
        index: u64,
        status: &'static str,
        expected: &'static str,
    },
    #[error("{author} is not an agent of contract {index}'s provider")]
    NotProvidersAgent { author: AccountId, index: u64 },
    #[error(
        "usage span [{from}, {to}) is outside the window [{start}, {end}) or starts before the last report's end {last}"
    )]
    UsageSpan {
        from: u64,
        to: u64,
        start: u64,
        end: u64,
        last: u64,
    },
    #[error("usage span ends at {to}, after the block time {now}")]
    UsageInFuture { to: u64, now: u64 },
    #[error("contract {index}'s window ends at {end}: it cannot be settled at {now}")]
    SettledEarly { index: u64, end: u64, now: u64 },
    #[error(
        "settlement differs from the contract's rule: expected compliance {compliance_ppm} ppm, {to_provider} to the provider and {refund} refunded"
    )]
    SettlementMismatch {
        compliance_ppm: u32,
        to_provider: Amount,
        refund: Amount,
    },
}

fn status_name(s: ContractStatus) -> &'static str {
    match s {
        ContractStatus::Pending => "pending placement",
        ContractStatus::Placed { .. } => "placed",
        ContractStatus::Unplaced => "unplaced",
        ContractStatus::Settled => "settled",
    }
}

/// A trade a round computed, waiting for its contract entry, with the escrow of its bid.
#[derive(Debug, Clone)]
struct PendingTrade {
    contract: Contract,
    bid_escrow: Amount,
}

/// The market's state.
#[derive(Debug, Clone)]
pub(crate) struct State {
    operator: AccountId,
    penalty_ppm: u32,
    accounts: HashMap<AccountId, Account>,
    /// Agent key → the provider that registered it.
    agents: HashMap<AccountId, AccountId>,
    offers: BTreeMap<u64, OpenOffer>,
    bids: BTreeMap<u64, OpenBid>,
    contracts: BTreeMap<u64, ContractState>,
    round: u64,
    pending: VecDeque<PendingTrade>,
    deposits: u128,
}

impl State {
    pub(crate) fn new(operator: AccountId, penalty_ppm: u32) -> Self {
        Self {
            operator,
            penalty_ppm,
            accounts: HashMap::new(),
            agents: HashMap::new(),
            offers: BTreeMap::new(),
            bids: BTreeMap::new(),
            contracts: BTreeMap::new(),
            round: 0,
            pending: VecDeque::new(),
            deposits: 0,
        }
    }

    pub(crate) fn account(&self, id: &AccountId) -> Account {
        self.accounts.get(id).copied().unwrap_or_default()
    }

    pub(crate) fn agent_of(&self, agent: &AccountId) -> Option<AccountId> {
        self.agents.get(agent).copied()
    }

    pub(crate) fn contract(&self, index: u64) -> Option<&ContractState> {
        self.contracts.get(&index)
    }

    pub(crate) fn contracts(&self) -> impl Iterator<Item = (u64, &ContractState)> {
        self.contracts.iter().map(|(i, c)| (*i, c))
    }

    pub(crate) fn open_offers(&self) -> impl Iterator<Item = &OpenOffer> {
        self.offers.values()
    }

    pub(crate) fn open_bids(&self) -> impl Iterator<Item = &OpenBid> {
        self.bids.values()
    }

    pub(crate) fn round(&self) -> u64 {
        self.round
    }

    pub(crate) fn pending_contracts(&self) -> impl Iterator<Item = &Contract> {
        self.pending.iter().map(|p| &p.contract)
    }

    pub(crate) fn totals(&self) -> Totals {
        let balances = self
            .accounts
            .values()
            .map(|a| u128::from(a.balance.0))
            .sum();
        let escrow = self
            .bids
            .values()
            .map(|b| u128::from(b.escrow.0))
            .sum::<u128>()
            + self
                .pending
                .iter()
                .map(|p| u128::from(p.bid_escrow.0))
                .sum::<u128>()
            + self
                .contracts
                .values()
                .map(|c| u128::from(c.escrow.0))
                .sum::<u128>();
        Totals {
            deposits: self.deposits,
            balances,
            escrow,
        }
    }

    /// The contracts a round cleared at `now` would record, in order.
    pub(crate) fn clearing(&self, now: u64) -> Result<Vec<(Contract, Amount)>, TransitionError> {
        let offers: Vec<OpenOffer> = self.offers.values().cloned().collect();
        let bids: Vec<OpenBid> = self.bids.values().cloned().collect();
        let round = self.round + 1;
        market::clear(&offers, &bids, now)
            .into_iter()
            .map(|m| {
                let o = &self.offers[&m.offer];
                let b = &self.bids[&m.bid];
                let overflow = TransitionError::Overflow {
                    what: "a contract's total",
                };
                let consumer_total = cost(m.buyer_price, &b.bid.requirement, &b.bid.window)
                    .ok_or(overflow.clone())?;
                let provider_total =
                    cost(m.seller_price, &b.bid.requirement, &b.bid.window).ok_or(overflow)?;
                let contract = Contract {
                    round,
                    offer: m.offer,
                    bid: m.bid,
                    provider: o.provider,
                    consumer: b.consumer,
                    site: o.offer.site.clone(),
                    resources: b.bid.requirement,
                    window: b.bid.window,
                    sla: o.offer.sla,
                    buyer_price: m.buyer_price,
                    seller_price: m.seller_price,
                    consumer_total,
                    provider_total,
                    penalty_ppm: self.penalty_ppm,
                };
                Ok((contract, b.escrow))
            })
            .collect()
    }

    fn operator_only(&self, entry: &Entry) -> Result<(), TransitionError> {
        if entry.author == self.operator {
            Ok(())
        } else {
            Err(TransitionError::NotOperator {
                kind: entry.body.kind().name(),
                author: entry.author,
            })
        }
    }

    fn credit(&mut self, id: AccountId, amount: Amount) {
        // Cannot overflow: every balance is part of the deposits, and `Deposit` keeps their
        // sum within u64.
        let a = self.accounts.entry(id).or_default();
        a.balance = Amount(a.balance.0.saturating_add(amount.0));
    }

    fn contract_in(
        &self,
        index: u64,
        expected: ContractStatus,
    ) -> Result<&ContractState, TransitionError> {
        let c = self
            .contracts
            .get(&index)
            .ok_or(TransitionError::UnknownContract { index })?;
        let same = std::mem::discriminant(&c.status) == std::mem::discriminant(&expected);
        if !same {
            return Err(TransitionError::WrongStatus {
                index,
                status: status_name(c.status),
                expected: status_name(expected),
            });
        }
        Ok(c)
    }

    /// Applies `entry`, the ledger's entry number `index`, in a block of time `now`. The
    /// signature is not checked here (the ledger checks it first).
    pub(crate) fn apply(
        &mut self,
        index: u64,
        now: u64,
        entry: &Entry,
    ) -> Result<(), TransitionError> {
        let last = self.account(&entry.author).seq;
        if entry.seq != last.wrapping_add(1) {
            return Err(TransitionError::Sequence {
                author: entry.author,
                expected: last.wrapping_add(1),
                found: entry.seq,
            });
        }
        if !self.pending.is_empty() && entry.body.kind() != Kind::Contract {
            return Err(TransitionError::RoundIncomplete {
                round: self.round,
                remaining: self.pending.len(),
            });
        }
        match &entry.body {
            Body::Deposit(d) => {
                self.operator_only(entry)?;
                let total = self.deposits + u128::from(d.amount.0);
                if total > u128::from(u64::MAX) {
                    return Err(TransitionError::Overflow {
                        what: "the sum of all deposits",
                    });
                }
                self.deposits = total;
                self.credit(d.to, d.amount);
            }
            Body::RegisterAgent(a) => {
                if a.agent == entry.author {
                    return Err(TransitionError::SelfAgent);
                }
                if self.agents.contains_key(&a.agent) {
                    return Err(TransitionError::AgentTaken { agent: a.agent });
                }
                self.agents.insert(a.agent, entry.author);
            }
            Body::Offer(o) => {
                if o.window.start < now {
                    return Err(TransitionError::WindowStarted {
                        start: o.window.start,
                        now,
                    });
                }
                self.offers.insert(
                    index,
                    OpenOffer {
                        index,
                        provider: entry.author,
                        offer: o.clone(),
                    },
                );
            }
            Body::Bid(b) => {
                if b.window.start < now {
                    return Err(TransitionError::WindowStarted {
                        start: b.window.start,
                        now,
                    });
                }
                let escrow = cost(b.max_price, &b.requirement, &b.window).ok_or(
                    TransitionError::Overflow {
                        what: "a bid's escrow",
                    },
                )?;
                let have = self.account(&entry.author).balance;
                let rest = have
                    .checked_sub(escrow)
                    .ok_or(TransitionError::InsufficientFunds {
                        account: entry.author,
                        have,
                        need: escrow,
                    })?;
                self.accounts.entry(entry.author).or_default().balance = rest;
                self.bids.insert(
                    index,
                    OpenBid {
                        index,
                        consumer: entry.author,
                        bid: b.clone(),
                        escrow,
                    },
                );
            }
            Body::Round(r) => {
                self.operator_only(entry)?;
                if r.round != self.round + 1 {
                    return Err(TransitionError::RoundOutOfOrder {
                        expected: self.round + 1,
                        found: r.round,
                    });
                }
                let trades = self.clearing(now)?;
                if trades.len() != r.contracts as usize {
                    return Err(TransitionError::RoundCount {
                        round: r.round,
                        computed: trades.len(),
                        stated: r.contracts,
                    });
                }
                self.round = r.round;
                for (contract, _) in &trades {
                    self.bids.remove(&contract.bid);
                }
                // Every other order expires; an expired bid's escrow goes back.
                for (_, b) in std::mem::take(&mut self.bids) {
                    self.credit(b.consumer, b.escrow);
                }
                self.offers.clear();
                self.pending = trades
                    .into_iter()
                    .map(|(contract, bid_escrow)| PendingTrade {
                        contract,
                        bid_escrow,
                    })
                    .collect();
            }
            Body::Contract(c) => {
                self.operator_only(entry)?;
                let next = self
                    .pending
                    .front()
                    .ok_or(TransitionError::UnexpectedContract)?;
                if let Some(field) = first_difference(&next.contract, c) {
                    return Err(TransitionError::ContractMismatch {
                        round: self.round,
                        field,
                    });
                }
                let Some(trade) = self.pending.pop_front() else {
                    return Err(TransitionError::UnexpectedContract);
                };
                // The trade price never exceeds the bid's most, so this never saturates.
                let change = trade.bid_escrow.0.saturating_sub(c.consumer_total.0);
                self.credit(c.consumer, Amount(change));
                self.contracts.insert(
                    index,
                    ContractState {
                        terms: trade.contract,
                        status: ContractStatus::Pending,
                        escrow: c.consumer_total,
                        delivery: Delivery::default(),
                    },
                );
            }
            Body::Placement(p) => {
                self.operator_only(entry)?;
                let c = self.contract_in(p.contract, ContractStatus::Pending)?;
                let margin = c.terms.consumer_total.0 - c.terms.provider_total.0;
                let provider_total = c.terms.provider_total;
                let operator = self.operator;
                self.credit(operator, Amount(margin));
                if let Some(c) = self.contracts.get_mut(&p.contract) {
                    c.status = ContractStatus::Placed {
                        reservation: p.reservation,
                    };
                    c.escrow = provider_total;
                }
            }
            Body::Unplaced(u) => {
                self.operator_only(entry)?;
                let c = self.contract_in(u.contract, ContractStatus::Pending)?;
                let (consumer, escrow) = (c.terms.consumer, c.escrow);
                self.credit(consumer, escrow);
                if let Some(c) = self.contracts.get_mut(&u.contract) {
                    c.status = ContractStatus::Unplaced;
                    c.escrow = Amount::ZERO;
                }
            }
            Body::Usage(u) => self.usage(entry, u, now)?,
            Body::Settlement(s) => self.settlement(entry, s, now)?,
        }
        self.accounts.entry(entry.author).or_default().seq = entry.seq;
        Ok(())
    }

    fn usage(&mut self, entry: &Entry, u: &Usage, now: u64) -> Result<(), TransitionError> {
        let c = self.contract_in(u.contract, ContractStatus::Placed { reservation: 0 })?;
        if self.agents.get(&entry.author) != Some(&c.terms.provider) {
            return Err(TransitionError::NotProvidersAgent {
                author: entry.author,
                index: u.contract,
            });
        }
        let w = c.terms.window;
        let last = c.delivery.reported_until;
        if u.from < w.start || u.to > w.end || u.from < last {
            return Err(TransitionError::UsageSpan {
                from: u.from,
                to: u.to,
                start: w.start,
                end: w.end,
                last,
            });
        }
        if u.to > now {
            return Err(TransitionError::UsageInFuture { to: u.to, now });
        }
        if let Some(c) = self.contracts.get_mut(&u.contract) {
            let d = &mut c.delivery;
            d.ppm_seconds += u128::from(u.to - u.from) * u128::from(u.within_sla_ppm);
            d.compute_gflop += u128::from(u.compute_gflop);
            d.reported_until = u.to;
        }
        Ok(())
    }

    fn settlement(
        &mut self,
        entry: &Entry,
        s: &Settlement,
        now: u64,
    ) -> Result<(), TransitionError> {
        self.operator_only(entry)?;
        let c = self.contract_in(s.contract, ContractStatus::Placed { reservation: 0 })?;
        if now < c.terms.window.end {
            return Err(TransitionError::SettledEarly {
                index: s.contract,
                end: c.terms.window.end,
                now,
            });
        }
        let payout = settle(&c.terms, &c.delivery);
        if (payout.compliance_ppm, payout.to_provider, payout.refund)
            != (s.compliance_ppm, s.to_provider, s.refund)
        {
            return Err(TransitionError::SettlementMismatch {
                compliance_ppm: payout.compliance_ppm,
                to_provider: payout.to_provider,
                refund: payout.refund,
            });
        }
        let (provider, consumer) = (c.terms.provider, c.terms.consumer);
        self.credit(provider, payout.to_provider);
        self.credit(consumer, payout.refund);
        if let Some(c) = self.contracts.get_mut(&s.contract) {
            c.status = ContractStatus::Settled;
            c.escrow = Amount::ZERO;
        }
        Ok(())
    }

    /// The payout settling contract `index` now would give.
    pub(crate) fn payout(&self, index: u64) -> Option<crate::contract::Payout> {
        self.contracts
            .get(&index)
            .map(|c| settle(&c.terms, &c.delivery))
    }
}

/// The name of the first field in which `b` differs from `a`.
fn first_difference(a: &Contract, b: &Contract) -> Option<&'static str> {
    let fields: [(&'static str, bool); 15] = [
        ("round", a.round == b.round),
        ("offer", a.offer == b.offer),
        ("bid", a.bid == b.bid),
        ("provider", a.provider == b.provider),
        ("consumer", a.consumer == b.consumer),
        ("site", a.site == b.site),
        ("resources", a.resources == b.resources),
        ("window", a.window == b.window),
        ("sla", a.sla == b.sla),
        ("buyer_price", a.buyer_price == b.buyer_price),
        ("seller_price", a.seller_price == b.seller_price),
        ("consumer_total", a.consumer_total == b.consumer_total),
        ("provider_total", a.provider_total == b.provider_total),
        ("penalty_ppm", a.penalty_ppm == b.penalty_ppm),
        ("contract", a == b),
    ];
    fields.iter().find(|(_, same)| !same).map(|(f, _)| *f)
}
