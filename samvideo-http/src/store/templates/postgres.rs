//! `templates` on Postgres: the statements of `store::templates`.

use tokio_postgres::{GenericClient, Row};

use super::types::{TemplateRow, TemplateWrite, COLS};
use crate::store::postgres::Conn;
use crate::store::{now_rfc3339, StoreError};

fn read(r: &Row) -> Result<TemplateRow, StoreError> {
    Ok(TemplateRow {
        id: r.try_get(0)?,
        owner_key_id: r.try_get(1)?,
        name: r.try_get(2)?,
        description: r.try_get(3)?,
        category: r.try_get(4)?,
        is_public: r.try_get(5)?,
        settings_json: r.try_get(6)?,
        created_at: r.try_get(7)?,
        updated_at: r.try_get(8)?,
    })
}

/// By id, whoever owns it.
pub(in crate::store) async fn get(c: &impl GenericClient, id: &str) -> Result<Option<TemplateRow>, StoreError> {
    let r = c.query_opt(&format!("SELECT {COLS} FROM templates WHERE id = $1"), &[&id]).await?;
    r.as_ref().map(read).transpose()
}

pub(in crate::store) async fn insert(
    c: Conn,
    id: String,
    owner: i64,
    w: TemplateWrite,
) -> Result<Option<TemplateRow>, StoreError> {
    let r = c
        .query_opt(
            &format!(
                "INSERT INTO templates (id, owner_key_id, name, description, category, is_public, settings_json, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {COLS}"
            ),
            &[&id, &owner, &w.name, &w.description, &w.category, &w.is_public, &w.settings_json, &now_rfc3339()],
        )
        .await?;
    r.as_ref().map(read).transpose()
}

pub(in crate::store) async fn list(
    c: Conn,
    owner: i64,
    include_public: bool,
    category: Option<String>,
) -> Result<Vec<TemplateRow>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLS} FROM templates WHERE (owner_key_id = $1 OR ($2 AND is_public)) \
                 AND ($3::TEXT IS NULL OR category = $3) ORDER BY created_at DESC, seq DESC"
            ),
            &[&owner, &include_public, &category],
        )
        .await?;
    rows.iter().map(read).collect()
}

pub(in crate::store) async fn update(c: Conn, id: String, w: TemplateWrite) -> Result<Option<TemplateRow>, StoreError> {
    c.execute(
        "UPDATE templates SET name = $2, description = $3, category = $4, is_public = $5, \
         settings_json = $6, updated_at = $7 WHERE id = $1",
        &[&id, &w.name, &w.description, &w.category, &w.is_public, &w.settings_json, &now_rfc3339()],
    )
    .await?;
    get(&**c, &id).await
}

pub(in crate::store) async fn delete(c: Conn, id: String) -> Result<(), StoreError> {
    c.execute("DELETE FROM templates WHERE id = $1", &[&id]).await?;
    Ok(())
}
