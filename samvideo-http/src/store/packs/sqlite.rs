//! `video_pack_ledger` and `stripe_checkouts` on SQLite: the statements of `store::packs`. A
//! purchase row is unique per Stripe event and per Checkout Session (`INSERT OR IGNORE`), so
//! a pack is credited once.

use rusqlite::{params, Connection, OptionalExtension};

use super::types::{Checkout, ExtraVideos, PackCredit, PackPurchase};
use crate::store::keys::sqlite as keys;
use crate::store::{now_rfc3339, StoreError};

/// The extra-video counts of an account.
pub(in crate::store) fn extra_videos(conn: &Connection, key_id: i64) -> Result<ExtraVideos, StoreError> {
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
pub(in crate::store) fn take_extra_video(conn: &Connection, key_id: i64) -> Result<bool, StoreError> {
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
fn apply_purchase(conn: &Connection, p: &PackPurchase, videos: i64) -> Result<bool, StoreError> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO video_pack_ledger (api_key_id, amount, kind, pack_id, stripe_event_id, stripe_session_id, created_at)
         VALUES (?1, ?2, 'purchase', ?3, ?4, ?5, ?6)",
        params![p.api_key_id, videos, p.pack_id, p.event_id, p.session_id, now_rfc3339()],
    )?;
    Ok(n == 1)
}

/// Record a created Checkout Session (what was offered, for the webhook and audits).
pub(in crate::store) fn record_checkout(conn: &Connection, c: &Checkout) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO stripe_checkouts (session_id, api_key_id, pack_id, videos, amount_cents, currency, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![c.session_id, c.api_key_id, c.pack_id, c.videos, c.amount_cents, c.currency, now_rfc3339()],
    )?;
    Ok(())
}

/// A session recorded here, if it was created here.
fn checkout(conn: &Connection, session_id: &str) -> Result<Option<Checkout>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT session_id, api_key_id, pack_id, videos, amount_cents, currency FROM stripe_checkouts
             WHERE session_id = ?1",
            [session_id],
            |r| {
                Ok(Checkout {
                    session_id: r.get(0)?,
                    api_key_id: r.get(1)?,
                    pack_id: r.get(2)?,
                    videos: r.get(3)?,
                    amount_cents: r.get(4)?,
                    currency: r.get(5)?,
                })
            },
        )
        .optional()?)
}

/// Credit a paid pack once, in one transaction: the account must exist, `videos` decides
/// from the session recorded at checkout how many videos the pack adds, or refuses it.
pub(in crate::store) fn credit_pack(
    conn: &Connection,
    purchase: &PackPurchase,
    videos: impl FnOnce(Option<Checkout>) -> Result<i64, String>,
) -> Result<PackCredit, StoreError> {
    let tx = conn.unchecked_transaction()?;
    if keys::get(&tx, purchase.api_key_id)?.is_none() {
        return Ok(PackCredit::UnknownAccount);
    }
    let videos = match videos(checkout(&tx, &purchase.session_id)?) {
        Ok(v) => v,
        Err(reason) => return Ok(PackCredit::Refused(reason)),
    };
    let applied = apply_purchase(&tx, purchase, videos)?;
    tx.commit()?;
    Ok(if applied { PackCredit::Applied { videos } } else { PackCredit::AlreadyApplied })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::BillingPlan;
    use crate::store::{Backend, Store};

    #[test]
    fn purchases_apply_once_and_are_spent_one_by_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(&dir.path().join("db")).expect("open");
        let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
        let Backend::Sqlite(db) = &store.backend else { panic!("opened SQLite") };
        let buy = |event: &str, session: &str| PackPurchase {
            api_key_id: key.id,
            pack_id: "p".into(),
            event_id: event.into(),
            session_id: session.into(),
        };
        db.with(|c| {
            assert!(!take_extra_video(c, key.id)?, "nothing to spend");
            assert!(apply_purchase(c, &buy("evt_1", "cs_1"), 2)?);
            assert!(!apply_purchase(c, &buy("evt_1", "cs_1"), 2)?, "same event: once");
            assert!(!apply_purchase(c, &buy("evt_2", "cs_1"), 2)?, "same session, other event: once");
            assert!(take_extra_video(c, key.id)?);
            assert!(take_extra_video(c, key.id)?);
            assert!(!take_extra_video(c, key.id)?);
            assert_eq!(extra_videos(c, key.id)?, ExtraVideos { purchased: 2, used: 2, remaining: 0 });
            Ok(())
        })
        .expect("works");
    }
}
