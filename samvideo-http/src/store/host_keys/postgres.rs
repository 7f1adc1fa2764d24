//! `sftp_host_keys` on Postgres: the statements of `store::host_keys`.

use crate::store::postgres::Conn;
use crate::store::{now_rfc3339, StoreError};

/// Pin `public_key` for `host:port` unless one is pinned already; returns the pinned key.
pub(in crate::store) async fn pin(c: Conn, host: String, port: u16, public_key: String) -> Result<String, StoreError> {
    let port = i32::from(port);
    c.execute(
        "INSERT INTO sftp_host_keys (host, port, public_key, first_seen) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (host, port) DO NOTHING",
        &[&host, &port, &public_key, &now_rfc3339()],
    )
    .await?;
    let r = c.query_opt("SELECT public_key FROM sftp_host_keys WHERE host = $1 AND port = $2", &[&host, &port]).await?;
    Ok(match r {
        Some(r) => r.try_get(0)?,
        None => public_key,
    })
}
