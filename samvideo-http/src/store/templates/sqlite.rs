//! `templates` on SQLite: the statements of `store::templates`.

use rusqlite::{params, Connection, OptionalExtension};

use super::types::{TemplateRow, TemplateWrite, COLS};
use crate::store::{now_rfc3339, StoreError};

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<TemplateRow> {
    Ok(TemplateRow {
        id: r.get(0)?,
        owner_key_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        category: r.get(4)?,
        is_public: r.get::<_, i64>(5)? != 0,
        settings_json: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

/// Store a new template owned by `owner`.
pub(in crate::store) fn insert(conn: &Connection, id: &str, owner: i64, w: &TemplateWrite) -> Result<(), StoreError> {
    let now = now_rfc3339();
    conn.execute(
        "INSERT INTO templates (id, owner_key_id, name, description, category, is_public, settings_json, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![id, owner, w.name, w.description, w.category, w.is_public as i64, w.settings_json, now],
    )?;
    Ok(())
}

/// By id, whoever owns it.
pub(in crate::store) fn get(conn: &Connection, id: &str) -> Result<Option<TemplateRow>, StoreError> {
    Ok(conn.query_row(&format!("SELECT {COLS} FROM templates WHERE id = ?1"), [id], read).optional()?)
}

/// `owner`'s templates, plus public ones when asked; optionally one category. Newest first.
pub(in crate::store) fn list(
    conn: &Connection,
    owner: i64,
    include_public: bool,
    category: Option<&str>,
) -> Result<Vec<TemplateRow>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM templates WHERE (owner_key_id = ?1 OR (?2 AND is_public = 1)) \
         AND (?3 IS NULL OR category = ?3) ORDER BY created_at DESC, rowid DESC"
    ))?;
    let rows = st.query_map(params![owner, include_public, category], read)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Replace the editable fields.
pub(in crate::store) fn update(conn: &Connection, id: &str, w: &TemplateWrite) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE templates SET name = ?2, description = ?3, category = ?4, is_public = ?5, \
         settings_json = ?6, updated_at = ?7 WHERE id = ?1",
        params![id, w.name, w.description, w.category, w.is_public as i64, w.settings_json, now_rfc3339()],
    )?;
    Ok(())
}

/// Delete.
pub(in crate::store) fn delete(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM templates WHERE id = ?1", [id])?;
    Ok(())
}
