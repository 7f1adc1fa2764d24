//! Templates: reusable partial advanced configurations. Private templates are their owner's
//! alone (others get 404, as for a missing one); public ones are readable and applicable by
//! every key but changed only by their owner (403). All template routes are rate limited
//! per client IP by [`limit_by_ip`].

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use samvideo_core::validate::{merge_template, validate_template_create, validate_template_update};

use crate::auth::Caller;
use crate::limits::{client_ip, enforce};
use crate::reply::{read_body, typed_data, typed_reply, HttpError, Reply};
use crate::responses::templates::{Applied, Template, TemplateList};
use crate::responses::{Done, Said};
use crate::state::AppState;
use crate::store::{TemplateRow, TemplateWrite};

/// Middleware: the per-IP template limiter.
pub async fn limit_by_ip(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if let Err(e) = enforce(&s.limits.templates, &client_ip(&req)).await {
        return e.into_response();
    }
    next.run(req).await
}

fn template_json(t: &TemplateRow, caller: i64) -> Template {
    let settings: Value = serde_json::from_str(&t.settings_json).unwrap_or_else(|_| json!({}));
    Template {
        id: t.id.clone(),
        name: t.name.clone(),
        description: t.description.clone(),
        category: t.category.clone(),
        is_public: t.is_public,
        settings,
        is_owner: t.owner_key_id == caller,
        created_at: t.created_at.clone(),
        updated_at: t.updated_at.clone(),
    }
}

/// A template `key_id` may read: its own or a public one; otherwise 404.
pub async fn visible_template(s: &AppState, key_id: i64, id: String) -> Result<TemplateRow, HttpError> {
    let row = s.store.template(&id).await?;
    match row {
        Some(t) if t.owner_key_id == key_id || t.is_public => Ok(t),
        _ => Err(HttpError::new(404, "Template not found", Some("TEMPLATE_NOT_FOUND"))),
    }
}

/// Parse a body as a JSON object.
async fn json_object(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
    allow_empty: bool,
) -> Result<Map<String, Value>, HttpError> {
    let bytes = read_body(headers, body, s.config.max_body).await?;
    if allow_empty && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(HttpError::new(400, "Invalid JSON data", None)),
    }
}

/// `POST /api/templates/`
pub async fn create(State(s): State<AppState>, caller: Caller, headers: HeaderMap, body: Body) -> Reply {
    let m = json_object(&s, &headers, body, false).await?;
    // Every key, `settings` included, is checked by the rules table (docs/api-validation.md).
    let t = validate_template_create(&Value::Object(m))?;
    let w = TemplateWrite {
        name: t.name,
        description: t.description,
        category: t.category,
        is_public: t.is_public,
        settings_json: Value::Object(t.settings).to_string(),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let owner = caller.key.id;
    let row = s
        .store
        .create_template(&id, owner, w)
        .await?
        .ok_or_else(|| HttpError::internal("template vanished after insert"))?;
    typed_reply(201, Said::new("Template created", template_json(&row, owner)))
}

/// `GET /api/templates/list/?include_public=true&category=marketing`
pub async fn list(State(s): State<AppState>, caller: Caller, Query(q): Query<HashMap<String, String>>) -> Reply {
    let include_public = match q.get("include_public").map(|v| v.trim().to_ascii_lowercase()) {
        None => false,
        Some(v) if ["true", "1", "yes"].contains(&v.as_str()) => true,
        Some(v) if ["false", "0", "no", ""].contains(&v.as_str()) => false,
        Some(_) => return Err(HttpError::new(400, "include_public must be true or false", None)),
    };
    let category = q.get("category").filter(|c| !c.is_empty()).cloned();
    let owner = caller.key.id;
    let rows = s.store.list_templates(owner, include_public, category).await?;
    let templates: Vec<Template> = rows.iter().map(|t| template_json(t, owner)).collect();
    typed_data(TemplateList { count: templates.len(), templates })
}

/// `GET /api/templates/{template_id}/`
pub async fn read(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Reply {
    let t = visible_template(&s, caller.key.id, id).await?;
    typed_data(template_json(&t, caller.key.id))
}

async fn owned(s: &AppState, caller: &Caller, id: String) -> Result<TemplateRow, HttpError> {
    let t = visible_template(s, caller.key.id, id).await?;
    if t.owner_key_id != caller.key.id {
        return Err(HttpError::new(403, "Only the template's owner can change it", Some("FORBIDDEN")));
    }
    Ok(t)
}

/// `PUT /api/templates/{template_id}/`
pub async fn update(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Reply {
    let t = owned(&s, &caller, id).await?;
    let m = json_object(&s, &headers, body, false).await?;
    let u = validate_template_update(&Value::Object(m))?;
    let w = TemplateWrite {
        name: u.name.unwrap_or_else(|| t.name.clone()),
        description: u.description.or_else(|| t.description.clone()),
        category: u.category.or_else(|| t.category.clone()),
        is_public: u.is_public.unwrap_or(t.is_public),
        settings_json: u.settings.map_or_else(|| t.settings_json.clone(), |o| Value::Object(o).to_string()),
    };
    let row = s.store.update_template(&t.id, w).await?.ok_or_else(|| HttpError::not_found("Template"))?;
    typed_reply(200, Said::new("Template updated", template_json(&row, caller.key.id)))
}

/// `DELETE /api/templates/{template_id}/`
pub async fn delete(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Reply {
    let t = owned(&s, &caller, id).await?;
    s.store.delete_template(&t.id).await?;
    typed_reply(200, Done { success: true, message: "Template deleted".into() })
}

/// `POST /api/templates/{template_id}/apply/`: the template's settings with the body's
/// (optional) overrides merged over them.
pub async fn apply(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Reply {
    let t = visible_template(&s, caller.key.id, id).await?;
    let overrides = json_object(&s, &headers, body, true).await?;
    let overrides = match overrides.get("settings") {
        Some(Value::Object(o)) => Value::Object(o.clone()),
        _ => Value::Object(overrides),
    };
    let settings: Map<String, Value> = serde_json::from_str(&t.settings_json).map_err(HttpError::internal)?;
    typed_data(Applied { template_id: t.id, name: t.name, settings: merge_template(&settings, &overrides) })
}
