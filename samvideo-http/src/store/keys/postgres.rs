//! `api_keys` on Postgres: the statements of `store::keys`.

use tokio_postgres::{GenericClient, Row};

use super::types::{finish, hash_key, mask_key, new_secret, KeyRow, NewKey, COLS};
use crate::billing::BillingPlan;
use crate::store::postgres::Conn;
use crate::store::{now_rfc3339, StoreError};

fn read(r: &Row) -> Result<KeyRow, StoreError> {
    let row = KeyRow {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        plan: BillingPlan::Free,
        masked: r.try_get(3)?,
        active: r.try_get(4)?,
        usage_count: r.try_get(5)?,
        last_used: r.try_get(6)?,
        created_at: r.try_get(7)?,
    };
    finish((row, r.try_get(2)?))
}

/// One key by id.
pub(in crate::store) async fn get(c: &impl GenericClient, id: i64) -> Result<Option<KeyRow>, StoreError> {
    let r = c.query_opt(&format!("SELECT {COLS} FROM api_keys WHERE id = $1"), &[&id]).await?;
    r.as_ref().map(read).transpose()
}

pub(in crate::store) async fn create(c: Conn, name: String, plan: BillingPlan) -> Result<NewKey, StoreError> {
    let key = new_secret();
    let r = c
        .query_one(
            &format!(
                "INSERT INTO api_keys (name, plan, key_hash, masked, created_at) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING {COLS}"
            ),
            &[&name, &plan.as_str(), &hash_key(&key), &mask_key(&key), &now_rfc3339()],
        )
        .await?;
    Ok(NewKey { row: read(&r)?, key })
}

pub(in crate::store) async fn list(c: Conn) -> Result<Vec<KeyRow>, StoreError> {
    let rows = c.query(&format!("SELECT {COLS} FROM api_keys ORDER BY id"), &[]).await?;
    rows.iter().map(read).collect()
}

pub(in crate::store) async fn revoke(c: Conn, id: i64) -> Result<bool, StoreError> {
    let n = c
        .execute("UPDATE api_keys SET active = FALSE, revoked_at = $2 WHERE id = $1 AND active", &[&id, &now_rfc3339()])
        .await?;
    Ok(n == 1)
}

/// Count the use of an active key in one statement (concurrent requests on several nodes
/// each count); a revoked key is read as it is.
pub(in crate::store) async fn authenticate(c: Conn, key: String) -> Result<Option<KeyRow>, StoreError> {
    let hash = hash_key(&key);
    let used = c
        .query_opt(
            &format!(
                "UPDATE api_keys SET usage_count = usage_count + 1, last_used = $2 WHERE key_hash = $1 AND active \
                 RETURNING {COLS}"
            ),
            &[&hash, &now_rfc3339()],
        )
        .await?;
    if let Some(r) = used {
        return read(&r).map(Some);
    }
    let r = c.query_opt(&format!("SELECT {COLS} FROM api_keys WHERE key_hash = $1"), &[&hash]).await?;
    r.as_ref().map(read).transpose()
}
