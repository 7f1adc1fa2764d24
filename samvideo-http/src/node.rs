//! What every samvideo node opens at start, an API node (`samvideo serve`) and a render worker
//! (`samvideo work`) alike: the validated config, the node's name (kept in the data dir), the
//! store (`--store`), the object store (`--objects`) and the media source renders fetch
//! through. One place, so both kinds of node start, and fail to start, the same way: a store
//! or bucket that cannot be used stops the start with an error naming its flag.
//!
//! Enter: a [`ServerConfig`]. Leave: a [`Node`], or a [`StartError`].

use std::net::SocketAddr;
use std::sync::Arc;

use samvideo_core::media::MediaSource;

use crate::config::{ConfigError, ServerConfig};
use crate::jobs::source;
use crate::objects::{Objects, ObjectsError};
use crate::store::{Store, StoreError};

/// Why a node did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database cannot be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The object store cannot be used.
    #[error(transparent)]
    Objects(#[from] ObjectsError),
    /// The media fetcher cannot start.
    #[error("cannot start the media fetcher: {0}")]
    Media(#[from] samvideo_core::media::MediaError),
    /// The AI catalog or providers file is invalid.
    #[error(transparent)]
    Ai(#[from] crate::ai::AiStartError),
    /// The node's name cannot be read or kept in the data dir.
    #[error("cannot keep the node id in {path}: {source}")]
    NodeId {
        /// `DATA_DIR/node-id`.
        path: String,
        /// OS error.
        source: std::io::Error,
    },
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// OS error.
        source: std::io::Error,
    },
    /// A start-up task on a blocking thread died.
    #[error("start-up task failed: {0}")]
    Join(String),
}

/// This node's name, kept in `DATA_DIR/node-id` (made on first start): the same data dir is
/// the same node across restarts, so recovery re-queues only what this node was running.
fn node_id(data_dir: &std::path::Path) -> Result<String, StartError> {
    let path = data_dir.join("node-id");
    let err = |source| StartError::NodeId { path: path.display().to_string(), source };
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_string()),
        Ok(_) => Err(err(std::io::Error::new(std::io::ErrorKind::InvalidData, "empty file"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = uuid::Uuid::new_v4().to_string();
            std::fs::write(&path, format!("{id}\n")).map_err(err)?;
            Ok(id)
        }
        Err(e) => Err(err(e)),
    }
}

/// A node's opened resources.
pub struct Node {
    /// The validated settings.
    pub config: Arc<ServerConfig>,
    /// This node's name.
    pub id: String,
    /// The store, working for this node.
    pub store: Store,
    /// The object store.
    pub objects: Objects,
    /// What renders fetch media through.
    pub source: Arc<dyn MediaSource>,
}

impl Node {
    /// Validate `config`, then open the store, the object store and the media source.
    pub async fn open(config: ServerConfig) -> Result<Node, StartError> {
        let config = Arc::new(config.validate()?);
        let id = node_id(&config.data_dir)?;
        let store = {
            let location = config.store_location();
            tokio::task::spawn_blocking(move || Store::connect(&location))
                .await
                .map_err(|e| StartError::Join(e.to_string()))??
                .for_node(&id)
        };
        let objects = Objects::open(&config.objects_location(), &config.s3).await?;
        let source = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || source::media_source(&config))
                .await
                .map_err(|e| StartError::Join(e.to_string()))??
        };
        Ok(Node { config, id, store, objects, source })
    }
}

/// Wait for Ctrl-C or SIGTERM (a node's cue to stop).
pub async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM");
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
