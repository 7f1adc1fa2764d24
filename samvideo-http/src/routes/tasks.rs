//! Task tracking: progress, the recent-tasks list and the usage summary. A task of another
//! key answers 404, like an unknown one.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::json;

use super::{owned_task, task_json};
use crate::auth::Caller;
use crate::reply::{typed_data, HttpError, Reply};
use crate::responses::tasks::{KeySummary, ListedTask, MonthlyVideos, TaskList, UsageSummary, UsageTotals};
use crate::state::AppState;
use crate::store::{rfc3339, TaskStatus};

/// `GET /api/function/video-generation/progress/{id}`
pub async fn progress(State(s): State<AppState>, caller: Caller, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let row = owned_task(&s, caller.key.id, id, false).await?;
    typed_data(task_json(&row, &s.base_url(&headers)))
}

/// `GET /api/function/video-generation/tasks?limit=10&status=completed`
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let limit = match q.get("limit").map(|v| v.trim()) {
        None | Some("") => 10,
        Some(v) => {
            v.parse::<i64>().map_err(|_| HttpError::new(400, "limit must be an integer", None))?.clamp(1, 100) as u32
        }
    };
    let status = match q.get("status").map(|v| v.trim()) {
        None | Some("") => None,
        Some(v) => Some(TaskStatus::parse(v).ok_or_else(|| {
            HttpError::new(
                400,
                "status must be one of pending, processing, completed, failed, cancelled, timeout",
                None,
            )
        })?),
    };
    let key_id = caller.key.id;
    let rows = s.store.list_tasks(key_id, status, limit).await?;
    let base = s.base_url(&headers);
    let tasks: Vec<_> = rows
        .iter()
        .map(|r| ListedTask {
            task: task_json(r, &base),
            kind: r.endpoint.clone(),
            celery_task_id: r.celery_task_id.clone(),
        })
        .collect();
    typed_data(TaskList { count: tasks.len(), tasks, limit })
}

/// `GET /api/function/video-generation/usage-summary?days=30`
pub async fn usage_summary(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let days = match q.get("days").map(|v| v.trim()) {
        None | Some("") => 30,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| HttpError::new(400, "days must be an integer between 1 and 3650", None))?,
    };
    let since = rfc3339(chrono::Utc::now() - chrono::Duration::days(days));
    let usage = s.store.key_usage(caller.key.id, &since, &crate::limits::month_start()).await?;
    let (counts, extra, month_used) = (usage.counts, usage.extra_videos, usage.month_used);
    let key = usage.key.unwrap_or(caller.key);
    let total = counts.total();
    let completed = counts.get(TaskStatus::Completed);
    let success_rate = if total > 0 { ((completed as f64 / total as f64) * 10_000.0).round() / 10_000.0 } else { 0.0 };
    let by_status: serde_json::Map<String, serde_json::Value> =
        TaskStatus::ALL.iter().map(|st| (st.as_str().to_string(), json!(counts.get(*st)))).collect();
    typed_data(UsageSummary {
        window_days: days,
        since,
        totals: UsageTotals {
            tasks: total,
            completed,
            failed: counts.get(TaskStatus::Failed),
            cancelled: counts.get(TaskStatus::Cancelled),
            timeout: counts.get(TaskStatus::Timeout),
            success_rate,
        },
        by_status,
        monthly_videos: MonthlyVideos { limit: s.config.monthly_limit(key.plan), used: month_used },
        extra_videos: extra,
        api_key: KeySummary {
            name: key.name,
            masked_key: key.masked,
            usage_count: key.usage_count,
            last_used: key.last_used,
        },
    })
}
