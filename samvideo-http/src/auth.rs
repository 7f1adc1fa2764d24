//! API key authentication: the `X-API-Key` header, or the legacy `api_key` query parameter.
//!
//! Enter: request headers and query. Leave: a [`Caller`] (the key row) for handlers, or the
//! documented 401 (`API_KEY_MISSING`) / 403 (`API key is not active or missing`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::reply::HttpError;
use crate::state::AppState;
use crate::store::KeyRow;

/// The authenticated key making the request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's row (owner of tasks and templates, plan for quotas).
    pub key: KeyRow,
}

/// The key sent with a request, if any.
pub fn presented_key(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if !v.is_empty() {
            return Some(v.to_string());
        }
    }
    let query = parts.uri.query()?;
    form_value(query, "api_key").filter(|v| !v.is_empty())
}

/// The first value of `name` in a query string, percent-decoded.
pub fn form_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'+' {
            out.push(b' ');
        } else if b == b'%' && i + 2 < bytes.len() {
            match hex_pair(bytes[i + 1], bytes[i + 2]) {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => out.push(b'%'),
            }
        } else {
            out.push(b);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let h = (hi as char).to_digit(16)?;
    let l = (lo as char).to_digit(16)?;
    Some((h * 16 + l) as u8)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(key) = presented_key(parts) else {
            return Err(HttpError::new(401, "API key required", Some("API_KEY_MISSING")));
        };
        let found = state.store.authenticate(&key).await?;
        match found {
            Some(key) if key.active => Ok(Caller { key }),
            _ => Err(HttpError::new(403, "API key is not active or missing", None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode() {
        assert_eq!(form_value("a=1&api_key=ab%2Fc+d", "api_key").as_deref(), Some("ab/c d"));
        assert_eq!(form_value("api_key=%zz%4", "api_key").as_deref(), Some("%zz%4"));
        assert_eq!(form_value("x=1", "api_key"), None);
    }
}
