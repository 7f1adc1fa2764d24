//! The AI model catalog: data, not code. The bundled `assets/ai-models.json` (the 29 video
//! models of the reference plus the built-in `samvideo-motion`) is compiled in; an operator
//! replaces it with `--ai-catalog FILE` (same format, see `docs/ai-and-credits.md`).
//!
//! Enter: [`Catalog::bundled`] / [`Catalog::from_file`] at start. Leave: model lookups for the
//! create route and [`Model::check_request`], which checks a job's `options`, `prompt` and
//! `image_urls` against the model's declared constraints (plain 400 messages).

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::billing::BillingPlan;

/// The catalog compiled into the binary.
pub const BUNDLED: &str = include_str!("../../assets/ai-models.json");

/// Why a catalog file is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The file cannot be read.
    #[error("cannot read AI catalog {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// OS error.
        reason: String,
    },
    /// Not the documented JSON shape.
    #[error("AI catalog {path}: {reason}")]
    Parse {
        /// The file (or `bundled`).
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// `video` or `image`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelType {
    /// Produces a video.
    Video,
    /// Produces an image.
    Image,
}

impl ModelType {
    /// Parse the `type` query value.
    pub fn parse(s: &str) -> Option<ModelType> {
        match s {
            "video" => Some(ModelType::Video),
            "image" => Some(ModelType::Image),
            _ => None,
        }
    }
}

/// The declared constraint of one option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum OptionSpec {
    /// One of `values` (strings or numbers).
    Enum {
        /// Accepted values.
        values: Vec<Value>,
        /// Used when the option is absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<Value>,
    },
    /// A number in `min..=max`, integral when `integer`.
    Number {
        /// Smallest accepted.
        min: f64,
        /// Largest accepted.
        max: f64,
        /// Used when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<f64>,
        /// Whole numbers only.
        #[serde(default)]
        integer: bool,
    },
    /// `true` or `false`.
    Boolean {
        /// Used when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<bool>,
    },
}

/// One catalog entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Stable id clients send as `model_id`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// video or image.
    #[serde(rename = "type")]
    pub kind: ModelType,
    /// `builtin` (rendered here) or the name of a configured HTTP provider.
    pub provider: String,
    /// Credits charged per job.
    pub credits: i64,
    /// `t2v`, `i2v`, `v2v`, `edit`, `storyboard`, ...
    pub capabilities: Vec<String>,
    /// Plans the model is visible on.
    pub plans: Vec<String>,
    /// Accepted options and their constraints (other option keys are refused).
    #[serde(default)]
    pub options: Map<String, Value>,
    /// Listed and usable (false hides it: 404).
    #[serde(default = "yes")]
    pub active: bool,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct CatalogFile {
    models: Vec<Model>,
}

/// All models, in file order.
#[derive(Debug, Clone)]
pub struct Catalog {
    models: Vec<Model>,
}

impl Catalog {
    /// The bundled catalog.
    pub fn bundled() -> Result<Catalog, CatalogError> {
        Self::parse(BUNDLED, "bundled")
    }

    /// Read an operator's catalog file.
    pub fn from_file(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CatalogError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse and check a catalog document.
    pub fn parse(text: &str, path: &str) -> Result<Catalog, CatalogError> {
        let bad = |reason: String| CatalogError::Parse { path: path.to_string(), reason };
        let file: CatalogFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut seen = BTreeSet::new();
        for m in &file.models {
            if m.id.trim().is_empty() {
                return Err(bad("a model has an empty id".into()));
            }
            if !seen.insert(m.id.clone()) {
                return Err(bad(format!("model id {:?} appears twice", m.id)));
            }
            if m.credits < 0 {
                return Err(bad(format!("model {}: credits must be >= 0", m.id)));
            }
            for p in &m.plans {
                p.parse::<BillingPlan>().map_err(|e| bad(format!("model {}: {e}", m.id)))?;
            }
            for (name, spec) in &m.options {
                serde_json::from_value::<OptionSpec>(spec.clone())
                    .map_err(|e| bad(format!("model {}: option {name}: {e}", m.id)))?;
            }
        }
        Ok(Catalog { models: file.models })
    }

    /// Active models, optionally of one type.
    pub fn list(&self, kind: Option<ModelType>) -> impl Iterator<Item = &Model> {
        self.models.iter().filter(move |m| m.active && kind.is_none_or(|k| m.kind == k))
    }

    /// An active model by id; `kling_3_0` finds `kling-3-0` (the reference's example spelling).
    pub fn get(&self, id: &str) -> Option<&Model> {
        let find = |id: &str| self.models.iter().find(|m| m.active && m.id == id);
        find(id).or_else(|| find(&id.replace('_', "-")))
    }

    /// The model a job runs and is priced as: [`Self::get`], then, when `options.quality_mode`
    /// names a variant the catalog lists as `{id}-{variant}`, that variant (`pro` → `-pro`,
    /// `std` → `-standard`, any other value → `-{value}`). The reference's example —
    /// `kling_3_0` with `quality_mode: "pro"` — is charged 220 credits, Kling 3.0 Pro's price.
    pub fn resolve(&self, id: &str, options: &Map<String, Value>) -> Option<&Model> {
        let base = self.get(id)?;
        let variant = match options.get("quality_mode").and_then(Value::as_str) {
            Some("std") => "standard",
            Some(other) => other,
            None => return Some(base),
        };
        Some(self.get(&format!("{}-{variant}", base.id)).unwrap_or(base))
    }
}

impl Model {
    /// Visible on `plan`?
    pub fn visible_on(&self, plan: BillingPlan) -> bool {
        self.plans.iter().any(|p| p == plan.as_str())
    }

    /// Has capability `cap`?
    pub fn can(&self, cap: &str) -> bool {
        self.capabilities.iter().any(|c| c == cap)
    }

    /// The declared options, parsed (checked at load, so none fail here).
    fn specs(&self) -> impl Iterator<Item = (&String, OptionSpec)> {
        self.options.iter().filter_map(|(k, v)| serde_json::from_value::<OptionSpec>(v.clone()).ok().map(|s| (k, s)))
    }

    /// Check a job against the model; returns the options with defaults filled in.
    pub fn check_request(
        &self,
        prompt: Option<&str>,
        image_urls: &[String],
        options: &Map<String, Value>,
    ) -> Result<Map<String, Value>, String> {
        let has_prompt = prompt.is_some_and(|p| !p.trim().is_empty());
        let text_only = !self.can("i2v") && !self.can("v2v") && !self.can("edit");
        if !image_urls.is_empty() && text_only {
            return Err(format!("Model {} does not accept image_urls (text to video only)", self.id));
        }
        if image_urls.is_empty() && !self.can("t2v") && !self.can("storyboard") {
            return Err(format!("Model {} requires image_urls (image to video)", self.id));
        }
        if !has_prompt && !self.can("i2v") {
            return Err(format!("Model {} requires a prompt", self.id));
        }
        let specs: Vec<(&String, OptionSpec)> = self.specs().collect();
        for key in options.keys() {
            if !specs.iter().any(|(k, _)| *k == key) {
                let known: Vec<&str> = specs.iter().map(|(k, _)| k.as_str()).collect();
                return Err(format!(
                    "Unknown option {key:?} for model {} (accepted: {})",
                    self.id,
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ));
            }
        }
        let mut out = Map::new();
        for (name, spec) in specs {
            let given = options.get(name.as_str());
            let value = match (&spec, given) {
                (_, Some(v)) => {
                    check_option(name, &spec, v).map_err(|e| format!("options.{name} {e}"))?;
                    Some(v.clone())
                }
                (OptionSpec::Enum { default, .. }, None) => default.clone(),
                (OptionSpec::Number { default, .. }, None) => default.map(Value::from),
                (OptionSpec::Boolean { default }, None) => default.map(Value::from),
            };
            if let Some(v) = value {
                out.insert(name.clone(), v);
            }
        }
        Ok(out)
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn check_option(_name: &str, spec: &OptionSpec, v: &Value) -> Result<(), String> {
    match spec {
        OptionSpec::Enum { values, .. } => {
            if values.iter().any(|x| same(x, v)) {
                Ok(())
            } else {
                let list: Vec<String> =
                    values.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect();
                Err(format!("must be one of {}", list.join(", ")))
            }
        }
        OptionSpec::Number { min, max, integer, .. } => {
            let n = v.as_f64().ok_or_else(|| "must be a number".to_string())?;
            if *integer && n.fract() != 0.0 {
                return Err(format!("must be a whole number between {min} and {max}"));
            }
            if n < *min || n > *max {
                return Err(format!("must be between {min} and {max}"));
            }
            Ok(())
        }
        OptionSpec::Boolean { .. } => {
            if v.is_boolean() {
                Ok(())
            } else {
                Err("must be true or false".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bundled_catalog_loads_with_29_reference_models_and_the_builtin() {
        let c = Catalog::bundled().expect("bundled catalog parses");
        let video: Vec<_> = c.list(Some(ModelType::Video)).collect();
        assert_eq!(video.iter().filter(|m| m.provider != "builtin").count(), 29);
        assert!(c.get("samvideo-motion").is_some());
        assert_eq!(c.get("kling_3_0").map(|m| m.id.as_str()), Some("kling-3-0"));
        assert!(c.get("nope").is_none());
    }

    #[test]
    fn quality_mode_picks_the_priced_variant() {
        let c = Catalog::bundled().expect("catalog");
        let opts = |q: Option<&str>| {
            let mut m = Map::new();
            if let Some(q) = q {
                m.insert("quality_mode".into(), json!(q));
            }
            m
        };
        let price = |id: &str, q: Option<&str>| c.resolve(id, &opts(q)).map(|m| (m.id.clone(), m.credits));
        assert_eq!(price("kling_3_0", Some("pro")), Some(("kling-3-0-pro".into(), 220)), "the reference's example");
        assert_eq!(price("kling-3-0", Some("std")), Some(("kling-3-0-standard".into(), 120)));
        assert_eq!(price("kling-3-0", None), Some(("kling-3-0".into(), 75)));
        assert_eq!(price("kling-3-0-pro", Some("pro")), Some(("kling-3-0-pro".into(), 220)), "no -pro-pro");
        assert_eq!(price("kling-2-6", Some("pro")), Some(("kling-2-6".into(), 55)), "no variant: the model itself");
        assert_eq!(price("nope", Some("pro")), None);
    }

    #[test]
    fn options_are_checked_against_the_model() {
        let c = Catalog::bundled().expect("catalog");
        let m = c.get("kling-3-0-pro").expect("model");
        let opts = json!({"duration_seconds": 8, "quality_mode": "pro", "sound": true, "multiShots": true});
        let filled = m.check_request(Some("rain"), &[], opts.as_object().expect("obj")).expect("valid");
        assert_eq!(filled["aspect_ratio"], "16:9", "default filled in");
        let err = m
            .check_request(Some("rain"), &[], json!({"duration_seconds": 7}).as_object().expect("obj"))
            .expect_err("7 s is not offered");
        assert!(err.contains("options.duration_seconds must be one of 5, 8, 10, 15"), "{err}");
        let err = m
            .check_request(Some("rain"), &[], json!({"fps": 7}).as_object().expect("obj"))
            .expect_err("unknown option");
        assert!(err.contains("Unknown option \"fps\""), "{err}");
        let t2v = c.get("sora-2-text").expect("model");
        let err = t2v.check_request(Some("x"), &["http://a/b.png".into()], &Map::new()).expect_err("t2v only");
        assert!(err.contains("does not accept image_urls"), "{err}");
        let i2v = c.get("samvideo-motion").expect("model");
        let err = i2v.check_request(Some("x"), &[], &Map::new()).expect_err("needs an image");
        assert!(err.contains("requires image_urls"), "{err}");
        let err = i2v
            .check_request(
                None,
                &["http://a/b.png".into()],
                json!({"duration_seconds": 2.5, "motion_strength": 3}).as_object().expect("obj"),
            )
            .expect_err("range");
        assert!(err.contains("options.motion_strength must be between 0.1 and 1"), "{err}");
    }

    #[test]
    fn bad_catalogs_are_refused_with_the_reason() {
        let dup = r#"{"models":[{"id":"a","name":"A","type":"video","provider":"builtin","credits":1,"capabilities":[],"plans":[]},
                                {"id":"a","name":"A","type":"video","provider":"builtin","credits":1,"capabilities":[],"plans":[]}]}"#;
        assert!(Catalog::parse(dup, "x").expect_err("dup").to_string().contains("appears twice"));
        let plan = r#"{"models":[{"id":"a","name":"A","type":"video","provider":"p","credits":1,"capabilities":[],"plans":["gold"]}]}"#;
        assert!(Catalog::parse(plan, "x").expect_err("plan").to_string().contains("gold"));
        let opt = r#"{"models":[{"id":"a","name":"A","type":"video","provider":"p","credits":1,"capabilities":[],"plans":[],"options":{"d":{"type":"range"}}}]}"#;
        assert!(Catalog::parse(opt, "x").expect_err("option").to_string().contains("option d"));
    }
}
