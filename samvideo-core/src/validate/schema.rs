//! The request bodies as JSON Schema (2020-12, the dialect of OpenAPI 3.1), generated from the
//! tables in `rules.rs`, so the schemas cannot drift from the validator.
//!
//! Enter: nothing but the tables (and the `$ref` prefix of the document that embeds them).
//! Leave: one schema per [`RequestBody`] plus the schemas they share, by component name. A
//! row's [`Rule`] maps to keywords one to one; a [`Rule::Custom`] row maps its [`Shape`]
//! (what JSON Schema can say of it). What only the server checks (cross-field rules such as
//! transcript `end > start`, `exports` sent twice, one transcript source) is listed in
//! `docs/http-api.md`.

use serde_json::{json, Map, Value};

use super::rules::{
    Field, Rule, Shape, ADVANCED_BODY, AI_JOB, EXPORTS_TABLE, LOOP_DATA, MIX_BODY, SIMPLE_BODY, TEMPLATE_CREATE,
    TEMPLATE_SETTINGS, TEMPLATE_UPDATE,
};
use crate::frame_rate::{NTSC_RATES, NTSC_TOLERANCE};
use crate::request::Endpoint;

/// A request body the API checks with the rules table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody {
    /// A create body (with its envelopes: root, `data` or `config`).
    Create(Endpoint),
    /// `POST /api/templates/`.
    TemplateCreate,
    /// `PUT /api/templates/{id}/`.
    TemplateUpdate,
    /// `POST /api/ai/jobs`.
    AiJob,
}

impl RequestBody {
    /// Every body, in documentation order.
    pub const ALL: [RequestBody; 7] = [
        RequestBody::Create(Endpoint::MixVideo),
        RequestBody::Create(Endpoint::SimpleVideo),
        RequestBody::Create(Endpoint::LoopVideo),
        RequestBody::Create(Endpoint::AdvancedVideo),
        RequestBody::TemplateCreate,
        RequestBody::TemplateUpdate,
        RequestBody::AiJob,
    ];

    /// Its component name in [`request_schemas`].
    pub fn schema_name(self) -> &'static str {
        match self {
            RequestBody::Create(Endpoint::MixVideo) => "MixVideoRequest",
            RequestBody::Create(Endpoint::SimpleVideo) => "SimpleVideoRequest",
            RequestBody::Create(Endpoint::LoopVideo) => "LoopVideoRequest",
            RequestBody::Create(Endpoint::AdvancedVideo) => "AdvancedVideoRequest",
            RequestBody::TemplateCreate => "TemplateCreate",
            RequestBody::TemplateUpdate => "TemplateUpdate",
            RequestBody::AiJob => "AiJobCreate",
        }
    }
}

/// A finite number written as text (what the loop duration's string form must hold); that it
/// is > 0 is checked by the server.
const NUMERIC_STRING: &str = r"^\s*\+?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$";

/// The schema of every [`RequestBody`] and of the objects they share, by component name;
/// every `$ref` is `{prefix}{name}` (`#/components/schemas/` in an OpenAPI document).
///
/// ```
/// use samvideo_core::request::Endpoint;
/// use samvideo_core::validate::{request_schemas, RequestBody};
///
/// let schemas = request_schemas("#/components/schemas/");
/// let mix = &schemas[RequestBody::Create(Endpoint::MixVideo).schema_name()];
/// assert_eq!(mix["oneOf"][1]["required"][0], "data");
/// let settings = &schemas["SettingsMatrix"]["properties"];
/// assert_eq!(settings["fps"]["anyOf"][0]["maximum"], 60);
/// ```
pub fn request_schemas(prefix: &str) -> Map<String, Value> {
    let mut g = Gen { prefix, components: Map::new() };
    let mut bodies = Vec::new();
    for (name, table) in [
        ("MixVideoBody", MIX_BODY),
        ("SimpleVideoBody", SIMPLE_BODY),
        ("LoopVideoData", LOOP_DATA),
        ("AdvancedVideoBody", ADVANCED_BODY),
    ] {
        let schema = g.object(table, false);
        bodies.push((name, schema));
    }
    for (name, schema) in bodies {
        g.components.insert(name.into(), schema);
    }
    let exports = g.component("exports", EXPORTS_TABLE, false);
    let template_settings = g.shape(&TEMPLATE_SETTINGS, false);
    for body in RequestBody::ALL {
        let schema = match body {
            RequestBody::Create(Endpoint::MixVideo) => g.root_or_in("MixVideoBody", "data", &exports),
            RequestBody::Create(Endpoint::SimpleVideo) => g.root_or_in("SimpleVideoBody", "data", &exports),
            RequestBody::Create(Endpoint::LoopVideo) => json!({
                "type": "object",
                "required": ["type", "data"],
                "properties": {"type": {"const": "LoopVideo"}, "data": g.reference("LoopVideoData"), "exports": exports},
            }),
            RequestBody::Create(Endpoint::AdvancedVideo) => g.advanced(&exports, &template_settings),
            RequestBody::TemplateCreate => g.object(TEMPLATE_CREATE, false),
            RequestBody::TemplateUpdate => g.object(TEMPLATE_UPDATE, false),
            RequestBody::AiJob => g.object(AI_JOB, false),
        };
        g.components.insert(body.schema_name().into(), schema);
    }
    g.components
}

/// The generator: the `$ref` prefix and the components made so far.
struct Gen<'a> {
    prefix: &'a str,
    components: Map<String, Value>,
}

impl Gen<'_> {
    fn reference(&self, name: &str) -> Value {
        json!({"$ref": format!("{}{name}", self.prefix)})
    }

    /// The body at the root (without `key`), or inside `key` with `exports` beside it.
    fn root_or_in(&self, body: &str, key: &str, exports: &Value) -> Value {
        let mut at_root = self.reference(body);
        at_root["not"] = json!({"required": [key]});
        json!({"oneOf": [at_root, {
            "type": "object",
            "required": [key],
            "properties": {key: self.reference(body), "exports": exports},
        }]})
    }

    /// advanced-video: the body at the root or in `config`; with a `template_id` (at the root
    /// or in `config`) the template supplies what the request leaves out, so the request is
    /// `partial` (nothing required).
    fn advanced(&self, exports: &Value, partial: &Value) -> Value {
        let mut at_root = self.reference("AdvancedVideoBody");
        at_root["not"] = json!({"required": ["config"]});
        let in_config = json!({
            "type": "object",
            "required": ["config"],
            "properties": {
                "config": self.reference("AdvancedVideoBody"),
                "exports": exports,
                "template_id": {"type": "string", "minLength": 1},
            },
        });
        let mut templated = partial.clone();
        templated["required"] = json!(["template_id"]);
        let templated_in_config = json!({
            "type": "object",
            "required": ["config"],
            "properties": {"config": templated, "exports": exports},
        });
        let mut templated_at_root = templated.clone();
        templated_at_root["properties"] = json!({"config": partial});
        json!({"anyOf": [at_root, in_config, templated_at_root, templated_in_config]})
    }

    /// A `$ref` to the component named after `title` (`settings matrix`: `SettingsMatrix`,
    /// `...Partial` when `partial`), made on first use.
    fn component(&mut self, title: &str, table: &[Field], partial: bool) -> Value {
        let mut name: String = title
            .split_whitespace()
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
            })
            .collect();
        if partial {
            name.push_str("Partial");
        }
        if !self.components.contains_key(&name) {
            // Reserved first, so a table that names itself does not recurse forever.
            self.components.insert(name.clone(), Value::Null);
            let schema = self.object(table, partial);
            self.components.insert(name.clone(), schema);
        }
        self.reference(&name)
    }

    /// An object with the table's keys (none required when `partial`); unknown keys allowed.
    fn object(&mut self, table: &[Field], partial: bool) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in table {
            properties.insert(field.name.into(), self.rule(&field.rule, partial));
            if field.required && !partial {
                required.push(field.name);
            }
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        schema
    }

    fn rule(&mut self, rule: &Rule, partial: bool) -> Value {
        match rule {
            Rule::OneOf(values) => json!({"type": "string", "enum": values}),
            Rule::Range { min, max } => json!({"type": "number", "minimum": min, "maximum": max}),
            Rule::IntRange { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
            Rule::FrameRate { min, max } => {
                let mut any = vec![json!({"type": "integer", "minimum": min, "maximum": max})];
                for (_, num) in NTSC_RATES {
                    let rate = f64::from(num) / 1001.0;
                    if (f64::from(*min)..=f64::from(*max)).contains(&rate) {
                        any.push(json!({
                            "type": "number",
                            "exclusiveMinimum": rate - NTSC_TOLERANCE,
                            "exclusiveMaximum": rate + NTSC_TOLERANCE,
                        }));
                    }
                }
                json!({"anyOf": any})
            }
            Rule::Positive => json!({"type": "number", "exclusiveMinimum": 0}),
            Rule::AtLeast(min) => json!({"type": "number", "minimum": min}),
            Rule::Bool => json!({"type": "boolean"}),
            Rule::Str { non_empty, max_chars } => {
                let mut s = json!({"type": "string"});
                if *non_empty {
                    s["minLength"] = json!(1);
                }
                if let Some(n) = max_chars {
                    s["maxLength"] = json!(n);
                }
                s
            }
            Rule::Color => json!({"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}),
            Rule::ColorAlpha => json!({"type": "string", "pattern": "^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$"}),
            // `check::is_http_url`: the scheme in any case, a host, no whitespace.
            Rule::HttpUrl => json!({"type": "string", "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]\S*$"}),
            Rule::Object(table) => self.object(table, partial),
            Rule::Shared(title, table) | Rule::Flat(title, table) => self.component(title, table, partial),
            Rule::Items(table) => json!({"type": "array", "items": self.object(table, partial)}),
            Rule::Custom { doc, shape, .. } => {
                let mut s = self.shape(shape, partial);
                s["description"] = json!(doc.split_whitespace().collect::<Vec<_>>().join(" "));
                s
            }
        }
    }

    fn shape(&mut self, shape: &Shape, partial: bool) -> Value {
        match shape {
            Shape::Is(rule) => self.rule(rule, partial),
            Shape::List { item, min, max } => {
                let mut s = json!({"type": "array", "items": self.shape(item, partial)});
                if *min > 0 && !partial {
                    s["minItems"] = json!(min);
                }
                if let Some(max) = max {
                    s["maxItems"] = json!(max);
                }
                s
            }
            Shape::Either(a, b) => json!({"anyOf": [self.shape(a, partial), self.shape(b, partial)]}),
            Shape::Tagged { key, cases } => {
                let variants: Vec<Value> = cases
                    .iter()
                    .map(|(tag, table)| {
                        let mut s = self.object(table, partial);
                        if let Some(props) = s["properties"].as_object_mut() {
                            let mut with_key = Map::new();
                            with_key.insert((*key).into(), json!({"const": tag}));
                            with_key.extend(std::mem::take(props));
                            *props = with_key;
                        }
                        if !partial {
                            let mut required = vec![json!(key)];
                            required.extend(s["required"].as_array().cloned().unwrap_or_default());
                            s["required"] = json!(required);
                        }
                        s
                    })
                    .collect();
                // Partial (template settings): the key may be missing, so several cases can match.
                if partial {
                    json!({"anyOf": variants})
                } else {
                    json!({"oneOf": variants})
                }
            }
            Shape::Partial(title, table) => self.component(title, table, true),
            Shape::NumberOrNumericString => json!({"anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": NUMERIC_STRING},
            ]}),
        }
    }
}
