//! Moving a single-node store into a shared one (`samvideo store migrate`): every row of every
//! table of a SQLite store is copied, ids and times as they are, into an empty Postgres store,
//! in one Postgres transaction; then the Postgres id sequences are moved past the copied ids.
//!
//! The columns are the target's (read from Postgres's catalog), so a table or column added to
//! both schemas is carried without a change here; a Postgres `seq` column that SQLite keeps as
//! its `rowid` (templates, deliveries) is filled from it, which keeps their order.
//!
//! Enter: [`Store::migrate_to`]. Leave: how many rows each table received.
//!
//! [`Store::migrate_to`] reads with `sqlite.rs` and loads with `postgres.rs`; both take and
//! return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

use self::postgres as pg;
use self::types::TABLES;
use crate::store::{Backend, Store, StoreError};

impl Store {
    /// Copy every row of this store (SQLite) into `target`, an empty Postgres store (its
    /// schema made by [`Store::connect`]), in one transaction: ids, key hashes, ledgers and
    /// times as they are, so keys keep working and nothing is charged twice. Returns the rows
    /// each table received. Blocks the calling thread.
    pub fn migrate_to(&self, target: &Store) -> Result<Vec<(&'static str, usize)>, StoreError> {
        let (Backend::Sqlite(from), Backend::Postgres(to)) = (&self.backend, &target.backend) else {
            return Err(StoreError::Migrate("only from a sqlite: store to a postgres:// store".into()));
        };
        let columns = to.block(|c| pg::columns(c, TABLES))?;
        let tables = from.with(|c| {
            TABLES
                .iter()
                .zip(columns)
                .map(|(table, columns)| sqlite::read(c, table, &columns))
                .collect::<Result<Vec<_>, _>>()
        })?;
        let counts = tables.iter().map(|t| (t.table, t.rows.len())).collect();
        to.block(move |c| pg::load(c, tables))?;
        Ok(counts)
    }
}
