//! Part tasks on SQLite: the statements of `store::parts`.

use rusqlite::{params, Connection, OptionalExtension};

use super::types::{status, NewPart, PartRow, PART_COLS};
use crate::store::{now_rfc3339, StoreError};

/// Queue `parts` of the video task `parent` (copying its owner and request), each once: a
/// part already queued (by an earlier attempt) is left as it is.
pub(in crate::store) fn add(conn: &Connection, parent: &str, parts: &[NewPart]) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    let now = now_rfc3339();
    for p in parts {
        tx.execute(
            "INSERT INTO tasks (id, celery_task_id, api_key_id, endpoint, request_json, request_id, status, \
             aspect_ratio, created_at, updated_at, kind, parent_id, part, part_frames) \
             SELECT ?1, ?2, api_key_id, endpoint, request_json, ?3, 'pending', aspect_ratio, ?5, ?5, 'part', id, ?3, ?4 \
             FROM tasks WHERE id = ?6 ON CONFLICT DO NOTHING",
            params![
                uuid::Uuid::new_v4().to_string(),
                uuid::Uuid::new_v4().to_string(),
                p.part,
                p.frames,
                now,
                parent
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The part tasks of `parent`, in the order they were queued.
pub(in crate::store) fn of(conn: &Connection, parent: &str) -> Result<Vec<PartRow>, StoreError> {
    let mut st = conn.prepare(&format!("SELECT {PART_COLS} FROM tasks WHERE parent_id = ?1 ORDER BY seq"))?;
    let rows = st.query_map([parent], |r| {
        Ok((
            PartRow {
                id: r.get(0)?,
                part: r.get(1)?,
                status: crate::store::TaskStatus::Pending,
                progress: r.get(3)?,
                error: r.get(4)?,
                output_file: r.get(5)?,
                thumbnail_file: r.get(6)?,
                frames: r.get(7)?,
                attempts: r.get(8)?,
            },
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut p, s) = row?;
        p.status = status(&s)?;
        out.push(p);
    }
    Ok(out)
}

/// The state of the video task the part task `part` belongs to; None when there is no such
/// part or its video is gone.
pub(in crate::store) fn video_status(
    conn: &Connection,
    part: &str,
) -> Result<Option<crate::store::TaskStatus>, StoreError> {
    let found: Option<String> = conn
        .query_row(
            "SELECT v.status FROM tasks p JOIN tasks v ON v.id = p.parent_id WHERE p.id = ?1 AND p.kind = 'part'",
            [part],
            |r| r.get(0),
        )
        .optional()?;
    found.as_deref().map(status).transpose()
}
