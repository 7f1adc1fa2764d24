//! AI job create body (`POST /api/ai/jobs`, alias `/api/ai/generate`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An AI generation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiJobCreate {
    /// Catalog id, e.g. `kling-3-0` or `samvideo-motion`.
    pub model_id: String,
    /// Text prompt.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Source images for image-to-video models.
    #[serde(default)]
    pub image_urls: Vec<String>,
    /// Model options (`duration_seconds`, `aspect_ratio`, `quality_mode`, ...).
    #[serde(default)]
    pub options: Map<String, Value>,
}
