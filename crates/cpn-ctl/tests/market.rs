//! The capacity market in the controller, driven by events on a simulated clock: deposits,
//! signed orders, a clearing round whose contracts the scheduler places (or cannot), usage
//! reports bounded by what the controller measured, settlement by the timer; the decision log
//! replays to the same ledger byte for byte.

use base64::Engine as _;
use cpn_api::{DepositRequest, MarketEntry, Role, TokenCreate};
use cpn_ctl::{Call, Controller, Event, MarketConfig, Reply, token_hash};
use cpn_ledger::entry::{RegisterAgent, Usage};
use cpn_ledger::{
    AccountId, Amount, Bid, Body, Entry, LedgerHeader, Offer, Resources, Sla, Window,
};
use cpn_units::Nanos;
use ed25519_dalek::SigningKey;

const T0: u64 = 1_800_000_000;
const ADMIN: &str = "admin-secret";
const TENANT: &str = "acme-secret";
const AGENT: &str = "agent-secret";
/// One unit of currency per compute-hour of 2,000 GFLOPS over one hour is 2 units: prices
/// are per compute-hour, in micro-units.
const UNIT: u64 = 1_000_000;
const SILVER: Sla = Sla {
    max_latency_us: 20_000,
    min_availability_ppm: 999_000,
    max_loss_ppm: 1_000,
};

fn at(s: u64) -> Nanos {
    Nanos(s * 1_000_000_000)
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn hex_of(k: &SigningKey) -> String {
    hex::encode(AccountId::of(k).0)
}

mod common;

use common::Harness;

fn controller(operator: &SigningKey, config: MarketConfig) -> Controller {
    let scenario = cpn_model::built_in("national")
        .expect("known")
        .expect("valid");
    let mut ctl = Controller::new(scenario);
    let header = LedgerHeader {
        name: "test market".into(),
        operator: AccountId::of(operator),
        penalty_ppm: 2_000_000,
    };
    ctl.enable_market(header, operator.clone(), config)
        .expect("the operator's key");
    ctl
}

impl Harness {
    fn new(config: MarketConfig) -> Harness {
        let mut h = Harness::with_admin(controller(&key(1), config), ADMIN);
        h.ok(
            at(T0),
            ADMIN,
            Call::CreateTenant(cpn_api::TenantCreate {
                name: "acme".into(),
            }),
        );
        for (secret, role) in [(TENANT, Role::Tenant), (AGENT, Role::Agent)] {
            h.ok(
                at(T0),
                ADMIN,
                Call::CreateToken {
                    create: TokenCreate {
                        tenant: "acme".into(),
                        role,
                        label: String::new(),
                    },
                    id: format!("tok-{secret}"),
                    hash: token_hash(secret),
                },
            );
        }
        h
    }

    fn err(&mut self, now: Nanos, secret: &str, call: Call) -> (u16, String) {
        match self.call(now, secret, call) {
            Reply::Err(e) => (e.status, e.message),
            other => panic!("accepted: {other:?}"),
        }
    }

    /// `body` signed by `key` as its next entry.
    fn sign(&self, key: &SigningKey, body: Body) -> Call {
        let ledger = self.ctl.ledger().expect("a market");
        let entry = ledger.sign(key, body);
        Call::MarketEntry(MarketEntry {
            entry: base64::engine::general_purpose::STANDARD.encode(entry.encode()),
        })
    }

    fn deposit(&mut self, now: Nanos, to: &SigningKey, units: u64) {
        let d = DepositRequest {
            account: hex_of(to),
            amount: units * UNIT,
        };
        self.ok(now, ADMIN, Call::MarketDeposit(d));
    }

    fn balance(&self, k: &SigningKey) -> u64 {
        let ledger = self.ctl.ledger().expect("a market");
        ledger.account(&AccountId::of(k)).balance.0
    }

    fn ledger_bytes(&self) -> Vec<u8> {
        self.ctl.ledger().expect("a market").to_bytes()
    }
}

fn offer(site: &str, gflops: u64, window: Window, units_per_hour: u64) -> Body {
    Body::Offer(Offer {
        site: site.into(),
        resources: Resources {
            gflops,
            cores: 0,
            memory_mib: 0,
        },
        window,
        price: Amount(units_per_hour * UNIT),
        sla: SILVER,
    })
}

fn bid(gflops: u64, window: Window, max_units_per_hour: u64) -> Body {
    Body::Bid(Bid {
        requirement: Resources {
            gflops,
            cores: 0,
            memory_mib: 0,
        },
        window,
        sla: SILVER,
        max_price: Amount(max_units_per_hour * UNIT),
    })
}

/// Parties: the operator 1; providers 10, 11, 12; their agents 20, 21; consumers 30, 31, 32.
const P1: u8 = 10;
const P2: u8 = 11;
const P3: u8 = 12;
const A1: u8 = 20;
const A2: u8 = 21;
const C1: u8 = 30;
const C2: u8 = 31;
const C3: u8 = 32;

/// Orders of one class: bids 5, 4, 1 against asks 2 (shenzhen-edge), 3 (guangzhou-edge), 6
/// (beijing-edge). McAfee: k = 2, p0 = (1 + 6) / 2 = 3.5 fits [3, 4]: two trades at 3.5.
fn post_book(h: &mut Harness, now: Nanos, window: Window, gflops: u64) {
    for (p, site, ask) in [
        (P1, "shenzhen-edge", 2),
        (P2, "guangzhou-edge", 3),
        (P3, "beijing-edge", 6),
    ] {
        let call = h.sign(&key(p), offer(site, gflops, window, ask));
        h.ok(now, TENANT, call);
    }
    for (c, max) in [(C1, 5), (C2, 4), (C3, 1)] {
        let call = h.sign(&key(c), bid(gflops, window, max));
        h.ok(now, TENANT, call);
    }
}

#[test]
fn a_market_hour_settles_by_the_sla_delivered_and_replays_to_the_same_ledger() {
    let mut h = Harness::new(MarketConfig {
        round_interval_s: 0,
        settle_grace_s: 600,
    });
    let now = at(T0 + 10);
    for c in [C1, C2, C3] {
        h.deposit(now, &key(c), 100);
    }
    for (p, a) in [(P1, A1), (P2, A2)] {
        let call = h.sign(
            &key(p),
            Body::RegisterAgent(RegisterAgent {
                agent: AccountId::of(&key(a)),
            }),
        );
        h.ok(now, TENANT, call);
    }
    let (start, end) = (T0 + 100, T0 + 3_700);
    let window = Window { start, end };
    post_book(&mut h, now, window, 2_000);
    // Escrow: 2 compute-hours at each bid's most.
    assert_eq!(h.balance(&key(C1)), 90 * UNIT);

    let round = h.ok(at(T0 + 20), ADMIN, Call::MarketRound);
    let contracts = round["contracts"].as_array().expect("contracts").clone();
    assert_eq!(contracts.len(), 2, "{round}");
    let mut ids = Vec::new();
    for (c, site) in contracts.iter().zip(["shenzhen-edge", "guangzhou-edge"]) {
        assert_eq!(c["status"], "placed", "{c}");
        assert_eq!(c["site"], site, "{c}");
        assert_eq!(c["buyer_price"], 3_500_000);
        assert_eq!(c["consumer_total"], 7 * UNIT);
        let r = c["reservation"].as_u64().expect("reservation");
        let held = h.ctl.scheduler().reservation(cpn_sched::ReservationId(r));
        let held = held.expect("the scheduler holds it");
        assert_eq!(
            h.ctl.scenario().sites[held.site.index()].name,
            site,
            "placed at the offer's site"
        );
        assert_eq!((held.request.start, held.request.end), (start, end));
        assert_eq!(held.compute_gflops(), 2_000);
        ids.push(c["id"].as_u64().expect("id"));
    }
    // The change of each matched bid came back: 10 held, 7 paid.
    assert_eq!(h.balance(&key(C1)), 93 * UNIT);
    // The bid that did not trade got its escrow back.
    assert_eq!(h.balance(&key(C3)), 100 * UNIT);
    // A contract's reservation is not released by hand.
    let r1 = contracts[0]["reservation"].as_u64().expect("reservation");
    let (status, message) = h.err(at(T0 + 30), ADMIN, Call::Release(r1));
    assert_eq!(status, 409, "{message}");

    // guangzhou-edge fails 3,000 s into the hour: the contract there is no longer held.
    h.ok(
        at(start + 3_000),
        ADMIN,
        Call::SetSite {
            site: "guangzhou-edge".into(),
            up: false,
        },
    );
    h.ok(
        at(start + 3_300),
        ADMIN,
        Call::SetSite {
            site: "guangzhou-edge".into(),
            up: true,
        },
    );
    let after = at(end + 5);
    let measured = |h: &mut Harness, contract: u64| {
        h.ok(
            after,
            AGENT,
            Call::MarketMeasurement {
                contract,
                from: None,
                to: None,
            },
        )
    };
    let m1 = measured(&mut h, ids[0]);
    let m2 = measured(&mut h, ids[1]);
    assert_eq!(m1["within_sla_ppm"], 1_000_000, "{m1}");
    assert_eq!(m2["within_sla_seconds"], 3_000, "{m2}");
    assert_eq!(m2["within_sla_ppm"], 833_333, "{m2}");
    assert_eq!(m2["compute_gflop"], 2_000 * 3_000, "{m2}");

    // An agent may not claim more than was measured, nor report for another provider.
    let usage = |contract: u64, within: u32, gflop: u64| {
        Body::Usage(Usage {
            contract,
            from: start,
            to: end,
            compute_gflop: gflop,
            within_sla_ppm: within,
        })
    };
    let over = h.sign(&key(A2), usage(ids[1], 1_000_000, 2_000 * 3_600));
    let (status, message) = h.err(after, AGENT, over);
    assert_eq!(status, 409, "{message}");
    assert!(message.contains("833333 ppm"), "{message}");
    let foreign = h.sign(&key(A2), usage(ids[0], 1_000_000, 2_000 * 3_600));
    assert_eq!(h.err(after, AGENT, foreign).0, 409);
    for (a, id, m) in [(A1, ids[0], &m1), (A2, ids[1], &m2)] {
        let within = u32::try_from(m["within_sla_ppm"].as_u64().expect("ppm")).expect("ppm");
        let gflop = m["compute_gflop"].as_u64().expect("gflop");
        let call = h.sign(&key(a), usage(id, within, gflop));
        h.ok(after, AGENT, call);
    }

    // The timer settles both (their usage covers the window) and releases the reservations.
    let before = h.ctl.scheduler().reservations().count();
    h.event(after, Event::Tick);
    assert!(h.ctl.scheduler().reservations().count() <= before - 2);
    let c1 = h.ok(after, TENANT, Call::MarketContract(ids[0]));
    let c2 = h.ok(after, TENANT, Call::MarketContract(ids[1]));
    assert_eq!(c1["status"], "settled", "{c1}");
    assert_eq!(c1["payout"]["refund"], 0, "{c1}");
    assert_eq!(c1["payout"]["to_provider"], 7 * UNIT, "{c1}");
    // c = 833,333 ppm: refund ⌊7 × 0.166667 × 2⌋ units.
    assert_eq!(c2["status"], "settled", "{c2}");
    assert_eq!(c2["payout"]["compliance_ppm"], 833_333, "{c2}");
    assert_eq!(c2["payout"]["refund"], 2_333_338, "{c2}");
    assert_eq!(c2["payout"]["to_provider"], 7 * UNIT - 2_333_338, "{c2}");
    assert_eq!(h.balance(&key(P1)), 7 * UNIT);
    assert_eq!(h.balance(&key(P2)), 7 * UNIT - 2_333_338);
    assert_eq!(h.balance(&key(C2)), 93 * UNIT + 2_333_338);
    let summary = h.ok(after, TENANT, Call::Market);
    let totals = &summary["totals"];
    assert_eq!(totals["deposits"], 300 * UNIT, "{summary}");
    assert_eq!(totals["escrow"], 0, "{summary}");
    assert_eq!(totals["balances"], 300 * UNIT, "{summary}");

    // The file verifies, and the log replays to the very same ledger.
    let bytes = h.ledger_bytes();
    let verified = cpn_ledger::verify(&bytes).expect("verifies");
    assert_eq!(hex::encode(verified.root.0), summary["root"]);
    let mut fresh = controller(&key(1), MarketConfig::default());
    fresh
        .restore(h.records.clone(), h.log.clone())
        .expect("replays");
    assert_eq!(fresh.ledger().expect("a market").to_bytes(), bytes);

    // Another operator key cannot replay it.
    let mut other = controller(&key(2), MarketConfig::default());
    assert!(other.restore(h.records.clone(), h.log.clone()).is_err());
}

#[test]
fn an_unplaceable_contract_is_recorded_unplaced_and_its_escrow_returned() {
    let mut h = Harness::new(MarketConfig {
        round_interval_s: 0,
        settle_grace_s: 60,
    });
    let now = at(T0);
    for c in [C1, C2, C3] {
        h.deposit(now, &key(c), 1_000);
    }
    // Far more than any edge site has (shenzhen-edge: 245,760 GFLOPS).
    let window = Window {
        start: T0 + 100,
        end: T0 + 460,
    };
    post_book(&mut h, now, window, 400_000);
    let round = h.ok(at(T0 + 1), ADMIN, Call::MarketRound);
    let contracts = round["contracts"].as_array().expect("contracts");
    assert_eq!(contracts.len(), 2, "{round}");
    for c in contracts {
        assert_eq!(c["status"], "unplaced", "{c}");
        assert!(c.get("reservation").is_none(), "{c}");
        assert!(!c["reason"].as_str().expect("a reason").is_empty(), "{c}");
        assert_eq!(c["escrow"], 0, "{c}");
    }
    assert_eq!(h.ctl.scheduler().reservations().count(), 0);
    for c in [C1, C2, C3] {
        assert_eq!(h.balance(&key(c)), 1_000 * UNIT);
    }
    // Unplaced is never settled, and no usage is taken.
    h.event(at(T0 + 10_000), Event::Tick);
    let id = contracts[0]["id"].as_u64().expect("id");
    let c = h.ok(at(T0 + 10_000), TENANT, Call::MarketContract(id));
    assert_eq!(c["status"], "unplaced");
    assert!(cpn_ledger::verify(&h.ledger_bytes()).is_ok());
}

#[test]
fn rounds_clear_on_the_timer_when_orders_are_open() {
    let mut h = Harness::new(MarketConfig {
        round_interval_s: 60,
        settle_grace_s: 60,
    });
    // The first tick sets the next boundary; nothing is open, so no round.
    h.event(at(T0 + 1), Event::Tick);
    h.event(at(T0 + 61), Event::Tick);
    assert_eq!(h.ctl.ledger().expect("market").round(), 0);
    for c in [C1, C2, C3] {
        h.deposit(at(T0 + 62), &key(c), 100);
    }
    let window = Window {
        start: T0 + 1_000,
        end: T0 + 4_600,
    };
    post_book(&mut h, at(T0 + 62), window, 2_000);
    h.event(at(T0 + 100), Event::Tick);
    assert_eq!(h.ctl.ledger().expect("market").round(), 0, "not yet");
    h.event(at(T0 + 120), Event::Tick);
    let ledger = h.ctl.ledger().expect("market");
    assert_eq!(ledger.round(), 1);
    assert_eq!(ledger.contracts().count(), 2);
}

#[test]
fn bad_entries_are_refused_with_the_field_and_change_nothing() {
    let mut h = Harness::new(MarketConfig::default());
    let now = at(T0);
    h.deposit(now, &key(C1), 1);
    let before = h.ledger_bytes();
    let window = Window {
        start: T0 + 100,
        end: T0 + 3_700,
    };
    let entry = |text: &str| {
        Call::MarketEntry(MarketEntry {
            entry: text.to_string(),
        })
    };
    let (s, m) = h.err(now, TENANT, entry("not base64!"));
    assert_eq!(s, 400);
    assert!(m.contains("entry: expected base64"), "{m}");
    let good = h
        .ctl
        .ledger()
        .expect("market")
        .sign(&key(C1), bid(2_000, window, 5));
    let bytes = good.encode();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (s, m) = h.err(now, TENANT, entry(&b64(&bytes[..40])));
    assert_eq!(s, 400);
    assert!(m.contains("entry: "), "{m}");
    // Signed for another ledger.
    let other = Entry::sign(
        &cpn_ledger::Hash([7; 32]),
        &key(C1),
        1,
        bid(2_000, window, 1),
    );
    let (s, m) = h.err(now, TENANT, entry(&b64(&other.encode())));
    assert_eq!(s, 400);
    assert!(m.contains("signature"), "{m}");
    // More than the balance: 2 compute-hours at 5 is 10 units.
    let (s, m) = h.err(now, TENANT, entry(&b64(&bytes)));
    assert_eq!(s, 409);
    assert!(m.contains("insufficient") || m.contains("funds"), "{m}");
    // The operator's kinds, and an agent token's offers.
    let deposit = h.ctl.ledger().expect("market").sign(
        &key(1),
        Body::Deposit(cpn_ledger::entry::Deposit {
            to: AccountId::of(&key(C1)),
            amount: Amount(1),
        }),
    );
    assert_eq!(h.err(now, ADMIN, entry(&b64(&deposit.encode()))).0, 403);
    let o = h.sign(&key(P1), offer("shenzhen-edge", 2_000, window, 1));
    assert_eq!(h.err(now, AGENT, o).0, 403);
    let o = h.sign(&key(P1), offer("atlantis-edge", 2_000, window, 1));
    let (s, m) = h.err(now, TENANT, o);
    assert_eq!(s, 400);
    assert!(m.contains("site"), "{m}");
    // Not a key; nothing.
    let d = DepositRequest {
        account: "00".repeat(31),
        amount: 1,
    };
    assert_eq!(h.err(now, ADMIN, Call::MarketDeposit(d)).0, 400);
    let d = DepositRequest {
        account: hex_of(&key(C1)),
        amount: 0,
    };
    assert_eq!(h.err(now, ADMIN, Call::MarketDeposit(d)).0, 400);
    assert_eq!(h.err(now, TENANT, Call::MarketRound).0, 403);
    assert_eq!(h.ledger_bytes(), before, "the ledger is unchanged");
    // Proofs of the one entry.
    let proof = h.ok(
        now,
        TENANT,
        Call::LedgerInclusion {
            index: 0,
            size: None,
        },
    );
    assert_eq!(proof["size"], 1);
    assert_eq!(
        h.err(
            now,
            TENANT,
            Call::LedgerInclusion {
                index: 1,
                size: None
            }
        )
        .0,
        400
    );
    assert_eq!(
        h.err(
            now,
            TENANT,
            Call::LedgerConsistency {
                first: 2,
                second: None
            }
        )
        .0,
        400
    );
}
