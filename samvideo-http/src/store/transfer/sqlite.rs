//! The SQLite side of `store::transfer`: every row of a table, read as [`Cell`]s.

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::types::{Cell, TableRows};
use crate::store::StoreError;

/// Read `columns` of every row of `table`, oldest first (`seq` from `rowid` when SQLite has no
/// such column).
pub(in crate::store) fn read(
    conn: &Connection,
    table: &'static str,
    columns: &[String],
) -> Result<TableRows, StoreError> {
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
