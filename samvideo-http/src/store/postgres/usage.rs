//! Quota admission and the usage summary on Postgres: the statements of `store::usage`. The
//! admission locks the account first, so concurrent creates of one key on any node see each
//! other's tasks and extra videos.

use super::{keys, lock_account, packs, tasks, Conn};
use crate::store::{KeyUsage, NewTask, QuotaDecision, QuotaUsage, StoreError};

pub(in crate::store) async fn create_task(
    mut c: Conn,
    task: NewTask,
    since: String,
    admit: impl FnOnce(QuotaUsage) -> QuotaDecision,
) -> Result<QuotaDecision, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    lock_account(&tx, task.api_key_id).await?;
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
        return Ok(QuotaDecision::Refuse);
    }
    tasks::insert(&tx, &task).await?;
    tx.commit().await?;
    Ok(decision)
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
