//! Durable state of the cpn controller. One trait, [`Store`], with two backends: [`RedbStore`],
//! an embedded database in a data directory (the default), and [`EtcdStore`], an etcd cluster
//! for high availability, where a lease elects the one controller that writes and every commit
//! is fenced by that lease. The etcd backend talks to etcd's JSON gateway over HTTP; its etcd
//! must run with larger transaction limits than etcd's defaults (see [`EtcdStore`]).
//!
//! The store knows tables of keys and opaque values, nothing of what they mean: the controller
//! encodes its records. A commit is atomic and durable when it returns; a reader never sees half
//! of one. The store never decides anything and never reads the controller's clock.

mod etcd;
mod redb_store;

pub use etcd::{EtcdStore, parse_address};
pub use redb_store::RedbStore;

/// The version of the layout of the tables. A data directory written by another version is
/// refused rather than misread.
pub const SCHEMA_VERSION: u32 = 1;

/// The tables of the controller's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Schema version, scenario, counters.
    Meta,
    /// Tenants and their roles.
    Tenants,
    /// API tokens, by the hash of the secret (never the secret).
    Tokens,
    /// Registered agents and their public keys.
    Agents,
    /// The decision log: every command that changed the state, in order, keyed by
    /// [`log_key`].
    Log,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Table::Meta,
        Table::Tenants,
        Table::Tokens,
        Table::Agents,
        Table::Log,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Tenants => "tenants",
            Table::Tokens => "tokens",
            Table::Agents => "agents",
            Table::Log => "log",
        }
    }
}

/// The key of the `n`th log entry: fixed width, so that key order is log order.
pub fn log_key(n: u64) -> String {
    format!("{n:020}")
}

/// One change of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put {
        table: Table,
        key: String,
        value: Vec<u8>,
    },
    Delete {
        table: Table,
        key: String,
    },
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("data directory `{path}`: {message}")]
    Open { path: String, message: String },
    #[error("data written by schema version {found}; this build reads version {expected}")]
    Schema { found: String, expected: u32 },
    #[error("storage backend: {0}")]
    Backend(String),
    #[error("not the leader: {0}")]
    NotLeader(String),
    #[error(
        "store address `{0}`: expected `redb:DIR`, a directory, or `etcd://host:port[,host:port...]`"
    )]
    Address(String),
}

/// Durable tables of keys and values, with atomic commits.
///
/// Both backends pass the same conformance suite ([`conformance`]).
pub trait Store: Send {
    /// Every `(key, value)` of a table, in key order.
    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// One value.
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Applies all of `ops` or none, durably: once this returns `Ok`, a crash of the process or
    /// the machine loses none of it. Refused with [`StoreError::NotLeader`] once this process
    /// has lost the leadership.
    fn commit(&mut self, ops: &[Op]) -> Result<(), StoreError>;

    /// Blocks until this process may write: at once for an embedded store; for a shared one,
    /// when it holds the leader lease. `who` names this process to the others.
    fn acquire_leadership(&mut self, who: &str) -> Result<(), StoreError>;

    /// Whether this process still holds the right to write.
    fn is_leader(&self) -> bool;

    /// The name of the current leader, when known.
    fn leader(&self) -> Option<String>;

    /// Where the data is, for logs.
    fn describe(&self) -> String;
}

/// Checks the schema version written in `store`, writing ours into an empty one.
pub fn check_schema(store: &mut dyn Store) -> Result<(), StoreError> {
    match store.get(Table::Meta, "schema_version")? {
        None => store.commit(&[Op::Put {
            table: Table::Meta,
            key: "schema_version".into(),
            value: SCHEMA_VERSION.to_string().into_bytes(),
        }]),
        Some(v) if v == SCHEMA_VERSION.to_string().as_bytes() => Ok(()),
        Some(v) => Err(StoreError::Schema {
            found: String::from_utf8_lossy(&v).into_owned(),
            expected: SCHEMA_VERSION,
        }),
    }
}

/// Every table of a store, for export: `(table, key, value)` in table then key order.
pub fn export(store: &dyn Store) -> Result<Vec<(Table, String, Vec<u8>)>, StoreError> {
    let mut all = Vec::new();
    for table in Table::ALL {
        for (k, v) in store.scan(table)? {
            all.push((table, k, v));
        }
    }
    Ok(all)
}

/// The conformance suite every backend passes: call each function with a fresh, empty store
/// that this process leads.
pub mod conformance {
    use super::{Op, Store, Table, log_key};

    fn put(table: Table, key: &str, value: &[u8]) -> Op {
        Op::Put {
            table,
            key: key.into(),
            value: value.to_vec(),
        }
    }

    /// Puts, overwrites and deletes are visible, tables are separate, scans are in key order.
    pub fn basic(store: &mut dyn Store) {
        assert!(store.scan(Table::Tenants).expect("scan").is_empty());
        store
            .commit(&[
                put(Table::Tenants, "b", b"2"),
                put(Table::Tenants, "a", b"1"),
                put(Table::Tokens, "a", b"token"),
            ])
            .expect("commit");
        assert_eq!(
            store.scan(Table::Tenants).expect("scan"),
            vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())]
        );
        assert_eq!(
            store.get(Table::Tokens, "a").expect("get"),
            Some(b"token".to_vec())
        );
        assert_eq!(store.get(Table::Agents, "a").expect("get"), None);
        store
            .commit(&[
                put(Table::Tenants, "a", b"one"),
                Op::Delete {
                    table: Table::Tenants,
                    key: "b".into(),
                },
                Op::Delete {
                    table: Table::Tenants,
                    key: "never-there".into(),
                },
            ])
            .expect("commit");
        assert_eq!(
            store.scan(Table::Tenants).expect("scan"),
            vec![("a".into(), b"one".to_vec())]
        );
    }

    /// Log keys scan in numeric order, past the width of a decimal digit; binary values and
    /// empty values survive.
    pub fn log_order(store: &mut dyn Store) {
        let ops: Vec<Op> = [1_000u64, 9, 10, 2, 100_000]
            .iter()
            .map(|&n| put(Table::Log, &log_key(n), &n.to_le_bytes()))
            .chain([
                put(Table::Meta, "empty", b""),
                put(Table::Meta, "bin", &[0, 255, 10]),
            ])
            .collect();
        store.commit(&ops).expect("commit");
        let seen: Vec<u64> = store
            .scan(Table::Log)
            .expect("scan")
            .iter()
            .map(|(k, _)| k.parse().expect("numeric key"))
            .collect();
        assert_eq!(seen, vec![2, 9, 10, 1_000, 100_000]);
        assert_eq!(store.get(Table::Meta, "empty").expect("get"), Some(vec![]));
        assert_eq!(
            store.get(Table::Meta, "bin").expect("get"),
            Some(vec![0, 255, 10])
        );
    }

    /// A large commit (a batch of decisions) is applied whole.
    pub fn large_batch(store: &mut dyn Store) {
        let ops: Vec<Op> = (0..2_000u64)
            .map(|n| put(Table::Log, &log_key(n), &[7u8; 300]))
            .collect();
        store.commit(&ops).expect("commit");
        assert_eq!(store.scan(Table::Log).expect("scan").len(), 2_000);
    }

    /// The leader of a fresh store is this process.
    pub fn leadership(store: &mut dyn Store) {
        store.acquire_leadership("conformance").expect("lead");
        assert!(store.is_leader());
        assert_eq!(store.leader().as_deref(), Some("conformance"));
    }
}
