//! Templates as held: [`TemplateRow`], a [`TemplateWrite`], and the column list both backends
//! read rows with. Nothing here touches a database.

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

pub(in crate::store) const COLS: &str =
    "id, owner_key_id, name, description, category, is_public, settings_json, created_at, updated_at";
