//! Bodies of the template endpoints: a template, the list, an applied template.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// A template as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Template {
    /// Its id (a UUID).
    pub id: String,
    /// 1..255 characters.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Free text.
    pub category: Option<String>,
    /// Readable and applicable by every key.
    pub is_public: bool,
    /// A partial advanced configuration (request schema `AdvancedVideoPartial`).
    #[schemars(with = "super::JsonObject")]
    pub settings: Value,
    /// The asking key owns it.
    pub is_owner: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// `data` of the template list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateList {
    /// Own templates (and public ones with `include_public=true`).
    pub templates: Vec<Template>,
    /// `templates.len()`.
    pub count: usize,
}

/// `data` of `apply`: the template's settings with the overrides merged over them.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Applied {
    /// The template.
    pub template_id: String,
    /// Its name.
    pub name: String,
    /// The merged settings.
    #[schemars(with = "super::JsonObject")]
    pub settings: Value,
}
