//! Template create/update bodies (`/api/templates/`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /api/templates/` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateCreate {
    /// Display name (required).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Used by `list/?category=`.
    #[serde(default)]
    pub category: Option<String>,
    /// Visible to every key when true.
    #[serde(default)]
    pub is_public: bool,
    /// A partial advanced configuration merged under a request's own settings.
    #[serde(default)]
    pub settings: Map<String, Value>,
}

/// `PUT /api/templates/{id}/` body: every field optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TemplateUpdate {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New category.
    #[serde(default)]
    pub category: Option<String>,
    /// New visibility.
    #[serde(default)]
    pub is_public: Option<bool>,
    /// New settings (replaces the old ones).
    #[serde(default)]
    pub settings: Option<Map<String, Value>>,
}
