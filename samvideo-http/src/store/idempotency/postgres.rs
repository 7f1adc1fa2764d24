//! `idempotency_keys` on Postgres: the statements of `store::idempotency`, run inside the
//! create's transaction after it locked the account, so two creates with one key on two nodes
//! store one task.

use tokio_postgres::GenericClient;

use super::IdempotencyKey;
use crate::store::{now_rfc3339, StoreError};

/// The task an earlier create with `key` stored, if it counts from `key.since`.
pub(in crate::store) async fn find(
    c: &impl GenericClient,
    key_id: i64,
    key: &IdempotencyKey,
) -> Result<Option<String>, StoreError> {
    let r = c
        .query_opt(
            "SELECT task_id FROM idempotency_keys WHERE api_key_id = $1 AND key = $2 AND created_at >= $3",
            &[&key_id, &key.key, &key.since],
        )
        .await?;
    Ok(r.map(|r| r.try_get(0)).transpose()?)
}

/// Remember that `key` stored `task_id` (replacing an expired use).
pub(in crate::store) async fn remember(
    c: &impl GenericClient,
    key_id: i64,
    key: &IdempotencyKey,
    task_id: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO idempotency_keys (api_key_id, key, task_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (api_key_id, key) DO UPDATE SET task_id = EXCLUDED.task_id, created_at = EXCLUDED.created_at",
        &[&key_id, &key.key, &task_id, &now_rfc3339()],
    )
    .await?;
    Ok(())
}
