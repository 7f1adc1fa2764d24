//! The one place the server builds the [`MediaSource`] its renders fetch through: the
//! built-in example media for `bundled:` URLs ([`BundledSource`], bytes compiled into the
//! binary: never a fetch, so the playground's examples render without the server calling
//! itself over loopback), and the SSRF-safe [`HttpSource`] for everything else (address checks
//! on every hop, size/time/redirect limits), with `--allow-private-network` mapped onto its
//! [`NetPolicy`]. Local paths and `file://` are never read for API requests.

use std::sync::Arc;

use samvideo_core::media::http::HttpSource;
use samvideo_core::media::net_policy::NetPolicy;
use samvideo_core::media::{MediaError, MediaSource};

use crate::bundled::source::BundledSource;
use crate::config::ServerConfig;

/// Build the source renders use. Blocking (it starts the HTTP client's I/O thread): call it
/// off the async runtime.
pub fn media_source(config: &ServerConfig) -> Result<Arc<dyn MediaSource>, MediaError> {
    let policy = NetPolicy::new().with_allow_private_network(config.allow_private_network);
    let http: Arc<dyn MediaSource> = Arc::new(HttpSource::new(policy, config.media_limits.clone())?);
    Ok(Arc::new(BundledSource::new(http)))
}
