//! Video packs: extra JSON-to-video videos bought through Stripe Checkout.
//!
//! `POST /api/video-packs/{pack_id}/buy/` creates a Checkout Session ([`stripe`]) and answers
//! its URL; Stripe calls `POST /api/video-packs/webhook/` when it is paid, and the pack's videos
//! are added to the account exactly once ([`crate::store::Store::credit_pack`]: the
//! `video_pack_ledger` row is unique per Stripe event id and per Checkout Session id); which
//! videos a paid session adds is [`videos_for`]. The quota check
//! ([`crate::limits::admit`]) spends one extra video per task once the plan's monthly videos
//! are used up; usage-summary shows the counts ([`crate::store::ExtraVideos`]).
//!
//! Every change is a ledger row in the store: `purchase` (+N), `use` (-1), `grant` (operator).
//! This module holds the packs on sale and the Stripe side; no SQL.

pub mod routes;
pub mod stripe;

use serde::Serialize;

use crate::store::Checkout;

/// A pack on sale.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
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

/// How many videos a paid session adds to account `key_id`: the videos offered when the
/// session was created here (its `checkout`) win over today's configured pack (`configured`);
/// a session of another account, or of a pack neither knows, is refused with the reason.
pub fn videos_for(
    key_id: i64,
    pack_id: &str,
    checkout: Option<Checkout>,
    configured: Option<i64>,
) -> Result<i64, String> {
    match checkout {
        Some(c) if c.api_key_id != key_id => Err("session belongs to another account".into()),
        Some(c) => Ok(c.videos),
        None => configured.ok_or_else(|| format!("unknown video pack {pack_id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
