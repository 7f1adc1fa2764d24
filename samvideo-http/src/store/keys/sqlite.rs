//! `api_keys` on SQLite: the statements of `store::keys`.

use rusqlite::{params, Connection, OptionalExtension};

use super::types::{finish, hash_key, mask_key, new_secret, KeyRow, NewKey, COLS};
use crate::billing::BillingPlan;
use crate::store::{now_rfc3339, StoreError};

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(KeyRow, String)> {
    let plan: String = r.get(2)?;
    Ok((
        KeyRow {
            id: r.get(0)?,
            name: r.get(1)?,
            plan: BillingPlan::Free,
            masked: r.get(3)?,
            active: r.get::<_, i64>(4)? != 0,
            usage_count: r.get(5)?,
            last_used: r.get(6)?,
            created_at: r.get(7)?,
        },
        plan,
    ))
}

/// Create a key with a new random secret.
pub(in crate::store) fn create(conn: &Connection, name: &str, plan: BillingPlan) -> Result<NewKey, StoreError> {
    let key = new_secret();
    let masked = mask_key(&key);
    conn.execute(
        "INSERT INTO api_keys (name, plan, key_hash, masked, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, plan.as_str(), hash_key(&key), masked, now_rfc3339()],
    )?;
    let id = conn.last_insert_rowid();
    let row = get(conn, id)?
        .ok_or_else(|| StoreError::Corrupt { table: "api_keys", reason: "inserted row vanished".into() })?;
    Ok(NewKey { row, key })
}

/// One key by id.
pub(in crate::store) fn get(conn: &Connection, id: i64) -> Result<Option<KeyRow>, StoreError> {
    let r = conn.query_row(&format!("SELECT {COLS} FROM api_keys WHERE id = ?1"), [id], row).optional()?;
    r.map(finish).transpose()
}

/// All keys, oldest first.
pub(in crate::store) fn list(conn: &Connection) -> Result<Vec<KeyRow>, StoreError> {
    let mut st = conn.prepare(&format!("SELECT {COLS} FROM api_keys ORDER BY id"))?;
    let rows = st.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(finish).collect()
}

/// Revoke by id; false when no such active key.
pub(in crate::store) fn revoke(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE api_keys SET active = 0, revoked_at = ?2 WHERE id = ?1 AND active = 1",
        params![id, now_rfc3339()],
    )?;
    Ok(n == 1)
}

/// Look a presented key up; counts the use when the key is active.
pub(in crate::store) fn authenticate(conn: &Connection, key: &str) -> Result<Option<KeyRow>, StoreError> {
    let hash = hash_key(key);
    let found = conn.query_row(&format!("SELECT {COLS} FROM api_keys WHERE key_hash = ?1"), [&hash], row).optional()?;
    let Some(found) = found else { return Ok(None) };
    let mut k = finish(found)?;
    if k.active {
        let now = now_rfc3339();
        conn.execute(
            "UPDATE api_keys SET usage_count = usage_count + 1, last_used = ?2 WHERE id = ?1",
            params![k.id, now],
        )?;
        k.usage_count += 1;
        k.last_used = Some(now);
    }
    Ok(Some(k))
}
