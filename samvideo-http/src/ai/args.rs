//! `samvideo serve` flags of the AI, credits and video-pack features (flattened into
//! `ServeArgs`). Same precedence as every other setting: flag, `SAMVIDEO_*` environment
//! variable, config file, default.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;

use crate::config::{ConfigError, ServerConfig};

/// AI, credits and video-pack settings of `samvideo serve`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct BillingArgs {
    /// AI model catalog replacing the bundled one (JSON, see docs/ai-and-credits.md).
    #[arg(long, env = "SAMVIDEO_AI_CATALOG")]
    pub ai_catalog: Option<PathBuf>,
    /// Third-party AI providers (JSON: base URL and key per provider).
    #[arg(long, env = "SAMVIDEO_AI_PROVIDERS")]
    pub ai_providers: Option<PathBuf>,
    /// Monthly AI credits per plan, e.g. basic=1000,pro=5000,ultimate=15000 [default: those; free 0].
    #[arg(long, env = "SAMVIDEO_AI_MONTHLY_CREDITS")]
    pub ai_monthly_credits: Option<String>,
    /// Built-in AI renders running at once [default: 1].
    #[arg(long, env = "SAMVIDEO_AI_CONCURRENCY")]
    pub ai_concurrency: Option<usize>,
    /// Stripe API base (default: <https://api.stripe.com>).
    #[arg(long, env = "SAMVIDEO_STRIPE_API_BASE")]
    pub stripe_api_base: Option<String>,
    /// Stripe secret key (sk_...); video pack checkout answers 503 without it.
    #[arg(long, env = "SAMVIDEO_STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    /// Stripe webhook signing secret (whsec_...); the webhook answers 503 without it.
    #[arg(long, env = "SAMVIDEO_STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,
    /// Video packs on sale, comma-separated ID=VIDEOS:PRICE_CENTS or ID=VIDEOS:PRICE_CENTS:CURRENCY (default: videos-10=10:900:usd,videos-50=50:3900:usd,videos-100=100:6900:usd).
    #[arg(long, env = "SAMVIDEO_VIDEO_PACKS")]
    pub video_packs: Option<String>,
}

fn pick<T: FromStr>(flag: Option<T>, file: &HashMap<String, String>, key: &str) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    if flag.is_some() {
        return Ok(flag);
    }
    match file.get(key) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|e| ConfigError::Billing(format!("{key}={v}: {e}"))),
    }
}

impl BillingArgs {
    /// Apply the settings given (flags/env, then the config file's `file` values) to `c`.
    pub fn apply(&self, file: &HashMap<String, String>, c: &mut ServerConfig) -> Result<(), ConfigError> {
        let err = |e: &dyn std::fmt::Display| ConfigError::Billing(e.to_string());
        if let Some(v) = pick(self.ai_catalog.clone(), file, "SAMVIDEO_AI_CATALOG")? {
            c.ai.catalog_path = Some(v);
        }
        if let Some(v) = pick(self.ai_providers.clone(), file, "SAMVIDEO_AI_PROVIDERS")? {
            c.ai.providers_path = Some(v);
        }
        if let Some(v) = pick(self.ai_monthly_credits.clone(), file, "SAMVIDEO_AI_MONTHLY_CREDITS")? {
            for (plan, n) in crate::credits::parse_monthly(&v).map_err(|e| err(&e))? {
                c.ai.credits.monthly.insert(plan, n);
            }
        }
        if let Some(v) = pick(self.ai_concurrency, file, "SAMVIDEO_AI_CONCURRENCY")? {
            if v == 0 || v > 64 {
                return Err(ConfigError::Billing(format!("invalid AI concurrency {v} (expected 1..=64)")));
            }
            c.ai.builtin_concurrency = v;
        }
        if let Some(v) = pick(self.stripe_api_base.clone(), file, "SAMVIDEO_STRIPE_API_BASE")? {
            c.packs.stripe_api_base = v;
        }
        if let Some(v) = pick(self.stripe_secret_key.clone(), file, "SAMVIDEO_STRIPE_SECRET_KEY")? {
            c.packs.stripe_secret_key = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = pick(self.stripe_webhook_secret.clone(), file, "SAMVIDEO_STRIPE_WEBHOOK_SECRET")? {
            c.packs.stripe_webhook_secret = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = pick(self.video_packs.clone(), file, "SAMVIDEO_VIDEO_PACKS")? {
            c.packs.packs = crate::packs::parse_packs(&v).map_err(|e| err(&e))?;
        }
        c.packs.validate().map_err(|e| err(&e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::BillingPlan;

    #[test]
    fn flags_then_file_then_defaults() {
        let mut file = HashMap::new();
        file.insert("SAMVIDEO_AI_MONTHLY_CREDITS".to_string(), "basic=7".to_string());
        file.insert("SAMVIDEO_VIDEO_PACKS".to_string(), "p=3:300:eur".to_string());
        let args = BillingArgs { stripe_secret_key: Some("sk_test".into()), ..Default::default() };
        let mut c = ServerConfig::default();
        args.apply(&file, &mut c).expect("applies");
        assert_eq!(c.ai.credits.allowance(BillingPlan::Basic), 7);
        assert_eq!(c.ai.credits.allowance(BillingPlan::Pro), 5000, "default kept");
        assert_eq!(c.packs.packs.len(), 1);
        assert_eq!(c.packs.packs[0].currency, "eur");
        assert_eq!(c.packs.stripe_secret_key.as_deref(), Some("sk_test"));
        file.insert("SAMVIDEO_VIDEO_PACKS".to_string(), "p=0:1".to_string());
        let err = BillingArgs::default().apply(&file, &mut ServerConfig::default()).expect_err("bad pack");
        assert!(err.to_string().contains("p=0:1"), "{err}");
        let bad_base = BillingArgs { stripe_api_base: Some("ftp://x".into()), ..Default::default() };
        assert!(bad_base.apply(&HashMap::new(), &mut ServerConfig::default()).is_err());
    }
}
