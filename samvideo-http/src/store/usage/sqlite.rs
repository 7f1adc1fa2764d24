//! Quota admission and the usage summary on SQLite: the statements of `store::usage`, read
//! across the tables of `tasks`, `packs`, `keys` and `idempotency` in one transaction.

use rusqlite::Connection;

use super::types::{KeyUsage, QuotaDecision, QuotaUsage};
use crate::store::{idempotency, keys, packs, tasks};
use crate::store::{Created, IdempotencyKey, NewTask, StoreError};

/// Store `task` if `admit` allows it, in one transaction with the quota's read, the extra
/// video it spends and the idempotency key it remembers; a key used since `once.since`
/// replays its task instead.
pub(in crate::store) fn create_task(
    c: &Connection,
    task: &NewTask,
    since: &str,
    once: Option<&IdempotencyKey>,
    admit: impl FnOnce(QuotaUsage) -> QuotaDecision,
) -> Result<Created, StoreError> {
    let tx = c.unchecked_transaction()?;
    if let Some(key) = once {
        if let Some(id) = idempotency::sqlite::find(&tx, task.api_key_id, key)? {
            let row = tasks::sqlite::get(&tx, &id)?.ok_or_else(|| StoreError::Corrupt {
                table: "idempotency_keys",
                reason: format!("task {id} vanished"),
            })?;
            return Ok(Created::Replayed(Box::new(row)));
        }
    }
    let usage = QuotaUsage {
        used: tasks::sqlite::count_since(&tx, task.api_key_id, since)?,
        extra_videos_left: packs::sqlite::extra_videos(&tx, task.api_key_id)?.remaining,
    };
    let decision = admit(usage);
    let admitted = match decision {
        QuotaDecision::Admit => true,
        QuotaDecision::SpendExtraVideo => packs::sqlite::take_extra_video(&tx, task.api_key_id)?,
        QuotaDecision::Refuse => false,
    };
    if !admitted {
        return Ok(Created::New(QuotaDecision::Refuse));
    }
    tasks::sqlite::insert(&tx, task)?;
    if let Some(key) = once {
        idempotency::sqlite::remember(&tx, task.api_key_id, key, &task.id)?;
    }
    tx.commit()?;
    Ok(Created::New(decision))
}

/// A key's task counts per state since `since`, the key row, its extra videos and the tasks it
/// created since `month_start`.
pub(in crate::store) fn key_usage(
    c: &Connection,
    key_id: i64,
    since: &str,
    month_start: &str,
) -> Result<KeyUsage, StoreError> {
    Ok(KeyUsage {
        counts: tasks::sqlite::status_counts(c, Some(key_id), since)?,
        key: keys::sqlite::get(c, key_id)?,
        extra_videos: packs::sqlite::extra_videos(c, key_id)?,
        month_used: tasks::sqlite::count_since(c, key_id, month_start)?,
    })
}
