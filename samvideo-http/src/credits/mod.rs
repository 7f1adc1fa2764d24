//! The AI credits ledger: every change to an account's credits is a row of `credit_ledger`,
//! so a balance is a sum and can be audited (`samvideo credits ledger`).
//!
//! Two buckets per account (an account is an API key):
//! - `subscription`: the plan's monthly allowance ([`CreditsConfig::monthly`]; free has none).
//!   It is granted lazily by [`ensure_monthly`] on the first credits call of a calendar month
//!   (UTC) as a `monthly` row tagged with the period (`2026-11`); the bucket's balance only
//!   counts rows of the current period, so unused subscription credits lapse at month end.
//!   An upgrade within the month grants the difference; a downgrade takes nothing back.
//! - `topup`: grants by an operator (`samvideo credits grant`); they never lapse.
//!
//! A job reserves its price at create ([`reserve`]): subscription credits first, then top-up,
//! as `reserve` rows (negative) in the same transaction as the job row; when it fails,
//! [`refund`] writes `refund` rows giving back exactly what was taken (the subscription part
//! into the current period).

pub mod cli;

use std::collections::BTreeMap;

use chrono::{Datelike, TimeZone, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::billing::BillingPlan;
use crate::store::{now_rfc3339, rfc3339, KeyRow, StoreError};

/// Monthly subscription credits per plan.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditsConfig {
    /// Credits granted each calendar month; absent means none.
    pub monthly: BTreeMap<BillingPlan, i64>,
}

impl Default for CreditsConfig {
    fn default() -> Self {
        let mut monthly = BTreeMap::new();
        monthly.insert(BillingPlan::Free, 0);
        monthly.insert(BillingPlan::Basic, 1000);
        monthly.insert(BillingPlan::Pro, 5000);
        monthly.insert(BillingPlan::Ultimate, 15000);
        CreditsConfig { monthly }
    }
}

impl CreditsConfig {
    /// The allowance of `plan`.
    pub fn allowance(&self, plan: BillingPlan) -> i64 {
        self.monthly.get(&plan).copied().unwrap_or(0).max(0)
    }
}

/// Why a credits operation was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreditsError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `--ai-monthly-credits` does not parse.
    #[error("invalid monthly credits {0:?} (expected PLAN=N, e.g. basic=1000,pro=5000)")]
    Config(String),
    /// A grant of 0, or a deduction larger than the top-up balance.
    #[error("{0}")]
    Amount(String),
}

impl From<rusqlite::Error> for CreditsError {
    fn from(e: rusqlite::Error) -> Self {
        CreditsError::Store(StoreError::Sqlite(e))
    }
}

/// Parse `basic=1000,pro=5000` into allowances.
pub fn parse_monthly(s: &str) -> Result<Vec<(BillingPlan, i64)>, CreditsError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || CreditsError::Config(part.to_string());
        let (plan, n) = part.split_once('=').ok_or_else(bad)?;
        let plan: BillingPlan = plan.trim().parse().map_err(|_| bad())?;
        let n: i64 = n.trim().parse().ok().filter(|n| *n >= 0).ok_or_else(bad)?;
        out.push((plan, n));
    }
    Ok(out)
}

/// The calendar month (UTC) subscription credits belong to: `2026-11`.
pub fn current_period() -> String {
    let now = Utc::now();
    format!("{:04}-{:02}", now.year(), now.month())
}

/// First instant of the next period, as stored.
pub fn next_period_start() -> String {
    let now = Utc::now();
    let (y, m) = if now.month() == 12 { (now.year() + 1, 1) } else { (now.year(), now.month() + 1) };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().map(rfc3339).unwrap_or_default()
}

/// An account's credits now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Balance {
    /// Subscription credits left this period.
    pub subscription: i64,
    /// Top-up credits left.
    pub topup: i64,
    /// The plan's monthly allowance.
    pub monthly_allowance: i64,
    /// The current period.
    pub period: String,
}

impl Balance {
    /// Both buckets.
    pub fn total(&self) -> i64 {
        self.subscription + self.topup
    }
}

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

/// Which bucket a ledger row changes: subscription credits belong to a period.
#[derive(Clone, Copy)]
enum Bucket<'a> {
    Subscription { period: &'a str },
    Topup,
}

impl Bucket<'_> {
    fn name(self) -> &'static str {
        match self {
            Bucket::Subscription { .. } => "subscription",
            Bucket::Topup => "topup",
        }
    }

    fn period(&self) -> Option<&str> {
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

/// Grant this period's subscription credits if not yet granted (or the difference after an
/// upgrade). Call inside the transaction that reads or spends the balance.
pub fn ensure_monthly(conn: &Connection, key: &KeyRow, config: &CreditsConfig) -> Result<(), StoreError> {
    let period = current_period();
    let allowance = config.allowance(key.plan);
    let granted: i64 = conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger
         WHERE api_key_id = ?1 AND bucket = 'subscription' AND kind = 'monthly' AND period = ?2",
        params![key.id, period],
        |r| r.get(0),
    )?;
    if allowance > granted {
        let reason = format!("{} plan monthly credits", key.plan);
        insert(
            conn,
            key.id,
            Bucket::Subscription { period: &period },
            allowance - granted,
            "monthly",
            None,
            Some(&reason),
        )?;
    }
    Ok(())
}

/// The balance (after granting this month's credits).
pub fn balance(conn: &Connection, key: &KeyRow, config: &CreditsConfig) -> Result<Balance, StoreError> {
    ensure_monthly(conn, key, config)?;
    let period = current_period();
    let subscription: i64 = conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE api_key_id = ?1 AND bucket = 'subscription' AND period = ?2",
        params![key.id, period],
        |r| r.get(0),
    )?;
    let topup: i64 = conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE api_key_id = ?1 AND bucket = 'topup'",
        params![key.id],
        |r| r.get(0),
    )?;
    Ok(Balance { subscription, topup, monthly_allowance: config.allowance(key.plan), period })
}

/// What a reservation took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// From the subscription bucket.
    pub subscription: i64,
    /// From top-up credits.
    pub topup: i64,
    /// Balance left afterwards.
    pub remaining: i64,
}

/// Take `amount` credits for `job_id` (subscription first), or `Ok(Err(remaining))` when the
/// balance is short. Run inside the transaction that inserts the job.
pub fn reserve(
    conn: &Connection,
    key: &KeyRow,
    config: &CreditsConfig,
    amount: i64,
    job_id: i64,
) -> Result<Result<Charge, i64>, StoreError> {
    let b = balance(conn, key, config)?;
    if b.total() < amount {
        return Ok(Err(b.total()));
    }
    let from_sub = amount.min(b.subscription.max(0));
    let from_top = amount - from_sub;
    if from_sub > 0 {
        insert(conn, key.id, Bucket::Subscription { period: &b.period }, -from_sub, "reserve", Some(job_id), None)?;
    }
    if from_top > 0 {
        insert(conn, key.id, Bucket::Topup, -from_top, "reserve", Some(job_id), None)?;
    }
    Ok(Ok(Charge { subscription: from_sub, topup: from_top, remaining: b.total() - amount }))
}

/// Give back what a failed job took. The caller guarantees once (the job's status change and
/// this run in one transaction).
pub fn refund(conn: &Connection, key_id: i64, job_id: i64, subscription: i64, topup: i64) -> Result<(), StoreError> {
    if subscription > 0 {
        insert(
            conn,
            key_id,
            Bucket::Subscription { period: &current_period() },
            subscription,
            "refund",
            Some(job_id),
            None,
        )?;
    }
    if topup > 0 {
        insert(conn, key_id, Bucket::Topup, topup, "refund", Some(job_id), None)?;
    }
    Ok(())
}

/// Add (or, negative, remove) top-up credits by hand. Returns the new top-up balance.
pub fn grant(conn: &Connection, key_id: i64, amount: i64, reason: &str) -> Result<i64, CreditsError> {
    if amount == 0 {
        return Err(CreditsError::Amount("--amount must not be 0".into()));
    }
    let tx = conn.unchecked_transaction()?;
    let topup: i64 = tx.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE api_key_id = ?1 AND bucket = 'topup'",
        params![key_id],
        |r| r.get(0),
    )?;
    if topup + amount < 0 {
        return Err(CreditsError::Amount(format!("cannot remove {} credits: the top-up balance is {topup}", -amount)));
    }
    insert(&tx, key_id, Bucket::Topup, amount, "grant", None, Some(reason))?;
    tx.commit()?;
    Ok(topup + amount)
}

/// The latest `limit` ledger rows of an account, newest first.
pub fn ledger(conn: &Connection, key_id: i64, limit: u32) -> Result<Vec<LedgerRow>, StoreError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn store_with_key(plan: BillingPlan) -> (tempfile::TempDir, Store, KeyRow) {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(&dir.path().join("db")).expect("open");
        let key = store.blocking().create_key("k", plan).expect("key").row;
        (dir, store, key)
    }

    #[test]
    fn monthly_grant_once_then_reserve_and_refund_balance_out() {
        let (_d, store, key) = store_with_key(BillingPlan::Basic);
        let cfg = CreditsConfig::default();
        store
            .with(|c| {
                assert_eq!(balance(c, &key, &cfg)?.total(), 1000);
                assert_eq!(balance(c, &key, &cfg)?.total(), 1000, "granted once per period");
                grant(c, key.id, 50, "test").map_err(|e| StoreError::Join(e.to_string()))?;
                let job = |credits| crate::ai::store::AiJobRow::insert(c, key.id, "m", "builtin", "{}", credits);
                let (j1, j2) = (job(1020)?, job(31)?);
                let charge = reserve(c, &key, &cfg, 1020, j1)?.expect("enough");
                assert_eq!((charge.subscription, charge.topup, charge.remaining), (1000, 20, 30));
                assert_eq!(reserve(c, &key, &cfg, 31, j2)?, Err(30), "short: nothing taken");
                refund(c, key.id, j1, charge.subscription, charge.topup)?;
                let b = balance(c, &key, &cfg)?;
                assert_eq!((b.subscription, b.topup), (1000, 50));
                let rows = ledger(c, key.id, 100)?;
                assert_eq!(rows.iter().map(|r| r.amount).sum::<i64>(), 1050, "the ledger sums to the balance");
                assert_eq!(rows.len(), 6, "monthly, grant, 2 reserves, 2 refunds: {rows:?}");
                Ok(())
            })
            .expect("ledger works");
    }

    #[test]
    fn free_plan_has_no_subscription_credits_and_upgrades_grant_the_difference() {
        let (_d, store, key) = store_with_key(BillingPlan::Free);
        let cfg = CreditsConfig::default();
        store
            .with(|c| {
                assert_eq!(balance(c, &key, &cfg)?.total(), 0);
                let mut pro = key.clone();
                pro.plan = BillingPlan::Pro;
                let mut basic = key.clone();
                basic.plan = BillingPlan::Basic;
                assert_eq!(balance(c, &basic, &cfg)?.subscription, 1000);
                assert_eq!(balance(c, &pro, &cfg)?.subscription, 5000, "upgrade grants the difference");
                assert_eq!(balance(c, &basic, &cfg)?.subscription, 5000, "downgrade takes nothing back");
                Ok(())
            })
            .expect("works");
    }

    #[test]
    fn grants_refuse_zero_and_overdraw() {
        let (_d, store, key) = store_with_key(BillingPlan::Free);
        store
            .with(|c| {
                assert!(grant(c, key.id, 0, "x").is_err());
                assert_eq!(grant(c, key.id, 10, "x").map_err(|e| StoreError::Join(e.to_string()))?, 10);
                let err = grant(c, key.id, -11, "x").expect_err("overdraw");
                assert!(err.to_string().contains("top-up balance is 10"), "{err}");
                Ok(())
            })
            .expect("works");
        assert_eq!(
            parse_monthly("basic=5, pro=0").expect("parses"),
            vec![(BillingPlan::Basic, 5), (BillingPlan::Pro, 0)]
        );
        assert!(parse_monthly("pro=-1").is_err());
    }
}
