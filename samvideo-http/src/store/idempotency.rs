//! `Idempotency-Key`s of creates: the `idempotency_keys` table, one row per (key, idempotency
//! key) naming the task its first create stored, so a retried create returns that task
//! instead of storing (and charging) another, on whichever node it lands.
//!
//! Enter: the key a create presents, with the oldest time it still counts from
//! ([`IdempotencyKey`], given to `Store::create_task_once`). Leave: the task to replay, if any.
//! An older row is replaced by the next create that presents the same key.

use rusqlite::{params, Connection, OptionalExtension};

use super::{now_rfc3339, QuotaDecision, StoreError, TaskRow};

/// The `Idempotency-Key` of a create and how far back a first use counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The header's value.
    pub key: String,
    /// RFC 3339: an earlier use of the key is forgotten.
    pub since: String,
}

/// What [`super::Store::create_task_once`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// A first use (or no key): the quota decided, as [`super::Store::create_task`] does.
    New(QuotaDecision),
    /// The key was used within its window: the task its first create stored; nothing new.
    Replayed(Box<TaskRow>),
}

/// The task an earlier create with `key` stored, if it counts from `since`.
pub(super) fn find(conn: &Connection, key_id: i64, key: &IdempotencyKey) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT task_id FROM idempotency_keys WHERE api_key_id = ?1 AND key = ?2 AND created_at >= ?3",
            params![key_id, key.key, key.since],
            |r| r.get(0),
        )
        .optional()?)
}

/// Remember that `key` stored `task_id` (replacing an expired use).
pub(super) fn remember(conn: &Connection, key_id: i64, key: &IdempotencyKey, task_id: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO idempotency_keys (api_key_id, key, task_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![key_id, key.key, task_id, now_rfc3339()],
    )?;
    Ok(())
}
