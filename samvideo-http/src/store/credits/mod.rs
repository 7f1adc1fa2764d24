//! The AI credits ledger as stored: `credit_ledger`, one row per change of an account's
//! credits, in two buckets (`subscription` rows belong to a period, `topup` rows never lapse).
//! A balance is a sum of rows.
//!
//! Enter: a [`MonthlyGrant`] (what the plan grants this period, decided by `crate::credits`)
//! before every balance read or spend, operator grants, and reservations and refunds written by
//! `ai_jobs` in the transactions that create and fail a job. Leave: [`CreditBalance`] sums and
//! [`LedgerRow`]s.
//!
//! The [`Store`] methods here pick the backend and run its statements (`sqlite.rs`,
//! `postgres.rs`); both take and return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub(in crate::store) use types::JobCredits;
pub use types::{Charge, CreditBalance, LedgerRow, MonthlyGrant};

use self::postgres as pg;
use crate::store::{Backend, Blocking, Store, StoreError};

impl Store {
    /// An account's credits in the grant's period, after granting them (one transaction).
    pub async fn credit_balance(&self, grant: MonthlyGrant) -> Result<CreditBalance, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::credit_balance(c, &grant)).await,
            Backend::Postgres(db) => db.call(move |c| pg::credit_balance(c, grant)).await,
        }
    }
}

impl Blocking<'_> {
    /// Add (or, negative, remove) top-up credits as one `grant` row: `Ok(new top-up balance)`,
    /// or `Err(current top-up balance)` and nothing written when it would go below zero.
    pub fn grant_topup(&self, key_id: i64, amount: i64, reason: &str) -> Result<Result<i64, i64>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::grant_topup(c, key_id, amount, reason)),
            Backend::Postgres(db) => {
                let reason = reason.to_owned();
                db.block(move |c| pg::grant_topup(c, key_id, amount, reason))
            }
        }
    }

    /// The latest `limit` ledger rows of an account, newest first.
    pub fn credit_ledger(&self, key_id: i64, limit: u32) -> Result<Vec<LedgerRow>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::ledger(c, key_id, limit)),
            Backend::Postgres(db) => db.block(move |c| pg::ledger(c, key_id, limit)),
        }
    }

    /// An account's subscription credits of `period` and top-up credits, as the rows sum up
    /// (granting nothing).
    pub fn credit_sums(&self, key_id: i64, period: &str) -> Result<CreditBalance, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::sums(c, key_id, period)),
            Backend::Postgres(db) => {
                let period = period.to_owned();
                db.block(move |c| async move { pg::sums(&**c, key_id, &period).await })
            }
        }
    }
}
