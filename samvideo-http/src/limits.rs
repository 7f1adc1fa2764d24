//! Rate limits and monthly quotas.
//!
//! Rate limits are sliding windows counted in the store (`Store::rate_hit`: the `rate_hits`
//! table), so API nodes that share a Postgres store share their limits, and a restart keeps
//! them: core creates per key, advanced creates per key, template endpoints per client IP, the
//! playground's validate endpoint per client IP, AI job creates per key. The rule is
//! [`sliding_window`]. A refused request gets 429 with `Retry-After`.
//! Quotas count the tasks a key created this calendar month (UTC) against its plan's limit
//! and answer the documented 403 bodies; past the limit, extra videos bought in video packs
//! are spent one per task (`crate::packs`). The rule is [`admit`]; the store applies it in the
//! transaction that stores the task (`Store::create_task`), so concurrent creates of one key
//! cannot exceed the quota.

use std::time::Duration;

use chrono::{Datelike, TimeZone, Utc};
use serde_json::json;

use crate::billing::BillingPlan;
use crate::config::{Rate, ServerConfig};
use crate::reply::HttpError;
use crate::store::{rfc3339, QuotaDecision, QuotaUsage, RateWindow, Store};

/// One sliding-window limiter, counted in the store.
pub struct RateLimiter {
    name: &'static str,
    rate: Rate,
    store: Store,
}

impl RateLimiter {
    /// A limiter allowing `rate`, whose hits are stored under `name`.
    pub fn new(name: &'static str, rate: Rate, store: Store) -> Self {
        RateLimiter { name, rate, store }
    }

    /// Count a request of `who`: `Ok(Err(seconds))` to wait when over the limit.
    pub async fn check(&self, who: &str) -> Result<Result<(), u64>, crate::store::StoreError> {
        let now_ms = Utc::now().timestamp_millis();
        let rate = self.rate;
        let window_ms = i64::try_from(rate.window.as_millis()).unwrap_or(i64::MAX);
        self.store.rate_hit(self.name, who, now_ms, window_ms, move |w| sliding_window(rate, now_ms, w)).await
    }
}

/// The sliding-window rule: a caller whose `window` holds fewer than `rate.requests` hits may
/// make one more now; otherwise `Err(seconds)` until its oldest hit leaves the window.
pub fn sliding_window(rate: Rate, now_ms: i64, window: RateWindow) -> Result<(), u64> {
    if window.hits < i64::from(rate.requests) {
        return Ok(());
    }
    let age = Duration::from_millis(u64::try_from(now_ms - window.oldest_ms.unwrap_or(now_ms)).unwrap_or(0));
    Err(ceil_secs(rate.window.saturating_sub(age)))
}

/// The limiters of the API.
pub struct Limiters {
    /// mix/simple/loop creates, per key.
    pub core: RateLimiter,
    /// advanced-video creates, per key.
    pub advanced: RateLimiter,
    /// template endpoints, per client IP.
    pub templates: RateLimiter,
    /// the playground's validate endpoint, per client IP.
    pub validate: RateLimiter,
}

impl Limiters {
    /// Limiters with the configured rates, counted in `store`.
    pub fn new(config: &ServerConfig, store: &Store) -> Self {
        Limiters {
            core: RateLimiter::new("core", config.core_rate, store.clone()),
            advanced: RateLimiter::new("advanced", config.advanced_rate, store.clone()),
            templates: RateLimiter::new("templates", config.templates_rate, store.clone()),
            validate: RateLimiter::new("validate", config.validate_rate, store.clone()),
        }
    }
}

/// 429 with `Retry-After`.
pub fn rate_limited(retry_after: u64) -> HttpError {
    let secs = retry_after.max(1);
    let mut e = HttpError::new(429, format!("Rate limit exceeded. Try again in {secs} seconds."), Some("RATE_LIMITED"));
    e.retry_after = Some(secs);
    e
}

/// Check `limiter` for `who`, mapping a refusal to 429.
pub async fn enforce(limiter: &RateLimiter, who: &str) -> Result<(), HttpError> {
    limiter.check(who).await?.map_err(rate_limited)
}

/// The client IP a per-IP limiter counts a request under (`unknown` when the router runs
/// without a socket, as in tests driving it with `oneshot`).
pub fn client_ip(req: &axum::extract::Request) -> String {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Start of the current calendar month, UTC, as stored.
pub fn month_start() -> String {
    let now = Utc::now();
    let start = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now);
    rfc3339(start)
}

/// The quota rule for one more video of a key whose plan allows `limit` videos a month
/// (`None`: no limit): within the plan's videos it is admitted; past them it spends one extra
/// video from a video pack while any is left; otherwise it is refused ([`quota_refused`]).
pub fn admit(limit: Option<u32>, usage: QuotaUsage) -> QuotaDecision {
    match limit {
        Some(limit) if usage.used >= i64::from(limit) => {
            if usage.extra_videos_left > 0 {
                QuotaDecision::SpendExtraVideo
            } else {
                QuotaDecision::Refuse
            }
        }
        _ => QuotaDecision::Admit,
    }
}

/// The documented 403 for a key of `plan` that used its `limit` videos this month and has no
/// extra videos left.
pub fn quota_refused(plan: BillingPlan, limit: u32) -> HttpError {
    let message = if plan == BillingPlan::Free {
        format!(
            "Free tier limit reached. You can generate {limit} videos per month. Please upgrade to a paid plan for more videos."
        )
    } else {
        format!("Monthly limit reached. Your plan allows {limit} videos per month.")
    };
    let api = samvideo_core::ApiError {
        status: 403,
        body: json!({"success": false, "message": message, "upgrade_url": "/subscription/plans/"}),
    };
    api.into()
}

/// Seconds as `Retry-After` wants them: rounded up.
pub fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_refuses_then_recovers() {
        let rate = Rate { requests: 2, window: Duration::from_secs(60) };
        let t0 = 1_000_000;
        let window = |hits, oldest_ms| RateWindow { hits, oldest_ms };
        assert_eq!(sliding_window(rate, t0, window(0, None)), Ok(()));
        assert_eq!(sliding_window(rate, t0, window(1, Some(t0))), Ok(()));
        assert_eq!(sliding_window(rate, t0 + 10_000, window(2, Some(t0))), Err(50), "third is refused");
        assert_eq!(sliding_window(rate, t0 + 10_001, window(2, Some(t0))), Err(50), "rounded up");
        assert_eq!(sliding_window(rate, t0 + 59_999, window(2, Some(t0))), Err(1));
    }

    #[test]
    fn quotas_admit_then_spend_extra_videos_then_refuse() {
        let usage = |used, extra_videos_left| QuotaUsage { used, extra_videos_left };
        assert_eq!(admit(None, usage(1000, 0)), QuotaDecision::Admit, "no limit");
        assert_eq!(admit(Some(3), usage(2, 0)), QuotaDecision::Admit);
        assert_eq!(admit(Some(3), usage(3, 1)), QuotaDecision::SpendExtraVideo);
        assert_eq!(admit(Some(3), usage(3, 0)), QuotaDecision::Refuse);
    }
}
