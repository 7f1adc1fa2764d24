//! Media sources and decoders.
//!
//! A [`MediaSource`] turns a URL from a request into bytes. The renderer asks for each URL
//! once per job (see [`cache::JobMedia`]) and hands the bytes to a decoder: images here
//! (`image.rs`), audio in `crate::audio`, video clips in `video.rs`.
//!
//! Sources: [`local::LocalSource`] (CLI: relative paths and `file://` against the spec's
//! folder) and [`http::HttpSource`] (http/https with address checks and limits).

#[cfg(feature = "render")]
pub mod cache;
#[cfg(feature = "render")]
pub mod http;
#[cfg(feature = "render")]
pub mod image;
pub mod limits;
#[cfg(feature = "render")]
pub mod local;
#[cfg(feature = "render")]
pub mod net_policy;
#[cfg(feature = "render")]
pub mod video;

use std::sync::Arc;

/// Why a media item could not be fetched or decoded. The message names no item: callers
/// wrap it in [`MediaItemError`] with the item's label (`media_list[2] (https://…)`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The server answered a non-success status.
    #[error("HTTP {0}")]
    HttpStatus(u16),
    /// The address is refused by the network policy.
    #[error("address {0} is not allowed")]
    AddressNotAllowed(String),
    /// The host is refused by the operator's host allow-/deny-list.
    #[error("host {0} is not allowed")]
    HostNotAllowed(String),
    /// The URL scheme is not accepted by this source.
    #[error("unsupported URL scheme {0:?}")]
    UnsupportedScheme(String),
    /// The URL does not parse.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// Connect or read took too long.
    #[error("timed out after {0} s")]
    Timeout(u64),
    /// More bytes than the limit.
    #[error("larger than the {0} byte limit")]
    TooLarge(u64),
    /// Too many redirects.
    #[error("more than {0} redirects")]
    TooManyRedirects(u32),
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The path tried.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// Network failure other than the above.
    #[error("{0}")]
    Network(String),
    /// Bytes arrived but are not a decodable image/audio/video.
    #[error("{0}")]
    Decode(String),
    /// A resource limit (pixels, frames, duration) is exceeded.
    #[error("{0}")]
    Limit(String),
}

/// A media error with the item it belongs to: `media_list[2] (https://…/x.png): HTTP 404`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{item} ({url}): {error}")]
pub struct MediaItemError {
    /// Where the item sits in the request, e.g. `media_list[2]` or `background_url`.
    pub item: String,
    /// The URL as sent.
    pub url: String,
    /// What went wrong.
    pub error: MediaError,
}

/// Fetches the bytes behind a URL. Implementations must bound size and time.
pub trait MediaSource: Send + Sync {
    /// Fetch the whole resource.
    fn fetch(&self, url: &str) -> Result<Arc<Vec<u8>>, MediaError>;

    /// Fetch the whole resource, refusing more than `max_bytes` (a subtitle file, a font: kinds
    /// with a limit of their own below the media item's). Sources that can stop early (HTTP,
    /// files) do; this default checks after the fetch.
    fn fetch_at_most(&self, url: &str, max_bytes: u64) -> Result<Arc<Vec<u8>>, MediaError> {
        let bytes = self.fetch(url)?;
        if bytes.len() as u64 > max_bytes {
            return Err(MediaError::TooLarge(max_bytes));
        }
        Ok(bytes)
    }
}
