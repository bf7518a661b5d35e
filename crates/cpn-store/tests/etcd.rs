//! The conformance suite on a real three-member etcd cluster on loopback, plus what only the
//! etcd backend has: fencing, failover of the leadership, and a member's death.
//!
//! The tests share one cluster, each under its own prefix; the test that kills a member starts
//! its own. Without `/usr/bin/etcd` they say SKIPPED and pass, except under CI, where they fail.

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use cpn_store::{EtcdStore, Op, Store, StoreError, Table, conformance};
use cpn_testdata::etcd::{EtcdCluster, have_etcd};

/// The shared cluster and a store on it under `prefix`.
fn store_on(cluster: &EtcdCluster, prefix: &str) -> EtcdStore {
    EtcdStore::connect(cluster.endpoints(), prefix).expect("connect")
}

fn shared() -> Option<&'static EtcdCluster> {
    static CLUSTER: OnceLock<EtcdCluster> = OnceLock::new();
    have_etcd().then(|| CLUSTER.get_or_init(EtcdCluster::start))
}

/// A store under its own prefix that leads it.
fn leading(prefix: &str, who: &str) -> Option<EtcdStore> {
    let mut store = store_on(shared()?, prefix);
    store.acquire_leadership(who).expect("lead");
    Some(store)
}

fn put(key: &str, value: &[u8]) -> Op {
    Op::Put {
        table: Table::Tenants,
        key: key.into(),
        value: value.to_vec(),
    }
}

#[test]
fn basic() {
    if let Some(mut store) = leading("/t/basic", "test") {
        conformance::basic(&mut store);
    }
}

#[test]
fn log_order() {
    if let Some(mut store) = leading("/t/log_order", "test") {
        conformance::log_order(&mut store);
    }
}

#[test]
fn large_batch() {
    if let Some(mut store) = leading("/t/large_batch", "test") {
        conformance::large_batch(&mut store);
    }
}

#[test]
fn leadership() {
    if let Some(cluster) = shared() {
        let mut store = store_on(cluster, "/t/leadership");
        assert!(!store.is_leader());
        assert_eq!(store.leader(), None);
        conformance::leadership(&mut store);
        assert_eq!(
            store.describe(),
            format!(
                "etcd {} prefix /t/leadership",
                cluster.endpoints().join(",")
            )
        );
    }
}

#[test]
fn scans_page_through_more_keys_than_one_response() {
    let Some(mut store) = leading("/t/paging", "test") else {
        return;
    };
    // Two commits: one is capped at 10,000 operations by --max-txn-ops.
    for batch in [0..6_000u64, 6_000..12_000] {
        let ops: Vec<Op> = batch
            .map(|n| Op::Put {
                table: Table::Log,
                key: cpn_store::log_key(n),
                value: n.to_le_bytes().to_vec(),
            })
            .collect();
        store.commit(&ops).expect("commit");
    }
    let seen = store.scan(Table::Log).expect("scan");
    assert_eq!(seen.len(), 12_000);
    assert!(seen.iter().enumerate().all(|(i, (k, v))| {
        *k == cpn_store::log_key(i as u64) && *v == (i as u64).to_le_bytes()
    }));
}

#[test]
fn an_oversized_commit_names_the_etcd_flags_and_writes_nothing() {
    let Some(mut store) = leading("/t/oversized", "test") else {
        return;
    };
    let ops: Vec<Op> = (0..10_001).map(|n| put(&format!("k{n}"), b"")).collect();
    let err = store.commit(&ops).expect_err("over --max-txn-ops");
    assert!(matches!(err, StoreError::Backend(_)), "{err}");
    assert!(err.to_string().contains("--max-txn-ops"), "{err}");
    assert!(store.scan(Table::Tenants).expect("scan").is_empty());
    assert!(store.is_leader());
}

#[test]
fn a_store_that_never_led_cannot_commit() {
    if let Some(cluster) = shared() {
        let mut store = store_on(cluster, "/t/never_led");
        let err = store.commit(&[put("a", b"1")]).expect_err("not leader");
        assert!(matches!(err, StoreError::NotLeader(_)), "{err}");
    }
}

/// Starts `store.acquire_leadership(who)` in a thread, checks that it blocks, and returns the
/// thread, which hands the store back once it leads.
fn contend(mut store: EtcdStore, who: &'static str) -> thread::JoinHandle<(EtcdStore, Instant)> {
    let waiting = thread::spawn(move || {
        store.acquire_leadership(who).expect("lead");
        (store, Instant::now())
    });
    thread::sleep(Duration::from_millis(500));
    assert!(
        !waiting.is_finished(),
        "{who} led while another held the key"
    );
    waiting
}

#[test]
fn a_crashed_leader_is_replaced_and_fenced_off() {
    let Some(cluster) = shared() else { return };
    let prefix = "/t/failover";
    let mut a = store_on(cluster, prefix);
    a.acquire_leadership("a").expect("a leads");
    let waiting = contend(store_on(cluster, prefix), "b");
    a.commit(&[put("from-a", b"1")]).expect("a commits");

    a.crash_for_test();
    let crashed = Instant::now();
    let (mut b, led) = waiting.join().expect("b thread");
    let takeover = led - crashed;
    println!("takeover after a crash: {takeover:?}");
    assert!(takeover < Duration::from_secs(5), "{takeover:?}");
    assert!(b.is_leader());
    assert_eq!(b.leader().as_deref(), Some("b"));
    assert_eq!(a.leader().as_deref(), Some("b"));
    assert_eq!(
        b.get(Table::Tenants, "from-a").expect("get"),
        Some(b"1".to_vec())
    );

    // a still believes it leads: the fence, not its belief, refuses the write.
    let err = a.commit(&[put("from-a", b"2")]).expect_err("fenced");
    assert!(matches!(err, StoreError::NotLeader(_)), "{err}");
    assert!(err.to_string().contains("`b`"), "{err}");
    assert!(!a.is_leader());
    b.commit(&[put("from-b", b"1")]).expect("b commits");
    assert_eq!(
        b.get(Table::Tenants, "from-a").expect("get"),
        Some(b"1".to_vec())
    );
}

#[test]
fn a_clean_shutdown_hands_over_at_once() {
    let Some(cluster) = shared() else { return };
    let prefix = "/t/handover";
    let mut a = store_on(cluster, prefix);
    a.acquire_leadership("a").expect("a leads");
    let waiting = contend(store_on(cluster, prefix), "b");
    drop(a);
    let dropped = Instant::now();
    let (b, led) = waiting.join().expect("b thread");
    let handover = led - dropped;
    println!("handover after a clean shutdown: {handover:?}");
    // Well under the lease's TTL: the revoke, not the expiry, handed over.
    assert!(handover < Duration::from_secs(1), "{handover:?}");
    assert_eq!(b.leader().as_deref(), Some("b"));
}

#[test]
fn commits_go_on_when_one_member_of_three_dies() {
    if !have_etcd() {
        return;
    }
    let mut cluster = EtcdCluster::start();
    let mut store = store_on(&cluster, "/t/quorum");
    store.acquire_leadership("a").expect("lead");
    store.commit(&[put("before", b"1")]).expect("commit");
    // The first endpoint is the one the client uses.
    cluster.kill_member(0);
    for n in 0..20 {
        store
            .commit(&[put(&format!("after-{n}"), b"1")])
            .expect("commit with two of three");
        thread::sleep(Duration::from_millis(100));
    }
    // Two seconds passed: the lease was kept alive through the remaining members.
    assert!(store.is_leader());
    assert_eq!(store.leader().as_deref(), Some("a"));
    assert_eq!(store.scan(Table::Tenants).expect("scan").len(), 21);
}
