//! SFTP host keys pinned on first use: the `sftp_host_keys` table, one OpenSSH one-line key
//! per `host:port`.
//!
//! Enter: the key a server presented ([`Store::pin_host_key`]). Leave: the key pinned for that
//! address, which the caller compares.

use rusqlite::{params, Connection, OptionalExtension};

use super::postgres::host_keys as pg;
use super::{now_rfc3339, Backend, Store, StoreError};

/// The SFTP host key pinned for `host:port` (OpenSSH one-line form), if any.
fn pinned(conn: &Connection, host: &str, port: u16) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT public_key FROM sftp_host_keys WHERE host = ?1 AND port = ?2", params![host, port], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Pin `public_key` for `host:port` unless one is pinned already; returns the pinned key.
fn pin(conn: &Connection, host: &str, port: u16, public_key: &str) -> Result<String, StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO sftp_host_keys (host, port, public_key, first_seen) VALUES (?1, ?2, ?3, ?4)",
        params![host, port, public_key, now_rfc3339()],
    )?;
    Ok(pinned(conn, host, port)?.unwrap_or_else(|| public_key.to_string()))
}

impl Store {
    /// Pin `public_key` (OpenSSH one-line form) for `host:port` unless a key is pinned
    /// already; returns the key pinned now.
    pub async fn pin_host_key(&self, host: &str, port: u16, public_key: &str) -> Result<String, StoreError> {
        let (host, key) = (host.to_owned(), public_key.to_owned());
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| pin(c, &host, port, &key)).await,
            Backend::Postgres(db) => db.call(move |c| pg::pin(c, host, port, key)).await,
        }
    }
}
