//! `samvideo work`: a render worker without the HTTP API. It opens what every node opens
//! ([`Node::open`]: store, object store, media source), then runs `--workers` render loops that
//! claim tasks from the shared queue, render them in its data dir's scratch folder, put the
//! results into the object store and commit them under their lease; and the export delivery
//! loop, so a task's exports run from the worker that finished it.
//!
//! Across machines it needs a shared store (`--store postgres://...`) and shared objects
//! (`--objects s3://...`); with SQLite and a folder it works beside `samvideo serve` on one
//! machine.
//!
//! Enter: a [`ServerConfig`] (from `cli::work`). Leave: task rows and objects; [`Worker::stop`].

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::config::{ConfigError, ServerConfig};
use crate::exports::Exporter;
use crate::jobs::hooks::TaskHook;
use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::node::{Node, StartError};

/// A running render worker.
pub struct Worker {
    jobs: Jobs,
    exporter: Arc<Exporter>,
    loops: Vec<JoinHandle<()>>,
    /// The sweep of orphaned parts and, with `--retention-days`, old outputs; aborted at stop.
    retention: Option<JoinHandle<()>>,
}

impl Worker {
    /// Open the node, recover what this node's dead process left behind, start the loops.
    pub async fn start(config: ServerConfig) -> Result<Worker, StartError> {
        if config.workers == 0 {
            return Err(StartError::Config(ConfigError::NoWorkers));
        }
        let Node { config, store, objects, source, id } = Node::open(config).await?;
        if config.public_url.is_none() {
            tracing::warn!(
                "no --public-url: output links in webhooks and emails from this worker name {}",
                config.addr
            );
        }
        let exporter = Exporter::new(store.clone(), config.clone(), objects.clone());
        let hook = exporter.clone() as Arc<dyn TaskHook>;
        let retention = Some(crate::retention::Retention::start(&config, &store, &objects));
        let jobs = Jobs::new(store, config.clone(), Arc::new(Metrics::default()), source, hook, objects);
        jobs.recover()?;
        let mut loops = jobs.spawn_workers();
        loops.push(exporter.spawn());
        tracing::info!(node = %id, store = %config.store_location(), objects = %config.objects_location(),
            workers = config.workers, encoders = config.encoders_per_render(), lease_secs = config.lease.as_secs_f64(),
            "samvideo worker started");
        Ok(Worker { jobs, exporter, loops, retention })
    }

    /// Stop claiming, stop running renders (their leases run out and another worker takes
    /// them; this node's restart re-queues them at once), stop the delivery loop.
    pub async fn stop(mut self) {
        self.jobs.shutdown();
        self.exporter.shutdown();
        if let Some(r) = self.retention.take() {
            r.abort();
        }
        for l in self.loops.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(15), l).await;
        }
    }

    /// Work until Ctrl-C or SIGTERM, then stop.
    pub async fn run_until_signal(self) {
        crate::node::stop_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
    }
}
