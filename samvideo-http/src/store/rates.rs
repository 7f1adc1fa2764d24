//! Rate-limit hits as stored: the `rate_hits` table, one row per request a limiter let through
//! (`limiter` names it: `core`, `advanced`, `templates`, `ai`; `who` is the key id or client
//! IP; `at_ms` unix milliseconds), so every node that shares the store counts the same hits.
//!
//! Enter: a request to count, with the limiter's rule ([`Store::rate_hit`]). The hits older
//! than the window are deleted, the rest counted, the rule decides, and an admitted request
//! is recorded, in one transaction serialized per caller. Leave: the rule's answer.

use rusqlite::{params, Connection};

use super::postgres::rates as pg;
use super::{Backend, Store, StoreError};

/// A caller's hits still inside the window, as a limiter's rule sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    /// Requests let through in the window.
    pub hits: i64,
    /// When the oldest of them came (unix ms).
    pub oldest_ms: Option<i64>,
}

fn hit<R>(
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

impl Store {
    /// Count a request of `who` on `limiter` at `now_ms`: the caller's hits of the last
    /// `window_ms` go to `rule`, and the request is recorded when the rule lets it through;
    /// returns the rule's answer. One transaction, one at a time per caller on every node.
    pub async fn rate_hit<R: Send + 'static>(
        &self,
        limiter: &'static str,
        who: &str,
        now_ms: i64,
        window_ms: i64,
        rule: impl FnOnce(RateWindow) -> Result<(), R> + Send + 'static,
    ) -> Result<Result<(), R>, StoreError> {
        let who = who.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| hit(c, limiter, &who, now_ms, window_ms, rule)).await,
            Backend::Postgres(db) => db.call(move |c| pg::hit(c, limiter, who, now_ms, window_ms, rule)).await,
        }
    }
}
