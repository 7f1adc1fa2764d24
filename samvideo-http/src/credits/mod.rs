//! The AI credits ledger's rules: every change to an account's credits is a row of the store's
//! `credit_ledger`, so a balance is a sum and can be audited (`samvideo credits ledger`).
//!
//! Two buckets per account (an account is an API key):
//! - `subscription`: the plan's monthly allowance ([`CreditsConfig::monthly`]; free has none).
//!   It is granted lazily ([`monthly_grant`], applied by the store before every balance read
//!   or spend) on the first credits call of a calendar month (UTC) as a `monthly` row tagged
//!   with the period (`2026-11`); the bucket's balance only counts rows of the current period,
//!   so unused subscription credits lapse at month end. An upgrade within the month grants the
//!   difference; a downgrade takes nothing back.
//! - `topup`: grants by an operator ([`grant`], `samvideo credits grant`); they never lapse.
//!
//! A job reserves its price at create, subscription credits first, then top-up
//! ([`subscription_first`]), as `reserve` rows (negative) in the same transaction as the job
//! row (`Store::create_ai_job`); when it fails, `refund` rows give back exactly what was taken
//! (the subscription part into the current period) in the transaction that marks it failed
//! (`Store::fail_ai_job`).
//!
//! Enter: a key and the configured allowances. Leave: the [`MonthlyGrant`] and [`Charge`] the
//! store applies; all SQL is in `crate::store`.

pub mod cli;

use std::collections::BTreeMap;

use chrono::{Datelike, TimeZone, Utc};

use crate::billing::BillingPlan;
use crate::store::{rfc3339, Charge, CreditBalance, KeyRow, MonthlyGrant, Store, StoreError};

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

/// What `key`'s plan grants in the current period.
pub fn monthly_grant(key: &KeyRow, config: &CreditsConfig) -> MonthlyGrant {
    MonthlyGrant {
        api_key_id: key.id,
        period: current_period(),
        allowance: config.allowance(key.plan),
        reason: format!("{} plan monthly credits", key.plan),
    }
}

/// What a job of `amount` credits takes from `balance`: subscription credits first, then
/// top-up; `None` when the balance is short.
pub fn subscription_first(balance: CreditBalance, amount: i64) -> Option<Charge> {
    if balance.total() < amount {
        return None;
    }
    let subscription = amount.min(balance.subscription.max(0));
    Some(Charge { subscription, topup: amount - subscription })
}

/// Add (or, negative, remove) top-up credits by hand (blocking). Returns the new top-up
/// balance; refuses 0 and a removal below zero.
pub fn grant(store: &Store, key_id: i64, amount: i64, reason: &str) -> Result<i64, CreditsError> {
    if amount == 0 {
        return Err(CreditsError::Amount("--amount must not be 0".into()));
    }
    store.blocking().grant_topup(key_id, amount, reason)?.map_err(|topup| {
        CreditsError::Amount(format!("cannot remove {} credits: the top-up balance is {topup}", -amount))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewAiJob, Reservation};

    fn store_with_key(plan: BillingPlan) -> (tempfile::TempDir, Store, KeyRow) {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(&dir.path().join("db")).expect("open");
        let key = store.blocking().create_key("k", plan).expect("key").row;
        (dir, store, key)
    }

    #[tokio::test]
    async fn monthly_grant_once_then_reserve_and_refund_balance_out() -> Result<(), StoreError> {
        let (_d, store, key) = store_with_key(BillingPlan::Basic);
        let cfg = CreditsConfig::default();
        let balance = || store.credit_balance(monthly_grant(&key, &cfg));
        assert_eq!(balance().await?.total(), 1000);
        assert_eq!(balance().await?.total(), 1000, "granted once per period");
        grant(&store, key.id, 50, "test").expect("grant");
        let reserve = |credits| {
            let job = NewAiJob {
                api_key_id: key.id,
                model_id: "m".into(),
                provider: "builtin".into(),
                request_json: "{}".into(),
                credits,
            };
            store.create_ai_job(job, monthly_grant(&key, &cfg), move |b| subscription_first(b, credits))
        };
        let Reservation::Reserved { job, remaining } = reserve(1020).await? else { panic!("enough credits") };
        assert_eq!((job.charged_subscription, job.charged_topup, remaining), (1000, 20, 30));
        assert_eq!(reserve(31).await?, Reservation::Short { remaining: 30 }, "short: nothing taken");
        assert!(store.fail_ai_job(job.id, "X", "failed", &current_period()).await?, "refunded");
        let b = balance().await?;
        assert_eq!((b.subscription, b.topup), (1000, 50));
        let rows = store.blocking().credit_ledger(key.id, 100)?;
        assert_eq!(rows.iter().map(|r| r.amount).sum::<i64>(), 1050, "the ledger sums to the balance");
        assert_eq!(rows.len(), 6, "monthly, grant, 2 reserves, 2 refunds: {rows:?}");
        Ok(())
    }

    #[tokio::test]
    async fn free_plan_has_no_subscription_credits_and_upgrades_grant_the_difference() -> Result<(), StoreError> {
        let (_d, store, key) = store_with_key(BillingPlan::Free);
        let cfg = CreditsConfig::default();
        let on = |plan| {
            let mut k = key.clone();
            k.plan = plan;
            store.credit_balance(monthly_grant(&k, &cfg))
        };
        assert_eq!(on(BillingPlan::Free).await?.total(), 0);
        assert_eq!(on(BillingPlan::Basic).await?.subscription, 1000);
        assert_eq!(on(BillingPlan::Pro).await?.subscription, 5000, "upgrade grants the difference");
        assert_eq!(on(BillingPlan::Basic).await?.subscription, 5000, "downgrade takes nothing back");
        Ok(())
    }

    #[test]
    fn subscription_credits_pay_first() {
        let b = CreditBalance { subscription: 5, topup: 10 };
        assert_eq!(subscription_first(b, 7), Some(Charge { subscription: 5, topup: 2 }));
        assert_eq!(subscription_first(b, 3), Some(Charge { subscription: 3, topup: 0 }));
        assert_eq!(subscription_first(b, 16), None);
        let overdrawn = CreditBalance { subscription: -2, topup: 10 };
        assert_eq!(subscription_first(overdrawn, 4), Some(Charge { subscription: 0, topup: 4 }));
    }

    #[test]
    fn grants_refuse_zero_and_overdraw() {
        let (_d, store, key) = store_with_key(BillingPlan::Free);
        assert!(grant(&store, key.id, 0, "x").is_err());
        assert_eq!(grant(&store, key.id, 10, "x").expect("grant"), 10);
        let err = grant(&store, key.id, -11, "x").expect_err("overdraw");
        assert!(err.to_string().contains("top-up balance is 10"), "{err}");
        assert_eq!(
            parse_monthly("basic=5, pro=0").expect("parses"),
            vec![(BillingPlan::Basic, 5), (BillingPlan::Pro, 0)]
        );
        assert!(parse_monthly("pro=-1").is_err());
    }
}
