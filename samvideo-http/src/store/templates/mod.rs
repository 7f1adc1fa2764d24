//! Saved render presets. A template belongs to the key that created it; `is_public` makes it
//! readable (and applicable) by every key, but only its owner may change or delete it.
//!
//! Enter: the [`Store`] methods below, which pick the backend and run its statements
//! (`sqlite.rs`, `postgres.rs`); both take and return the types of `types.rs`. Leave:
//! [`TemplateRow`]s.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::{TemplateRow, TemplateWrite};

use self::postgres as pg;
use crate::store::{Backend, Store, StoreError};

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
                    sqlite::insert(c, &id, owner, &write)?;
                    sqlite::get(c, &id)
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
            Backend::Sqlite(db) => db.call(move |c| sqlite::get(c, &id)).await,
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
            Backend::Sqlite(db) => db.call(move |c| sqlite::list(c, owner, include_public, category.as_deref())).await,
            Backend::Postgres(db) => db.call(move |c| pg::list(c, owner, include_public, category)).await,
        }
    }

    /// Replace a template's editable fields; the row as stored.
    pub async fn update_template(&self, id: &str, write: TemplateWrite) -> Result<Option<TemplateRow>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => {
                db.call(move |c| {
                    sqlite::update(c, &id, &write)?;
                    sqlite::get(c, &id)
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
            Backend::Sqlite(db) => db.call(move |c| sqlite::delete(c, &id)).await,
            Backend::Postgres(db) => db.call(move |c| pg::delete(c, id)).await,
        }
    }
}
