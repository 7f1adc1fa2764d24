//! API keys as held: [`KeyRow`], [`NewKey`], and how a key is hashed ([`hash_key`]) and shown
//! ([`mask_key`]); the column list and the plan check that both backends read rows with.
//! Nothing here touches a database: `sqlite` and `postgres` fill these types.

use sha2::{Digest, Sha256};

use crate::billing::BillingPlan;
use crate::store::StoreError;

/// A key as stored (never the key itself).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    /// Row id; owns tasks and templates.
    pub id: i64,
    /// Display name (`Production`).
    pub name: String,
    /// Quota plan.
    pub plan: BillingPlan,
    /// `abcd...wxyz`.
    pub masked: String,
    /// False once revoked.
    pub active: bool,
    /// Authenticated requests made with the key.
    pub usage_count: i64,
    /// Time of the last authenticated request.
    pub last_used: Option<String>,
    /// Creation time.
    pub created_at: String,
}

/// A freshly created key: the row and the plaintext, shown once.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The stored row.
    pub row: KeyRow,
    /// The key to hand to the client.
    pub key: String,
}

/// SHA-256 of a key, hex.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// `abcd...wxyz`: first and last four characters.
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 8 {
        return "****".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}...{tail}")
}

pub(in crate::store) fn finish((mut k, plan): (KeyRow, String)) -> Result<KeyRow, StoreError> {
    k.plan = plan.parse().map_err(|reason| StoreError::Corrupt { table: "api_keys", reason })?;
    Ok(k)
}

pub(in crate::store) const COLS: &str = "id, name, plan, masked, active, usage_count, last_used, created_at";

/// A new random secret (192 bits, hex).
pub(in crate::store) fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_reference() {
        assert_eq!(mask_key("abcd1234567890wxyz"), "abcd...wxyz");
        assert_eq!(mask_key("short"), "****");
    }
}
