//! Template merge for advanced-video `template_id`: the template's saved settings under the
//! request's own, before validation.

use serde_json::{Map, Value};

/// Deep-merge a template's `settings` under an advanced request; the request wins.
///
/// - objects merge key by key, recursively;
/// - any other request value (string, number, array, ...) replaces the template's;
/// - a request `null` removes the template's key (as in JSON Merge Patch, RFC 7386), so a
///   client can drop e.g. a template's `background`;
/// - when the request uses the `config` envelope, the merge happens inside `config` and the
///   envelope (with a root-level `exports`) is kept;
/// - a request that is not an object is returned unchanged (validation then rejects it).
///
/// ```
/// use samvideo_core::validate::merge_template;
/// use serde_json::json;
///
/// let template = json!({"output_settings": {"aspect_ratio": "9:16", "framerate": 30}});
/// let request = json!({"config": {"output_settings": {"framerate": 60}}});
/// let merged = merge_template(template.as_object().unwrap(), &request);
/// assert_eq!(merged, json!({"config": {"output_settings": {"aspect_ratio": "9:16", "framerate": 60}}}));
/// ```
pub fn merge_template(template_settings: &Map<String, Value>, request: &Value) -> Value {
    let Value::Object(req) = request else {
        return request.clone();
    };
    match req.get("config") {
        Some(Value::Object(config)) => {
            let mut out = req.clone();
            out.insert("config".into(), Value::Object(merge_maps(template_settings, config)));
            Value::Object(out)
        }
        _ => Value::Object(merge_maps(template_settings, req)),
    }
}

/// `base` with `over` merged on top.
fn merge_maps(base: &Map<String, Value>, over: &Map<String, Value>) -> Map<String, Value> {
    let mut out = base.clone();
    for (key, value) in over {
        match (out.get_mut(key), value) {
            (_, Value::Null) => {
                out.remove(key);
            }
            (Some(Value::Object(b)), Value::Object(o)) => {
                let merged = merge_maps(b, o);
                *b = merged;
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out
}

/// The `template_id` of an advanced body: inside `config`, else at the root. `None` when
/// absent or not a non-empty string (validation reports the latter).
pub fn template_id(body: &Value) -> Option<&str> {
    body.get("config")
        .and_then(|c| c.get("template_id"))
        .or_else(|| body.get("template_id"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn request_wins_and_objects_merge_deeply() {
        let t = map(json!({
            "output_settings": {"aspect_ratio": "9:16", "framerate": 30},
            "render_options": {"quality": "high"},
            "media_inputs": {"main_clips": [{"type": "image", "url": "https://a/t.jpg"}],
                              "background": {"type": "color", "value": "#000000"}}
        }));
        let r = json!({
            "output_settings": {"framerate": 60},
            "media_inputs": {"main_clips": [{"type": "video", "url": "https://a/r.mp4"}], "background": null}
        });
        assert_eq!(
            merge_template(&t, &r),
            json!({
                "output_settings": {"aspect_ratio": "9:16", "framerate": 60},
                "render_options": {"quality": "high"},
                "media_inputs": {"main_clips": [{"type": "video", "url": "https://a/r.mp4"}]}
            })
        );
    }

    #[test]
    fn config_envelope_is_kept() {
        let t = map(json!({"render_options": {"mode": "preview"}}));
        let r = json!({"config": {"template_id": "t1"}, "exports": {"callback_url": "https://h/x"}});
        assert_eq!(
            merge_template(&t, &r),
            json!({"config": {"render_options": {"mode": "preview"}, "template_id": "t1"},
                   "exports": {"callback_url": "https://h/x"}})
        );
        assert_eq!(template_id(&r), Some("t1"));
        assert_eq!(template_id(&json!({"template_id": "root"})), Some("root"));
        assert_eq!(template_id(&json!({"template_id": ""})), None);
        assert_eq!(template_id(&json!([1])), None);
    }

    #[test]
    fn template_value_replaced_by_scalar_or_array() {
        let t = map(json!({"a": {"b": 1}, "c": [1, 2]}));
        assert_eq!(merge_template(&t, &json!({"a": 5, "c": [3]})), json!({"a": 5, "c": [3]}));
        assert_eq!(merge_template(&t, &json!("x")), json!("x"));
    }
}
