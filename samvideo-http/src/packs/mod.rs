//! Video packs: extra JSON-to-video videos bought through Stripe Checkout.
//!
//! `POST /api/video-packs/{pack_id}/buy/` creates a Checkout Session ([`stripe`]) and answers
//! its URL; Stripe calls `POST /api/video-packs/webhook/` when it is paid, and the pack's videos
//! are added to the account exactly once (the `video_pack_ledger` row is unique per Stripe
//! event id and per Checkout Session id). The quota check ([`crate::limits::check_quota`])
//! spends one extra video per task once the plan's monthly videos are used up
//! ([`take_extra_video`]); usage-summary shows the counts ([`extra_videos`]).
//!
//! Every change is a ledger row: `purchase` (+N), `use` (-1), `grant` (operator).

pub mod routes;
pub mod stripe;

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::store::{now_rfc3339, StoreError};

/// A pack on sale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pack {
    /// Id in the buy URL.
    pub id: String,
    /// Product name shown at checkout.
    pub name: String,
    /// Extra videos it adds.
    pub videos: i64,
    /// Price in the currency's smallest unit.
    pub price_cents: i64,
    /// ISO currency, lower case.
    pub currency: String,
}

/// Stripe and the packs on sale.
#[derive(Debug, Clone, PartialEq)]
pub struct PacksConfig {
    /// Stripe's API base (a Stripe-compatible server in tests).
    pub stripe_api_base: String,
    /// `sk_...`; without it checkout answers 503.
    pub stripe_secret_key: Option<String>,
    /// `whsec_...`; without it the webhook answers 503.
    pub stripe_webhook_secret: Option<String>,
    /// Packs on sale.
    pub packs: Vec<Pack>,
}

impl Default for PacksConfig {
    fn default() -> Self {
        PacksConfig {
            stripe_api_base: "https://api.stripe.com".into(),
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            packs: parse_packs(DEFAULT_PACKS).unwrap_or_default(),
        }
    }
}

/// The packs on sale unless configured: 10, 50 and 100 videos.
pub const DEFAULT_PACKS: &str = "videos-10=10:900:usd,videos-50=50:3900:usd,videos-100=100:6900:usd";

/// Why a packs setting is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PacksConfigError {
    /// `--video-packs` entry does not parse.
    #[error("invalid video pack {0:?} (expected ID=VIDEOS:PRICE_CENTS[:CURRENCY], e.g. videos-10=10:900:usd)")]
    Pack(String),
    /// The Stripe API base is not http(s).
    #[error("invalid Stripe API base {0:?} (expected https://api.stripe.com or another http(s) URL)")]
    ApiBase(String),
}

/// Parse `videos-10=10:900:usd,videos-50=50:3900`.
pub fn parse_packs(s: &str) -> Result<Vec<Pack>, PacksConfigError> {
    let mut out: Vec<Pack> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || PacksConfigError::Pack(part.to_string());
        let (id, rest) = part.split_once('=').ok_or_else(bad)?;
        let id = id.trim();
        let ok_id = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let mut fields = rest.split(':').map(str::trim);
        let videos: i64 = fields.next().and_then(|v| v.parse().ok()).filter(|v| *v > 0).ok_or_else(bad)?;
        let price: i64 = fields.next().and_then(|v| v.parse().ok()).filter(|v| *v > 0).ok_or_else(bad)?;
        let currency = fields.next().unwrap_or("usd").to_ascii_lowercase();
        let ok_cur = currency.len() == 3 && currency.chars().all(|c| c.is_ascii_lowercase());
        if !ok_id || !ok_cur || fields.next().is_some() || out.iter().any(|p| p.id == id) {
            return Err(bad());
        }
        out.push(Pack {
            id: id.to_string(),
            name: format!("{videos} extra videos"),
            videos,
            price_cents: price,
            currency,
        });
    }
    Ok(out)
}

impl PacksConfig {
    /// A pack by id.
    pub fn pack(&self, id: &str) -> Option<&Pack> {
        self.packs.iter().find(|p| p.id == id)
    }

    /// Check the API base.
    pub fn validate(&self) -> Result<(), PacksConfigError> {
        let b = &self.stripe_api_base;
        if b.starts_with("https://") || b.starts_with("http://") {
            Ok(())
        } else {
            Err(PacksConfigError::ApiBase(b.clone()))
        }
    }
}

/// An account's extra videos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExtraVideos {
    /// Bought or granted, ever.
    pub purchased: i64,
    /// Spent past the monthly limit, ever.
    pub used: i64,
    /// Left.
    pub remaining: i64,
}

/// The extra-video counts of an account.
pub fn extra_videos(conn: &Connection, key_id: i64) -> Result<ExtraVideos, StoreError> {
    let (purchased, used): (i64, i64) = conn.query_row(
        "SELECT COALESCE(SUM(CASE WHEN amount > 0 THEN amount END), 0),
                COALESCE(-SUM(CASE WHEN amount < 0 THEN amount END), 0)
         FROM video_pack_ledger WHERE api_key_id = ?1",
        [key_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(ExtraVideos { purchased, used, remaining: purchased - used })
}

/// Spend one extra video when any is left (call in the quota transaction). True when spent.
pub fn take_extra_video(conn: &Connection, key_id: i64) -> Result<bool, StoreError> {
    if extra_videos(conn, key_id)?.remaining <= 0 {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO video_pack_ledger (api_key_id, amount, kind, created_at) VALUES (?1, -1, 'use', ?2)",
        params![key_id, now_rfc3339()],
    )?;
    Ok(true)
}

/// Add a paid pack once: false when this event or session was already applied.
pub fn apply_purchase(
    conn: &Connection,
    key_id: i64,
    pack_id: &str,
    videos: i64,
    event_id: &str,
    session_id: &str,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO video_pack_ledger (api_key_id, amount, kind, pack_id, stripe_event_id, stripe_session_id, created_at)
         VALUES (?1, ?2, 'purchase', ?3, ?4, ?5, ?6)",
        params![key_id, videos, pack_id, event_id, session_id, now_rfc3339()],
    )?;
    Ok(n == 1)
}

/// Record a created Checkout Session (what was offered, for the webhook and audits).
pub fn record_checkout(conn: &Connection, session_id: &str, key_id: i64, pack: &Pack) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO stripe_checkouts (session_id, api_key_id, pack_id, videos, amount_cents, currency, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![session_id, key_id, pack.id, pack.videos, pack.price_cents, pack.currency, now_rfc3339()],
    )?;
    Ok(())
}

/// The videos a recorded session sold, if it was created here.
pub fn checkout_videos(conn: &Connection, session_id: &str) -> Result<Option<(i64, String, i64)>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT api_key_id, pack_id, videos FROM stripe_checkouts WHERE session_id = ?1",
            [session_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::BillingPlan;
    use crate::store::{KeyRow, Store};

    #[test]
    fn packs_parse_and_reject() {
        let p = parse_packs(DEFAULT_PACKS).expect("defaults parse");
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].videos, p[0].price_cents, p[0].currency.as_str()), (10, 900, "usd"));
        assert_eq!(parse_packs("a=5:100").expect("parses")[0].currency, "usd");
        for bad in ["a=0:100", "a=5", "a=5:100:dollars", "a b=5:100", "a=5:1,a=6:1", "a=5:100:usd:x"] {
            assert!(parse_packs(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn purchases_apply_once_and_are_spent_one_by_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(&dir.path().join("db")).expect("open");
        store
            .with(|c| {
                let key = KeyRow::create(c, "k", BillingPlan::Free)?.row;
                assert!(!take_extra_video(c, key.id)?, "nothing to spend");
                assert!(apply_purchase(c, key.id, "p", 2, "evt_1", "cs_1")?);
                assert!(!apply_purchase(c, key.id, "p", 2, "evt_1", "cs_1")?, "same event: once");
                assert!(!apply_purchase(c, key.id, "p", 2, "evt_2", "cs_1")?, "same session, other event: once");
                assert!(take_extra_video(c, key.id)?);
                assert!(take_extra_video(c, key.id)?);
                assert!(!take_extra_video(c, key.id)?);
                assert_eq!(extra_videos(c, key.id)?, ExtraVideos { purchased: 2, used: 2, remaining: 0 });
                Ok(())
            })
            .expect("works");
    }
}
