//! The etcd backend, for controllers in high availability: every controller connects to the
//! same etcd cluster, one of them holds the leader key under a lease and writes, the others
//! wait in [`Store::acquire_leadership`] until the key disappears.
//!
//! It speaks etcd's JSON gRPC-gateway (`/v3/kv/...`, `/v3/lease/...`) over plain HTTP with a
//! blocking client, which keeps protoc and an async runtime out of the build. The controller
//! calls the store from a dedicated thread, never from inside a tokio runtime.
//!
//! Layout in etcd: `<prefix>/<table>/<key>` for the tables, `<prefix>/leader` for the leader
//! key, whose value names the leader and which is attached to its lease.
//!
//! **Fencing:** every commit is one etcd transaction guarded by "the leader key still holds our
//! name and our lease". A controller that lost its lease (it froze, or was cut off, for longer
//! than the TTL) cannot write after a successor took over, whatever it believes.

mod gateway;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Op, Store, StoreError, Table};
use gateway::{Gateway, KeepAlive, Kv, Lease, RangeResponse, TxnResponse, b64};

/// The leader lease's time to live: a leader killed with SIGKILL is replaced within about this
/// long plus one poll.
const LEASE_TTL_SECS: i64 = 2;
/// How often a waiting controller looks whether the leader key is gone.
const POLL: Duration = Duration::from_millis(200);
/// Keys per range request when scanning a table.
const PAGE: usize = 5_000;
/// The etcd flags without which a large commit is refused (see [`EtcdStore`]).
const LIMIT_FLAGS: &str = "--max-txn-ops 10000 --max-request-bytes 33554432";

/// Parses `etcd://host:port[,host:port...]` into the endpoints for [`EtcdStore::connect`].
pub fn parse_address(addr: &str) -> Result<Vec<String>, StoreError> {
    let bad = || StoreError::Address(addr.to_string());
    let list = addr.strip_prefix("etcd://").ok_or_else(bad)?;
    let endpoints: Vec<String> = list.split(',').map(|e| e.trim().to_string()).collect();
    let valid = |e: &String| {
        e.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok_and(|p| p != 0)
        })
    };
    if endpoints.iter().all(valid) {
        Ok(endpoints)
    } else {
        Err(bad())
    }
}

/// The tables in an etcd cluster, with the leader lease.
///
/// **The controller's etcd must run with `--max-txn-ops 10000 --max-request-bytes 33554432`.**
/// A commit is one etcd transaction, so that it is atomic, and etcd's defaults (128 operations,
/// 1.5 MiB) are smaller than a batch of decisions. A commit over the limits fails with an error
/// naming these flags; it is never split, since a split commit is no longer atomic.
#[derive(Debug)]
pub struct EtcdStore {
    gateway: Arc<Gateway>,
    endpoints: Vec<String>,
    prefix: String,
    /// This process won the leader key and no commit has been refused since.
    leading: bool,
    lease: Option<Keepalive>,
}

/// Our lease and the thread that keeps it alive.
#[derive(Debug)]
struct Keepalive {
    id: i64,
    who: String,
    /// Cleared by the thread once the lease expired or could not be renewed within its TTL.
    alive: Arc<AtomicBool>,
    /// Dropping it wakes and stops the thread.
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Revoke on drop; false after [`EtcdStore::crash_for_test`].
    revoke: bool,
}

impl Keepalive {
    fn halt(&mut self) {
        self.stop = None;
        if let Some(thread) = self.thread.take() {
            // The thread never panics; a join error would only mean it is gone already.
            let _ = thread.join();
        }
    }
}

impl EtcdStore {
    /// The prefix of the keys when the configuration names none.
    pub const DEFAULT_PREFIX: &'static str = "/cpn";

    /// Connects to the members at `endpoints` (`host:port`, with or without `http://`) and
    /// checks that the cluster answers. Keys live under `prefix`.
    pub fn connect(endpoints: &[String], prefix: &str) -> Result<EtcdStore, StoreError> {
        let store = EtcdStore {
            gateway: Arc::new(Gateway::new(endpoints)?),
            endpoints: endpoints.to_vec(),
            prefix: prefix.trim_end_matches('/').to_string(),
            leading: false,
            lease: None,
        };
        store.leader_kv()?;
        Ok(store)
    }

    /// Stops the keepalives and forgets the lease without revoking it, as a controller killed
    /// with SIGKILL (or frozen) would. The store still believes it leads, so a later commit
    /// meets the fence.
    #[doc(hidden)]
    pub fn crash_for_test(&mut self) {
        if let Some(lease) = &mut self.lease {
            lease.halt();
            lease.revoke = false;
        }
    }

    fn leader_key(&self) -> String {
        format!("{}/leader", self.prefix)
    }

    fn table_prefix(&self, table: Table) -> String {
        format!("{}/{}/", self.prefix, table.name())
    }

    fn key(&self, table: Table, key: &str) -> String {
        format!("{}{key}", self.table_prefix(table))
    }

    fn leader_kv(&self) -> Result<Option<Kv>, StoreError> {
        let body = json!({ "key": b64(self.leader_key().as_bytes()) });
        let r: RangeResponse = self
            .gateway
            .call("/v3/kv/range", &body, gateway::DATA_TIMEOUT)?;
        Ok(r.kvs.into_iter().next())
    }

    /// Grants a lease and starts keeping it alive.
    fn grant(&self, who: &str) -> Result<Keepalive, StoreError> {
        let body = json!({ "TTL": LEASE_TTL_SECS.to_string() });
        let lease: Lease = self
            .gateway
            .call("/v3/lease/grant", &body, gateway::REQUEST_TIMEOUT)?;
        if lease.id == 0 || lease.ttl <= 0 {
            return Err(StoreError::Backend(format!(
                "etcd {}: lease grant answered id {} ttl {}",
                self.describe(),
                lease.id,
                lease.ttl
            )));
        }
        // etcd may grant more than asked (its minimum follows the election timeout).
        let ttl = Duration::from_secs(lease.ttl.unsigned_abs());
        let alive = Arc::new(AtomicBool::new(true));
        let (stop, stopped) = mpsc::channel();
        let thread = {
            let gateway = Arc::clone(&self.gateway);
            let alive = Arc::clone(&alive);
            let id = lease.id;
            std::thread::Builder::new()
                .name("etcd-keepalive".into())
                .spawn(move || keep_alive(&gateway, id, ttl, &alive, &stopped))
                .map_err(|e| StoreError::Backend(format!("etcd keepalive thread: {e}")))?
        };
        Ok(Keepalive {
            id: lease.id,
            who: who.to_string(),
            alive,
            stop: Some(stop),
            thread: Some(thread),
            revoke: true,
        })
    }

    /// Gives up the lease, if any: revoking it deletes the leader key at once, so a clean
    /// shutdown hands over without waiting for the TTL.
    fn release(&mut self) {
        self.leading = false;
        if let Some(mut lease) = self.lease.take() {
            lease.halt();
            if lease.revoke {
                let body = json!({ "ID": lease.id.to_string() });
                // Best effort: an unrevoked lease expires after its TTL anyway.
                let _ =
                    self.gateway
                        .call::<Value>("/v3/lease/revoke", &body, Duration::from_secs(1));
            }
        }
    }

    fn alive(&self) -> bool {
        self.lease
            .as_ref()
            .is_some_and(|l| l.alive.load(Ordering::SeqCst))
    }
}

/// Renews the lease every TTL/3 until told to stop. Gives up, clearing `alive`, when etcd says
/// the lease is gone or no renewal got through for a whole TTL; until then a failed renewal is
/// retried, so an etcd election or a dead member does not cost the leadership.
fn keep_alive(
    gateway: &Gateway,
    id: i64,
    ttl: Duration,
    alive: &AtomicBool,
    stop: &mpsc::Receiver<()>,
) {
    let every = ttl / 3;
    let body = json!({ "ID": id.to_string() });
    let mut renewed = Instant::now();
    let mut wait = every;
    loop {
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let sent = Instant::now();
        match gateway.call::<KeepAlive>("/v3/lease/keepalive", &body, every) {
            Ok(KeepAlive {
                result: Some(Lease { ttl, .. }),
            }) if ttl > 0 => {
                renewed = sent;
                wait = every;
            }
            Ok(_) => break,
            Err(_) if renewed.elapsed() >= ttl => break,
            Err(_) => wait = POLL / 2,
        }
    }
    alive.store(false, Ordering::SeqCst);
}

impl Drop for EtcdStore {
    fn drop(&mut self) {
        self.release();
    }
}

fn not_utf8(key: &[u8]) -> StoreError {
    StoreError::Backend(format!(
        "etcd: key `{}` is not UTF-8",
        String::from_utf8_lossy(key)
    ))
}

/// The end of the range of keys starting with `prefix`.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Every byte was 0xff: "\0" means "to the end of the keyspace" to etcd.
    vec![0]
}

impl Store for EtcdStore {
    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let prefix = self.table_prefix(table).into_bytes();
        let end = b64(&prefix_end(&prefix));
        let mut from = prefix.clone();
        // Every page reads the revision of the first one: the scan is one snapshot.
        let mut revision = 0;
        let mut out = Vec::new();
        loop {
            let mut body = json!({
                "key": b64(&from),
                "range_end": end,
                "limit": PAGE.to_string(),
                "sort_order": "ASCEND",
                "sort_target": "KEY",
            });
            if revision > 0 {
                body["revision"] = json!(revision.to_string());
            }
            let r: RangeResponse =
                self.gateway
                    .call("/v3/kv/range", &body, gateway::DATA_TIMEOUT)?;
            if revision == 0 {
                revision = r.header.revision;
            }
            for kv in &r.kvs {
                let key = kv.key()?;
                let short = key.strip_prefix(prefix.as_slice()).unwrap_or(&key);
                let short = String::from_utf8(short.to_vec()).map_err(|_| not_utf8(&key))?;
                out.push((short, kv.value()?));
            }
            match r.kvs.last() {
                Some(last) if r.more => {
                    // The next page starts just after the last key.
                    from = last.key()?;
                    from.push(0);
                }
                _ => return Ok(out),
            }
        }
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let body = json!({ "key": b64(self.key(table, key).as_bytes()) });
        let r: RangeResponse = self
            .gateway
            .call("/v3/kv/range", &body, gateway::DATA_TIMEOUT)?;
        r.kvs.first().map(Kv::value).transpose()
    }

    fn commit(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        let lease = match &self.lease {
            Some(lease) if self.leading => lease,
            _ => {
                return Err(StoreError::NotLeader(format!(
                    "{}: this process does not hold the leader key",
                    self.describe()
                )));
            }
        };
        let leader_key = b64(self.leader_key().as_bytes());
        let success: Vec<Value> = ops
            .iter()
            .map(|op| match op {
                Op::Put { table, key, value } => json!({ "request_put": {
                    "key": b64(self.key(*table, key).as_bytes()),
                    "value": b64(value),
                }}),
                Op::Delete { table, key } => json!({ "request_delete_range": {
                    "key": b64(self.key(*table, key).as_bytes()),
                }}),
            })
            .collect();
        let body = json!({
            "compare": [
                { "target": "VALUE", "key": leader_key, "result": "EQUAL",
                  "value": b64(lease.who.as_bytes()) },
                { "target": "LEASE", "key": leader_key, "result": "EQUAL",
                  "lease": lease.id.to_string() },
            ],
            "success": success,
            "failure": [ { "request_range": { "key": leader_key } } ],
        });
        let r: TxnResponse = self
            .gateway
            .call("/v3/kv/txn", &body, gateway::DATA_TIMEOUT)
            .map_err(|e| match e {
                StoreError::Backend(m)
                    if m.contains("too many operations") || m.contains("too large") =>
                {
                    StoreError::Backend(format!(
                        "{m}: a commit of {} operations is one etcd transaction; \
                         run etcd with {LIMIT_FLAGS}",
                        ops.len()
                    ))
                }
                e => e,
            })?;
        if r.succeeded {
            return Ok(());
        }
        self.leading = false;
        let holder = r
            .responses
            .into_iter()
            .next()
            .and_then(|op| op.response_range)
            .and_then(|range| range.kvs.into_iter().next())
            .map(|kv| kv.value().map(|v| String::from_utf8_lossy(&v).into_owned()));
        let holder = match holder {
            Some(Ok(name)) => format!("now held by `{name}`"),
            Some(Err(_)) => "held by someone else".to_string(),
            None => "free: our lease expired".to_string(),
        };
        Err(StoreError::NotLeader(format!(
            "{}: the leader key {} is {holder}",
            self.describe(),
            self.leader_key()
        )))
    }

    /// Grants a lease, then waits until the leader key is free and takes it. Returns an error
    /// when etcd cannot be reached; the caller decides whether to try again.
    fn acquire_leadership(&mut self, who: &str) -> Result<(), StoreError> {
        if self.is_leader() && self.lease.as_ref().is_some_and(|l| l.who == who) {
            return Ok(());
        }
        self.release();
        let leader_key = b64(self.leader_key().as_bytes());
        loop {
            if !self.alive() {
                // First round, or the lease expired while we waited: start afresh.
                self.release();
                self.lease = Some(self.grant(who)?);
            }
            let Some(lease) = &self.lease else { continue };
            let body = json!({
                "compare": [ { "target": "CREATE", "key": leader_key, "result": "EQUAL",
                               "create_revision": "0" } ],
                "success": [ { "request_put": { "key": leader_key,
                    "value": b64(who.as_bytes()), "lease": lease.id.to_string() } } ],
                "failure": [ { "request_range": { "key": leader_key } } ],
            });
            let r: TxnResponse = self
                .gateway
                .call("/v3/kv/txn", &body, gateway::DATA_TIMEOUT)?;
            // A retried request may find the key already ours.
            let ours = r.succeeded
                || r.responses
                    .first()
                    .and_then(|op| op.response_range.as_ref())
                    .and_then(|range| range.kvs.first())
                    .is_some_and(|kv| {
                        kv.lease == lease.id && kv.value().is_ok_and(|v| v == who.as_bytes())
                    });
            if ours {
                self.leading = true;
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
    }

    fn is_leader(&self) -> bool {
        self.leading && self.alive()
    }

    fn leader(&self) -> Option<String> {
        let kv = self.leader_kv().ok()??;
        String::from_utf8(kv.value().ok()?).ok()
    }

    fn describe(&self) -> String {
        format!("etcd {} prefix {}", self.endpoints.join(","), self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("etcd://10.0.0.1:2379,etcd-b:2379").expect("two"),
            vec!["10.0.0.1:2379".to_string(), "etcd-b:2379".to_string()]
        );
        assert_eq!(
            parse_address("etcd://[::1]:2379").expect("ipv6"),
            vec!["[::1]:2379".to_string()]
        );
        for bad in [
            "etcd://",
            "etcd://host",
            "etcd://host:0",
            "etcd://host:2379,",
            "etcd://host:2379/cpn",
            "http://host:2379",
            "redb:/var/lib/cpn",
        ] {
            let err = parse_address(bad).expect_err(bad);
            assert!(matches!(err, StoreError::Address(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end(b"/cpn/log/"), b"/cpn/log0");
        assert_eq!(prefix_end(b"a\xff\xff"), b"b");
        assert_eq!(prefix_end(b"\xff"), b"\0");
    }
}
