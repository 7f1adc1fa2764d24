//! AI jobs as held: [`AiJobRow`], [`NewAiJob`], a [`Reservation`], the column list and how a
//! stored result reads, as both backends use them. Nothing here touches a database.

use serde_json::Value;

use crate::store::StoreError;

/// A stored AI job.
#[derive(Debug, Clone, PartialEq)]
pub struct AiJobRow {
    /// `job_id`.
    pub id: i64,
    /// Owner.
    pub api_key_id: i64,
    /// Catalog id.
    pub model_id: String,
    /// Provider name.
    pub provider: String,
    /// The job input (prompt, image_urls, options with defaults) as JSON.
    pub request_json: String,
    /// `running`, `success`, `failed`.
    pub status: String,
    /// Credits reserved.
    pub credits_charged: i64,
    /// Of which from the subscription bucket.
    pub charged_subscription: i64,
    /// Of which from top-up credits.
    pub charged_topup: i64,
    /// `{"files": [...]}` (served here) or `{"urls": [...]}` (the provider's).
    pub result: Option<Value>,
    /// The provider's own job id.
    pub external_id: Option<String>,
    /// Failure code.
    pub error_code: Option<String>,
    /// Failure message.
    pub error_message: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// End time.
    pub completed_at: Option<String>,
    /// When retention (`--retention-days`) deleted its files; the job keeps its state and says
    /// so.
    pub output_expired_at: Option<String>,
}

pub(in crate::store) const COLS: &str =
    "id, api_key_id, model_id, provider, request_json, status, credits_charged, charged_subscription,
    charged_topup, result_json, external_id, error_code, error_message, created_at, completed_at,
    output_expired_at";

/// The jobs whose result is files kept here (`{"files": [...]}`, as `Store::succeed_ai_job`
/// writes it from a `json!` object with that one key), not a provider's URLs: only those
/// have objects for retention to delete.
pub(in crate::store) const HAS_FILES: &str = r#"result_json LIKE '{"files":%'"#;

/// A stored `result_json` (unreadable text reads as no result).
pub(in crate::store) fn parse_result(stored: Option<String>) -> Option<Value> {
    stored.and_then(|s| serde_json::from_str(&s).ok())
}

/// An AI job to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAiJob {
    /// Owner.
    pub api_key_id: i64,
    /// Catalog id.
    pub model_id: String,
    /// Provider name.
    pub provider: String,
    /// The job input as JSON.
    pub request_json: String,
    /// Its price in credits.
    pub credits: i64,
}

/// What [`Store::create_ai_job`](crate::store::Store::create_ai_job) did.
#[derive(Debug, Clone, PartialEq)]
pub enum Reservation {
    /// The job is stored, `running`, its credits taken.
    Reserved {
        /// The stored job.
        job: Box<AiJobRow>,
        /// Credits left afterwards.
        remaining: i64,
    },
    /// The balance is short: nothing was stored.
    Short {
        /// Credits the account has.
        remaining: i64,
    },
}

/// The error for a job row that its own transaction inserted and cannot read back.
pub(in crate::store) fn vanished() -> StoreError {
    StoreError::Corrupt { table: "ai_jobs", reason: "inserted AI job vanished".into() }
}
