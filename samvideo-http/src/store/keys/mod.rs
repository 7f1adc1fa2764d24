//! API keys: created by `samvideo keys create`, stored as SHA-256 hashes (keys are 192-bit
//! random, so a fast hash is enough), shown masked as `abcd...wxyz`.
//!
//! Enter: the [`Store`] methods below, which pick the backend and run its statements
//! (`sqlite.rs`, `postgres.rs`); both take and return the types of `types.rs`. Leave:
//! [`KeyRow`]s and a [`NewKey`].

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::{hash_key, mask_key, KeyRow, NewKey};

use self::postgres as pg;
use crate::billing::BillingPlan;
use crate::store::{Backend, Blocking, Store, StoreError};

impl Store {
    /// The key a request presents (active or revoked), counting the use of an active one;
    /// `None` for an unknown key.
    pub async fn authenticate(&self, key: &str) -> Result<Option<KeyRow>, StoreError> {
        let key = key.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::authenticate(c, &key)).await,
            Backend::Postgres(db) => db.call(move |c| pg::authenticate(c, key)).await,
        }
    }
}

impl Blocking<'_> {
    /// Create a key with a new random secret (`samvideo keys create`).
    pub fn create_key(&self, name: &str, plan: BillingPlan) -> Result<NewKey, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::create(c, name, plan)),
            Backend::Postgres(db) => {
                let name = name.to_owned();
                db.block(move |c| pg::create(c, name, plan))
            }
        }
    }

    /// All keys, oldest first.
    pub fn list_keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(sqlite::list),
            Backend::Postgres(db) => db.block(pg::list),
        }
    }

    /// Revoke a key by id; false when there is no such active key.
    pub fn revoke_key(&self, id: i64) -> Result<bool, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::revoke(c, id)),
            Backend::Postgres(db) => db.block(move |c| pg::revoke(c, id)),
        }
    }
}
