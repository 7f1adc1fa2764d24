//! The AI endpoints: `GET /api/ai/models`, `POST /api/ai/jobs` (alias `/api/ai/generate`),
//! `GET /api/ai/jobs/{job_id}`, `GET /api/ai/credits/balance`.
//!
//! AI responses are flat (`{"success": true, "job_id": ...}`), as in the reference, unlike
//! the core endpoints' `data` envelope.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use samvideo_core::ApiError;
use serde_json::{json, Value};

use super::catalog::ModelType;
use super::providers::ProviderError;
use crate::auth::Caller;
use crate::credits;
use crate::limits::enforce;
use crate::reply::read_body;
use crate::reply::{typed_reply, HttpError, Reply};
use crate::responses::ai::{Balance, InsufficientCredits, Job, JobCreated, Models};
use crate::responses::tasks::OutputExpired;
use crate::retention::Expired;
use crate::state::AppState;
use crate::store::{NewAiJob, Reservation};

fn error(status: u16, body: Value) -> HttpError {
    ApiError { status, body }.into()
}

/// `GET /api/ai/models?type=video|image`
pub async fn models(State(s): State<AppState>, caller: Caller, Query(q): Query<HashMap<String, String>>) -> Reply {
    let kind = match q.get("type").map(|t| t.trim()) {
        None | Some("") => None,
        Some(t) => Some(
            ModelType::parse(t)
                .ok_or_else(|| HttpError::new(400, "type must be video or image", Some("VALIDATION_ERROR")))?,
        ),
    };
    let ai = &s.ai;
    let models: Vec<Value> = ai
        .catalog()
        .list(kind)
        .map(|m| {
            let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
            v["available"] = json!(ai.is_available(m));
            v["available_on_your_plan"] = json!(m.visible_on(caller.key.plan));
            v
        })
        .collect();
    typed_reply(200, Models { success: true, count: models.len(), models })
}

/// `POST /api/ai/jobs` and `POST /api/ai/generate`
pub async fn create(State(s): State<AppState>, caller: Caller, headers: HeaderMap, body: Body) -> Reply {
    enforce(s.ai.rate(), &caller.key.id.to_string()).await?;
    let bytes = read_body(&headers, body, s.config.max_body).await?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| HttpError::new(400, "Invalid JSON data", None))?;
    let req = samvideo_core::validate::validate_ai_job(&value)?;
    // `quality_mode` may name a priced variant (`kling_3_0` + `pro` runs as `kling-3-0-pro`).
    let model = s.ai.catalog().resolve(&req.model_id, &req.options).cloned().ok_or_else(|| {
        error(
            404,
            json!({"success": false, "message": format!("Model not found: {}", req.model_id), "error_code": "MODEL_NOT_FOUND"}),
        )
    })?;
    let plan = caller.key.plan;
    if !model.visible_on(plan) {
        return Err(error(
            403,
            json!({
                "success": false,
                "message": format!(
                    "Model {} is not available on your plan ({plan}). Available on: {}",
                    model.id,
                    model.plans.join(", ")
                ),
                "error_code": "MODEL_NOT_AVAILABLE_ON_PLAN",
                "upgrade_url": "/subscription/plans/",
            }),
        ));
    }
    let options = model
        .check_request(req.prompt.as_deref(), &req.image_urls, &req.options)
        .map_err(|m| HttpError::new(400, m, Some("VALIDATION_ERROR")))?;
    if let Err(e) = s.ai.provider_for(&model) {
        let message = match e {
            ProviderError::Unavailable(m) => m,
            other => other.to_string(),
        };
        return Err(HttpError::new(503, message, Some("PROVIDER_UNAVAILABLE")));
    }
    let price = model.credits;
    let job = NewAiJob {
        api_key_id: caller.key.id,
        model_id: model.id.clone(),
        provider: model.provider.clone(),
        request_json: super::stored_input(req.prompt.as_deref(), &req.image_urls, &options),
        credits: price,
    };
    let grant = credits::monthly_grant(&caller.key, s.ai.credits());
    let reservation =
        s.store.create_ai_job(job, grant, move |balance| credits::subscription_first(balance, price)).await?;
    let (row, remaining) = match reservation {
        Reservation::Reserved { job, remaining } => (*job, remaining),
        Reservation::Short { remaining } => {
            let body = InsufficientCredits {
                success: false,
                message: "Insufficient credits",
                credits_required: price,
                credits_remaining: remaining,
            };
            return Err(error(402, serde_json::to_value(body).map_err(HttpError::internal)?));
        }
    };
    let job_id = row.id;
    tracing::info!(job_id, model = %row.model_id, key_id = caller.key.id, credits = price, "AI job created");
    s.ai.spawn(row);
    typed_reply(
        202,
        JobCreated { success: true, job_id, status: "running", credits_charged: price, credits_remaining: remaining },
    )
}

/// `GET /api/ai/jobs/{job_id}`
pub async fn job(State(s): State<AppState>, caller: Caller, headers: HeaderMap, Path(job_id): Path<String>) -> Reply {
    let id: i64 =
        job_id.trim().parse().map_err(|_| HttpError::new(400, "Invalid job ID format", Some("INVALID_JOB_ID")))?;
    let row = s.store.ai_job(id).await?;
    let row = match row {
        Some(r) if r.api_key_id == caller.key.id => r,
        _ => return Err(HttpError::new(404, "AI job not found", Some("JOB_NOT_FOUND"))),
    };
    let base = s.base_url(&headers);
    let result_urls: Vec<String> = match &row.result {
        Some(r) if row.status == "success" => {
            let files = super::result_files(Some(r)).into_iter();
            let urls = r.get("urls").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str);
            files
                .map(|f| format!("{base}{}", crate::jobs::output_path_url(f)))
                .chain(urls.map(str::to_string))
                .collect()
        }
        _ => Vec::new(),
    };
    let output_expired = row.output_expired_at.as_deref().map(|at| OutputExpired {
        expired_at: at.to_owned(),
        message: crate::retention::expired_message(Expired::AiJob, at),
    });
    let credits_refunded = if row.status == "failed" { row.credits_charged } else { 0 };
    typed_reply(
        200,
        Job {
            success: true,
            job_id: row.id,
            model_id: row.model_id,
            status: row.status,
            result_urls,
            error_code: row.error_code,
            error_message: row.error_message,
            credits_charged: row.credits_charged,
            credits_refunded,
            created_at: row.created_at,
            completed_at: row.completed_at,
            output_expired,
        },
    )
}

/// `GET /api/ai/credits/balance`
pub async fn balance(State(s): State<AppState>, caller: Caller) -> Reply {
    let grant = credits::monthly_grant(&caller.key, s.ai.credits());
    let (monthly_allowance, period) = (grant.allowance, grant.period.clone());
    let b = s.store.credit_balance(grant).await?;
    typed_reply(
        200,
        Balance {
            success: true,
            plan: caller.key.plan.as_str(),
            credits_remaining: b.total(),
            subscription_credits: b.subscription,
            topup_credits: b.topup,
            monthly_credits: monthly_allowance,
            period,
            subscription_resets_at: credits::next_period_start(),
        },
    )
}
