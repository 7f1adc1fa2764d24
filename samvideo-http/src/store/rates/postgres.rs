//! `rate_hits` on Postgres: the statements of `store::rates`. A transaction-level advisory
//! lock on the (limiter, caller) pair makes concurrent requests of one caller on several
//! nodes count one after the other.

use super::types::RateWindow;
use crate::store::postgres::Conn;
use crate::store::StoreError;

pub(in crate::store) async fn hit<R>(
    mut c: Conn,
    limiter: &'static str,
    who: String,
    now_ms: i64,
    window_ms: i64,
    rule: impl FnOnce(RateWindow) -> Result<(), R>,
) -> Result<Result<(), R>, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::TEXT || ' ' || $2::TEXT, 0))", &[&limiter, &who])
        .await?;
    tx.execute(
        "DELETE FROM rate_hits WHERE limiter = $1 AND who = $2 AND at_ms <= $3",
        &[&limiter, &who, &now_ms.saturating_sub(window_ms)],
    )
    .await?;
    let r = tx
        .query_one("SELECT COUNT(*), MIN(at_ms) FROM rate_hits WHERE limiter = $1 AND who = $2", &[&limiter, &who])
        .await?;
    let verdict = rule(RateWindow { hits: r.try_get(0)?, oldest_ms: r.try_get(1)? });
    if verdict.is_ok() {
        tx.execute("INSERT INTO rate_hits (limiter, who, at_ms) VALUES ($1, $2, $3)", &[&limiter, &who, &now_ms])
            .await?;
    }
    tx.commit().await?;
    Ok(verdict)
}
