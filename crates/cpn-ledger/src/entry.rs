//! Ledger entries and their canonical, versioned binary encoding (`docs/ledger.md` has the
//! byte tables):
//!
//! ```text
//! version u8 (= 1) | kind u8 | author [32] | seq u64 | body (by kind) | signature [64]
//! ```
//!
//! Integers are fixed-width big-endian, keys and hashes raw bytes, text a u16 byte length
//! then UTF-8. Decoding is strict: an unknown version or kind, a value out of its domain, a
//! truncated field or any trailing byte is an error, so a byte string decodes to at most one
//! entry and encodes back to itself. The signature is ed25519 by the author's key over
//! `ENTRY_DOMAIN || ledger id || the encoding without the signature`, so an entry is bound to
//! one ledger and cannot be replayed into another.

use ed25519_dalek::{Signer, SigningKey};

use crate::account::{AccountId, Amount};
use crate::codec::{DecodeError, Reader, Writer};
use crate::contract::Contract;
use crate::market::{Bid, Offer, PPM, Resources, Sla, Window};
use crate::merkle::Hash;

/// The version byte of every entry this crate writes and reads.
pub const ENTRY_VERSION: u8 = 1;

/// What an entry's signature covers before the ledger id and the entry's bytes.
pub const ENTRY_DOMAIN: &[u8] = b"cpn-ledger/entry/v1";

/// Bytes before the body: version, kind, author, seq.
pub const ENTRY_HEADER_LEN: usize = 1 + 1 + 32 + 8;

/// Bytes of the signature at the end.
pub const SIGNATURE_LEN: usize = 64;

/// The longest site name, in bytes.
pub const MAX_SITE_LEN: usize = 255;

/// The longest reason an unplaced contract gives, in bytes.
pub const MAX_REASON_LEN: usize = 1_024;

/// The kind tag of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    Deposit = 1,
    RegisterAgent = 2,
    Offer = 3,
    Bid = 4,
    Round = 5,
    Contract = 6,
    Placement = 7,
    Unplaced = 8,
    Usage = 9,
    Settlement = 10,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Deposit,
        Kind::RegisterAgent,
        Kind::Offer,
        Kind::Bid,
        Kind::Round,
        Kind::Contract,
        Kind::Placement,
        Kind::Unplaced,
        Kind::Usage,
        Kind::Settlement,
    ];

    pub fn from_u8(tag: u8) -> Option<Kind> {
        Kind::ALL.get(usize::from(tag).checked_sub(1)?).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Deposit => "deposit",
            Kind::RegisterAgent => "register_agent",
            Kind::Offer => "offer",
            Kind::Bid => "bid",
            Kind::Round => "round",
            Kind::Contract => "contract",
            Kind::Placement => "placement",
            Kind::Unplaced => "unplaced",
            Kind::Usage => "usage",
            Kind::Settlement => "settlement",
        }
    }
}

/// The operator mints `amount` into `to` (money entering the market from outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deposit {
    pub to: AccountId,
    pub amount: Amount,
}

/// A provider names the key its agent signs usage reports with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterAgent {
    pub agent: AccountId,
}

/// The operator clears round `round`; exactly `contracts` contract entries follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub round: u64,
    pub contracts: u32,
}

/// The operator confirms that the scheduler placed the contract (the entry at index
/// `contract`) under `reservation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub contract: u64,
    pub reservation: u64,
}

/// The operator records that the contract could not be placed; its escrow goes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaced {
    pub contract: u64,
    pub reason: String,
}

/// The provider's agent reports the span `[from, to)` of a contract: the compute it
/// delivered and the fraction of the span's measurement periods within the contract's SLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub contract: u64,
    pub from: u64,
    pub to: u64,
    pub compute_gflop: u64,
    pub within_sla_ppm: u32,
}

/// The operator settles a contract after its window: what the provider receives and what goes
/// back to the consumer, by the contract's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub contract: u64,
    pub compliance_ppm: u32,
    pub to_provider: Amount,
    pub refund: Amount,
}

/// What an entry says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Deposit(Deposit),
    RegisterAgent(RegisterAgent),
    Offer(Offer),
    Bid(Bid),
    Round(Round),
    Contract(Contract),
    Placement(Placement),
    Unplaced(Unplaced),
    Usage(Usage),
    Settlement(Settlement),
}

impl Body {
    pub fn kind(&self) -> Kind {
        match self {
            Body::Deposit(_) => Kind::Deposit,
            Body::RegisterAgent(_) => Kind::RegisterAgent,
            Body::Offer(_) => Kind::Offer,
            Body::Bid(_) => Kind::Bid,
            Body::Round(_) => Kind::Round,
            Body::Contract(_) => Kind::Contract,
            Body::Placement(_) => Kind::Placement,
            Body::Unplaced(_) => Kind::Unplaced,
            Body::Usage(_) => Kind::Usage,
            Body::Settlement(_) => Kind::Settlement,
        }
    }
}

/// A signed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub author: AccountId,
    /// The author's sequence number: 1 for its first entry, then one more each time.
    pub seq: u64,
    pub body: Body,
    pub signature: [u8; 64],
}

/// The message an entry's signature covers, given the entry's bytes without the signature.
pub fn signed_message(ledger: &Hash, unsigned: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(ENTRY_DOMAIN.len() + 32 + unsigned.len());
    m.extend_from_slice(ENTRY_DOMAIN);
    m.extend_from_slice(&ledger.0);
    m.extend_from_slice(unsigned);
    m
}

impl Entry {
    /// Signs `body` as the `seq`-th entry of `key`'s account in the ledger `ledger`.
    pub fn sign(ledger: &Hash, key: &SigningKey, seq: u64, body: Body) -> Entry {
        let author = AccountId::of(key);
        let mut w = Writer::with_capacity(256);
        encode_unsigned(&mut w, &author, seq, &body);
        let signature = key.sign(&signed_message(ledger, &w.buf)).to_bytes();
        Entry {
            author,
            seq,
            body,
            signature,
        }
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(256);
        encode_unsigned(&mut w, &self.author, self.seq, &self.body);
        w.bytes(&self.signature);
        w.buf
    }

    /// Decodes exactly one entry from all of `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != ENTRY_VERSION {
            return Err(DecodeError::UnknownVersion { offset: 0, version });
        }
        let tag = r.u8("kind")?;
        let kind = Kind::from_u8(tag).ok_or(DecodeError::UnknownKind {
            offset: 1,
            kind: tag,
        })?;
        let author = AccountId(r.bytes32("author")?);
        let seq = r.u64("seq")?;
        if seq == 0 {
            return Err(r.invalid_at("seq", 34, "sequence numbers start at 1"));
        }
        let body = decode_body(&mut r, kind)?;
        let signature = r.bytes64("signature")?;
        r.finish()?;
        Ok(Entry {
            author,
            seq,
            body,
            signature,
        })
    }
}

fn encode_unsigned(w: &mut Writer, author: &AccountId, seq: u64, body: &Body) {
    w.u8(ENTRY_VERSION);
    w.u8(body.kind() as u8);
    w.bytes(&author.0);
    w.u64(seq);
    match body {
        Body::Deposit(d) => {
            w.bytes(&d.to.0);
            w.u64(d.amount.0);
        }
        Body::RegisterAgent(a) => w.bytes(&a.agent.0),
        Body::Offer(o) => {
            w.text(&o.site);
            put_resources(w, &o.resources);
            put_window(w, &o.window);
            w.u64(o.price.0);
            put_sla(w, &o.sla);
        }
        Body::Bid(b) => {
            put_resources(w, &b.requirement);
            put_window(w, &b.window);
            put_sla(w, &b.sla);
            w.u64(b.max_price.0);
        }
        Body::Round(r) => {
            w.u64(r.round);
            w.u32(r.contracts);
        }
        Body::Contract(c) => {
            w.u64(c.round);
            w.u64(c.offer);
            w.u64(c.bid);
            w.bytes(&c.provider.0);
            w.bytes(&c.consumer.0);
            w.text(&c.site);
            put_resources(w, &c.resources);
            put_window(w, &c.window);
            put_sla(w, &c.sla);
            w.u64(c.buyer_price.0);
            w.u64(c.seller_price.0);
            w.u64(c.consumer_total.0);
            w.u64(c.provider_total.0);
            w.u32(c.penalty_ppm);
        }
        Body::Placement(p) => {
            w.u64(p.contract);
            w.u64(p.reservation);
        }
        Body::Unplaced(u) => {
            w.u64(u.contract);
            w.text(&u.reason);
        }
        Body::Usage(u) => {
            w.u64(u.contract);
            w.u64(u.from);
            w.u64(u.to);
            w.u64(u.compute_gflop);
            w.u32(u.within_sla_ppm);
        }
        Body::Settlement(s) => {
            w.u64(s.contract);
            w.u32(s.compliance_ppm);
            w.u64(s.to_provider.0);
            w.u64(s.refund.0);
        }
    }
}

fn put_resources(w: &mut Writer, r: &Resources) {
    w.u64(r.gflops);
    w.u32(r.cores);
    w.u64(r.memory_mib);
}

fn put_window(w: &mut Writer, v: &Window) {
    w.u64(v.start);
    w.u64(v.end);
}

fn put_sla(w: &mut Writer, s: &Sla) {
    w.u32(s.max_latency_us);
    w.u32(s.min_availability_ppm);
    w.u32(s.max_loss_ppm);
}

fn positive(r: &Reader<'_>, field: &'static str, v: u64) -> Result<Amount, DecodeError> {
    if v == 0 {
        Err(r.invalid_at(field, r.pos() - 8, "must be positive"))
    } else {
        Ok(Amount(v))
    }
}

fn ppm(r: &mut Reader<'_>, field: &'static str) -> Result<u32, DecodeError> {
    let v = r.u32(field)?;
    if v > PPM {
        Err(r.invalid_at(field, r.pos() - 4, "a fraction above 1,000,000 ppm"))
    } else {
        Ok(v)
    }
}

fn resources(r: &mut Reader<'_>) -> Result<Resources, DecodeError> {
    let gflops = r.u64("gflops")?;
    if gflops == 0 {
        return Err(r.invalid_at("gflops", r.pos() - 8, "must be positive"));
    }
    Ok(Resources {
        gflops,
        cores: r.u32("cores")?,
        memory_mib: r.u64("memory_mib")?,
    })
}

fn window(r: &mut Reader<'_>) -> Result<Window, DecodeError> {
    let start = r.u64("window start")?;
    let end = r.u64("window end")?;
    if start >= end {
        return Err(r.invalid_at("window end", r.pos() - 8, "not after the start"));
    }
    Ok(Window { start, end })
}

fn sla(r: &mut Reader<'_>) -> Result<Sla, DecodeError> {
    Ok(Sla {
        max_latency_us: r.u32("max_latency_us")?,
        min_availability_ppm: ppm(r, "min_availability_ppm")?,
        max_loss_ppm: ppm(r, "max_loss_ppm")?,
    })
}

fn site(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let offset = r.pos();
    let s = r.text("site", MAX_SITE_LEN)?;
    if s.is_empty() {
        return Err(r.invalid_at("site", offset, "empty"));
    }
    Ok(s)
}

fn decode_body(r: &mut Reader<'_>, kind: Kind) -> Result<Body, DecodeError> {
    Ok(match kind {
        Kind::Deposit => {
            let to = AccountId(r.bytes32("to")?);
            let amount = r.u64("amount")?;
            Body::Deposit(Deposit {
                to,
                amount: positive(r, "amount", amount)?,
            })
        }
        Kind::RegisterAgent => Body::RegisterAgent(RegisterAgent {
            agent: AccountId(r.bytes32("agent")?),
        }),
        Kind::Offer => {
            let site = site(r)?;
            let resources = resources(r)?;
            let window = window(r)?;
            let price = r.u64("price")?;
            let price = positive(r, "price", price)?;
            Body::Offer(Offer {
                site,
                resources,
                window,
                price,
                sla: sla(r)?,
            })
        }
        Kind::Bid => {
            let requirement = resources(r)?;
            let window = window(r)?;
            let sla = sla(r)?;
            let max_price = r.u64("max_price")?;
            Body::Bid(Bid {
                requirement,
                window,
                sla,
                max_price: positive(r, "max_price", max_price)?,
            })
        }
        Kind::Round => {
            let round = r.u64("round")?;
            if round == 0 {
                return Err(r.invalid_at("round", r.pos() - 8, "rounds start at 1"));
            }
            Body::Round(Round {
                round,
                contracts: r.u32("contracts")?,
            })
        }
        Kind::Contract => Body::Contract(Contract {
            round: r.u64("round")?,
            offer: r.u64("offer")?,
            bid: r.u64("bid")?,
            provider: AccountId(r.bytes32("provider")?),
            consumer: AccountId(r.bytes32("consumer")?),
            site: site(r)?,
            resources: resources(r)?,
            window: window(r)?,
            sla: sla(r)?,
            buyer_price: Amount(r.u64("buyer_price")?),
            seller_price: Amount(r.u64("seller_price")?),
            consumer_total: Amount(r.u64("consumer_total")?),
            provider_total: Amount(r.u64("provider_total")?),
            penalty_ppm: r.u32("penalty_ppm")?,
        }),
        Kind::Placement => Body::Placement(Placement {
            contract: r.u64("contract")?,
            reservation: r.u64("reservation")?,
        }),
        Kind::Unplaced => Body::Unplaced(Unplaced {
            contract: r.u64("contract")?,
            reason: r.text("reason", MAX_REASON_LEN)?,
        }),
        Kind::Usage => {
            let contract = r.u64("contract")?;
            let from = r.u64("from")?;
            let to = r.u64("to")?;
            if from >= to {
                return Err(r.invalid_at("to", r.pos() - 8, "not after from"));
            }
            Body::Usage(Usage {
                contract,
                from,
                to,
                compute_gflop: r.u64("compute_gflop")?,
                within_sla_ppm: ppm(r, "within_sla_ppm")?,
            })
        }
        Kind::Settlement => Body::Settlement(Settlement {
            contract: r.u64("contract")?,
            compliance_ppm: ppm(r, "compliance_ppm")?,
            to_provider: Amount(r.u64("to_provider")?),
            refund: Amount(r.u64("refund")?),
        }),
    })
}
