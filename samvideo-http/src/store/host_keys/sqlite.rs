//! `sftp_host_keys` on SQLite: the statements of `store::host_keys`.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::{now_rfc3339, StoreError};

/// The SFTP host key pinned for `host:port` (OpenSSH one-line form), if any.
fn pinned(conn: &Connection, host: &str, port: u16) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT public_key FROM sftp_host_keys WHERE host = ?1 AND port = ?2", params![host, port], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Pin `public_key` for `host:port` unless one is pinned already; returns the pinned key.
pub(in crate::store) fn pin(conn: &Connection, host: &str, port: u16, public_key: &str) -> Result<String, StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO sftp_host_keys (host, port, public_key, first_seen) VALUES (?1, ?2, ?3, ?4)",
        params![host, port, public_key, now_rfc3339()],
    )?;
    Ok(pinned(conn, host, port)?.unwrap_or_else(|| public_key.to_string()))
}
