//! Moving a single-node store into a shared one (`samvideo store migrate`): every row of every
//! table of a SQLite store is copied, ids and times as they are, into an empty Postgres store,
//! in one Postgres transaction; then the Postgres id sequences are moved past the copied ids.
//!
//! The columns are the target's (read from Postgres's catalog), so a table or column added to
//! both schemas is carried without a change here; a Postgres `seq` column that SQLite keeps as
//! its `rowid` (templates, deliveries) is filled from it, which keeps their order.
//!
//! Enter: [`Store::migrate_to`]. Leave: how many rows each table received.

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::postgres::transfer as pg;
use super::{Backend, Store, StoreError};

/// The tables, parents before the rows that refer to them.
pub(super) const TABLES: &[&str] = &[
    "api_keys",
    "tasks",
    "templates",
    "export_deliveries",
    "sftp_host_keys",
    "ai_jobs",
    "credit_ledger",
    "video_pack_ledger",
    "stripe_checkouts",
    "rate_hits",
    "idempotency_keys",
];

/// One stored value on its way between backends.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// The rows of one table, in the target's column order.
pub(super) struct TableRows {
    pub(super) table: &'static str,
    pub(super) columns: Vec<String>,
    pub(super) rows: Vec<Vec<Cell>>,
}

/// Read `columns` of every row of `table`, oldest first (`seq` from `rowid` when SQLite has no
/// such column).
fn read(conn: &Connection, table: &'static str, columns: &[String]) -> Result<TableRows, StoreError> {
    let mut info = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let present = info.query_map([], |r| r.get::<_, String>(1))?.collect::<Result<Vec<_>, _>>()?;
    let select: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            c if present.iter().any(|p| p == c) => c.to_string(),
            "seq" => "rowid".to_string(),
            other => format!("NULL AS {other}"),
        })
        .collect();
    let mut st = conn.prepare(&format!("SELECT {} FROM {table} ORDER BY rowid", select.join(", ")))?;
    let rows = st
        .query_map([], |r| {
            (0..columns.len())
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(n) => Cell::Int(n),
                        ValueRef::Real(f) => Cell::Real(f),
                        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(_) => Cell::Null,
                    })
                })
                .collect::<rusqlite::Result<Vec<Cell>>>()
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TableRows { table, columns: columns.to_vec(), rows })
}

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
            TABLES.iter().zip(columns).map(|(table, columns)| read(c, table, &columns)).collect::<Result<Vec<_>, _>>()
        })?;
        let counts = tables.iter().map(|t| (t.table, t.rows.len())).collect();
        to.block(move |c| pg::load(c, tables))?;
        Ok(counts)
    }
}
