//! Leases on render tasks on Postgres: the statements of `store::leases`. A claim finds the
//! oldest due task with `FOR UPDATE SKIP LOCKED` inside its transaction, so workers of several
//! nodes never take the same task, and asks the jobs' rule whether to take or fail it.

use super::types::{Claim, Found, LeaseState, LeaseTerms, Rescue};
use crate::store::postgres::Conn;
use crate::store::tasks::postgres::{end_where, get};
use crate::store::{now_rfc3339, StoreError, TaskUpdate};

/// A worker's end applies only while its token (`$12`) holds the task, and a part's only while
/// its video is `processing`.
const FENCED_END: &str = "status = 'processing' AND attempts = $12 \
     AND (parent_id IS NULL OR parent_id IN (SELECT p.id FROM tasks p WHERE p.status = 'processing'))";

pub(in crate::store) async fn claim(
    mut c: Conn,
    node: Option<String>,
    terms: LeaseTerms,
    parts_only: bool,
    rule: impl Fn(i64) -> Rescue,
) -> Result<Claim, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    let until = terms.now_ms.saturating_add(terms.lease_ms);
    let mut out = Claim::default();
    loop {
        let found = tx
            .query_opt(
                "SELECT seq, attempts FROM tasks WHERE (status = 'pending' \
                 OR (status = 'processing' AND lease_until_ms < $1)) AND (NOT $2 OR kind = 'part') \
                 AND (parent_id IS NULL OR parent_id IN (SELECT p.id FROM tasks p WHERE p.status = 'processing')) ORDER BY kind = 'video', seq LIMIT 1 \
                 FOR UPDATE SKIP LOCKED",
                &[&terms.now_ms, &parts_only],
            )
            .await?;
        let Some(row) = found else { break };
        let (seq, attempts): Found = (row.try_get(0)?, row.try_get(1)?);
        let now = now_rfc3339();
        match rule(attempts) {
            Rescue::Claim => {
                let r = tx
                    .query_one(
                        "UPDATE tasks SET status = 'processing', attempts = attempts + 1, progress = 0, \
                         started_at = $2, updated_at = $2, node_id = $3, lease_until_ms = $4 WHERE seq = $1 \
                         RETURNING id",
                        &[&seq, &now, &node, &until],
                    )
                    .await?;
                let id: String = r.try_get(0)?;
                out.task = get(&tx, &id).await?;
                break;
            }
            Rescue::Fail(reason) => {
                let r = tx
                    .query_one(
                        "UPDATE tasks SET status = 'failed', error = $2, completed_at = $3, updated_at = $3, \
                         lease_until_ms = NULL WHERE seq = $1 RETURNING id",
                        &[&seq, &reason, &now],
                    )
                    .await?;
                let id: String = r.try_get(0)?;
                out.failed.extend(get(&tx, &id).await?);
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}

pub(in crate::store) async fn renew(
    c: Conn,
    id: String,
    token: i64,
    terms: LeaseTerms,
) -> Result<LeaseState, StoreError> {
    let until = terms.now_ms.saturating_add(terms.lease_ms);
    let n = c
        .execute(
            "UPDATE tasks SET lease_until_ms = $3 WHERE id = $1 AND status = 'processing' AND attempts = $2 \
             AND (parent_id IS NULL OR parent_id IN (SELECT p.id FROM tasks p WHERE p.status = 'processing'))",
            &[&id, &token, &until],
        )
        .await?;
    if n == 1 {
        return Ok(LeaseState::Held);
    }
    let row =
        get(&**c, &id).await?.ok_or_else(|| StoreError::Corrupt { table: "tasks", reason: format!("{id} is gone") })?;
    Ok(LeaseState::Lost { status: row.status, attempts: row.attempts })
}

pub(in crate::store) async fn progress(c: Conn, id: String, token: i64, value: f64) -> Result<(), StoreError> {
    c.execute(
        "UPDATE tasks SET progress = $3, updated_at = $4 WHERE id = $1 AND status = 'processing' AND attempts = $2",
        &[&id, &token, &value.clamp(0.0, 1.0), &now_rfc3339()],
    )
    .await?;
    Ok(())
}

/// A worker's terminal write while `token` holds the task (a part: while its video is
/// `processing`), and the row after it.
pub(in crate::store) async fn end_as(
    c: Conn,
    id: String,
    token: i64,
    u: TaskUpdate,
) -> Result<(bool, Option<crate::store::TaskRow>), StoreError> {
    end_where(c, id, u, FENCED_END, Some(token)).await
}

/// Give a task back to the queue while `token` holds it, with the reason.
pub(in crate::store) async fn give_back(c: Conn, id: String, token: i64, reason: String) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE tasks SET status = 'pending', progress = 0, error = $3, updated_at = $4, node_id = NULL, \
             lease_until_ms = NULL WHERE id = $1 AND status = 'processing' AND attempts = $2",
            &[&id, &token, &reason, &now_rfc3339()],
        )
        .await?;
    Ok(n == 1)
}
