//! `tasks` on Postgres: the statements of `store::tasks`. A claim takes the oldest pending row
//! with `FOR UPDATE SKIP LOCKED`, so workers of several nodes never take the same task.

use tokio_postgres::{GenericClient, Row};

use super::types::{finish, NewTask, StatusCounts, TaskKind, TaskRow, TaskStatus, TaskUpdate, COLS};
use crate::store::postgres::Conn;
use crate::store::{now_rfc3339, LeaseTerms, StoreError};

fn read(r: &Row) -> Result<TaskRow, StoreError> {
    let row = TaskRow {
        id: r.try_get(0)?,
        celery_task_id: r.try_get(1)?,
        api_key_id: r.try_get(2)?,
        endpoint: r.try_get(3)?,
        request_json: r.try_get(4)?,
        exports_json: r.try_get(5)?,
        request_id: r.try_get(6)?,
        status: TaskStatus::Pending,
        progress: r.try_get(8)?,
        error: r.try_get(9)?,
        aspect_ratio: r.try_get(10)?,
        duration: r.try_get(11)?,
        size_bytes: r.try_get(12)?,
        output_file: r.try_get(13)?,
        attempts: r.try_get(14)?,
        export_delivery: r.try_get(15)?,
        created_at: r.try_get(16)?,
        completed_at: r.try_get(17)?,
        thumbnail_file: r.try_get(18)?,
        subtitles_file: r.try_get(19)?,
        kind: TaskKind::Video,
        output_expired_at: r.try_get(21)?,
        parent_id: r.try_get(22)?,
    };
    finish((row, r.try_get(7)?, r.try_get(20)?))
}

/// Store a new `pending` video task.
pub(in crate::store) async fn insert(c: &impl GenericClient, t: &NewTask) -> Result<(), StoreError> {
    insert_as(c, t, TaskKind::Video).await
}

/// Store a new `pending` task of `kind`.
pub(in crate::store) async fn insert_as(c: &impl GenericClient, t: &NewTask, kind: TaskKind) -> Result<(), StoreError> {
    let now = now_rfc3339();
    c.execute(
        "INSERT INTO tasks (id, celery_task_id, api_key_id, endpoint, request_json, exports_json, \
         request_id, status, aspect_ratio, created_at, updated_at, kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $9, $10)",
        &[
            &t.id,
            &t.celery_task_id,
            &t.api_key_id,
            &t.endpoint,
            &t.request_json,
            &t.exports_json,
            &t.request_id,
            &t.aspect_ratio,
            &now,
            &kind.as_str(),
        ],
    )
    .await?;
    Ok(())
}

/// By task id.
pub(in crate::store) async fn get(c: &impl GenericClient, id: &str) -> Result<Option<TaskRow>, StoreError> {
    let r = c.query_opt(&format!("SELECT {COLS} FROM tasks WHERE id = $1"), &[&id]).await?;
    r.as_ref().map(read).transpose()
}

pub(in crate::store) async fn get_any(c: Conn, id: String) -> Result<Option<TaskRow>, StoreError> {
    let r = c.query_opt(&format!("SELECT {COLS} FROM tasks WHERE id = $1 OR celery_task_id = $1"), &[&id]).await?;
    r.as_ref().map(read).transpose()
}

pub(in crate::store) async fn list(
    c: Conn,
    key_id: i64,
    status: Option<TaskStatus>,
    limit: u32,
) -> Result<Vec<TaskRow>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLS} FROM tasks WHERE api_key_id = $1 AND ($2::TEXT IS NULL OR status = $2) AND kind = 'video' \
                 ORDER BY seq DESC LIMIT $3"
            ),
            &[&key_id, &status.map(|s| s.as_str()), &i64::from(limit)],
        )
        .await?;
    rows.iter().map(read).collect()
}

/// Terminal write (false when the task had already ended) and the row after it.
pub(in crate::store) async fn end(c: Conn, id: String, u: TaskUpdate) -> Result<(bool, Option<TaskRow>), StoreError> {
    end_where(c, id, u, "status IN ('pending', 'processing')", None).await
}

/// The one terminal write of a task, where `condition` also holds, and the row after it; a
/// fenced end (`store::leases`) names its token as `$12` in `condition` and passes it as `token`.
pub(in crate::store) async fn end_where(
    c: Conn,
    id: String,
    u: TaskUpdate,
    condition: &str,
    token: Option<i64>,
) -> Result<(bool, Option<TaskRow>), StoreError> {
    let now = now_rfc3339();
    let progress = if u.status == TaskStatus::Completed { Some(1.0f64) } else { None };
    let status = u.status.as_str();
    let mut values: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![
        &id,
        &status,
        &u.error,
        &u.duration,
        &u.size_bytes,
        &u.output_file,
        &u.render_seconds,
        &progress,
        &now,
        &u.thumbnail_file,
        &u.subtitles_file,
    ];
    if let Some(token) = token.as_ref() {
        values.push(token);
    }
    let n = c
        .execute(
            &format!(
                "UPDATE tasks SET status = $2, error = $3, duration = $4, size_bytes = $5, output_file = $6, \
                 render_seconds = $7, progress = COALESCE($8, progress), completed_at = $9, updated_at = $9, \
                 thumbnail_file = $10, subtitles_file = $11, lease_until_ms = NULL WHERE id = $1 AND {condition}"
            ),
            &values,
        )
        .await?;
    Ok((n == 1, get(&**c, &id).await?))
}

pub(in crate::store) async fn set_export_delivery(c: Conn, id: String, json: String) -> Result<(), StoreError> {
    c.execute("UPDATE tasks SET export_delivery = $2 WHERE id = $1", &[&id, &json]).await?;
    Ok(())
}

/// After a crash: the node's processing tasks (and unmarked ones) go back to pending while
/// they have attempts left, otherwise they fail with a reason. Returns (requeued, failed) ids.
pub(in crate::store) async fn recover(
    mut c: Conn,
    max_attempts: u32,
    node: Option<String>,
) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let now = now_rfc3339();
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    let requeued = tx
        .query(
            "UPDATE tasks SET status = 'pending', progress = 0, updated_at = $2, node_id = NULL, lease_until_ms = NULL \
             WHERE status = 'processing' AND (node_id IS NULL OR node_id = $3) AND attempts < $1 RETURNING id",
            &[&i64::from(max_attempts), &now, &node],
        )
        .await?;
    let failed = tx
        .query(
            "UPDATE tasks SET status = 'failed', updated_at = $1, completed_at = $1, lease_until_ms = NULL, \
             error = 'Render interrupted: the server stopped while rendering this task ' || attempts || ' time(s)' \
             WHERE status = 'processing' AND (node_id IS NULL OR node_id = $2) RETURNING id",
            &[&now, &node],
        )
        .await?;
    tx.commit().await?;
    let ids = |rows: Vec<Row>| rows.iter().map(|r| r.try_get(0)).collect::<Result<Vec<String>, _>>();
    Ok((ids(requeued)?, ids(failed)?))
}

/// Video tasks a key created at or after `since` (RFC 3339), any state.
pub(in crate::store) async fn count_since(c: &impl GenericClient, key_id: i64, since: &str) -> Result<i64, StoreError> {
    let r = c
        .query_one(
            "SELECT COUNT(*) FROM tasks WHERE api_key_id = $1 AND created_at >= $2 AND kind = 'video'",
            &[&key_id, &since],
        )
        .await?;
    Ok(r.try_get(0)?)
}

/// Per-state counts of a key's video tasks since `since`; all keys when `key_id` is None.
pub(in crate::store) async fn status_counts(
    c: &impl GenericClient,
    key_id: Option<i64>,
    since: &str,
) -> Result<StatusCounts, StoreError> {
    let rows = c
        .query(
            "SELECT status, COUNT(*) FROM tasks WHERE ($1::BIGINT IS NULL OR api_key_id = $1) AND created_at >= $2 \
             AND kind = 'video' \
             GROUP BY status",
            &[&key_id, &since],
        )
        .await?;
    let mut out = StatusCounts::default();
    for r in &rows {
        out.set(r.try_get::<_, &str>(0)?, r.try_get(1)?);
    }
    Ok(out)
}

/// Retention: hold until `terms.until()` up to `limit` completed tasks that ended before `before`
/// and still have their objects. `FOR UPDATE SKIP LOCKED`: sweeps of several nodes never hold
/// the same task.
pub(in crate::store) async fn claim_expired(
    c: Conn,
    before: String,
    terms: LeaseTerms,
    limit: u32,
) -> Result<Vec<TaskRow>, StoreError> {
    let rows = c
        .query(
            &format!(
                "UPDATE tasks SET purge_until_ms = $3 WHERE seq IN (SELECT seq FROM tasks WHERE status = 'completed' AND kind = 'video' \
                 AND output_file IS NOT NULL AND output_expired_at IS NULL AND completed_at < $1 \
                 AND (purge_until_ms IS NULL OR purge_until_ms < $2) ORDER BY completed_at, seq LIMIT $4 \
                 FOR UPDATE SKIP LOCKED) RETURNING {COLS}"
            ),
            &[&before, &terms.now_ms, &terms.until(), &i64::from(limit)],
        )
        .await?;
    rows.iter().map(read).collect()
}

/// Retention: the held task's objects are gone since `at`; false when it was already marked.
pub(in crate::store) async fn mark_expired(c: Conn, id: String, at: String) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE tasks SET output_expired_at = $2, purge_until_ms = NULL \
             WHERE id = $1 AND output_expired_at IS NULL",
            &[&id, &at],
        )
        .await?;
    Ok(n == 1)
}
