//! The AI service's settings, as `samvideo serve` builds them (`ai/args.rs`) and
//! `ServerConfig` carries them: catalog and providers files, monthly credits per plan, and
//! how many built-in renders run at once.
//!
//! Kept apart from `ai/mod.rs` so the server configuration can hold them without importing
//! the service (which reads the configuration).

use std::path::PathBuf;

use crate::credits::CreditsConfig;

/// AI settings of the server.
#[derive(Debug, Clone, PartialEq)]
pub struct AiConfig {
    /// Replaces the bundled catalog.
    pub catalog_path: Option<PathBuf>,
    /// Third-party providers (base URL, key); none configured means only `builtin` runs.
    pub providers_path: Option<PathBuf>,
    /// Monthly subscription credits per plan.
    pub credits: CreditsConfig,
    /// Built-in renders running at once.
    pub builtin_concurrency: usize,
}

impl Default for AiConfig {
    fn default() -> Self {
        AiConfig { catalog_path: None, providers_path: None, credits: CreditsConfig::default(), builtin_concurrency: 1 }
    }
}
