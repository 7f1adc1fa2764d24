//! Local files, for the CLI: a relative path or `file://` URL resolves against the folder
//! of the spec file. `http(s)://` URLs are handed to an inner source when one is given.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{MediaError, MediaSource};

/// Reads local files; delegates other schemes to `remote` (if any).
pub struct LocalSource {
    base: PathBuf,
    max_bytes: u64,
    remote: Option<Box<dyn MediaSource>>,
}

impl LocalSource {
    /// Files resolve against `base` (the spec file's folder).
    pub fn new(base: impl Into<PathBuf>) -> Self {
        LocalSource { base: base.into(), max_bytes: 1 << 30, remote: None }
    }

    /// Hand `http://` and `https://` URLs to `remote`.
    pub fn with_remote(mut self, remote: Box<dyn MediaSource>) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Refuse files larger than `max_bytes`.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    fn resolve(&self, url: &str) -> PathBuf {
        let path = url.strip_prefix("file://").unwrap_or(url);
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base.join(path)
        }
    }
}

impl MediaSource for LocalSource {
    fn fetch(&self, url: &str) -> Result<Arc<Vec<u8>>, MediaError> {
        self.fetch_at_most(url, self.max_bytes)
    }

    fn fetch_at_most(&self, url: &str, max_bytes: u64) -> Result<Arc<Vec<u8>>, MediaError> {
        let max_bytes = max_bytes.min(self.max_bytes);
        if url.starts_with("http://") || url.starts_with("https://") {
            return match &self.remote {
                Some(remote) => remote.fetch_at_most(url, max_bytes),
                None => Err(MediaError::UnsupportedScheme(url.split(':').next().unwrap_or_default().to_string())),
            };
        }
        if let Some((scheme, _)) = url.split_once("://") {
            if scheme != "file" {
                return Err(MediaError::UnsupportedScheme(scheme.to_string()));
            }
        }
        let path = self.resolve(url);
        let io_err = |e: std::io::Error| MediaError::Io { path: path.display().to_string(), reason: e.to_string() };
        let len = std::fs::metadata(&path).map_err(io_err)?.len();
        if len > max_bytes {
            return Err(MediaError::TooLarge(max_bytes));
        }
        Ok(Arc::new(std::fs::read(&path).map_err(io_err)?))
    }
}
