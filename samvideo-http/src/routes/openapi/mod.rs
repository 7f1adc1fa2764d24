//! `GET /api/openapi.json` (OpenAPI 3.1, built from [`OPERATIONS`]) and `GET /docs`, a small
//! page that renders it without any external script. A test checks every routed path appears
//! here.

use axum::response::{Html, IntoResponse};
use axum::Json;
use serde_json::{json, Map, Value};

/// One documented operation: method, path, summary, needs a key, tag.
pub struct Operation {
    /// Lower-case HTTP method.
    pub method: &'static str,
    /// Path with `{param}` segments, as routed.
    pub path: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Requires `X-API-Key` (or `api_key`).
    pub auth: bool,
    /// Group.
    pub tag: &'static str,
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: bool,
    tag: &'static str,
) -> Operation {
    Operation { method, path, summary, auth, tag }
}

/// Every operation the server answers.
pub const OPERATIONS: &[Operation] = &[
    op(
        "post",
        "/api/function/video-generation/mix-video",
        "Create a mix video (media, voice, music, transcripts)",
        true,
        "core",
    ),
    op(
        "post",
        "/api/function/video-generation/simple-video",
        "Create a simple video (media and settings)",
        true,
        "core",
    ),
    op("post", "/api/function/video-generation/loop-video", "Create a looping video (type LoopVideo)", true, "core"),
    op(
        "get",
        "/api/function/video-generation/progress/{id}",
        "Status, progress, output URL and error of a task",
        true,
        "tasks",
    ),
    op(
        "get",
        "/api/function/video-generation/tasks",
        "Recent tasks (limit 1-100, default 10; status filter)",
        true,
        "tasks",
    ),
    op(
        "get",
        "/api/function/video-generation/usage-summary",
        "Usage totals and status breakdown (days, default 30)",
        true,
        "tasks",
    ),
    op(
        "post",
        "/api/render/advanced-video",
        "Advanced render: preview (sync) or full (async); template_id merge",
        true,
        "advanced",
    ),
    op("get", "/api/render/advanced-video/progress/{task_id}", "Progress of an advanced render", true, "advanced"),
    op("get", "/api/async/status/{task_id}", "Raw worker-layer state of a task (id or celery_task_id)", true, "async"),
    op("post", "/api/async/cancel/{task_id}", "Cancel a pending or running task", true, "async"),
    op("get", "/api/async/queue/status", "Workers, active renders, queued tasks", true, "async"),
    op("get", "/api/async/health", "Health of the async processing layer", false, "async"),
    op("post", "/api/templates/", "Create a template", true, "templates"),
    op(
        "get",
        "/api/templates/list/",
        "List own templates (+ public with include_public=true; category filter)",
        true,
        "templates",
    ),
    op("get", "/api/templates/{template_id}/", "Read a template", true, "templates"),
    op(
        "put",
        "/api/templates/{template_id}/",
        "Update name/description/category/settings/is_public",
        true,
        "templates",
    ),
    op("delete", "/api/templates/{template_id}/", "Delete a template", true, "templates"),
    op(
        "post",
        "/api/templates/{template_id}/apply/",
        "Template settings merged with optional overrides",
        true,
        "templates",
    ),
    op(
        "get",
        "/api/ai/models",
        "AI models with credits, capabilities, plans and option constraints (type=video|image)",
        true,
        "ai",
    ),
    op("post", "/api/ai/jobs", "Create an AI job: 202 with job_id and credits charged; 402/403/404/503", true, "ai"),
    op("post", "/api/ai/generate", "Alias of POST /api/ai/jobs", true, "ai"),
    op("get", "/api/ai/jobs/{job_id}", "AI job status: result_urls, error_code, error_message, timestamps", true, "ai"),
    op("get", "/api/ai/credits/balance", "Subscription and top-up AI credits left", true, "ai"),
    op(
        "post",
        "/api/video-packs/{pack_id}/buy/",
        "Create a Stripe Checkout Session for a video pack; answers its URL",
        true,
        "billing",
    ),
    op(
        "post",
        "/api/video-packs/webhook/",
        "Stripe webhook (Stripe-Signature): adds a paid pack's videos once",
        false,
        "billing",
    ),
    op("get", "/api/video-packs/success/", "Checkout success page", false, "billing"),
    op("get", "/api/video-packs/cancel/", "Checkout cancel page", false, "billing"),
    op("get", "/api/openapi.json", "This document", false, "meta"),
    op("get", "/docs", "Human-readable API docs", false, "meta"),
    op("get", "/metrics", "Prometheus metrics", false, "meta"),
    op("get", "/media/outputs/{file}", "Download a finished video (Range supported)", false, "media"),
    op("get", "/media/previews/{file}", "Download a preview video (Range supported)", false, "media"),
];

fn params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

/// The OpenAPI document.
pub fn openapi() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        let mut operation = json!({
            "summary": o.summary,
            "tags": [o.tag],
            "parameters": params(o.path),
            "responses": {
                "200": {"description": "Success: {\"success\": true, ...}"},
                "400": {"description": "Invalid payload: {\"success\": false, \"message\": ...}"},
            }
        });
        if o.auth {
            operation["security"] = json!([{"ApiKeyHeader": []}, {"ApiKeyQuery": []}]);
            operation["responses"]["401"] = json!({"description": "API key required (API_KEY_MISSING)"});
            operation["responses"]["403"] = json!({"description": "API key is not active or missing; quota reached"});
            operation["responses"]["404"] = json!({"description": "Unknown or inaccessible resource"});
            operation["responses"]["429"] = json!({"description": "Rate limited (Retry-After header)"});
        }
        if o.tag == "ai" && o.method == "post" {
            operation["responses"]["202"] = json!({"description": "Job created: {success, job_id, status: running, credits_charged, credits_remaining}"});
            operation["responses"]["402"] =
                json!({"description": "Insufficient credits (credits_required, credits_remaining)"});
            operation["responses"]["503"] =
                json!({"description": "The model's provider is not configured on this server (nothing charged)"});
        }
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "samvideo JSON to Video API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON in, video out: submit a JSON payload, poll progress, download the AV1 MP4."
        },
        "components": {
            "securitySchemes": {
                "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"}
            }
        },
        "paths": paths,
    })
}

/// `GET /api/openapi.json`
pub async fn document() -> impl IntoResponse {
    Json(openapi())
}

/// `GET /docs`
pub async fn docs_page() -> Html<&'static str> {
    Html(DOCS_HTML)
}

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>samvideo API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}
.op{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.5rem .8rem}
.m{display:inline-block;width:4.5rem;font-weight:bold;text-transform:uppercase}
.get{color:#0a6}.post{color:#06c}.put{color:#a60}.delete{color:#c22}
.lock{color:#888;font-size:.85em}
</style></head><body>
<h1 id="title">samvideo API</h1>
<p>Send your key in the <code>X-API-Key</code> header (or the legacy <code>api_key</code> query parameter).
Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/api/openapi.json').then(r => r.json()).then(doc => {
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  const root = document.getElementById('ops');
  root.textContent = '';
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const div = document.createElement('div');
      div.className = 'op';
      const m = document.createElement('span');
      m.className = 'm ' + method; m.textContent = method;
      const p = document.createElement('code'); p.textContent = path;
      const s = document.createElement('div'); s.textContent = op.summary;
      div.append(m, p);
      if (op.security) { const l = document.createElement('span'); l.className = 'lock'; l.textContent = ' (API key)'; div.append(l); }
      div.append(s);
      root.append(div);
    }
  }
}).catch(e => { document.getElementById('ops').textContent = 'Cannot load the document: ' + e; });
</script></body></html>
"#;
