//! Quota admission and the usage summary on Postgres: the statements of `store::usage`. The
//! admission locks the account first, so concurrent creates of one key on any node see each
//! other's tasks and extra videos.

use super::types::{KeyUsage, QuotaDecision, QuotaUsage};
use crate::store::idempotency::postgres as idempotency;
use crate::store::keys::postgres as keys;
use crate::store::packs::postgres as packs;
use crate::store::postgres::{lock_account, Conn};
use crate::store::tasks::postgres as tasks;
use crate::store::{Created, IdempotencyKey, NewTask, StoreError};

pub(in crate::store) async fn create_task(
    mut c: Conn,
    task: NewTask,
    since: String,
    once: Option<IdempotencyKey>,
    admit: impl FnOnce(QuotaUsage) -> QuotaDecision,
) -> Result<Created, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    lock_account(&tx, task.api_key_id).await?;
    if let Some(key) = &once {
        if let Some(id) = idempotency::find(&tx, task.api_key_id, key).await? {
            let row = tasks::get(&tx, &id).await?.ok_or_else(|| StoreError::Corrupt {
                table: "idempotency_keys",
                reason: format!("task {id} vanished"),
            })?;
            return Ok(Created::Replayed(Box::new(row)));
        }
    }
    let usage = QuotaUsage {
        used: tasks::count_since(&tx, task.api_key_id, &since).await?,
        extra_videos_left: packs::extra_videos(&tx, task.api_key_id).await?.remaining,
    };
    let decision = admit(usage);
    let admitted = match decision {
        QuotaDecision::Admit => true,
        QuotaDecision::SpendExtraVideo => packs::take_extra_video(&tx, task.api_key_id).await?,
        QuotaDecision::Refuse => false,
    };
    if !admitted {
        return Ok(Created::New(QuotaDecision::Refuse));
    }
    tasks::insert(&tx, &task).await?;
    if let Some(key) = &once {
        idempotency::remember(&tx, task.api_key_id, key, &task.id).await?;
    }
    tx.commit().await?;
    Ok(Created::New(decision))
}

pub(in crate::store) async fn key_usage(
    c: Conn,
    key_id: i64,
    since: String,
    month_start: String,
) -> Result<KeyUsage, StoreError> {
    let c: &tokio_postgres::Client = &c;
    Ok(KeyUsage {
        counts: tasks::status_counts(c, Some(key_id), &since).await?,
        key: keys::get(c, key_id).await?,
        extra_videos: packs::extra_videos(c, key_id).await?,
        month_used: tasks::count_since(c, key_id, &month_start).await?,
    })
}
