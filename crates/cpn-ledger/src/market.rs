//! The capacity market: what providers offer and consumers bid, and the clearing of one round
//! by McAfee's double auction (R. P. McAfee, "A dominant strategy double auction", Journal of
//! Economic Theory 56, 1992), made to apply to heterogeneous offers by clearing each class of
//! identical products on its own. `docs/market.md` states the rule with a worked example.
//!
//! A class is one product that a bid asks for: its requirement, window and SLA. An offer
//! *serves* a class when its resources cover the requirement, its window covers the class's
//! window and its SLA is at least as strict. Classes are put in a fixed order (the most
//! demanding first) and every offer joins the first class it serves. Which class an offer
//! joins depends only on the products, never on a price, so within its class every trader
//! faces McAfee's rule alone, and reporting its true price per compute-hour is a dominant
//! strategy there. Every trade is one unit: one bid's product bought from one offer.

use std::cmp::Reverse;

use crate::account::{AccountId, Amount};

/// GFLOP in one compute-hour: 1,000 GFLOPS (1 TFLOPS) sustained for 3,600 s.
pub const GFLOP_PER_COMPUTE_HOUR: u64 = 3_600_000;

/// Parts per million in one: availability, loss and compliance are fractions in ppm.
pub const PPM: u32 = 1_000_000;

/// Computing resources: sustained GFLOPS and, when they matter, cores and memory (0 in a bid
/// means "any"; in an offer, "not stated").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Resources {
    pub gflops: u64,
    pub cores: u32,
    pub memory_mib: u64,
}

impl Resources {
    /// Whether these resources are at least `need` in every dimension.
    pub fn covers(&self, need: &Resources) -> bool {
        self.gflops >= need.gflops && self.cores >= need.cores && self.memory_mib >= need.memory_mib
    }
}

/// A time window `[start, end)` in seconds, `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub start: u64,
    pub end: u64,
}

impl Window {
    pub fn seconds(&self) -> u64 {
        self.end - self.start
    }

    /// Whether `inner` lies within this window.
    pub fn covers(&self, inner: &Window) -> bool {
        self.start <= inner.start && inner.end <= self.end
    }
}

/// A service level: the worst latency, the least availability and the most loss accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sla {
    pub max_latency_us: u32,
    pub min_availability_ppm: u32,
    pub max_loss_ppm: u32,
}

impl Sla {
    /// Whether this SLA promises at least what `other` asks in every bound.
    pub fn at_least_as_strict_as(&self, other: &Sla) -> bool {
        self.max_latency_us <= other.max_latency_us
            && self.min_availability_ppm >= other.min_availability_ppm
            && self.max_loss_ppm <= other.max_loss_ppm
    }
}

/// A provider's offer: resources at a site for a window, at a price per compute-hour, with
/// the SLA the provider commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub site: String,
    pub resources: Resources,
    pub window: Window,
    /// Micro-units per compute-hour.
    pub price: Amount,
    pub sla: Sla,
}

/// A consumer's bid: what it needs, when, under which SLA, and the most it pays per
/// compute-hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bid {
    pub requirement: Resources,
    pub window: Window,
    pub sla: Sla,
    /// Micro-units per compute-hour.
    pub max_price: Amount,
}

impl Offer {
    /// Whether this offer can deliver what `bid` asks.
    pub fn serves(&self, bid: &Bid) -> bool {
        self.resources.covers(&bid.requirement)
            && self.window.covers(&bid.window)
            && self.sla.at_least_as_strict_as(&bid.sla)
    }
}

/// The compute of `resources` held for `window`, in GFLOP.
pub fn compute_gflop(resources: &Resources, window: &Window) -> u128 {
    u128::from(resources.gflops) * u128::from(window.seconds())
}

/// What `resources` for `window` cost at `price` per compute-hour, rounded down to a
/// micro-unit; `None` when it does not fit in an amount.
pub fn cost(price: Amount, resources: &Resources, window: &Window) -> Option<Amount> {
    let total = u128::from(price.0)
        .checked_mul(u128::from(resources.gflops))?
        .checked_mul(u128::from(window.seconds()))?
        / u128::from(GFLOP_PER_COMPUTE_HOUR);
    u64::try_from(total).ok().map(Amount)
}

/// An offer waiting for the next round, with the index of the entry that posted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOffer {
    pub index: u64,
    pub provider: AccountId,
    pub offer: Offer,
}

/// A bid waiting for the next round, with the index of the entry that posted it and the
/// amount it holds in escrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBid {
    pub index: u64,
    pub consumer: AccountId,
    pub bid: Bid,
    pub escrow: Amount,
}

/// One trade of a round: the bid's product, bought from the offer. The buyer pays
/// `buyer_price` and the seller receives `seller_price` per compute-hour; they differ only
/// when McAfee's rule reduces trade, and then the market keeps the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub offer: u64,
    pub bid: u64,
    pub buyer_price: Amount,
    pub seller_price: Amount,
}

/// The order of classes: the most demanding product first (more GFLOPS, cores, memory and
/// seconds; then the earlier start and the stricter SLA), so that an offer joins the largest
/// product it can deliver. The key holds every field, so distinct products never tie.
fn class_key(b: &Bid) -> impl Ord + use<> {
    (
        Reverse(b.requirement.gflops),
        Reverse(b.requirement.cores),
        Reverse(b.requirement.memory_mib),
        Reverse(b.window.seconds()),
        b.window.start,
        b.sla.max_latency_us,
        Reverse(b.sla.min_availability_ppm),
        b.sla.max_loss_ppm,
    )
}

/// Clears one round at time `now` (seconds). Only bids whose window starts at `now` or later
/// take part. Returns the trades class by class in class order, and within a class from the
/// highest bid and the lowest offer down; ties in price go to the earlier entry.
pub fn clear(offers: &[OpenOffer], bids: &[OpenBid], now: u64) -> Vec<Match> {
    let mut live: Vec<&OpenBid> = bids.iter().filter(|b| b.bid.window.start >= now).collect();
    live.sort_by(|a, b| {
        class_key(&a.bid)
            .cmp(&class_key(&b.bid))
            .then(Reverse(a.bid.max_price).cmp(&Reverse(b.bid.max_price)))
            .then(a.index.cmp(&b.index))
    });
    // Classes: runs of equal products in `live`.
    let mut classes: Vec<&[&OpenBid]> = Vec::new();
    let mut start = 0;
    for i in 1..=live.len() {
        let same = i < live.len() && same_product(&live[i].bid, &live[start].bid);
        if !same {
            classes.push(&live[start..i]);
            start = i;
        }
    }
    classes.retain(|c| !c.is_empty());
    // Each offer joins the first class it serves.
    let mut sellers: Vec<Vec<&OpenOffer>> = vec![Vec::new(); classes.len()];
    for o in offers {
        if let Some(c) = classes.iter().position(|c| o.offer.serves(&c[0].bid)) {
            sellers[c].push(o);
        }
    }
    let mut out = Vec::new();
    for (buyers, sellers) in classes.into_iter().zip(sellers.iter_mut()) {
        sellers.sort_by(|a, b| {
            a.offer
                .price
                .cmp(&b.offer.price)
                .then(a.index.cmp(&b.index))
        });
        let bids: Vec<Amount> = buyers.iter().map(|b| b.bid.max_price).collect();
        let asks: Vec<Amount> = sellers.iter().map(|s| s.offer.price).collect();
        let outcome = mcafee(&bids, &asks);
        for i in 0..outcome.trades {
            out.push(Match {
                offer: sellers[i].index,
                bid: buyers[i].index,
                buyer_price: outcome.buyer_price,
                seller_price: outcome.seller_price,
            });
        }
    }
    out
}

fn same_product(a: &Bid, b: &Bid) -> bool {
    a.requirement == b.requirement && a.window == b.window && a.sla == b.sla
}

/// McAfee's outcome for one class: the first `trades` bids and asks trade, the buyers paying
/// `buyer_price` and the sellers receiving `seller_price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McAfee {
    pub trades: usize,
    pub buyer_price: Amount,
    pub seller_price: Amount,
}

/// McAfee's rule on bids sorted from the highest and asks sorted from the lowest. Let k be
/// the number of pairs with `bids[i] >= asks[i]`. When a (k+1)-th bid and ask both exist,
/// p0 = ⌊(bids[k] + asks[k]) / 2⌋ (0-based); if asks[k-1] <= p0 <= bids[k-1], all k pairs
/// trade at p0. Otherwise k-1 pairs trade, buyers paying bids[k-1] and sellers receiving
/// asks[k-1]: the least valuable efficient pair is left out so that no trader sets its
/// own price.
pub fn mcafee(bids: &[Amount], asks: &[Amount]) -> McAfee {
    let k = bids.iter().zip(asks).take_while(|(b, a)| b >= a).count();
    let none = McAfee {
        trades: 0,
        buyer_price: Amount::ZERO,
        seller_price: Amount::ZERO,
    };
    if k == 0 {
        return none;
    }
    if let (Some(b), Some(a)) = (bids.get(k), asks.get(k)) {
        // The mean of two u64 without overflow.
        let p0 = Amount(b.0 / 2 + a.0 / 2 + (b.0 % 2 + a.0 % 2) / 2);
        if asks[k - 1] <= p0 && p0 <= bids[k - 1] {
            return McAfee {
                trades: k,
                buyer_price: p0,
                seller_price: p0,
            };
        }
    }
    if k == 1 {
        return none;
    }
    McAfee {
        trades: k - 1,
        buyer_price: bids[k - 1],
        seller_price: asks[k - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amounts(v: &[u64]) -> Vec<Amount> {
        v.iter().copied().map(Amount).collect()
    }

    #[test]
    fn mcafee_trades_all_efficient_pairs_at_p0_when_it_fits() {
        let r = mcafee(&amounts(&[9, 8, 6, 3]), &amounts(&[2, 4, 5, 7]));
        assert_eq!(
            r,
            McAfee {
                trades: 3,
                buyer_price: Amount(5),
                seller_price: Amount(5)
            }
        );
    }

    #[test]
    fn mcafee_reduces_trade_when_p0_does_not_fit_or_is_undefined() {
        // p0 = (4 + 9) / 2 = 6 is above the k-th bid 5: one pair left out.
        let r = mcafee(&amounts(&[10, 5, 4]), &amounts(&[1, 3, 9]));
        assert_eq!(
            r,
            McAfee {
                trades: 1,
                buyer_price: Amount(5),
                seller_price: Amount(3)
            }
        );
        // No (k+1)-th ask: p0 undefined.
        let r = mcafee(&amounts(&[10, 7]), &amounts(&[3, 6, 8]));
        assert_eq!(
            r,
            McAfee {
                trades: 1,
                buyer_price: Amount(7),
                seller_price: Amount(6)
            }
        );
        // A single efficient pair and nothing to set p0: no trade.
        assert_eq!(mcafee(&amounts(&[10]), &amounts(&[1])).trades, 0);
        assert_eq!(mcafee(&amounts(&[1]), &amounts(&[10])).trades, 0);
        assert_eq!(mcafee(&[], &[]).trades, 0);
    }

    #[test]
    fn cost_is_price_times_compute_hours_rounded_down() {
        let r = Resources {
            gflops: 2_000,
            cores: 0,
            memory_mib: 0,
        };
        let w = Window {
            start: 3_600,
            end: 10_800,
        };
        // 2 TFLOPS for 2 h = 4 compute-hours.
        assert_eq!(cost(Amount(5_000_000), &r, &w), Some(Amount(20_000_000)));
        let odd = Window { start: 0, end: 1 };
        assert_eq!(cost(Amount(1), &r, &odd), Some(Amount(0)));
        let huge = Resources {
            gflops: u64::MAX,
            ..r
        };
        assert_eq!(cost(Amount(u64::MAX), &huge, &w), None);
    }
}
