//! Leases on render tasks on SQLite: the statements of `store::leases`. A claim runs in an
//! IMMEDIATE transaction, so processes on the same file never take the same task.

use rusqlite::{params, Connection, OptionalExtension};

use super::types::{Claim, Found, LeaseState, LeaseTerms, Rescue};
use crate::store::tasks::sqlite::{end_where, get};
use crate::store::{now_rfc3339, StoreError, TaskUpdate};

/// A worker's end applies only while its token (`?12`) holds the task, and a part's only while
/// its video is `processing`.
const FENCED_END: &str = "status = 'processing' AND attempts = ?12 \
     AND (parent_id IS NULL OR parent_id IN (SELECT p.id FROM tasks p WHERE p.status = 'processing'))";

/// Run `f` in an IMMEDIATE transaction (the write lock first: other processes on the file wait
/// at the start instead of failing at the first write).
fn immediate<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(v) => {
            conn.execute_batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Take the oldest due task (pending, or processing under a lease that ran out; only part tasks
/// when `parts_only`; a part only while its video task is `processing`), failing on the way
/// those `rule` says have no attempts left.
pub(in crate::store) fn claim(
    conn: &Connection,
    node: Option<&str>,
    terms: LeaseTerms,
    parts_only: bool,
    rule: &dyn Fn(i64) -> Rescue,
) -> Result<Claim, StoreError> {
    immediate(conn, |c| {
        let mut out = Claim::default();
        loop {
            let found: Option<Found> = c
                .query_row(
                    "SELECT seq, attempts FROM tasks WHERE (status = 'pending' \
                     OR (status = 'processing' AND lease_until_ms < ?1)) AND (?2 = 0 OR kind = 'part') \
                     AND (parent_id IS NULL OR parent_id IN (SELECT p.id FROM tasks p WHERE p.status = 'processing')) ORDER BY kind = 'video', seq LIMIT 1",
                    params![terms.now_ms, parts_only],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((seq, attempts)) = found else { return Ok(out) };
            let now = now_rfc3339();
            match rule(attempts) {
                Rescue::Claim => {
                    let id: String = c.query_row(
                        "UPDATE tasks SET status = 'processing', attempts = attempts + 1, progress = 0, \
                         started_at = ?2, updated_at = ?2, node_id = ?3, lease_until_ms = ?4 WHERE seq = ?1 RETURNING id",
                        params![seq, now, node, terms.until()],
                        |r| r.get(0),
                    )?;
                    out.task = get(c, &id)?;
                    return Ok(out);
                }
                Rescue::Fail(reason) => {
                    let id: String = c.query_row(
                        "UPDATE tasks SET status = 'failed', error = ?2, completed_at = ?3, updated_at = ?3, \
                         lease_until_ms = NULL WHERE seq = ?1 RETURNING id",
                        params![seq, reason, now],
                        |r| r.get(0),
                    )?;
                    out.failed.extend(get(c, &id)?);
                }
            }
        }
    })
}

/// Renew the lease of `id` while `token` holds it (and, for a part, while its video task is
/// `processing`: a cancel of the video reaches its parts' workers this way).
pub(in crate::store) fn renew(
    conn: &Connection,
    id: &str,
    token: i64,
    terms: LeaseTerms,
) -> Result<LeaseState, StoreError> {
    let n = conn.execute(
        "UPDATE tasks SET lease_until_ms = ?3 WHERE id = ?1 AND status = 'processing' AND attempts = ?2 \
         AND (parent_id IS NULL OR parent_id IN (SELECT p.id FROM tasks p WHERE p.status = 'processing'))",
        params![id, token, terms.until()],
    )?;
    if n == 1 {
        return Ok(LeaseState::Held);
    }
    let row = get(conn, id)?.ok_or_else(|| StoreError::Corrupt { table: "tasks", reason: format!("{id} is gone") })?;
    Ok(LeaseState::Lost { status: row.status, attempts: row.attempts })
}

/// Progress of a task while `token` holds it.
pub(in crate::store) fn progress(conn: &Connection, id: &str, token: i64, value: f64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE tasks SET progress = ?3, updated_at = ?4 WHERE id = ?1 AND status = 'processing' AND attempts = ?2",
        params![id, token, value.clamp(0.0, 1.0), now_rfc3339()],
    )?;
    Ok(())
}

/// A worker's terminal write: applied only while `token` holds the task (and, for a part, while
/// its video is `processing`: a part finished after its video's cancel is refused).
pub(in crate::store) fn end_as(conn: &Connection, id: &str, token: i64, u: &TaskUpdate) -> Result<bool, StoreError> {
    end_where(conn, id, u, FENCED_END, Some(token))
}

/// Give a task back to the queue while `token` holds it, with the reason.
pub(in crate::store) fn give_back(conn: &Connection, id: &str, token: i64, reason: &str) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE tasks SET status = 'pending', progress = 0, error = ?3, updated_at = ?4, node_id = NULL, \
         lease_until_ms = NULL WHERE id = ?1 AND status = 'processing' AND attempts = ?2",
        params![id, token, reason, now_rfc3339()],
    )?;
    Ok(n == 1)
}
