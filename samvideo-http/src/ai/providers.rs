//! The seam between AI jobs and whoever generates them: [`Provider`].
//!
//! A provider is chosen by the catalog entry's `provider` field: `builtin` is
//! [`super::builtin::MotionProvider`] (renders here), any other name is an
//! [`super::http_adapter::HttpProvider`] configured in the providers file. A provider runs on a
//! blocking thread, so implementations may block (render, HTTP polling).

use std::path::PathBuf;
use std::sync::Arc;

use samvideo_core::media::MediaSource;
use samvideo_core::render::CancelToken;
use serde_json::{Map, Value};

/// What a job asks for, after the catalog filled in option defaults.
#[derive(Debug, Clone)]
pub struct JobInput {
    /// The job's id.
    pub job_id: i64,
    /// Catalog id.
    pub model_id: String,
    /// Text prompt.
    pub prompt: Option<String>,
    /// Source images.
    pub image_urls: Vec<String>,
    /// Options, defaults filled in.
    pub options: Map<String, Value>,
}

/// What a running job may use.
pub struct JobContext {
    /// Fetches media (SSRF-safe, limits applied).
    pub source: Arc<dyn MediaSource>,
    /// What a render on this server starts from: the media limits and its share of the
    /// cores ([`crate::config::ServerConfig::render_options`]), cancelled at shutdown.
    pub render: samvideo_core::render::RenderOptions,
    /// Where partial files go (`tmp/`).
    pub tmp_dir: PathBuf,
    /// Set when the server shuts down.
    pub cancel: CancelToken,
    /// A provider's own job id when resuming after a restart.
    pub external_id: Option<String>,
    /// Persist the provider's own job id as soon as it is known (resume after a restart).
    pub record_external_id: Box<dyn Fn(&str) + Send + Sync>,
}

/// What a finished job produced.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutput {
    /// Files on this machine, to be moved into `outputs/` and served from there.
    Files(Vec<PathBuf>),
    /// URLs where the provider serves the results.
    Urls(Vec<String>),
}

/// Why a provider cannot take or finish a job.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// Not configured or not reachable: the job is refused with 503 and nothing charged.
    #[error("{0}")]
    Unavailable(String),
    /// The job ran and failed: it ends `failed` with this code and message, credits refunded.
    #[error("{code}: {message}")]
    Failed {
        /// `error_code` shown in the job status.
        code: &'static str,
        /// `error_message` shown in the job status.
        message: String,
    },
}

impl ProviderError {
    /// A failure with code and message.
    pub fn failed(code: &'static str, message: impl Into<String>) -> Self {
        ProviderError::Failed { code, message: message.into() }
    }
}

/// A generator of AI jobs.
pub trait Provider: Send + Sync {
    /// Name as in the catalog's `provider` field.
    fn name(&self) -> &str;
    /// Can a job be accepted now? Checked before anything is charged.
    fn ready(&self) -> Result<(), ProviderError>;
    /// Run `job` to the end (blocking).
    fn run(&self, job: &JobInput, ctx: &JobContext) -> Result<JobOutput, ProviderError>;
}
