//! `video_pack_ledger` and `stripe_checkouts` on Postgres: the statements of `store::packs`.
//! A purchase row is unique per Stripe event and per Checkout Session, so concurrent webhook
//! deliveries on several nodes credit a pack once (`ON CONFLICT DO NOTHING`).

use tokio_postgres::GenericClient;

use super::types::{Checkout, ExtraVideos, PackCredit, PackPurchase};
use crate::store::keys::postgres as keys;
use crate::store::postgres::Conn;
use crate::store::{now_rfc3339, StoreError};

/// The extra-video counts of an account.
pub(in crate::store) async fn extra_videos(c: &impl GenericClient, key_id: i64) -> Result<ExtraVideos, StoreError> {
    let r = c
        .query_one(
            "SELECT COALESCE(SUM(CASE WHEN amount > 0 THEN amount END), 0)::BIGINT, \
                    COALESCE(-SUM(CASE WHEN amount < 0 THEN amount END), 0)::BIGINT \
             FROM video_pack_ledger WHERE api_key_id = $1",
            &[&key_id],
        )
        .await?;
    let (purchased, used): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
    Ok(ExtraVideos { purchased, used, remaining: purchased - used })
}

/// Spend one extra video when any is left (call in the quota transaction, which locked the
/// account). True when spent.
pub(in crate::store) async fn take_extra_video(c: &impl GenericClient, key_id: i64) -> Result<bool, StoreError> {
    if extra_videos(c, key_id).await?.remaining <= 0 {
        return Ok(false);
    }
    c.execute(
        "INSERT INTO video_pack_ledger (api_key_id, amount, kind, created_at) VALUES ($1, -1, 'use', $2)",
        &[&key_id, &now_rfc3339()],
    )
    .await?;
    Ok(true)
}

pub(in crate::store) async fn record_checkout(c: Conn, k: Checkout) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO stripe_checkouts (session_id, api_key_id, pack_id, videos, amount_cents, currency, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (session_id) DO UPDATE SET api_key_id = EXCLUDED.api_key_id, pack_id = EXCLUDED.pack_id, \
           videos = EXCLUDED.videos, amount_cents = EXCLUDED.amount_cents, currency = EXCLUDED.currency, \
           created_at = EXCLUDED.created_at",
        &[&k.session_id, &k.api_key_id, &k.pack_id, &k.videos, &k.amount_cents, &k.currency, &now_rfc3339()],
    )
    .await?;
    Ok(())
}

async fn checkout(c: &impl GenericClient, session_id: &str) -> Result<Option<Checkout>, StoreError> {
    let r = c
        .query_opt(
            "SELECT session_id, api_key_id, pack_id, videos, amount_cents, currency FROM stripe_checkouts \
             WHERE session_id = $1",
            &[&session_id],
        )
        .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(Checkout {
        session_id: r.try_get(0)?,
        api_key_id: r.try_get(1)?,
        pack_id: r.try_get(2)?,
        videos: r.try_get(3)?,
        amount_cents: r.try_get(4)?,
        currency: r.try_get(5)?,
    }))
}

pub(in crate::store) async fn credit_pack(
    mut c: Conn,
    p: PackPurchase,
    videos: impl FnOnce(Option<Checkout>) -> Result<i64, String>,
) -> Result<PackCredit, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    if keys::get(&tx, p.api_key_id).await?.is_none() {
        return Ok(PackCredit::UnknownAccount);
    }
    let videos = match videos(checkout(&tx, &p.session_id).await?) {
        Ok(v) => v,
        Err(reason) => return Ok(PackCredit::Refused(reason)),
    };
    let n = tx
        .execute(
            "INSERT INTO video_pack_ledger \
                (api_key_id, amount, kind, pack_id, stripe_event_id, stripe_session_id, created_at) \
             VALUES ($1, $2, 'purchase', $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[&p.api_key_id, &videos, &p.pack_id, &p.event_id, &p.session_id, &now_rfc3339()],
        )
        .await?;
    tx.commit().await?;
    Ok(if n == 1 { PackCredit::Applied { videos } } else { PackCredit::AlreadyApplied })
}
