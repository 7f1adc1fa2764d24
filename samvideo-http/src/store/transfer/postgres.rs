//! The Postgres side of `store::transfer`: the target's columns and types, and the load of
//! every table in one transaction into an empty store, then its id sequences moved past the
//! copied ids.

use tokio_postgres::types::ToSql;

use super::types::{Cell, TableRows};
use crate::store::postgres::Conn;
use crate::store::StoreError;

/// Each table's columns, in order.
pub(in crate::store) async fn columns(
    c: Conn,
    tables: &'static [&'static str],
) -> Result<Vec<Vec<String>>, StoreError> {
    let mut out = Vec::new();
    for table in tables {
        let rows = c
            .query(
                "SELECT column_name::TEXT FROM information_schema.columns \
                 WHERE table_schema::TEXT = current_schema() AND table_name::TEXT = $1 ORDER BY ordinal_position",
                &[table],
            )
            .await?;
        out.push(rows.iter().map(|r| r.try_get(0)).collect::<Result<Vec<String>, _>>()?);
    }
    Ok(out)
}

/// A value as the column's type wants it.
fn param(table: &str, column: &str, ty: &str, cell: &Cell) -> Result<Box<dyn ToSql + Sync + Send>, StoreError> {
    let bad = || StoreError::Corrupt { table: "migrate", reason: format!("{table}.{column}: {cell:?} is not {ty}") };
    Ok(match (ty, cell) {
        ("bigint", Cell::Null) => Box::new(None::<i64>),
        ("bigint", Cell::Int(n)) => Box::new(*n),
        ("integer", Cell::Null) => Box::new(None::<i32>),
        ("integer", Cell::Int(n)) => Box::new(i32::try_from(*n).map_err(|_| bad())?),
        ("boolean", Cell::Null) => Box::new(None::<bool>),
        ("boolean", Cell::Int(n)) => Box::new(*n != 0),
        ("double precision", Cell::Null) => Box::new(None::<f64>),
        ("double precision", Cell::Int(n)) => Box::new(*n as f64),
        ("double precision", Cell::Real(f)) => Box::new(*f),
        ("text", Cell::Null) => Box::new(None::<String>),
        ("text", Cell::Text(s)) => Box::new(s.clone()),
        _ => return Err(bad()),
    })
}

/// Load every table into an empty store, in one transaction.
pub(in crate::store) async fn load(mut c: Conn, tables: Vec<TableRows>) -> Result<(), StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    let held: i64 =
        tx.query_one("SELECT (SELECT COUNT(*) FROM api_keys) + (SELECT COUNT(*) FROM tasks)", &[]).await?.try_get(0)?;
    if held > 0 {
        return Err(StoreError::Migrate("the target store is not empty (it holds keys or tasks)".into()));
    }
    for t in &tables {
        let mut types = Vec::new();
        for column in &t.columns {
            let r = tx
                .query_one(
                    "SELECT data_type::TEXT FROM information_schema.columns \
                     WHERE table_schema::TEXT = current_schema() AND table_name::TEXT = $1 AND column_name::TEXT = $2",
                    &[&t.table, column],
                )
                .await?;
            types.push(r.try_get::<_, String>(0)?);
        }
        let placeholders: Vec<String> = (1..=t.columns.len()).map(|i| format!("${i}")).collect();
        let insert = tx
            .prepare(&format!(
                "INSERT INTO {} ({}) VALUES ({})",
                t.table,
                t.columns.join(", "),
                placeholders.join(", ")
            ))
            .await?;
        for row in &t.rows {
            let params = row
                .iter()
                .zip(t.columns.iter().zip(&types))
                .map(|(cell, (column, ty))| param(t.table, column, ty, cell))
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
            tx.execute(&insert, &refs).await?;
        }
    }
    let identities = tx
        .query(
            "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
             WHERE table_schema::TEXT = current_schema() AND is_identity::TEXT = 'YES'",
            &[],
        )
        .await?;
    for r in &identities {
        let (table, column): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            ),
            &[],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
