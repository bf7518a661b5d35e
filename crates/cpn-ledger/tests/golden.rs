//! Golden byte vectors: one entry of every kind, a ledger header and a block header, made
//! from fixed keys (ed25519 keys from fixed 32-byte seeds; ed25519 signatures are
//! deterministic). The files in `tests/golden/` are hex, one field per line, each named after
//! the byte tables of `docs/ledger.md`; the layouts below are written from those tables, not
//! from the encoder, so the encoder is checked against the specification field by field.
//! `CPN_UPDATE_EXPECT=1` rewrites the files (review the diff).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::*;
use cpn_ledger::contract::Contract;
use cpn_ledger::entry::{Deposit, Placement, Round, Settlement, Unplaced, signed_message};
use cpn_ledger::merkle::leaf_hash;
use cpn_ledger::{BlockHeader, Body, Entry, Hash, Kind, LedgerHeader};
use cpn_testdata::check_expect;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

/// A field of a layout: its name and width in bytes, or `None` for text (a u16 length, then
/// that many bytes).
type Field = (&'static str, Option<usize>);

const RESOURCES: [Field; 3] = [
    ("gflops", Some(8)),
    ("cores", Some(4)),
    ("memory_mib", Some(8)),
];
const WINDOW: [Field; 2] = [("window start", Some(8)), ("window end", Some(8))];
const SLA: [Field; 3] = [
    ("max_latency_us", Some(4)),
    ("min_availability_ppm", Some(4)),
    ("max_loss_ppm", Some(4)),
];

/// The layout of an entry of `kind`, from `docs/ledger.md`.
fn layout(kind: Kind) -> Vec<Field> {
    let mut f: Vec<Field> = vec![
        ("version", Some(1)),
        ("kind", Some(1)),
        ("author", Some(32)),
        ("seq", Some(8)),
    ];
    match kind {
        Kind::Deposit => f.extend([("to", Some(32)), ("amount", Some(8))]),
        Kind::RegisterAgent => f.push(("agent", Some(32))),
        Kind::Offer => {
            f.push(("site", None));
            f.extend(RESOURCES);
            f.extend(WINDOW);
            f.push(("price", Some(8)));
            f.extend(SLA);
        }
        Kind::Bid => {
            f.extend(RESOURCES);
            f.extend(WINDOW);
            f.extend(SLA);
            f.push(("max_price", Some(8)));
        }
        Kind::Round => f.extend([("round", Some(8)), ("contracts", Some(4))]),
        Kind::Contract => {
            f.extend([
                ("round", Some(8)),
                ("offer", Some(8)),
                ("bid", Some(8)),
                ("provider", Some(32)),
                ("consumer", Some(32)),
                ("site", None),
            ]);
            f.extend(RESOURCES);
            f.extend(WINDOW);
            f.extend(SLA);
            f.extend([
                ("buyer_price", Some(8)),
                ("seller_price", Some(8)),
                ("consumer_total", Some(8)),
                ("provider_total", Some(8)),
                ("penalty_ppm", Some(4)),
            ]);
        }
        Kind::Placement => f.extend([("contract", Some(8)), ("reservation", Some(8))]),
        Kind::Unplaced => f.extend([("contract", Some(8)), ("reason", None)]),
        Kind::Usage => f.extend([
            ("contract", Some(8)),
            ("from", Some(8)),
            ("to", Some(8)),
            ("compute_gflop", Some(8)),
            ("within_sla_ppm", Some(4)),
        ]),
        Kind::Settlement => f.extend([
            ("contract", Some(8)),
            ("compliance_ppm", Some(4)),
            ("to_provider", Some(8)),
            ("refund", Some(8)),
        ]),
    }
    f.push(("signature", Some(64)));
    f
}

const BLOCK: [Field; 8] = [
    ("version", Some(1)),
    ("height", Some(8)),
    ("prev", Some(32)),
    ("time", Some(8)),
    ("entry_count", Some(4)),
    ("entries_root", Some(32)),
    ("tree_size", Some(8)),
    ("ledger_root", Some(32)),
];

const LEDGER_HEADER: [Field; 5] = [
    ("magic", Some(8)),
    ("version", Some(1)),
    ("operator", Some(32)),
    ("penalty_ppm", Some(4)),
    ("name", None),
];

/// `bytes` written one field per line as `layout` says; panics if they do not fit exactly.
fn annotate(title: &str, bytes: &[u8], layout: &[Field]) -> String {
    let mut out = format!("# {title}\n");
    let mut at = 0;
    for (name, width) in layout {
        let width = match width {
            Some(w) => *w,
            None => {
                let len = u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
                out.push_str(&format!(
                    "{}  # {name} length\n",
                    hex::encode(&bytes[at..at + 2])
                ));
                at += 2;
                len
            }
        };
        let field = bytes
            .get(at..at + width)
            .unwrap_or_else(|| panic!("{title}: {name} runs past the end"));
        out.push_str(&format!("{}  # {name}\n", hex::encode(field)));
        at += width;
    }
    assert_eq!(at, bytes.len(), "{title}: bytes left after the last field");
    out
}

/// Octets of a golden file: hex, with `#` comments.
fn read_hex(text: &str) -> Vec<u8> {
    let digits: String = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect();
    hex::decode(digits).expect("golden files hold hex")
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.hex"))
}

fn ledger_header() -> LedgerHeader {
    header(2_000_000)
}

/// One body of every kind, with the values of the worked example where it has them.
fn bodies() -> Vec<(u8, Body)> {
    let a_need = resources(2_000, 8, 16_384);
    let a_win = window(3_600, 10_800);
    vec![
        (
            OPERATOR,
            Body::Deposit(Deposit {
                to: id(21),
                amount: units(100),
            }),
        ),
        (11, register(31)),
        (
            11,
            offer(
                "cloud-1",
                resources(4_000, 16, 65_536),
                window(0, 86_400),
                units(2),
                GOLD,
            ),
        ),
        (21, bid(a_need, a_win, SILVER, units(9))),
        (
            OPERATOR,
            Body::Round(Round {
                round: 1,
                contracts: 4,
            }),
        ),
        (
            OPERATOR,
            Body::Contract(Contract {
                round: 1,
                offer: 9,
                bid: 17,
                provider: id(11),
                consumer: id(21),
                site: "cloud-1".into(),
                resources: a_need,
                window: a_win,
                sla: GOLD,
                buyer_price: units(5),
                seller_price: units(5),
                consumer_total: units(20),
                provider_total: units(20),
                penalty_ppm: 2_000_000,
            }),
        ),
        (
            OPERATOR,
            Body::Placement(Placement {
                contract: 24,
                reservation: 101,
            }),
        ),
        (
            OPERATOR,
            Body::Unplaced(Unplaced {
                contract: 26,
                reason: "edge-3: no capacity in the window".into(),
            }),
        ),
        (31, usage(24, 7_200, 10_800, 7_200_000, 800_000)),
        (
            OPERATOR,
            Body::Settlement(Settlement {
                contract: 24,
                compliance_ppm: 900_000,
                to_provider: units(16),
                refund: units(4),
            }),
        ),
    ]
}

#[test]
fn entries_of_every_kind_match_their_golden_bytes() {
    let h = ledger_header();
    let id = h.id();
    let mut seqs = std::collections::HashMap::new();
    let mut kinds = Vec::new();
    for (seed, body) in bodies() {
        let kind = body.kind();
        kinds.push(kind);
        let seq = seqs.entry(seed).and_modify(|s| *s += 1).or_insert(1u64);
        let entry = Entry::sign(&id, &key(seed), *seq, body);
        let bytes = entry.encode();
        let title = format!(
            "{} entry (kind {}), seq {seq}, signed by the key of seed [{seed}; 32] in the ledger {id}",
            kind.name(),
            kind as u8
        );
        let file = golden(&format!("entry_{}", kind.name()));
        check_expect(&file, &annotate(&title, &bytes, &layout(kind)));
        // The golden bytes decode to the entry, and its signature verifies.
        let text = std::fs::read_to_string(&file).unwrap();
        let golden_bytes = read_hex(&text);
        assert_eq!(golden_bytes, bytes);
        let back = Entry::decode(&golden_bytes).unwrap();
        assert_eq!(back, entry);
        let key = VerifyingKey::from_bytes(&back.author.0).unwrap();
        let unsigned = &golden_bytes[..golden_bytes.len() - 64];
        key.verify(
            &signed_message(&id, unsigned),
            &Signature::from_bytes(&back.signature),
        )
        .unwrap();
    }
    assert_eq!(kinds, Kind::ALL);
}

#[test]
fn ledger_and_block_headers_match_their_golden_bytes() {
    let h = ledger_header();
    let bytes = h.encode();
    let title = format!(
        "ledger header; ledger id (SHA-256 of these bytes) = {}",
        h.id()
    );
    check_expect(
        &golden("ledger_header"),
        &annotate(&title, &bytes, &LEDGER_HEADER),
    );
    assert_eq!(LedgerHeader::decode(&bytes).unwrap(), h);

    // The first block of a ledger holding the golden deposit and agent registration.
    let id = h.id();
    let leaves: Vec<Hash> = bodies()[..2]
        .iter()
        .map(|(seed, body)| leaf_hash(&Entry::sign(&id, &key(*seed), 1, body.clone()).encode()))
        .collect();
    let root = cpn_ledger::merkle::root_of(&leaves);
    let block = BlockHeader {
        height: 0,
        prev: id,
        time: 0,
        entry_count: 2,
        entries_root: root,
        tree_size: 2,
        ledger_root: root,
    };
    let sealed = block.sign(&id, &key(OPERATOR));
    let title = format!(
        "block header; block hash (SHA-256 of these bytes) = {}\n# operator's signature = {}",
        block.hash(),
        hex::encode(sealed.signature)
    );
    check_expect(
        &golden("block_header"),
        &annotate(&title, &block.encode(), &BLOCK),
    );
    assert_eq!(BlockHeader::decode(&block.encode()).unwrap(), block);
}
