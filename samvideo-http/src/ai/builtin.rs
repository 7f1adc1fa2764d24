//! The built-in image-to-video model `samvideo-motion`: animates `image_urls[0]` with a Ken
//! Burns camera move, rendered on this server by samvideo-core (AV1 MP4).
//!
//! The job becomes an ordinary simple-video request (one still for `duration_seconds`, zoom
//! on, `aspect_ratio`, the quality mode's size and frame rate, the prompt as a bottom caption
//! when `options.caption` is true), validated by `samvideo_core::validate` like any API body
//! and rendered with `render_to_file` on the calling (blocking) thread; on an API-only node
//! the same body is queued for a worker instead ([`motion_task_body`], `crate::jobs::queued`).
//!
//! Camera moves are the engine's: `zoom_in` (1.0 -> 1 + 0.3 x strength) and `zoom_out` (the
//! reverse), centred. Pans are not offered: the compositor has no pan path yet.

use samvideo_core::render::{render_to_file, RenderError};
use samvideo_core::request::Endpoint;
use serde_json::{json, Value};

use super::providers::{JobContext, JobInput, JobOutput, Provider, ProviderError};

/// Provider name in the catalog.
pub const NAME: &str = "builtin";

/// Longest caption drawn (characters); longer prompts are cut with an ellipsis.
const CAPTION_CHARS: usize = 200;

/// Renders `samvideo-motion` jobs here.
#[derive(Debug, Default, Clone)]
pub struct MotionProvider;

/// The simple-video body a motion job renders as.
pub fn motion_request(job: &JobInput) -> Result<Value, ProviderError> {
    let image = job
        .image_urls
        .first()
        .ok_or_else(|| ProviderError::failed("INVALID_REQUEST", "samvideo-motion needs image_urls[0]"))?;
    let o = &job.options;
    let duration = o.get("duration_seconds").and_then(Value::as_f64).unwrap_or(5.0);
    let aspect = o.get("aspect_ratio").and_then(Value::as_str).unwrap_or("16:9");
    let (quality, fps) = match o.get("quality_mode").and_then(Value::as_str).unwrap_or("std") {
        "draft" => ("low", 15),
        "pro" => ("high", 30),
        _ => ("medium", 24),
    };
    let direction = match o.get("camera_motion").and_then(Value::as_str) {
        Some("zoom_out") => "out",
        _ => "in",
    };
    let strength = o.get("motion_strength").and_then(Value::as_f64).unwrap_or(0.6).clamp(0.0, 1.0);
    let mut settings = json!({
        "aspect_ratio": aspect,
        "output_quality": quality,
        "fps": fps,
        "zoom_effect": true,
        "zoom_direction": direction,
        "zoom_intensity": strength,
    });
    let caption = o.get("caption").and_then(Value::as_bool).unwrap_or(false);
    let prompt = job.prompt.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if let (true, Some(p)) = (caption, prompt) {
        let text: String = if p.chars().count() > CAPTION_CHARS {
            p.chars().take(CAPTION_CHARS - 1).chain(std::iter::once('…')).collect()
        } else {
            p.to_string()
        };
        settings["text_overlays"] = json!([{"text": text, "position": "bottom", "background": "semi-transparent"}]);
    }
    Ok(json!({
        "media_list": [{"type": "image", "url": image, "duration": duration}],
        "settings": settings,
    }))
}

/// The validated simple-video body of a motion job, as a queued task stores it.
pub fn motion_task_body(job: &JobInput) -> Result<String, ProviderError> {
    let body = motion_request(job)?;
    let text = body.to_string();
    samvideo_core::validate::parse_create_value(Endpoint::SimpleVideo, body)
        .map_err(|e| ProviderError::failed("INVALID_REQUEST", e.message()))?;
    Ok(text)
}

/// The `error_code` of a motion render a worker failed with `message`: `MEDIA_ERROR` when the
/// image could not be fetched or decoded (a media error names its item, and the image is
/// `media_list[0]`), `RENDER_FAILED` otherwise; what [`MotionProvider::run`] tells apart by
/// the error's type in-process.
pub fn queued_failure_code(message: &str) -> &'static str {
    if message.starts_with("media_list[") {
        "MEDIA_ERROR"
    } else {
        "RENDER_FAILED"
    }
}

impl Provider for MotionProvider {
    fn name(&self) -> &str {
        NAME
    }

    fn ready(&self) -> Result<(), ProviderError> {
        Ok(())
    }

    fn run(&self, job: &JobInput, ctx: &JobContext) -> Result<JobOutput, ProviderError> {
        let body = motion_request(job)?;
        let request = samvideo_core::validate::parse_create_value(Endpoint::SimpleVideo, body)
            .map_err(|e| ProviderError::failed("INVALID_REQUEST", e.message()))?;
        let out = ctx.tmp_dir.join(format!("ai-{}.mp4.part", job.job_id));
        match render_to_file(&request, ctx.source.clone(), &out, &ctx.render) {
            Ok(_) => Ok(JobOutput::Files(vec![out])),
            Err(RenderError::Media(e)) => Err(ProviderError::failed("MEDIA_ERROR", e.to_string())),
            Err(RenderError::Cancelled) => {
                Err(ProviderError::failed("CANCELLED", "the server stopped during the render"))
            }
            Err(e) => Err(ProviderError::failed("RENDER_FAILED", e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(options: Value, prompt: Option<&str>) -> JobInput {
        JobInput {
            job_id: 1,
            model_id: "samvideo-motion".into(),
            prompt: prompt.map(str::to_string),
            image_urls: vec!["https://cdn.example.com/a.jpg".into()],
            options: options.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn options_map_onto_a_valid_simple_video() {
        let j = job(
            json!({"duration_seconds": 3, "aspect_ratio": "9:16", "quality_mode": "draft", "camera_motion": "zoom_out", "motion_strength": 0.8, "caption": true}),
            Some("Sunrise over the bay"),
        );
        let body = motion_request(&j).expect("body");
        assert_eq!(body["media_list"][0]["duration"], 3.0);
        assert_eq!(body["settings"]["aspect_ratio"], "9:16");
        assert_eq!(body["settings"]["output_quality"], "low");
        assert_eq!(body["settings"]["fps"], 15);
        assert_eq!(body["settings"]["zoom_direction"], "out");
        assert_eq!(body["settings"]["text_overlays"][0]["text"], "Sunrise over the bay");
        samvideo_core::validate::parse_create_value(Endpoint::SimpleVideo, body).expect("the engine accepts it");
    }

    #[test]
    fn no_caption_unless_asked_and_long_prompts_are_cut() {
        let body = motion_request(&job(json!({}), Some("hello"))).expect("body");
        assert!(body["settings"].get("text_overlays").is_none());
        let long = "x".repeat(500);
        let body = motion_request(&job(json!({"caption": true}), Some(&long))).expect("body");
        let text = body["settings"]["text_overlays"][0]["text"].as_str().expect("text");
        assert_eq!(text.chars().count(), CAPTION_CHARS);
        let mut j = job(json!({}), None);
        j.image_urls.clear();
        assert!(matches!(motion_request(&j), Err(ProviderError::Failed { code: "INVALID_REQUEST", .. })));
    }
}
