//! `tasks` on SQLite: the statements of `store::tasks`.

use rusqlite::{params, Connection, OptionalExtension};

use super::types::{finish, NewTask, StatusCounts, TaskKind, TaskRow, TaskStatus, TaskUpdate, COLS};
use crate::store::{now_rfc3339, LeaseTerms, StoreError};

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<(TaskRow, String, String)> {
    let status: String = r.get(7)?;
    Ok((
        TaskRow {
            id: r.get(0)?,
            celery_task_id: r.get(1)?,
            api_key_id: r.get(2)?,
            endpoint: r.get(3)?,
            request_json: r.get(4)?,
            exports_json: r.get(5)?,
            request_id: r.get(6)?,
            status: TaskStatus::Pending,
            progress: r.get(8)?,
            error: r.get(9)?,
            aspect_ratio: r.get(10)?,
            duration: r.get(11)?,
            size_bytes: r.get(12)?,
            output_file: r.get(13)?,
            attempts: r.get(14)?,
            export_delivery: r.get(15)?,
            created_at: r.get(16)?,
            completed_at: r.get(17)?,
            thumbnail_file: r.get(18)?,
            subtitles_file: r.get(19)?,
            kind: TaskKind::Video,
            output_expired_at: r.get(21)?,
            parent_id: r.get(22)?,
        },
        status,
        r.get(20)?,
    ))
}

/// Store a new `pending` video task.
pub(in crate::store) fn insert(conn: &Connection, t: &NewTask) -> Result<(), StoreError> {
    insert_as(conn, t, TaskKind::Video)
}

/// Store a new `pending` task of `kind`.
pub(in crate::store) fn insert_as(conn: &Connection, t: &NewTask, kind: TaskKind) -> Result<(), StoreError> {
    let now = now_rfc3339();
    conn.execute(
        "INSERT INTO tasks (id, celery_task_id, api_key_id, endpoint, request_json, exports_json, \
         request_id, status, aspect_ratio, created_at, updated_at, kind) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?9, ?10)",
        params![
            t.id,
            t.celery_task_id,
            t.api_key_id,
            t.endpoint,
            t.request_json,
            t.exports_json,
            t.request_id,
            t.aspect_ratio,
            now,
            kind.as_str()
        ],
    )?;
    Ok(())
}

/// By task id.
pub(in crate::store) fn get(conn: &Connection, id: &str) -> Result<Option<TaskRow>, StoreError> {
    let r = conn.query_row(&format!("SELECT {COLS} FROM tasks WHERE id = ?1"), [id], read).optional()?;
    r.map(finish).transpose()
}

/// By task id or worker-layer id.
pub(in crate::store) fn get_any(conn: &Connection, id: &str) -> Result<Option<TaskRow>, StoreError> {
    let r = conn
        .query_row(&format!("SELECT {COLS} FROM tasks WHERE id = ?1 OR celery_task_id = ?1"), [id], read)
        .optional()?;
    r.map(finish).transpose()
}

/// A key's newest video tasks, optionally of one state.
pub(in crate::store) fn list(
    conn: &Connection,
    key_id: i64,
    status: Option<TaskStatus>,
    limit: u32,
) -> Result<Vec<TaskRow>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM tasks WHERE api_key_id = ?1 AND (?2 IS NULL OR status = ?2) AND kind = 'video' \
         ORDER BY seq DESC LIMIT ?3"
    ))?;
    let rows =
        st.query_map(params![key_id, status.map(|s| s.as_str()), limit], read)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(finish).collect()
}

/// Terminal write; false when the task had already ended (e.g. cancelled meanwhile).
pub(in crate::store) fn end(conn: &Connection, id: &str, u: &TaskUpdate) -> Result<bool, StoreError> {
    end_where(conn, id, u, "status IN ('pending', 'processing')", None)
}

/// The one terminal write of a task, where `condition` also holds; a fenced end (`store::leases`)
/// names its token as `?12` in `condition` and passes it as `token`.
pub(in crate::store) fn end_where(
    conn: &Connection,
    id: &str,
    u: &TaskUpdate,
    condition: &str,
    token: Option<i64>,
) -> Result<bool, StoreError> {
    let now = now_rfc3339();
    let progress = if u.status == TaskStatus::Completed { Some(1.0) } else { None };
    let status = u.status.as_str();
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![
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
    let n = conn.execute(
        &format!(
            "UPDATE tasks SET status = ?2, error = ?3, duration = ?4, size_bytes = ?5, output_file = ?6, \
             render_seconds = ?7, progress = COALESCE(?8, progress), completed_at = ?9, updated_at = ?9, \
             thumbnail_file = ?10, subtitles_file = ?11, lease_until_ms = NULL WHERE id = ?1 AND {condition}"
        ),
        rusqlite::params_from_iter(values),
    )?;
    Ok(n == 1)
}

/// Put delivery results on a task.
pub(in crate::store) fn set_export_delivery(conn: &Connection, id: &str, json: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE tasks SET export_delivery = ?2 WHERE id = ?1", params![id, json])?;
    Ok(())
}

/// After a crash: the node's processing tasks (and unmarked ones) go back to pending while
/// they have attempts left, otherwise they fail with a reason. Returns (requeued, failed) ids.
pub(in crate::store) fn recover(
    conn: &Connection,
    max_attempts: u32,
    node: Option<&str>,
) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let now = now_rfc3339();
    let mut st = conn.prepare(
        "UPDATE tasks SET status = 'pending', progress = 0, updated_at = ?2, node_id = NULL, lease_until_ms = NULL \
         WHERE status = 'processing' AND (node_id IS NULL OR node_id = ?3) AND attempts < ?1 RETURNING id",
    )?;
    let requeued = st.query_map(params![max_attempts, now, node], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    let mut st = conn.prepare(
        "UPDATE tasks SET status = 'failed', updated_at = ?1, completed_at = ?1, lease_until_ms = NULL, \
         error = 'Render interrupted: the server stopped while rendering this task ' || attempts || ' time(s)' \
         WHERE status = 'processing' AND (node_id IS NULL OR node_id = ?2) RETURNING id",
    )?;
    let failed = st.query_map(params![now, node], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok((requeued, failed))
}

/// Video tasks a key created at or after `since` (RFC 3339), any state.
pub(in crate::store) fn count_since(conn: &Connection, key_id: i64, since: &str) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM tasks WHERE api_key_id = ?1 AND created_at >= ?2 AND kind = 'video'",
        params![key_id, since],
        |r| r.get(0),
    )?)
}

/// Per-state counts of a key's video tasks since `since`; all keys when `key_id` is None.
pub(in crate::store) fn status_counts(
    conn: &Connection,
    key_id: Option<i64>,
    since: &str,
) -> Result<StatusCounts, StoreError> {
    let mut st = conn.prepare(
        "SELECT status, COUNT(*) FROM tasks WHERE (?1 IS NULL OR api_key_id = ?1) AND created_at >= ?2 \
         AND kind = 'video' \
         GROUP BY status",
    )?;
    let mut out = StatusCounts::default();
    let rows = st.query_map(params![key_id, since], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (status, n) = row?;
        out.set(&status, n);
    }
    Ok(out)
}

/// Retention: hold until `terms.until()` up to `limit` completed tasks that ended before `before`
/// and still have their objects (and no live hold of another sweep). One statement: two sweeps
/// on the file never hold the same task.
pub(in crate::store) fn claim_expired(
    conn: &Connection,
    before: &str,
    terms: LeaseTerms,
    limit: u32,
) -> Result<Vec<TaskRow>, StoreError> {
    let mut st = conn.prepare(&format!(
        "UPDATE tasks SET purge_until_ms = ?3 WHERE seq IN (SELECT seq FROM tasks WHERE status = 'completed' AND kind = 'video' \
         AND output_file IS NOT NULL AND output_expired_at IS NULL AND completed_at < ?1 \
         AND (purge_until_ms IS NULL OR purge_until_ms < ?2) ORDER BY completed_at, seq LIMIT ?4) \
         RETURNING {COLS}"
    ))?;
    let rows =
        st.query_map(params![before, terms.now_ms, terms.until(), limit], read)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(finish).collect()
}

/// Retention: the held task's objects are gone since `at`; false when it was already marked.
pub(in crate::store) fn mark_expired(conn: &Connection, id: &str, at: &str) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE tasks SET output_expired_at = ?2, purge_until_ms = NULL WHERE id = ?1 AND output_expired_at IS NULL",
        params![id, at],
    )?;
    Ok(n == 1)
}
