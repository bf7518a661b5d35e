//! The conformance suite on the embedded backend, plus what only it has: reopening a data
//! directory, the schema check and the lock against a second process.

use cpn_store::{
    Op, RedbStore, SCHEMA_VERSION, Store, StoreError, Table, check_schema, conformance,
};

fn fresh() -> (tempfile::TempDir, RedbStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = RedbStore::open(dir.path()).expect("open");
    (dir, store)
}

#[test]
fn basic() {
    conformance::basic(&mut fresh().1);
}

#[test]
fn log_order() {
    conformance::log_order(&mut fresh().1);
}

#[test]
fn large_batch() {
    conformance::large_batch(&mut fresh().1);
}

#[test]
fn leadership() {
    conformance::leadership(&mut fresh().1);
}

#[test]
fn survives_reopen_and_checks_schema() {
    let (dir, mut store) = fresh();
    check_schema(&mut store).expect("schema");
    store
        .commit(&[Op::Put {
            table: Table::Tenants,
            key: "acme".into(),
            value: b"{}".to_vec(),
        }])
        .expect("commit");
    drop(store);
    let mut store = RedbStore::open(dir.path()).expect("reopen");
    check_schema(&mut store).expect("same schema");
    assert_eq!(store.scan(Table::Tenants).expect("scan").len(), 1);
    store
        .commit(&[Op::Put {
            table: Table::Meta,
            key: "schema_version".into(),
            value: b"999".to_vec(),
        }])
        .expect("commit");
    let err = check_schema(&mut store).expect_err("other schema");
    assert!(matches!(err, StoreError::Schema { .. }), "{err}");
    assert!(err.to_string().contains("999"), "{err}");
    assert!(err.to_string().contains(&SCHEMA_VERSION.to_string()));
}

#[test]
fn a_second_opener_is_refused_with_the_directory_named() {
    let (dir, _store) = fresh();
    let err = RedbStore::open(dir.path()).expect_err("locked");
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
}
