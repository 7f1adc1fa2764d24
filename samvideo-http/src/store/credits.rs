//! The AI credits ledger as stored: `credit_ledger`, one row per change of an account's
//! credits, in two buckets (`subscription` rows belong to a period, `topup` rows never lapse).
//! A balance is a sum of rows.
//!
//! Enter: a [`MonthlyGrant`] (what the plan grants this period, decided by `crate::credits`)
//! before every balance read or spend, operator grants, and reservations and refunds written by
//! `ai_jobs` in the transactions that create and fail a job. Leave: [`CreditBalance`] sums and
//! [`LedgerRow`]s.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::postgres::credits as pg;
use super::{now_rfc3339, Backend, Blocking, Store, StoreError};

/// One ledger row (for audits and the CLI).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerRow {
    /// Row id.
    pub id: i64,
    /// `subscription` or `topup`.
    pub bucket: String,
    /// Signed change.
    pub amount: i64,
    /// `monthly`, `grant`, `reserve`, `refund`.
    pub kind: String,
    /// Subscription period, for subscription rows.
    pub period: Option<String>,
    /// The AI job charged or refunded.
    pub ai_job_id: Option<i64>,
    /// Why (grants).
    pub reason: Option<String>,
    /// When.
    pub created_at: String,
}

/// An account's credits in one period: the sums of its ledger rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditBalance {
    /// Subscription credits of the period.
    pub subscription: i64,
    /// Top-up credits.
    pub topup: i64,
}

impl CreditBalance {
    /// Both buckets.
    pub fn total(&self) -> i64 {
        self.subscription + self.topup
    }
}

/// What a reservation takes from each bucket (both zero or more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// From the subscription bucket of the period.
    pub subscription: i64,
    /// From top-up credits.
    pub topup: i64,
}

impl Charge {
    /// Both buckets.
    pub fn total(&self) -> i64 {
        self.subscription + self.topup
    }
}

/// The subscription credits an account's plan grants for a period: the period's `monthly`
/// rows are topped up to `allowance` (never taken back) before its balance is read or spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyGrant {
    /// The account.
    pub api_key_id: i64,
    /// The period (`2026-11`).
    pub period: String,
    /// Credits the plan grants in it.
    pub allowance: i64,
    /// Stored on the grant's row.
    pub reason: String,
}

/// Which bucket a ledger row changes: subscription credits belong to a period.
#[derive(Clone, Copy)]
pub(super) enum Bucket<'a> {
    Subscription { period: &'a str },
    Topup,
}

impl Bucket<'_> {
    pub(super) fn name(self) -> &'static str {
        match self {
            Bucket::Subscription { .. } => "subscription",
            Bucket::Topup => "topup",
        }
    }

    pub(super) fn period(&self) -> Option<&str> {
        match self {
            Bucket::Subscription { period } => Some(period),
            Bucket::Topup => None,
        }
    }
}

fn insert(
    conn: &Connection,
    key_id: i64,
    bucket: Bucket<'_>,
    amount: i64,
    kind: &str,
    job: Option<i64>,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let period = bucket.period();
    let bucket = bucket.name();
    conn.execute(
        "INSERT INTO credit_ledger (api_key_id, bucket, amount, kind, period, ai_job_id, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![key_id, bucket, amount, kind, period, job, reason, now_rfc3339()],
    )?;
    Ok(())
}

/// Grant the period's subscription credits if not yet granted (or the difference after an
/// upgrade). Call inside the transaction that reads or spends the balance.
fn ensure_monthly(conn: &Connection, grant: &MonthlyGrant) -> Result<(), StoreError> {
    let granted: i64 = conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger
         WHERE api_key_id = ?1 AND bucket = 'subscription' AND kind = 'monthly' AND period = ?2",
        params![grant.api_key_id, grant.period],
        |r| r.get(0),
    )?;
    if grant.allowance > granted {
        let bucket = Bucket::Subscription { period: &grant.period };
        insert(conn, grant.api_key_id, bucket, grant.allowance - granted, "monthly", None, Some(&grant.reason))?;
    }
    Ok(())
}

/// The sums of an account's subscription rows of `period` and of its top-up rows.
fn sums(conn: &Connection, key_id: i64, period: &str) -> Result<CreditBalance, StoreError> {
    let subscription: i64 = conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE api_key_id = ?1 AND bucket = 'subscription' AND period = ?2",
        params![key_id, period],
        |r| r.get(0),
    )?;
    Ok(CreditBalance { subscription, topup: topup(conn, key_id)? })
}

fn topup(conn: &Connection, key_id: i64) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE api_key_id = ?1 AND bucket = 'topup'",
        params![key_id],
        |r| r.get(0),
    )?)
}

/// The balance after granting the period's credits (inside the caller's transaction).
pub(super) fn balance(conn: &Connection, grant: &MonthlyGrant) -> Result<CreditBalance, StoreError> {
    ensure_monthly(conn, grant)?;
    sums(conn, grant.api_key_id, &grant.period)
}

/// Which way a job's credits move.
#[derive(Clone, Copy)]
pub(super) enum JobCredits {
    /// Taken at create: negative `reserve` rows.
    Reserve,
    /// Given back when it fails: positive `refund` rows.
    Refund,
}

impl JobCredits {
    /// The sign of its rows and their `kind`.
    pub(super) fn sign_and_kind(self) -> (i64, &'static str) {
        match self {
            JobCredits::Reserve => (-1, "reserve"),
            JobCredits::Refund => (1, "refund"),
        }
    }

    /// The ledger rows (bucket, signed amount) of `charge` for a job: one per bucket it
    /// touches, the subscription part in `period`. Both store backends write these.
    pub(super) fn rows(self, charge: Charge, period: &str) -> impl Iterator<Item = (Bucket<'_>, i64)> {
        let (sign, _) = self.sign_and_kind();
        [(Bucket::Subscription { period }, charge.subscription), (Bucket::Topup, charge.topup)]
            .into_iter()
            .filter(|&(_, amount)| amount > 0)
            .map(move |(bucket, amount)| (bucket, sign * amount))
    }
}

/// Write the rows of `charge` for `job_id` (the subscription part in `period`).
pub(super) fn job_rows(
    conn: &Connection,
    key_id: i64,
    period: &str,
    charge: Charge,
    job_id: i64,
    way: JobCredits,
) -> Result<(), StoreError> {
    let (_, kind) = way.sign_and_kind();
    for (bucket, amount) in way.rows(charge, period) {
        insert(conn, key_id, bucket, amount, kind, Some(job_id), None)?;
    }
    Ok(())
}

/// Add `amount` top-up credits as a `grant` row, unless that leaves the bucket below zero:
/// `Ok(new balance)` or `Err(current balance)`.
fn grant_topup(conn: &Connection, key_id: i64, amount: i64, reason: &str) -> Result<Result<i64, i64>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let topup = topup(&tx, key_id)?;
    if topup + amount < 0 {
        return Ok(Err(topup));
    }
    insert(&tx, key_id, Bucket::Topup, amount, "grant", None, Some(reason))?;
    tx.commit()?;
    Ok(Ok(topup + amount))
}

/// The latest `limit` ledger rows of an account, newest first.
fn ledger(conn: &Connection, key_id: i64, limit: u32) -> Result<Vec<LedgerRow>, StoreError> {
    let mut st = conn.prepare(
        "SELECT id, bucket, amount, kind, period, ai_job_id, reason, created_at FROM credit_ledger
         WHERE api_key_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = st
        .query_map(params![key_id, limit], |r| {
            Ok(LedgerRow {
                id: r.get(0)?,
                bucket: r.get(1)?,
                amount: r.get(2)?,
                kind: r.get(3)?,
                period: r.get(4)?,
                ai_job_id: r.get(5)?,
                reason: r.get(6)?,
                created_at: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

impl Store {
    /// An account's credits in the grant's period, after granting them (one transaction).
    pub async fn credit_balance(&self, grant: MonthlyGrant) -> Result<CreditBalance, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => {
                db.call(move |c| {
                    let tx = c.unchecked_transaction()?;
                    let b = balance(&tx, &grant)?;
                    tx.commit()?;
                    Ok(b)
                })
                .await
            }
            Backend::Postgres(db) => db.call(move |c| pg::credit_balance(c, grant)).await,
        }
    }
}

impl Blocking<'_> {
    /// Add (or, negative, remove) top-up credits as one `grant` row: `Ok(new top-up balance)`,
    /// or `Err(current top-up balance)` and nothing written when it would go below zero.
    pub fn grant_topup(&self, key_id: i64, amount: i64, reason: &str) -> Result<Result<i64, i64>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| grant_topup(c, key_id, amount, reason)),
            Backend::Postgres(db) => {
                let reason = reason.to_owned();
                db.block(move |c| pg::grant_topup(c, key_id, amount, reason))
            }
        }
    }

    /// The latest `limit` ledger rows of an account, newest first.
    pub fn credit_ledger(&self, key_id: i64, limit: u32) -> Result<Vec<LedgerRow>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| ledger(c, key_id, limit)),
            Backend::Postgres(db) => db.block(move |c| pg::ledger(c, key_id, limit)),
        }
    }

    /// An account's subscription credits of `period` and top-up credits, as the rows sum up
    /// (granting nothing).
    pub fn credit_sums(&self, key_id: i64, period: &str) -> Result<CreditBalance, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sums(c, key_id, period)),
            Backend::Postgres(db) => {
                let period = period.to_owned();
                db.block(move |c| async move { pg::sums(&**c, key_id, &period).await })
            }
        }
    }
}
