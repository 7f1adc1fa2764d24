//! `rate_hits` on SQLite: the statements of `store::rates`, in one transaction (SQLite
//! serializes writers per file).

use rusqlite::{params, Connection};

use super::types::RateWindow;
use crate::store::StoreError;

pub(in crate::store) fn hit<R>(
    conn: &Connection,
    limiter: &str,
    who: &str,
    now_ms: i64,
    window_ms: i64,
    rule: impl FnOnce(RateWindow) -> Result<(), R>,
) -> Result<Result<(), R>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "DELETE FROM rate_hits WHERE limiter = ?1 AND who = ?2 AND at_ms <= ?3",
        params![limiter, who, now_ms.saturating_sub(window_ms)],
    )?;
    let window = tx.query_row(
        "SELECT COUNT(*), MIN(at_ms) FROM rate_hits WHERE limiter = ?1 AND who = ?2",
        params![limiter, who],
        |r| Ok(RateWindow { hits: r.get(0)?, oldest_ms: r.get(1)? }),
    )?;
    let verdict = rule(window);
    if verdict.is_ok() {
        tx.execute("INSERT INTO rate_hits (limiter, who, at_ms) VALUES (?1, ?2, ?3)", params![limiter, who, now_ms])?;
    }
    tx.commit()?;
    Ok(verdict)
}
