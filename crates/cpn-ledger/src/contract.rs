//! Contracts and their settlement against the SLA that was delivered.
//!
//! A contract holds the consumer's payment in escrow. Once placed, the market keeps its
//! margin (non-zero only after McAfee's trade reduction) and the rest, the provider's price,
//! waits for settlement. Usage reports from the provider's agent say, for successive
//! non-overlapping spans of the window, how much compute was delivered and which fraction of
//! the span's measurement periods met the SLA. At settlement:
//!
//! - SLA compliance = Σ span seconds × fraction within the SLA / window seconds; time no report
//!   covers counts as missed;
//! - delivery = compute delivered / compute contracted, at most 1;
//! - compliance c = the smaller of the two, in parts per million;
//! - refund = min(price, ⌊price × (1 − c) × penalty⌋), penalty being the contract's factor;
//! - the provider receives price − refund and the consumer the refund.

use crate::account::{AccountId, Amount};
use crate::market::{PPM, Resources, Sla, Window, compute_gflop};

/// A trade of a clearing round as the market records it. Every field follows from the round's
/// orders and the ledger's rules; a verifier recomputes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub round: u64,
    /// Index of the offer's entry.
    pub offer: u64,
    /// Index of the bid's entry.
    pub bid: u64,
    pub provider: AccountId,
    pub consumer: AccountId,
    /// The offer's site: where the controller places the work.
    pub site: String,
    /// The bid's requirement.
    pub resources: Resources,
    /// The bid's window.
    pub window: Window,
    /// The offer's SLA: what the provider committed to, and what the agent measures against.
    pub sla: Sla,
    /// Per compute-hour, paid by the consumer.
    pub buyer_price: Amount,
    /// Per compute-hour, received by the provider before any refund.
    pub seller_price: Amount,
    /// What the consumer pays: `buyer_price` for the contract's compute-hours.
    pub consumer_total: Amount,
    /// The provider's price: `seller_price` for the contract's compute-hours.
    pub provider_total: Amount,
    /// The penalty factor in ppm (1,000,000 = refund exactly the missed fraction).
    pub penalty_ppm: u32,
}

/// Where a contract stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractStatus {
    /// Recorded; its escrow waits for the controller's placement.
    Pending,
    /// The scheduler holds it under this reservation.
    Placed { reservation: u64 },
    /// It could not be placed; the consumer got its escrow back.
    Unplaced,
    /// Settled; nothing is left in escrow.
    Settled,
}

/// What the usage reports of a contract add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delivery {
    /// Σ (to − from) × within_sla_ppm over the reports.
    pub ppm_seconds: u128,
    /// Σ compute delivered, in GFLOP.
    pub compute_gflop: u128,
    /// The end of the last report's span (0 before any report).
    pub reported_until: u64,
}

/// The outcome of settling a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payout {
    pub compliance_ppm: u32,
    pub to_provider: Amount,
    pub refund: Amount,
}

/// Settles `contract` against `delivery` by the rule in this module's documentation.
pub fn settle(contract: &Contract, delivery: &Delivery) -> Payout {
    let ppm = u128::from(PPM);
    let seconds = u128::from(contract.window.seconds());
    let sla_ppm = (delivery.ppm_seconds / seconds).min(ppm);
    let contracted = compute_gflop(&contract.resources, &contract.window);
    let delivered_ppm = delivery
        .compute_gflop
        .saturating_mul(ppm)
        .checked_div(contracted)
        .unwrap_or(ppm)
        .min(ppm);
    let compliance = sla_ppm.min(delivered_ppm);
    let miss = ppm - compliance;
    let price = u128::from(contract.provider_total.0);
    let refund = (price * miss * u128::from(contract.penalty_ppm) / (ppm * ppm)).min(price);
    // Both fit: refund <= price <= u64::MAX, and compliance <= PPM.
    let refund = u64::try_from(refund).unwrap_or(u64::MAX);
    Payout {
        compliance_ppm: u32::try_from(compliance).unwrap_or(PPM),
        to_provider: Amount(contract.provider_total.0 - refund),
        refund: Amount(refund),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(price: u64, penalty_ppm: u32) -> Contract {
        Contract {
            round: 1,
            offer: 0,
            bid: 1,
            provider: AccountId([1; 32]),
            consumer: AccountId([2; 32]),
            site: "edge-1".into(),
            resources: Resources {
                gflops: 1_000,
                cores: 0,
                memory_mib: 0,
            },
            window: Window {
                start: 0,
                end: 3_600,
            },
            sla: Sla {
                max_latency_us: 10_000,
                min_availability_ppm: 999_000,
                max_loss_ppm: 1_000,
            },
            buyer_price: Amount(price),
            seller_price: Amount(price),
            consumer_total: Amount(price),
            provider_total: Amount(price),
            penalty_ppm,
        }
    }

    fn delivery(compliant_seconds: u128, gflop: u128) -> Delivery {
        Delivery {
            ppm_seconds: compliant_seconds * 1_000_000,
            compute_gflop: gflop,
            reported_until: 3_600,
        }
    }

    #[test]
    fn full_delivery_pays_the_provider_everything() {
        let p = settle(&contract(1_000_000, 2_000_000), &delivery(3_600, 3_600_000));
        assert_eq!(p.compliance_ppm, 1_000_000);
        assert_eq!(p.to_provider, Amount(1_000_000));
        assert_eq!(p.refund, Amount::ZERO);
    }

    #[test]
    fn a_missed_sla_refunds_the_missed_fraction_times_the_penalty() {
        // 90 % of the time within the SLA, penalty 2: refund 20 %.
        let p = settle(&contract(1_000_000, 2_000_000), &delivery(3_240, 3_600_000));
        assert_eq!(p.compliance_ppm, 900_000);
        assert_eq!(p.refund, Amount(200_000));
        assert_eq!(p.to_provider, Amount(800_000));
    }

    #[test]
    fn undelivered_compute_counts_as_missed_and_refunds_are_capped() {
        // Half the compute delivered: compliance 50 %; penalty 3 would refund 150 %.
        let p = settle(&contract(1_000_000, 3_000_000), &delivery(3_600, 1_800_000));
        assert_eq!(p.compliance_ppm, 500_000);
        assert_eq!(p.refund, Amount(1_000_000));
        assert_eq!(p.to_provider, Amount::ZERO);
        // No report at all: nothing delivered.
        let p = settle(&contract(7, 1_000_000), &Delivery::default());
        assert_eq!((p.compliance_ppm, p.refund), (0, Amount(7)));
    }
}
