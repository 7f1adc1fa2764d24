//! The `exports.callback_url` webhook: payload, headers and one POST attempt.
//!
//! Enter: the payload is built once when the task ends ([`payload`]) and stored, so every
//! retry sends the same bytes; [`deliver`] makes one attempt. Leave: the response status on a
//! 2xx, else an [`AttemptError`] (transient for non-2xx, timeouts and connection errors;
//! permanent for a refused address).
//!
//! Headers: `X-Samautomation-Event`, `X-Samautomation-Delivery` (UUID, the same on every
//! retry: receivers de-duplicate on it), `X-Samautomation-Attempt` (1, 2, ...), and
//! `X-Samautomation-Signature: t=<unix>,v1=<hex>` when a secret is known (see `signature`).
//!
//! Addresses: the host is resolved here, every address is checked against the policy, and the
//! request goes to exactly those addresses (reqwest's `resolve_to_addrs`), so DNS cannot
//! rebind between check and connect. Redirects are not followed (a 3xx is a failed attempt)
//! and proxies from the environment are ignored.

use std::time::Duration;

use reqwest::Url;
use samvideo_core::media::net_policy::NetPolicy;
use samvideo_core::media::MediaError;
use serde_json::{json, Value};

use super::{signature, AttemptError};
use crate::jobs::hooks::FinishedTask;

/// Parse the callback URL and apply the checks that need no lookup (scheme, host lists, IP
/// literals).
pub fn check_url(policy: &NetPolicy, url: &str) -> Result<Url, MediaError> {
    let parsed = Url::parse(url).map_err(|e| MediaError::InvalidUrl(format!("{url}: {e}")))?;
    policy.check_url(&parsed)?;
    Ok(parsed)
}

/// `scheme://host[:port]` of a URL: shown in `export_delivery` instead of the full URL, whose
/// path or query may carry a token.
pub fn origin(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => "invalid URL".into(),
    }
}

/// Absolute URLs of a finished task's files (completed tasks only).
#[derive(Debug, Clone, Copy, Default)]
pub struct Urls<'a> {
    /// The video.
    pub output: Option<&'a str>,
    /// Its poster frame (JPEG).
    pub thumbnail: Option<&'a str>,
    /// Its WebVTT caption sidecar (captioned videos; the SubRip one ends `.srt`).
    pub subtitles: Option<&'a str>,
}

/// The JSON body of a `video.completed` / `video.failed` event.
pub fn payload(
    task: &FinishedTask,
    event: &str,
    delivery_id: &str,
    urls: Urls<'_>,
    times: (Option<String>, Option<String>),
) -> Value {
    json!({
        "event": event,
        "delivery_id": delivery_id,
        "created_at": crate::store::now_rfc3339(),
        "data": {
            "task_id": task.id,
            "status": task.status.as_str(),
            "output_url": urls.output,
            "thumbnail_url": urls.thumbnail,
            "subtitles_url": urls.subtitles,
            "duration": (task.duration * 1000.0).round() / 1000.0,
            "size_bytes": task.size_bytes,
            "error": task.error,
            "created_at": times.0,
            "completed_at": times.1,
        }
    })
}

/// One POST of `body`. Returns the 2xx status.
#[allow(clippy::too_many_arguments)]
pub async fn deliver(
    policy: &NetPolicy,
    timeout: Duration,
    url: &str,
    secret: Option<&str>,
    event: &str,
    delivery_id: &str,
    attempt: i64,
    body: &[u8],
) -> Result<u16, AttemptError> {
    let parsed = check_url(policy, url).map_err(|e| AttemptError::permanent(e.to_string()))?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs = {
        let policy = policy.clone();
        let host = host.clone();
        tokio::task::spawn_blocking(move || super::resolve_checked(&policy, &host, port))
            .await
            .map_err(|e| AttemptError::transient(format!("resolver crashed: {e}")))?
    };
    let addrs = addrs?;
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("samvideo-webhooks/", env!("CARGO_PKG_VERSION")));
    if host.parse::<std::net::IpAddr>().is_err() && !host.starts_with('[') {
        builder = builder.resolve_to_addrs(&host, &addrs);
    }
    let client = builder.build().map_err(|e| AttemptError::transient(format!("cannot start the HTTP client: {e}")))?;
    let mut req = client
        .post(parsed)
        .header("content-type", "application/json")
        .header("x-samautomation-event", event)
        .header("x-samautomation-delivery", delivery_id)
        .header("x-samautomation-attempt", attempt.to_string())
        .body(body.to_vec());
    if let Some(secret) = secret {
        let t = chrono::Utc::now().timestamp();
        req = req.header("x-samautomation-signature", signature::sign(secret.as_bytes(), t, body));
    }
    let resp = req.send().await.map_err(|e| AttemptError::transient(describe(&e)))?;
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        Ok(status)
    } else {
        Err(AttemptError::transient(format!("the callback answered HTTP {status}")))
    }
}

/// A reqwest error with its causes, without the URL (its query may hold a token).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut msg = format!("callback {what}");
    let mut src = std::error::Error::source(e);
    let mut last = String::new();
    while let Some(s) = src {
        let text = s.to_string();
        if text != last {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        last = text;
        src = s.source();
    }
    msg
}
