//! Saved render presets. A template belongs to the key that created it; `is_public` makes it
//! readable (and applicable) by every key, but only its owner may change or delete it.

use rusqlite::{params, Connection, OptionalExtension};

use super::postgres::templates as pg;
use super::{now_rfc3339, Backend, Store, StoreError};

/// A template as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRow {
    /// UUID.
    pub id: String,
    /// Owner key.
    pub owner_key_id: i64,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// For `list/?category=`.
    pub category: Option<String>,
    /// Visible to all keys.
    pub is_public: bool,
    /// Partial advanced configuration (a JSON object, as text).
    pub settings_json: String,
    /// Creation time.
    pub created_at: String,
    /// Last update.
    pub updated_at: String,
}

/// Fields of a create or a full update.
#[derive(Debug, Clone)]
pub struct TemplateWrite {
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Visibility.
    pub is_public: bool,
    /// JSON object text.
    pub settings_json: String,
}

pub(super) const COLS: &str =
    "id, owner_key_id, name, description, category, is_public, settings_json, created_at, updated_at";

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
fn insert(conn: &Connection, id: &str, owner: i64, w: &TemplateWrite) -> Result<(), StoreError> {
    let now = now_rfc3339();
    conn.execute(
        "INSERT INTO templates (id, owner_key_id, name, description, category, is_public, settings_json, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![id, owner, w.name, w.description, w.category, w.is_public as i64, w.settings_json, now],
    )?;
    Ok(())
}

/// By id, whoever owns it.
fn get(conn: &Connection, id: &str) -> Result<Option<TemplateRow>, StoreError> {
    Ok(conn.query_row(&format!("SELECT {COLS} FROM templates WHERE id = ?1"), [id], read).optional()?)
}

/// `owner`'s templates, plus public ones when asked; optionally one category. Newest first.
fn list(
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
fn update(conn: &Connection, id: &str, w: &TemplateWrite) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE templates SET name = ?2, description = ?3, category = ?4, is_public = ?5, \
         settings_json = ?6, updated_at = ?7 WHERE id = ?1",
        params![id, w.name, w.description, w.category, w.is_public as i64, w.settings_json, now_rfc3339()],
    )?;
    Ok(())
}

/// Delete.
fn delete(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM templates WHERE id = ?1", [id])?;
    Ok(())
}

impl Store {
    /// Store a new template owned by `owner`; the row as stored.
    pub async fn create_template(
        &self,
        id: &str,
        owner: i64,
        write: TemplateWrite,
    ) -> Result<Option<TemplateRow>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => {
                db.call(move |c| {
                    insert(c, &id, owner, &write)?;
                    get(c, &id)
                })
                .await
            }
            Backend::Postgres(db) => db.call(move |c| pg::insert(c, id, owner, write)).await,
        }
    }

    /// A template by id, whoever owns it.
    pub async fn template(&self, id: &str) -> Result<Option<TemplateRow>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| get(c, &id)).await,
            Backend::Postgres(db) => db.call(move |c| async move { pg::get(&**c, &id).await }).await,
        }
    }

    /// `owner`'s templates, plus public ones when asked; optionally one category. Newest first.
    pub async fn list_templates(
        &self,
        owner: i64,
        include_public: bool,
        category: Option<String>,
    ) -> Result<Vec<TemplateRow>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| list(c, owner, include_public, category.as_deref())).await,
            Backend::Postgres(db) => db.call(move |c| pg::list(c, owner, include_public, category)).await,
        }
    }

    /// Replace a template's editable fields; the row as stored.
    pub async fn update_template(&self, id: &str, write: TemplateWrite) -> Result<Option<TemplateRow>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => {
                db.call(move |c| {
                    update(c, &id, &write)?;
                    get(c, &id)
                })
                .await
            }
            Backend::Postgres(db) => db.call(move |c| pg::update(c, id, write)).await,
        }
    }

    /// Delete a template.
    pub async fn delete_template(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| delete(c, &id)).await,
            Backend::Postgres(db) => db.call(move |c| pg::delete(c, id)).await,
        }
    }
}
