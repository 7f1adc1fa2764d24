//! Rate limits and monthly quotas.
//!
//! Rate limits are sliding windows kept in memory (a restart forgets them, like the
//! reference's cache-backed limiter): core creates per key, advanced creates per key, template
//! endpoints per client IP. A refused request gets 429 with `Retry-After`.
//! Quotas count the tasks a key created this calendar month (UTC) against its plan's limit
//! and answer the documented 403 bodies; past the limit, extra videos bought in video packs
//! are spent one per task (`crate::packs`). The rule is [`admit`]; the store applies it in the
//! transaction that stores the task (`Store::create_task`), so concurrent creates of one key
//! cannot exceed the quota.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{Datelike, TimeZone, Utc};
use serde_json::json;

use crate::billing::BillingPlan;
use crate::config::{Rate, ServerConfig};
use crate::reply::HttpError;
use crate::store::{rfc3339, QuotaDecision, QuotaUsage};

/// One sliding-window limiter.
pub struct RateLimiter {
    rate: Rate,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// A limiter allowing `rate`.
    pub fn new(rate: Rate) -> Self {
        RateLimiter { rate, hits: Mutex::new(HashMap::new()) }
    }

    /// Count a request of `who`; `Err(seconds)` to wait when over the limit.
    pub fn check(&self, who: &str) -> Result<(), u64> {
        self.check_at(who, Instant::now())
    }

    fn check_at(&self, who: &str, now: Instant) -> Result<(), u64> {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 10_000 {
            let window = self.rate.window;
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = hits.entry(who.to_string()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= self.rate.window) {
            q.pop_front();
        }
        if q.len() >= self.rate.requests as usize {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = self.rate.window.saturating_sub(now.duration_since(oldest));
            return Err(ceil_secs(wait));
        }
        q.push_back(now);
        Ok(())
    }
}

/// The three limiters of the API.
pub struct Limiters {
    /// mix/simple/loop creates, per key.
    pub core: RateLimiter,
    /// advanced-video creates, per key.
    pub advanced: RateLimiter,
    /// template endpoints, per client IP.
    pub templates: RateLimiter,
}

impl Limiters {
    /// Limiters with the configured rates.
    pub fn new(config: &ServerConfig) -> Self {
        Limiters {
            core: RateLimiter::new(config.core_rate),
            advanced: RateLimiter::new(config.advanced_rate),
            templates: RateLimiter::new(config.templates_rate),
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
pub fn enforce(limiter: &RateLimiter, who: &str) -> Result<(), HttpError> {
    limiter.check(who).map_err(rate_limited)
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
        let l = RateLimiter::new(Rate { requests: 2, window: Duration::from_secs(60) });
        let t0 = Instant::now();
        assert!(l.check_at("a", t0).is_ok());
        assert!(l.check_at("a", t0).is_ok());
        let wait = l.check_at("a", t0 + Duration::from_secs(10)).expect_err("third is refused");
        assert_eq!(wait, 50);
        assert!(l.check_at("b", t0).is_ok(), "other callers are independent");
        assert!(l.check_at("a", t0 + Duration::from_secs(61)).is_ok());
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
