//! The SQLite backend's connection: one file in the data dir (WAL mode), one connection behind
//! a std `Mutex` (never held across `.await`): SQLite serializes writers anyway, and every
//! statement is short. Its statements are the `sqlite.rs` of each table folder of
//! `store/` (`keys/sqlite.rs`, `tasks/sqlite.rs`, ...); its schema is [`migrations`].
//!
//! Enter: [`Db::open`] with a file path; [`Db::with`] runs a closure on the calling thread,
//! [`Db::call`] on a blocking thread, awaited.

pub(super) mod migrations;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::StoreError;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// An open SQLite database; cheap to clone.
#[derive(Clone)]
pub(super) struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Open (or create) the database at `path` and apply migrations.
    pub(super) fn open(path: &Path) -> Result<Db, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::apply(&mut conn)?;
        Ok(Db { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Run `f` with the connection on the current thread.
    pub(super) fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // A panic while holding the lock leaves the connection usable: SQLite rolls back.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    /// Run `f` on a blocking thread and await it.
    pub(super) async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.with(f)).await.map_err(|e| StoreError::Join(e.to_string()))?
    }
}
