//! `X-Samautomation-Signature`: how a webhook body is signed, and how a receiver checks it.
//!
//! The header is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, the
//! Stripe layout. [`sign`] makes it for one attempt (a retry signs again with a fresh `t`);
//! [`verify`] is the receiver's side, used by the tests and mirrored by the snippets in
//! `docs/exports.md`: it accepts any of several `v1` values (secret rotation), refuses a `t`
//! outside the tolerance (replays) and compares in constant time after comparing lengths (an
//! empty signature must not match).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a signature header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `t=` part, or it is not a number.
    #[error("signature header has no valid t= timestamp")]
    NoTimestamp,
    /// No `v1=` part.
    #[error("signature header has no v1= signature")]
    NoSignature,
    /// `t` is further from now than the tolerance.
    #[error("signature timestamp {t} is outside the {tolerance} s tolerance")]
    Stale {
        /// The header's timestamp.
        t: i64,
        /// Allowed distance in seconds.
        tolerance: i64,
    },
    /// No `v1` value matches the body.
    #[error("no v1 signature matches the body")]
    Mismatch,
}

/// Hex HMAC-SHA256 of `"<t>.<body>"` under `secret`.
pub fn v1(secret: &[u8], t: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value for one delivery attempt at unix time `t`.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", v1(secret, t, body))
}

/// Check `header` against `body`: `now` and `tolerance` in unix seconds.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64, tolerance: i64) -> Result<(), SignatureError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.trim().parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.trim()),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::NoTimestamp)?;
    if sigs.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    if (now - t).abs() > tolerance {
        return Err(SignatureError::Stale { t, tolerance });
    }
    let expected = v1(secret, t, body);
    if sigs.iter().any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Equal lengths first (a `zip` over unequal lengths would accept a prefix), then every byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // Python: hmac.new(b"whsec", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        let h = sign(b"whsec", 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(h, "t=1700000000,v1=8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032");
    }

    #[test]
    fn round_trip_and_refusals() {
        let body = br#"{"event":"video.completed"}"#;
        let h = sign(b"s3cret", 1000, body);
        assert_eq!(verify(b"s3cret", &h, body, 1100, 300), Ok(()));
        assert_eq!(verify(b"other", &h, body, 1100, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"s3cret", &h, b"{}", 1100, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"s3cret", &h, body, 2000, 300), Err(SignatureError::Stale { t: 1000, tolerance: 300 }));
        assert_eq!(verify(b"s3cret", "t=1000,v1=", body, 1000, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"s3cret", "t=1000", body, 1000, 300), Err(SignatureError::NoSignature));
        assert_eq!(verify(b"s3cret", "v1=ab", body, 1000, 300), Err(SignatureError::NoTimestamp));
        // A prefix of the right signature must not pass.
        let full = v1(b"s3cret", 1000, body);
        assert_eq!(
            verify(b"s3cret", &format!("t=1000,v1={}", &full[..10]), body, 1000, 300),
            Err(SignatureError::Mismatch)
        );
        // Rotation: any listed v1 may match.
        let two = format!("t=1000,v1={},v1={full}", "0".repeat(64));
        assert_eq!(verify(b"s3cret", &two, body, 1000, 300), Ok(()));
    }
}
