//! SFTP host keys pinned on first use: the `sftp_host_keys` table, one OpenSSH one-line key
//! per `host:port`.
//!
//! Enter: the key a server presented ([`Store::pin_host_key`]). Leave: the key pinned for that
//! address, which the caller compares.
//!
//! The [`Store`] method here picks the backend and runs its statements (`sqlite.rs`,
//! `postgres.rs`).

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;

use self::postgres as pg;
use crate::store::{Backend, Store, StoreError};

impl Store {
    /// Pin `public_key` (OpenSSH one-line form) for `host:port` unless a key is pinned
    /// already; returns the key pinned now.
    pub async fn pin_host_key(&self, host: &str, port: u16, public_key: &str) -> Result<String, StoreError> {
        let (host, key) = (host.to_owned(), public_key.to_owned());
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::pin(c, &host, port, &key)).await,
            Backend::Postgres(db) => db.call(move |c| pg::pin(c, host, port, key)).await,
        }
    }
}
