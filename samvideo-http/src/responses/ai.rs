//! Bodies of the AI endpoints (flat, as in the reference: no `data` envelope).

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// `GET /api/ai/models`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Models {
    /// Always `true`.
    pub success: bool,
    /// `models.len()`.
    pub count: usize,
    /// The catalog's models (`docs/ai-and-credits.md`) with `available` and
    /// `available_on_your_plan`.
    #[schemars(with = "Vec<super::JsonObject>")]
    pub models: Vec<Value>,
}

/// `202` of `POST /api/ai/jobs`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobCreated {
    /// Always `true`.
    pub success: bool,
    /// Poll `GET /api/ai/jobs/{job_id}`.
    pub job_id: i64,
    /// Always `running`.
    pub status: &'static str,
    /// Reserved now, refunded if the job fails.
    pub credits_charged: i64,
    /// Left after the charge.
    pub credits_remaining: i64,
}

/// `402` of `POST /api/ai/jobs`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InsufficientCredits {
    /// Always `false`.
    pub success: bool,
    /// `Insufficient credits`.
    pub message: &'static str,
    /// The model's price.
    pub credits_required: i64,
    /// What the key has.
    pub credits_remaining: i64,
}

/// `GET /api/ai/jobs/{job_id}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Job {
    /// Always `true`.
    pub success: bool,
    /// The job.
    pub job_id: i64,
    /// The model that runs it.
    pub model_id: String,
    /// `running`, `success` or `failed`.
    pub status: String,
    /// The results, when `success`.
    pub result_urls: Vec<String>,
    /// Why it failed.
    pub error_code: Option<String>,
    /// Why it failed, in words.
    pub error_message: Option<String>,
    /// Credits charged at creation.
    pub credits_charged: i64,
    /// Given back (all of them when `failed`).
    pub credits_refunded: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, once ended.
    pub completed_at: Option<String>,
    /// Only on a successful job whose files the server's retention (`--retention-days`)
    /// deleted: `result_urls` stay and answer 410 `OUTPUT_EXPIRED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_expired: Option<crate::responses::tasks::OutputExpired>,
}

/// `GET /api/ai/credits/balance`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Balance {
    /// Always `true`.
    pub success: bool,
    /// The key's plan.
    pub plan: &'static str,
    /// Subscription plus top-up credits.
    pub credits_remaining: i64,
    /// Left of this period's grant (spent first).
    pub subscription_credits: i64,
    /// Bought, kept across periods.
    pub topup_credits: i64,
    /// The plan's grant per period.
    pub monthly_credits: i64,
    /// The period (`2026-11`).
    pub period: String,
    /// When the next period starts, RFC 3339.
    pub subscription_resets_at: String,
}
