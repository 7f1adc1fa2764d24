//! Stripe, without an SDK: the Checkout Session form ([`checkout_form`]) sent to
//! `POST {api_base}/v1/checkout/sessions`, and webhook signature verification
//! ([`verify_signature`]), as Stripe documents it: the `Stripe-Signature` header carries
//! `t=<unix>` and one or more `v1=<hex>`; `v1` is HMAC-SHA256 of `"{t}.{payload}"` under the
//! endpoint secret; any `v1` may match; the timestamp must be within the tolerance (300 s).
//! Comparison is constant-time and length-checked (`Mac::verify_slice`), so an empty or short
//! signature never matches.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Pack;

/// Stripe's default tolerance.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a webhook signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `t=` or no `v1=` in the header.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// `t` is too far from now (a replay of an old delivery, or a wrong clock).
    #[error("Stripe-Signature timestamp is outside the {0} s tolerance")]
    Stale(i64),
    /// No `v1` matches.
    #[error("no Stripe-Signature v1 signature matches the payload")]
    Mismatch,
}

/// Check `header` against `payload` with `secret` at time `now` (unix seconds).
pub fn verify_signature(
    header: &str,
    payload: &[u8],
    secret: &str,
    now: i64,
    tolerance: i64,
) -> Result<(), SignatureError> {
    let mut t: Option<i64> = None;
    let mut v1: Vec<&str> = Vec::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else { continue };
        match k {
            "t" => t = v.parse().ok(),
            "v1" => v1.push(v),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if v1.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > tolerance {
        return Err(SignatureError::Stale(tolerance));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::Mismatch)?;
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    for candidate in v1 {
        let Ok(bytes) = hex::decode(candidate) else { continue };
        if mac.clone().verify_slice(&bytes).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// A `Stripe-Signature` header for `payload` (tests, and operators checking their setup).
pub fn sign(payload: &[u8], secret: &str, t: i64) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return format!("t={t}"),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The form of a one-off payment Checkout Session for `pack`, bought by account `key_id`.
pub fn checkout_form(pack: &Pack, key_id: i64, success_url: &str, cancel_url: &str) -> Vec<(String, String)> {
    let f = |k: &str, v: String| (k.to_string(), v);
    vec![
        f("mode", "payment".into()),
        f("client_reference_id", key_id.to_string()),
        f("metadata[pack_id]", pack.id.clone()),
        f("metadata[api_key_id]", key_id.to_string()),
        f("metadata[videos]", pack.videos.to_string()),
        f("line_items[0][quantity]", "1".into()),
        f("line_items[0][price_data][currency]", pack.currency.clone()),
        f("line_items[0][price_data][unit_amount]", pack.price_cents.to_string()),
        f("line_items[0][price_data][product_data][name]", pack.name.clone()),
        f("success_url", success_url.to_string()),
        f("cancel_url", cancel_url.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_like_stripe() {
        let body = br#"{"id":"evt_1"}"#;
        let h = sign(body, "whsec_test", 1_000_000);
        assert_eq!(verify_signature(&h, body, "whsec_test", 1_000_100, 300), Ok(()));
        assert_eq!(verify_signature(&h, body, "whsec_other", 1_000_100, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(&h, b"{}", "whsec_test", 1_000_100, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(&h, body, "whsec_test", 1_000_301, 300), Err(SignatureError::Stale(300)));
        // Any of several v1 may match; v0 and unknown schemes are ignored.
        let good = h.split_once(",v1=").map(|(_, s)| s.to_string()).expect("v1");
        let multi = format!("t=1000000,v0=abc,v1={},v1={good}", "00".repeat(32));
        assert_eq!(verify_signature(&multi, body, "whsec_test", 1_000_000, 300), Ok(()));
        // Empty and truncated signatures never match (length is checked).
        assert_eq!(
            verify_signature("t=1000000,v1=", body, "whsec_test", 1_000_000, 300),
            Err(SignatureError::Mismatch)
        );
        let short = format!("t=1000000,v1={}", &good[..10]);
        assert_eq!(verify_signature(&short, body, "whsec_test", 1_000_000, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature("v1=aa", body, "whsec_test", 0, 300), Err(SignatureError::Malformed));
        assert_eq!(verify_signature("t=5", body, "whsec_test", 5, 300), Err(SignatureError::Malformed));
    }
}
