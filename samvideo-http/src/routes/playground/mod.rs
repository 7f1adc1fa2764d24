//! The playground: `GET /playground`, a page (HTML, CSS and plain JS compiled into the binary,
//! no build step, nothing from a CDN: `page.rs`) where a person edits a JSON spec, sees the
//! validator's messages as they type, renders it with their key and plays the result; and
//! `POST /api/playground/validate/{endpoint}`, the check it calls as they type.
//!
//! The validate endpoint needs no key: it renders and stores nothing, and answers with the
//! validator the create endpoints use (`samvideo_core::validate::parse_create`), so its 400
//! body is the one the create would answer, word for word. It is limited per client IP
//! (`--validate-rate`, counted in the store like every limiter) and reads at most
//! `--max-validate-body` bytes. A body naming a `template_id` is checked as sent (merging a
//! template needs the key that may read it).
//!
//! Enter: an endpoint name and a body. Leave: `200 {"success":true,"message":"Valid ..."}`, the
//! create's 400 body, 404 for an unknown endpoint, 413, 429.

mod page;

use axum::extract::{Path, Request, State};
use samvideo_core::request::Endpoint;

use crate::limits::{client_ip, enforce};
use crate::reply::{read_body, typed_reply, HttpError, Reply};
use crate::responses::Done;
use crate::state::AppState;

pub use page::page;

/// The validate endpoint's path, as routed.
pub const VALIDATE: &str = "/api/playground/validate/{endpoint}";

/// Where the page sends a spec of each endpoint, and where it then polls the task's progress
/// (a test checks each is a documented operation).
pub const ENDPOINTS: &[(Endpoint, &str, &str)] = &[
    (Endpoint::MixVideo, "/api/function/video-generation/mix-video", "/api/function/video-generation/progress/{id}"),
    (
        Endpoint::SimpleVideo,
        "/api/function/video-generation/simple-video",
        "/api/function/video-generation/progress/{id}",
    ),
    (Endpoint::LoopVideo, "/api/function/video-generation/loop-video", "/api/function/video-generation/progress/{id}"),
    (Endpoint::AdvancedVideo, "/api/render/advanced-video", "/api/render/advanced-video/progress/{task_id}"),
];

/// `POST /api/playground/validate/{endpoint}`: rate limit (per IP), endpoint, body size, then
/// the create's validation.
pub async fn validate(State(s): State<AppState>, Path(endpoint): Path<String>, req: Request) -> Reply {
    enforce(&s.limits.validate, &client_ip(&req)).await?;
    let endpoint = endpoint.parse::<Endpoint>().map_err(|e| HttpError::new(404, e, Some("ENDPOINT_NOT_FOUND")))?;
    let (parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body, s.config.max_validate_body).await?;
    samvideo_core::validate::parse_create(endpoint, &bytes)?;
    typed_reply(200, Done { success: true, message: format!("Valid {endpoint} request") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::openapi::operations::OPERATIONS;

    /// Every endpoint is offered, and the page only calls documented operations.
    #[test]
    fn the_page_calls_documented_operations() {
        let offered: Vec<Endpoint> = ENDPOINTS.iter().map(|e| e.0).collect();
        assert_eq!(offered, Endpoint::ALL.to_vec());
        let documented = |method: &str, path: &str| OPERATIONS.iter().any(|o| o.method == method && o.path == path);
        for (endpoint, create, progress) in ENDPOINTS {
            assert!(documented("post", create), "{endpoint}: {create}");
            assert!(documented("get", progress), "{endpoint}: {progress}");
        }
        assert!(documented("post", VALIDATE));
        assert!(documented("get", "/playground"));
    }
}
