//! Rate-limit hits as stored: the `rate_hits` table, one row per request a limiter let through
//! (`limiter` names it: `core`, `advanced`, `templates`, `ai`; `who` is the key id or client
//! IP; `at_ms` unix milliseconds), so every node that shares the store counts the same hits.
//!
//! Enter: a request to count, with the limiter's rule ([`Store::rate_hit`]). The hits older
//! than the window are deleted, the rest counted, the rule decides, and an admitted request
//! is recorded, in one transaction serialized per caller. Leave: the rule's answer.
//!
//! The [`Store`] method here picks the backend and runs its statements (`sqlite.rs`,
//! `postgres.rs`); both take and return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::RateWindow;

use self::postgres as pg;
use crate::store::{Backend, Store, StoreError};

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
            Backend::Sqlite(db) => db.call(move |c| sqlite::hit(c, limiter, &who, now_ms, window_ms, rule)).await,
            Backend::Postgres(db) => db.call(move |c| pg::hit(c, limiter, who, now_ms, window_ms, rule)).await,
        }
    }
}
