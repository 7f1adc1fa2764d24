//! A running server: what `samvideo serve` and the tests start.
//!
//! [`Server::start`] validates the config, opens the store (migrations) for this node (its id
//! kept in the data dir), recovers the tasks this node's dead process left behind, binds, and
//! spawns the workers. [`Server::stop`] shuts the listener
//! down gracefully and stops the workers; running renders stay `processing` in the store and
//! are recovered by the next start.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{ConfigError, ServerConfig};
use crate::exports::Exporter;
use crate::jobs::hooks::TaskHook;
use crate::jobs::{source, Jobs};
use crate::limits::Limiters;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::{Store, StoreError};

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database cannot be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// A listening server with its workers.
pub struct Server {
    state: AppState,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    serve: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
    exporter: Option<Arc<Exporter>>,
}

impl Server {
    /// Start with export delivery ([`Exporter`]: webhooks, FTP, SFTP, email).
    pub async fn start(config: ServerConfig) -> Result<Server, StartError> {
        Self::start_inner(config, None).await
    }

    /// Start with `hook` called when tasks end instead of export delivery.
    pub async fn start_with_hook(config: ServerConfig, hook: Arc<dyn TaskHook>) -> Result<Server, StartError> {
        Self::start_inner(config, Some(hook)).await
    }

    async fn start_inner(config: ServerConfig, hook: Option<Arc<dyn TaskHook>>) -> Result<Server, StartError> {
        let config = Arc::new(config.validate()?);
        let node = node_id(&config.data_dir)?;
        let store = Store::connect(&config.store_location())?.for_node(&node);
        let (hook, exporter) = match hook {
            Some(h) => (h, None),
            None => {
                let e = Exporter::new(store.clone(), config.clone());
                (e.clone() as Arc<dyn TaskHook>, Some(e))
            }
        };
        let metrics = Arc::new(Metrics::default());
        let source = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || source::media_source(&config))
                .await
                .map_err(|e| StartError::Store(StoreError::Join(e.to_string())))??
        };
        let ai = {
            let (config, store, source) = (config.clone(), store.clone(), source.clone());
            tokio::task::spawn_blocking(move || crate::ai::AiService::new(config, store, source))
                .await
                .map_err(|e| StartError::Store(StoreError::Join(e.to_string())))??
        };
        let jobs = Jobs::new(store.clone(), config.clone(), metrics.clone(), source, hook);
        jobs.recover()?;
        ai.recover()?;
        let state = AppState {
            limits: Arc::new(Limiters::new(&config, &store)),
            config: config.clone(),
            store,
            jobs: jobs.clone(),
            metrics,
            ai,
        };
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind { addr: config.addr, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.addr, source })?;
        let mut workers = jobs.spawn_workers();
        if let Some(e) = &exporter {
            e.set_base_url(format!("http://{addr}"));
            workers.push(e.spawn());
        }
        let (tx, rx) = oneshot::channel::<()>();
        let service = crate::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let serve = tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        tracing::info!(%addr, data_dir = %config.data_dir.display(), store = %config.store_location(), workers = config.workers, "samvideo listening");
        Ok(Server { state, addr, shutdown: Some(tx), serve, workers, exporter })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Shared state (store, jobs, config).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stop listening and stop the workers.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.state.jobs.shutdown();
        if let Some(e) = &self.exporter {
            e.shutdown();
        }
        self.state.ai.shutdown();
        let serve = &mut self.serve;
        if tokio::time::timeout(Duration::from_secs(5), &mut *serve).await.is_err() {
            serve.abort();
        }
        for w in self.workers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(15), w).await;
        }
    }

    /// Serve until Ctrl-C or SIGTERM, then stop.
    pub async fn run_until_signal(self) {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch SIGTERM");
                    let _ = ctrl_c.await;
                    self.stop().await;
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        self.stop().await;
    }
}
