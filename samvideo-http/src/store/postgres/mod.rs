//! The Postgres backend: a pool of connections to one database that several samvideo nodes
//! share, with the same operations as the SQLite backend (the `postgres.rs` of each table folder of
//! `store/`, beside its `sqlite.rs`), its own schema ([`migrations`], applied under an advisory
//! lock) and the same rule functions called inside its transactions.
//!
//! The connections live on the store's own small tokio runtime: every operation is spawned
//! there and awaited (async callers, from any runtime) or waited for on a channel (blocking
//! callers: render threads, the CLI), as the SQLite backend runs its statements on blocking
//! threads. So a store outlives the runtime that opened it (tests open one per test) and a
//! blocking call never needs the caller's runtime.
//!
//! Concurrency: statements run at READ COMMITTED. A transaction that decides on sums of an
//! account's rows (quota and extra videos, credits) first locks the account's `api_keys` row
//! ([`lock_account`]), so such decisions are serialized per account across nodes exactly as
//! SQLite serializes them per file; queue claims take rows with `FOR UPDATE SKIP LOCKED`.

pub(super) mod migrations;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{GenericClient, NoTls};

use super::StoreError;

/// A pooled connection, as every operation of this backend receives it.
pub(super) type Conn = deadpool_postgres::Object;

/// Connections held at most by one node.
const POOL_SIZE: usize = 16;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// The store's runtime, shut down without waiting when the last handle goes (dropping a
/// runtime inside async code would panic).
struct StoreRuntime(Option<tokio::runtime::Runtime>);

impl Drop for StoreRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A connection pool on its own runtime; cheap to clone.
#[derive(Clone)]
pub(super) struct Db {
    pool: Pool,
    handle: tokio::runtime::Handle,
    _runtime: Arc<StoreRuntime>,
}

impl Db {
    /// Connect to `url` (`postgres://user:password@host:port/db`, or key=value form) and bring
    /// the schema up to date. Fails when the server cannot be reached.
    pub(super) fn connect(url: &str) -> Result<Db, StoreError> {
        let mut config: tokio_postgres::Config = url.parse()?;
        config.connect_timeout(Duration::from_secs(10));
        config.application_name("samvideo");
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("samvideo-store")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Join(format!("cannot start the store's runtime: {e}")))?;
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Database(Box::new(e)))?;
        let db = Db { pool, handle: runtime.handle().clone(), _runtime: Arc::new(StoreRuntime(Some(runtime))) };
        db.block(migrations::apply)?;
        Ok(db)
    }

    /// Run `f` with a pooled connection on the store's runtime and await it.
    pub(super) async fn call<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let pool = self.pool.clone();
        self.handle
            .spawn(async move { f(pool.get().await?).await })
            .await
            .map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// Run `f` with a pooled connection on the store's runtime, blocking the calling thread
    /// until it is done (threads that may block only).
    pub(super) fn block<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let pool = self.pool.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let r = async { f(pool.get().await?).await }.await;
            let _ = tx.send(r);
        });
        rx.recv().map_err(|_| StoreError::Join("the store's task ended without an answer".into()))?
    }
}

/// Lock an account's key row for the rest of the transaction: operations that decide on the
/// sums of its rows run one at a time per account, on every node.
pub(super) async fn lock_account(c: &impl GenericClient, key_id: i64) -> Result<(), StoreError> {
    c.query_opt("SELECT id FROM api_keys WHERE id = $1 FOR UPDATE", &[&key_id]).await?;
    Ok(())
}
