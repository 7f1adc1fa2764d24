//! The credit ledger's types: [`LedgerRow`], a [`CreditBalance`], a [`Charge`], a
//! [`MonthlyGrant`], and which bucket and which way a job's rows go ([`Bucket`],
//! [`JobCredits`]) as both backends write them. Nothing here touches a database.

use serde::Serialize;

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
pub(in crate::store) enum Bucket<'a> {
    Subscription { period: &'a str },
    Topup,
}

impl Bucket<'_> {
    pub(in crate::store) fn name(self) -> &'static str {
        match self {
            Bucket::Subscription { .. } => "subscription",
            Bucket::Topup => "topup",
        }
    }

    pub(in crate::store) fn period(&self) -> Option<&str> {
        match self {
            Bucket::Subscription { period } => Some(period),
            Bucket::Topup => None,
        }
    }
}

/// Which way a job's credits move.
#[derive(Clone, Copy)]
pub(in crate::store) enum JobCredits {
    /// Taken at create: negative `reserve` rows.
    Reserve,
    /// Given back when it fails: positive `refund` rows.
    Refund,
}

impl JobCredits {
    /// The sign of its rows and their `kind`.
    pub(in crate::store) fn sign_and_kind(self) -> (i64, &'static str) {
        match self {
            JobCredits::Reserve => (-1, "reserve"),
            JobCredits::Refund => (1, "refund"),
        }
    }

    /// The ledger rows (bucket, signed amount) of `charge` for a job: one per bucket it
    /// touches, the subscription part in `period`. Both store backends write these.
    pub(in crate::store) fn rows(self, charge: Charge, period: &str) -> impl Iterator<Item = (Bucket<'_>, i64)> {
        let (sign, _) = self.sign_and_kind();
        [(Bucket::Subscription { period }, charge.subscription), (Bucket::Topup, charge.topup)]
            .into_iter()
            .filter(|&(_, amount)| amount > 0)
            .map(move |(bucket, amount)| (bucket, sign * amount))
    }
}
