//! `GET /api/openapi.json`: the OpenAPI 3.1 document, assembled from the operation table
//! (`operations.rs`), the request schemas generated from the validation rules table
//! (`requests.rs`) and the response schemas schemars derives from the structs the handlers
//! serialize (`responses.rs`); `GET /docs` (`page.rs`) renders it.
//!
//! Enter: nothing (the document is a function of the code). Leave: the JSON document. Tests
//! check every routed path is documented, that the document passes openapi-spec-validator,
//! that the example requests validate against it and that a generated client runs the
//! standard flow (`tests/it/openapi.rs`).

pub mod operations;
mod page;
pub mod requests;
pub mod responses;

use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use operations::{Body, Content, Operation, OPERATIONS};
pub use page::docs_page;

/// The security requirement of an operation that needs a key: the header, or the legacy
/// query parameter (`auth.rs`).
fn security() -> Value {
    json!([{"ApiKeyHeader": []}, {"ApiKeyQuery": []}])
}

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

fn content(c: &Content, g: &mut schemars::SchemaGenerator) -> Option<Value> {
    let schema = |s: schemars::Schema| s.to_value();
    Some(match c {
        Content::Json(f) => json!({"application/json": {"schema": schema(f(g))}}),
        Content::Error => json!({"application/json": {"schema": schema(responses::error(g))}}),
        Content::Html => json!({"text/html": {"schema": {"type": "string"}}}),
        Content::Metrics => json!({"text/plain": {"schema": {"type": "string"}}}),
        Content::File => json!({
            "video/mp4": {"schema": {"type": "string", "contentMediaType": "video/mp4"}},
            "image/jpeg": {"schema": {"type": "string", "contentMediaType": "image/jpeg"}},
            "text/vtt": {"schema": {"type": "string"}},
            "application/x-subrip": {"schema": {"type": "string"}},
        }),
    })
}

fn operation(o: &Operation, g: &mut schemars::SchemaGenerator) -> Value {
    let mut parameters = path_params(o.path);
    for q in o.query {
        parameters.push(json!({
            "name": q.name, "in": "query", "required": false,
            "description": q.description, "schema": {"type": q.kind},
        }));
    }
    let mut answers = Map::new();
    for a in o.answers {
        let mut r = json!({"description": a.description});
        if let Some(c) = content(&a.content, g) {
            r["content"] = c;
        }
        answers.insert(a.status.to_string(), r);
    }
    let files = o.answers.iter().any(|a| matches!(a.content, Content::File));
    let mut common = Vec::new();
    if !matches!(o.body, Body::None) {
        common.push((400, "Invalid JSON or a rule of the validation matrix broken (the message names it)"));
        common.push((413, "Body larger than the server's limit (`PAYLOAD_TOO_LARGE`)"));
    }
    if o.auth {
        common.push((401, "No key sent (`API_KEY_MISSING`)"));
        common.push((403, "Key not active or unknown"));
    }
    if o.path.contains('{') && !files {
        common.push((404, "Not found, or not the key's (`*_NOT_FOUND`)"));
    }
    for (status, description) in common {
        if let serde_json::map::Entry::Vacant(e) = answers.entry(status.to_string()) {
            e.insert(json!({"description": description, "content": content(&Content::Error, g)}));
        }
    }
    if files {
        answers.insert("404".into(), json!({"description": "No such file"}));
    }
    let mut sorted: Vec<(String, Value)> = answers.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut op = json!({
        "operationId": o.operation_id,
        "summary": o.summary,
        "tags": [o.tag],
        "parameters": parameters,
        "responses": Map::from_iter(sorted),
    });
    match o.body {
        Body::None => {}
        Body::Rules(body) => op["requestBody"] = requests::request_body(body),
        Body::AnyObject(description) => {
            op["requestBody"] = json!({
                "required": false,
                "description": description,
                "content": {"application/json": {"schema": {"type": "object"}}},
            });
        }
    }
    if o.auth {
        op["security"] = security();
    }
    op
}

/// The OpenAPI document.
pub fn openapi() -> Value {
    let mut g = responses::generator();
    let mut paths = Map::new();
    for o in OPERATIONS {
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        entry[o.method] = operation(o, &mut g);
    }
    let mut schemas = requests::schemas();
    for (name, schema) in g.take_definitions(true) {
        // Request and response names never meet (a test checks); a clash would show here.
        schemas.entry(name).or_insert(schema);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "samvideo JSON to Video API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON in, video out: submit a JSON payload, poll progress, download the MP4. \
                Request bodies are checked by the validation matrix (docs/api-validation.md); the \
                schemas here are generated from it. Rules that need several fields (transcript end > \
                start, one transcript source, exports sent twice, ...) are checked by the server only \
                (docs/http-api.md).",
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "core"}, {"name": "tasks"}, {"name": "advanced"}, {"name": "async"},
            {"name": "templates"}, {"name": "ai"}, {"name": "billing"}, {"name": "playground"}, {"name": "meta"},
            {"name": "media"},
        ],
        "components": {
            "securitySchemes": {
                "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
            },
            "schemas": schemas,
        },
        "paths": paths,
    })
}

/// `GET /api/openapi.json`
pub async fn document() -> impl IntoResponse {
    Json(openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Request schemas (from the rules table) and response schemas (from schemars) have
    /// different names, and every `$ref` in the document resolves.
    #[test]
    fn components_do_not_clash_and_refs_resolve() {
        let mut g = responses::generator();
        for o in OPERATIONS {
            operation(o, &mut g);
        }
        let requests = requests::schemas();
        let responses = g.take_definitions(true);
        for name in responses.keys() {
            assert!(!requests.contains_key(name), "{name} is both a request and a response schema");
        }
        let doc = openapi();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(refs.len() > 50, "{} refs", refs.len());
        for r in refs {
            let name = r.strip_prefix(requests::PREFIX).unwrap_or_else(|| panic!("{r} is not a component"));
            assert!(doc["components"]["schemas"].get(name).is_some(), "{r} resolves");
        }
    }

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| collect_refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
            _ => {}
        }
    }

    /// Operation ids are unique (generated clients name functions after them).
    #[test]
    fn operation_ids_are_unique() {
        let mut ids: Vec<&str> = OPERATIONS.iter().map(|o| o.operation_id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
