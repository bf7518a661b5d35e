//! The ledger's goals from issue 8, measured with the peers in the same run:
//!
//! - append: signed entries appended per second on one core (decode + verify the signature +
//!   apply + hash), one by one and in batches (`append_batch`: batch verification); goal
//!   >= 30,000 per second per core;
//! - verify: a whole ledger file of 1 M entries checked offline on two cores (parallel
//!   signature verification, then the sequential replay); goal <= 30 s;
//! - an inclusion proof in a tree of 1 M entries verified; goal <= 50 µs;
//! - peers (`bench/ledger_peers.py`): ed25519 verification with PyNaCl (libsodium) and
//!   `cryptography` (OpenSSL) on one thread, and an RFC 9162 inclusion proof in Python.
//!
//! `cargo bench -p cpn-ledger --bench ledger`. `CPN_BENCH_ROUNDS` (default 3) sets the timed
//! rounds and `CPN_LEDGER_ENTRIES` (default 1,000,000) the size of the verified ledger. The
//! workload is a market: 2,000 parties with deposits, then blocks of 960 offers and bids from
//! them, each block ending with a clearing round, its contracts (about 270) and their
//! placements (one in 50 fails), so that the replay changes state as a market does. Under `cargo test` it runs
//! a small smoke version without the peers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Instant;

use cpn_ledger::{
    AccountId, Amount, Bid, Body, Ledger, LedgerHeader, Offer, Resources, Sla, Window, verify,
    verify_inclusion,
};
use cpn_testdata::bench::{full_run, measure, print_loud, rounds, run_peer};
use ed25519_dalek::{Signer, SigningKey, Verifier};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

const PROVIDERS: usize = 500;
const CONSUMERS: usize = 1_500;
const PER_BLOCK: usize = 1_000;

fn party(i: usize) -> SigningKey {
    let seed: [u8; 32] = Sha256::digest(format!("cpn-ledger bench party {i}")).into();
    SigningKey::from_bytes(&seed)
}

/// A small deterministic generator (SplitMix64), so that the workload is the same each run.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const SLA: Sla = Sla {
    max_latency_us: 20_000,
    min_availability_ppm: 999_000,
    max_loss_ppm: 1_000,
};

/// Builds a market ledger of about `entries` entries, in blocks of `PER_BLOCK`.
fn build(entries: usize) -> (Ledger, SigningKey) {
    let op = SigningKey::from_bytes(&[1; 32]);
    let mut l = Ledger::new(LedgerHeader {
        name: "bench".into(),
        operator: AccountId::of(&op),
        penalty_ppm: 2_000_000,
    });
    let keys: Vec<SigningKey> = (0..PROVIDERS + CONSUMERS)
        .into_par_iter()
        .map(party)
        .collect();
    let mut seqs = vec![0u64; keys.len()];
    let mut rng = Mix(42);
    l.open_block(0).unwrap();
    for k in &keys[PROVIDERS..] {
        l.deposit(&op, AccountId::of(k), Amount(1 << 50)).unwrap();
    }
    l.seal_block(&op).unwrap();
    let mut block = 0u64;
    while (l.len() as usize) < entries {
        block += 1;
        let now = block * 60;
        l.open_block(now).unwrap();
        let hour = (now / 3_600 + 1) * 3_600;
        let bodies: Vec<(usize, u64, Body)> = (0..PER_BLOCK - 40)
            .map(|j| {
                let gflops = 1_000 * (1 + rng.below(2));
                let window = Window {
                    start: hour,
                    end: hour + 3_600,
                };
                let (who, body) = if j % 2 == 0 {
                    let p = rng.below(PROVIDERS as u64) as usize;
                    let body = Body::Offer(Offer {
                        site: format!("site-{}", p % 50),
                        resources: Resources {
                            gflops: gflops + 1_000,
                            cores: 0,
                            memory_mib: 0,
                        },
                        window: Window {
                            start: hour,
                            end: hour + 7_200,
                        },
                        price: Amount(1_000_000 + rng.below(4_000_000)),
                        sla: SLA,
                    });
                    (p, body)
                } else {
                    let c = PROVIDERS + rng.below(CONSUMERS as u64) as usize;
                    let body = Body::Bid(Bid {
                        requirement: Resources {
                            gflops,
                            cores: 0,
                            memory_mib: 0,
                        },
                        window,
                        sla: SLA,
                        max_price: Amount(2_000_000 + rng.below(4_000_000)),
                    });
                    (c, body)
                };
                seqs[who] += 1;
                (who, seqs[who], body)
            })
            .collect();
        let id = l.id();
        let signed: Vec<Vec<u8>> = bodies
            .into_par_iter()
            .map(|(who, seq, body)| cpn_ledger::Entry::sign(&id, &keys[who], seq, body).encode())
            .collect();
        let refs: Vec<&[u8]> = signed.iter().map(Vec::as_slice).collect();
        for r in l.append_batch(&refs) {
            r.unwrap();
        }
        // The round takes at most as many contracts as fit in the block.
        let contracts = l.run_round(&op).unwrap();
        for c in contracts.into_iter().take(PER_BLOCK) {
            if c % 50 == 0 {
                l.fail_placement(&op, c, "bench: no room").unwrap();
            } else {
                l.confirm_placement(&op, c, c).unwrap();
            }
        }
        l.seal_block(&op).unwrap();
    }
    (l, op)
}

/// The entries of each sealed block of `l`, with the block's time.
fn blocks_of(l: &Ledger, max_entries: u64) -> Vec<(u64, Vec<Vec<u8>>)> {
    l.blocks()
        .iter()
        .take_while(|b| b.header.tree_size <= max_entries)
        .map(|b| {
            let first = b.header.tree_size - u64::from(b.header.entry_count);
            let entries = (first..b.header.tree_size)
                .map(|i| l.entry_bytes(i).unwrap().to_vec())
                .collect();
            (b.header.time, entries)
        })
        .collect()
}

/// Appends `blocks` to a new ledger; batched or one by one.
fn replay(header: &LedgerHeader, op: &SigningKey, blocks: &[(u64, Vec<Vec<u8>>)], batch: bool) {
    let mut l = Ledger::new(header.clone());
    for (time, entries) in blocks {
        l.open_block(*time).unwrap();
        if batch {
            let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
            for r in l.append_batch(&refs) {
                r.unwrap();
            }
        } else {
            for e in entries {
                l.append(e).unwrap();
            }
        }
        l.seal_block(op).unwrap();
    }
}

fn one_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(f)
}

fn main() {
    let full = full_run();
    let rounds = if full { rounds(3) } else { 1 };
    let total: usize = if full {
        std::env::var("CPN_LEDGER_ENTRIES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000)
    } else {
        3_000
    };
    let append_entries: u64 = if full { 100_000 } else { 2_000 };

    let t = Instant::now();
    let (ledger, op) = build(total);
    let bytes = ledger.to_bytes();
    eprintln!(
        "built a ledger of {} entries in {} blocks ({:.1} MB) in {:.1} s",
        ledger.len(),
        ledger.blocks().len(),
        bytes.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let kinds: std::collections::BTreeSet<_> = (0..ledger.len().min(20_000))
        .map(|i| ledger.entry(i).unwrap().body.kind().name())
        .collect();
    eprintln!("entry kinds: {kinds:?}");

    // Append, on one core.
    let blocks = blocks_of(&ledger, append_entries);
    let n_append: usize = blocks.iter().map(|b| b.1.len()).sum();
    let header = ledger.header().clone();
    let batched = one_thread(|| measure(rounds, || replay(&header, &op, &blocks, true)));
    let single = one_thread(|| measure(rounds, || replay(&header, &op, &blocks, false)));
    let per_s = |s: &cpn_testdata::bench::Stats| n_append as f64 / s.median.as_secs_f64();

    // Raw ed25519-dalek verification on one core, for the like-for-like peer comparison.
    let key = party(0);
    let msgs: Vec<Vec<u8>> = (0..2_000u64)
        .map(|i| {
            let mut m = b"cpn-ledger/entry/v1".to_vec();
            for _ in 0..19 {
                m.extend_from_slice(&i.to_be_bytes());
            }
            m
        })
        .collect();
    let sigs: Vec<_> = msgs.iter().map(|m| key.sign(m)).collect();
    let vk = key.verifying_key();
    let raw = measure(rounds, || {
        for (m, s) in msgs.iter().zip(&sigs) {
            vk.verify(m, s).unwrap();
        }
    });
    let raw_per_s = msgs.len() as f64 / raw.median.as_secs_f64();

    // Verify the whole file on all cores (two on the benchmark machine).
    let mut summary = None;
    let ver = measure(rounds.min(2), || summary = Some(verify(&bytes).unwrap()));
    let summary = summary.unwrap();
    assert_eq!(summary.entries, ledger.len());
    assert_eq!(summary.root, ledger.root());

    // Inclusion proofs in the full tree.
    let n = ledger.len();
    let cases: Vec<_> = (0..2_000u64)
        .map(|k| {
            let i = (k * 7_919) % n;
            (
                ledger.leaf_hash(i).unwrap(),
                i,
                ledger.inclusion_proof(i, n).unwrap(),
            )
        })
        .collect();
    let root = ledger.root();
    let incl = measure(rounds, || {
        for (leaf, i, proof) in &cases {
            verify_inclusion(leaf, *i, n, proof, &root).unwrap();
        }
    });
    let incl_us = incl.median.as_secs_f64() * 1e6 / cases.len() as f64;

    // The peers.
    let mut peers = std::collections::HashMap::new();
    if full {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/ledger_peers.py");
        let args = vec![
            "--signatures".to_string(),
            "5000".to_string(),
            "--tree-size".to_string(),
            n.to_string(),
            "--rounds".to_string(),
            rounds.to_string(),
        ];
        match run_peer(&script, &args) {
            Ok(text) => peers = cpn_testdata::bench::figures(&text),
            Err(e) => print_loud(&format!("ledger peers not measured: {e}")),
        }
        for k in ["pynacl_verify_per_s", "cryptography_verify_per_s"] {
            if !peers.contains_key(k) {
                print_loud(&format!(
                    "peer {k} not measured: pip install -r bench/requirements.txt"
                ));
            }
        }
    }

    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("cpn-ledger, median of {rounds} rounds:");
    println!(
        "append on 1 core, {n_append} entries in {} blocks (decode + verify + apply + hash):",
        blocks.len()
    );
    println!(
        "  append_batch (batch verification): {:>9.0} entries/s  ({:.0}..{:.0})  goal >= 30,000: {}",
        per_s(&batched),
        n_append as f64 / batched.max.as_secs_f64(),
        n_append as f64 / batched.min.as_secs_f64(),
        met(per_s(&batched) >= 30_000.0)
    );
    println!(
        "  append one by one:                 {:>9.0} entries/s  ({:.0}..{:.0})",
        per_s(&single),
        n_append as f64 / single.max.as_secs_f64(),
        n_append as f64 / single.min.as_secs_f64()
    );
    println!(
        "verify a file of {} entries, {} blocks, {:.1} MB, on {} threads: {:.2} s ({:.2}..{:.2}), {:.0} entries/s  goal <= 30 s: {}",
        summary.entries,
        summary.blocks,
        bytes.len() as f64 / 1e6,
        rayon::current_num_threads(),
        ver.median.as_secs_f64(),
        ver.min.as_secs_f64(),
        ver.max.as_secs_f64(),
        summary.entries as f64 / ver.median.as_secs_f64(),
        met(ver.median.as_secs_f64() <= 30.0 * summary.entries as f64 / 1e6)
    );
    println!(
        "inclusion proof in a tree of {n} ({} hashes): {:.2} µs  goal <= 50 µs: {}",
        cases[0].2.len(),
        incl_us,
        met(incl_us <= 50.0)
    );
    println!("ed25519 verification on 1 core, entry-sized messages:");
    println!(
        "  {:<36} {:>9.0} /s  ratio",
        "ed25519-dalek verify (one by one)", raw_per_s
    );
    println!(
        "  {:<36} {:>9.0} /s  {:.2}",
        "cpn-ledger append_batch (whole append)",
        per_s(&batched),
        per_s(&batched) / raw_per_s
    );
    for (name, k) in [
        ("PyNaCl (libsodium) verify", "pynacl_verify_per_s"),
        ("cryptography (OpenSSL) verify", "cryptography_verify_per_s"),
    ] {
        match peers.get(k) {
            Some(v) => println!(
                "  {name:<36} {v:>9.0} /s  dalek {:.2}x, append_batch {:.2}x the peer",
                raw_per_s / v,
                per_s(&batched) / v
            ),
            None => println!("  {name:<36} {:>9} /s", "-"),
        }
    }
    if let Some(py) = peers.get("python_inclusion_us") {
        println!(
            "inclusion proof in Python (hashlib): {py:.2} µs, {:.1}x cpn-ledger",
            py / incl_us
        );
    }
}
