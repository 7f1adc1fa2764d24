//! The state every handler sees: configuration, store, objects, job runner, limiters, metrics.

use std::sync::Arc;

use axum::http::HeaderMap;

use crate::config::ServerConfig;
use crate::jobs::Jobs;
use crate::limits::Limiters;
use crate::metrics::Metrics;
use crate::store::Store;

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Validated settings.
    pub config: Arc<ServerConfig>,
    /// The store (SQLite or Postgres).
    pub store: Store,
    /// Where outputs and previews are kept (a folder or a bucket).
    pub objects: crate::objects::Objects,
    /// Queue, workers, cancel tokens.
    pub jobs: Jobs,
    /// Rate limiters.
    pub limits: Arc<Limiters>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// AI catalog, providers and running AI jobs.
    pub ai: crate::ai::AiService,
}

impl AppState {
    /// Base of absolute URLs: `--public-url`, else the request's scheme and Host.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.config.public_url {
            return url.trim_end_matches('/').to_string();
        }
        let proto = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .filter(|p| *p == "http" || *p == "https")
            .unwrap_or("http");
        let host = headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
            .map(str::to_string)
            .unwrap_or_else(|| self.config.addr.to_string());
        format!("{proto}://{host}")
    }
}
