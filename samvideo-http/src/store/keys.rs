//! API keys: created by `samvideo keys create`, stored as SHA-256 hashes (keys are 192-bit
//! random, so a fast hash is enough), shown masked as `abcd...wxyz`.

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use super::postgres::keys as pg;
use super::{now_rfc3339, Backend, Blocking, Store, StoreError};
use crate::billing::BillingPlan;

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

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(KeyRow, String)> {
    let plan: String = r.get(2)?;
    Ok((
        KeyRow {
            id: r.get(0)?,
            name: r.get(1)?,
            plan: BillingPlan::Free,
            masked: r.get(3)?,
            active: r.get::<_, i64>(4)? != 0,
            usage_count: r.get(5)?,
            last_used: r.get(6)?,
            created_at: r.get(7)?,
        },
        plan,
    ))
}

pub(super) fn finish((mut k, plan): (KeyRow, String)) -> Result<KeyRow, StoreError> {
    k.plan = plan.parse().map_err(|reason| StoreError::Corrupt { table: "api_keys", reason })?;
    Ok(k)
}

pub(super) const COLS: &str = "id, name, plan, masked, active, usage_count, last_used, created_at";

/// A new random secret (192 bits, hex).
pub(super) fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

/// Create a key with a new random secret.
fn create(conn: &Connection, name: &str, plan: BillingPlan) -> Result<NewKey, StoreError> {
    let key = new_secret();
    let masked = mask_key(&key);
    conn.execute(
        "INSERT INTO api_keys (name, plan, key_hash, masked, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, plan.as_str(), hash_key(&key), masked, now_rfc3339()],
    )?;
    let id = conn.last_insert_rowid();
    let row = get(conn, id)?
        .ok_or_else(|| StoreError::Corrupt { table: "api_keys", reason: "inserted row vanished".into() })?;
    Ok(NewKey { row, key })
}

/// One key by id.
pub(super) fn get(conn: &Connection, id: i64) -> Result<Option<KeyRow>, StoreError> {
    let r = conn.query_row(&format!("SELECT {COLS} FROM api_keys WHERE id = ?1"), [id], row).optional()?;
    r.map(finish).transpose()
}

/// All keys, oldest first.
fn list(conn: &Connection) -> Result<Vec<KeyRow>, StoreError> {
    let mut st = conn.prepare(&format!("SELECT {COLS} FROM api_keys ORDER BY id"))?;
    let rows = st.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(finish).collect()
}

/// Revoke by id; false when no such active key.
fn revoke(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE api_keys SET active = 0, revoked_at = ?2 WHERE id = ?1 AND active = 1",
        params![id, now_rfc3339()],
    )?;
    Ok(n == 1)
}

/// Look a presented key up; counts the use when the key is active.
fn authenticate(conn: &Connection, key: &str) -> Result<Option<KeyRow>, StoreError> {
    let hash = hash_key(key);
    let found = conn.query_row(&format!("SELECT {COLS} FROM api_keys WHERE key_hash = ?1"), [&hash], row).optional()?;
    let Some(found) = found else { return Ok(None) };
    let mut k = finish(found)?;
    if k.active {
        let now = now_rfc3339();
        conn.execute(
            "UPDATE api_keys SET usage_count = usage_count + 1, last_used = ?2 WHERE id = ?1",
            params![k.id, now],
        )?;
        k.usage_count += 1;
        k.last_used = Some(now);
    }
    Ok(Some(k))
}

impl Store {
    /// The key a request presents (active or revoked), counting the use of an active one;
    /// `None` for an unknown key.
    pub async fn authenticate(&self, key: &str) -> Result<Option<KeyRow>, StoreError> {
        let key = key.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| authenticate(c, &key)).await,
            Backend::Postgres(db) => db.call(move |c| pg::authenticate(c, key)).await,
        }
    }
}

impl Blocking<'_> {
    /// Create a key with a new random secret (`samvideo keys create`).
    pub fn create_key(&self, name: &str, plan: BillingPlan) -> Result<NewKey, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| create(c, name, plan)),
            Backend::Postgres(db) => {
                let name = name.to_owned();
                db.block(move |c| pg::create(c, name, plan))
            }
        }
    }

    /// All keys, oldest first.
    pub fn list_keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(list),
            Backend::Postgres(db) => db.block(pg::list),
        }
    }

    /// Revoke a key by id; false when there is no such active key.
    pub fn revoke_key(&self, id: i64) -> Result<bool, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| revoke(c, id)),
            Backend::Postgres(db) => db.block(move |c| pg::revoke(c, id)),
        }
    }
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
