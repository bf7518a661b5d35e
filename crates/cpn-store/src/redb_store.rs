//! The embedded backend: one redb file in the data directory. redb commits are copy-on-write
//! with a checksummed header flip, so a process killed in the middle of a commit leaves the
//! previous commit intact.

use std::path::{Path, PathBuf};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{Op, Store, StoreError, Table};

const FILE: &str = "cpn.redb";

fn definition(table: Table) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(table.name())
}

/// A redb database in a data directory.
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    path: PathBuf,
    leader: Option<String>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl RedbStore {
    /// Opens (or creates) the database in `dir`, creating the directory. Fails when another
    /// process has it open.
    pub fn open(dir: &Path) -> Result<RedbStore, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: dir.display().to_string(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        let path = dir.join(FILE);
        let db = Database::create(&path).map_err(|e| open_err(e.to_string()))?;
        // Create every table up front so that reads never meet a missing one.
        let tx = db.begin_write().map_err(backend)?;
        for table in Table::ALL {
            tx.open_table(definition(table)).map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        Ok(RedbStore {
            db,
            path,
            leader: None,
        })
    }
}

impl Store for RedbStore {
    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let tx = self.db.begin_read().map_err(backend)?;
        let t = tx.open_table(definition(table)).map_err(backend)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(backend)? {
            let (k, v) = row.map_err(backend)?;
            out.push((k.value().to_string(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(backend)?;
        let t = tx.open_table(definition(table)).map_err(backend)?;
        Ok(t.get(key).map_err(backend)?.map(|v| v.value().to_vec()))
    }

    fn commit(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write().map_err(backend)?;
        tx.set_durability(Durability::Immediate).map_err(backend)?;
        for op in ops {
            match op {
                Op::Put { table, key, value } => {
                    let mut t = tx.open_table(definition(*table)).map_err(backend)?;
                    t.insert(key.as_str(), value.as_slice()).map_err(backend)?;
                }
                Op::Delete { table, key } => {
                    let mut t = tx.open_table(definition(*table)).map_err(backend)?;
                    t.remove(key.as_str()).map_err(backend)?;
                }
            }
        }
        tx.commit().map_err(backend)
    }

    fn acquire_leadership(&mut self, who: &str) -> Result<(), StoreError> {
        // The database file is locked by this process: it is the only writer there can be.
        self.leader = Some(who.to_string());
        Ok(())
    }

    fn is_leader(&self) -> bool {
        true
    }

    fn leader(&self) -> Option<String> {
        self.leader.clone()
    }

    fn describe(&self) -> String {
        format!("redb {}", self.path.display())
    }
}
