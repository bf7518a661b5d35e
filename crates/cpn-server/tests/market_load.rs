//! Loading a store's market: the ledger header written at first start binds the store to its
//! operator key; a ledger that traded refuses another key or none, naming it; one that never
//! traded is made again for a new key (a store moved to another machine).

use cpn_ctl::{Action, Call, Event, MarketConfig, Record, token_hash};
use cpn_server::{LoadError, MarketSetup, load, ops_of};
use cpn_store::{RedbStore, Store};
use cpn_units::Nanos;
use ed25519_dalek::SigningKey;

fn setup(seed: u8) -> MarketSetup {
    MarketSetup {
        operator: SigningKey::from_bytes(&[seed; 32]),
        key_file: format!("key-{seed}"),
        penalty_ppm: 2_000_000,
        config: MarketConfig::default(),
    }
}

fn national() -> cpn_model::Scenario {
    cpn_model::built_in("national")
        .expect("known")
        .expect("valid")
}

/// Loads, makes an admin token, deposits once, and commits what the controller persisted.
fn trade(store: &mut dyn Store, key: &MarketSetup) -> String {
    let (mut ctl, _) = load(store, Some(&national()), Some(key)).expect("loads");
    let admin = ctl.admin_token("t0", &token_hash("secret"));
    store
        .commit(&ops_of(&[admin]).expect("ops"))
        .expect("commit");
    let mut out = Vec::new();
    let account = hex::encode(SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes());
    ctl.handle(
        Nanos(1_800_000_000_000_000_000),
        Event::Api {
            req: 1,
            token: token_hash("secret"),
            call: Call::MarketDeposit(cpn_api::DepositRequest { account, amount: 5 }),
        },
        &mut out,
    );
    let records: Vec<Record> = out
        .into_iter()
        .filter_map(|a| match a {
            Action::Persist(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), 1, "the deposit is logged");
    store
        .commit(&ops_of(&records).expect("ops"))
        .expect("commit");
    hex::encode(ctl.ledger().expect("a market").root().0)
}

#[test]
fn a_ledger_that_traded_needs_its_own_operator_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = RedbStore::open(dir.path()).expect("store");
    let root = trade(&mut store, &setup(1));
    let (ctl, replayed) = load(&mut store, None, Some(&setup(1))).expect("the same key");
    assert_eq!(replayed, 1);
    assert_eq!(hex::encode(ctl.ledger().expect("market").root().0), root);
    match load(&mut store, None, Some(&setup(2))) {
        Err(LoadError::Market { file, message }) => {
            assert_eq!(file, "key-2");
            assert!(message.contains("not the ledger's operator"), "{message}");
        }
        other => panic!("another key loaded: {other:?}"),
    }
    assert!(matches!(
        load(&mut store, None, None),
        Err(LoadError::NoOperatorKey)
    ));
}

#[test]
fn a_ledger_that_never_traded_takes_a_new_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = RedbStore::open(dir.path()).expect("store");
    load(&mut store, Some(&national()), Some(&setup(1))).expect("first start");
    load(&mut store, None, None).expect("no key needed: nothing was signed");
    let (ctl, _) = load(&mut store, None, Some(&setup(2))).expect("a new key");
    let operator = ctl.ledger().expect("market").header().operator;
    assert_eq!(
        operator.0,
        SigningKey::from_bytes(&[2; 32]).verifying_key().to_bytes()
    );
}
