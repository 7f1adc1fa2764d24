//! Part tasks on Postgres: the statements of `store::parts`.

use super::types::{status, NewPart, PartRow, PART_COLS};
use crate::store::postgres::Conn;
use crate::store::{now_rfc3339, StoreError};

/// Queue `parts` of the video task `parent`, each once (see the SQLite twin).
pub(in crate::store) async fn add(mut c: Conn, parent: String, parts: Vec<NewPart>) -> Result<(), StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    let now = now_rfc3339();
    for p in &parts {
        tx.execute(
            "INSERT INTO tasks (id, celery_task_id, api_key_id, endpoint, request_json, request_id, status, \
             aspect_ratio, created_at, updated_at, kind, parent_id, part, part_frames) \
             SELECT $1, $2, api_key_id, endpoint, request_json, $3, 'pending', aspect_ratio, $5, $5, 'part', id, $3, $4 \
             FROM tasks WHERE id = $6 ON CONFLICT DO NOTHING",
            &[
                &uuid::Uuid::new_v4().to_string(),
                &uuid::Uuid::new_v4().to_string(),
                &p.part,
                &p.frames,
                &now,
                &parent,
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The part tasks of `parent`, in the order they were queued.
pub(in crate::store) async fn of(c: Conn, parent: String) -> Result<Vec<PartRow>, StoreError> {
    let rows = c.query(&format!("SELECT {PART_COLS} FROM tasks WHERE parent_id = $1 ORDER BY seq"), &[&parent]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let s: String = r.try_get(2)?;
        out.push(PartRow {
            id: r.try_get(0)?,
            part: r.try_get(1)?,
            status: status(&s)?,
            progress: r.try_get(3)?,
            error: r.try_get(4)?,
            output_file: r.try_get(5)?,
            thumbnail_file: r.try_get(6)?,
            frames: r.try_get(7)?,
            attempts: r.try_get(8)?,
        });
    }
    Ok(out)
}

/// The state of the video task the part task `part` belongs to (see the SQLite twin).
pub(in crate::store) async fn video_status(
    c: Conn,
    part: String,
) -> Result<Option<crate::store::TaskStatus>, StoreError> {
    let found = c
        .query_opt(
            "SELECT v.status FROM tasks p JOIN tasks v ON v.id = p.parent_id WHERE p.id = $1 AND p.kind = 'part'",
            &[&part],
        )
        .await?;
    match found {
        Some(r) => Ok(Some(status(r.try_get::<_, &str>(0)?)?)),
        None => Ok(None),
    }
}
