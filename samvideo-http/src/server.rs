//! A running server: what `samvideo serve` and the tests start.
//!
//! [`Server::start`] opens what every node opens ([`Node::open`]: config, node id, store with
//! its migrations, object store, media source), recovers the tasks this node's dead process
//! left behind, binds, and spawns the workers (none with `--workers 0`: an API node).
//! [`Server::stop`] shuts the listener down gracefully and stops the workers; running renders
//! stay `processing` in the store and are recovered by the next start (or, once their lease
//! runs out, by another worker).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::ServerConfig;
use crate::exports::Exporter;
use crate::jobs::hooks::TaskHook;
use crate::jobs::Jobs;
use crate::limits::Limiters;
use crate::metrics::Metrics;
use crate::node::Node;
use crate::state::AppState;

pub use crate::node::StartError;

/// A listening server with its workers.
pub struct Server {
    state: AppState,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    serve: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
    exporter: Option<Arc<Exporter>>,
    /// The sweep of orphaned parts and, with `--retention-days`, old outputs; aborted at stop.
    retention: Option<JoinHandle<()>>,
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
        let Node { config, store, objects, source, .. } = Node::open(config).await?;
        let (hook, exporter) = match hook {
            Some(h) => (h, None),
            None => {
                let e = Exporter::new(store.clone(), config.clone(), objects.clone());
                (e.clone() as Arc<dyn TaskHook>, Some(e))
            }
        };
        let metrics = Arc::new(Metrics::default());
        let ai = {
            let (config, store, source, objects) = (config.clone(), store.clone(), source.clone(), objects.clone());
            tokio::task::spawn_blocking(move || crate::ai::AiService::new(config, store, source, objects))
                .await
                .map_err(|e| StartError::Join(e.to_string()))??
        };
        let jobs = Jobs::new(store.clone(), config.clone(), metrics.clone(), source, hook, objects.clone());
        jobs.recover()?;
        ai.recover()?;
        let state = AppState {
            limits: Arc::new(Limiters::new(&config, &store)),
            config: config.clone(),
            store,
            objects,
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
        let retention = Some(crate::retention::Retention::start(&config, &state.store, &state.objects));
        let (tx, rx) = oneshot::channel::<()>();
        let service = crate::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let serve = tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        tracing::info!(%addr, data_dir = %config.data_dir.display(), store = %config.store_location(), objects = %config.objects_location(), workers = config.workers, "samvideo listening");
        Ok(Server { state, addr, shutdown: Some(tx), serve, workers, exporter, retention })
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
        if let Some(r) = self.retention.take() {
            r.abort();
        }
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
        crate::node::stop_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
    }
}
