//! `idempotency_keys` on SQLite: the statements of `store::idempotency`, run inside the
//! create's transaction.

use rusqlite::{params, Connection, OptionalExtension};

use super::IdempotencyKey;
use crate::store::{now_rfc3339, StoreError};

/// The task an earlier create with `key` stored, if it counts from `since`.
pub(in crate::store) fn find(
    conn: &Connection,
    key_id: i64,
    key: &IdempotencyKey,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT task_id FROM idempotency_keys WHERE api_key_id = ?1 AND key = ?2 AND created_at >= ?3",
            params![key_id, key.key, key.since],
            |r| r.get(0),
        )
        .optional()?)
}

/// Remember that `key` stored `task_id` (replacing an expired use).
pub(in crate::store) fn remember(
    conn: &Connection,
    key_id: i64,
    key: &IdempotencyKey,
    task_id: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO idempotency_keys (api_key_id, key, task_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![key_id, key.key, task_id, now_rfc3339()],
    )?;
    Ok(())
}
