//! Video packs as stored: the `video_pack_ledger` (extra videos bought, granted and spent, one
//! row per change) and the `stripe_checkouts` this server created.
//!
//! Enter: a created Checkout Session ([`Store::record_checkout`]), a paid one
//! ([`Store::credit_pack`]; which videos it adds is the caller's rule), and the quota's spend
//! of one extra video (`usage`). Leave: [`ExtraVideos`] counts. A purchase row is unique per
//! Stripe event id and per Checkout Session id, so a pack is credited once.
//!
//! The [`Store`] methods here pick the backend and run its statements (`sqlite.rs`,
//! `postgres.rs`); both take and return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::{Checkout, ExtraVideos, PackCredit, PackPurchase};

use self::postgres as pg;
use crate::store::{Backend, Store, StoreError};

impl Store {
    /// Record a created Checkout Session (again for the same id replaces it).
    pub async fn record_checkout(&self, checkout: Checkout) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::record_checkout(c, &checkout)).await,
            Backend::Postgres(db) => db.call(move |c| pg::record_checkout(c, checkout)).await,
        }
    }

    /// Credit a paid pack once, in one transaction: the account must exist, `videos` decides
    /// from the session recorded at checkout (if it was created here) how many videos the pack
    /// adds, or refuses it with a reason.
    pub async fn credit_pack(
        &self,
        purchase: PackPurchase,
        videos: impl FnOnce(Option<Checkout>) -> Result<i64, String> + Send + 'static,
    ) -> Result<PackCredit, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::credit_pack(c, &purchase, videos)).await,
            Backend::Postgres(db) => db.call(move |c| pg::credit_pack(c, purchase, videos)).await,
        }
    }
}
