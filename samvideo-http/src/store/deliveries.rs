//! The persistent export delivery queue: one `export_deliveries` row per (task, destination),
//! its attempts, and the summary the progress response shows.
//!
//! Enter: [`Blocking::enqueue_deliveries`] from the task hook,
//! [`Store::claim_due_deliveries`] / [`Store::record_delivery`] from the delivery loop (when a
//! failed delivery is tried again is the caller's schedule), [`Store::recover_deliveries`] on
//! start. Leave: [`ClaimedDelivery`] jobs for the loop, and the task row's `export_delivery`
//! column, rewritten from the delivery rows after every change in the same transaction, so
//! the progress response never shows a state the queue does not hold.
//!
//! Rows never hold secrets: passwords, keys and the callback secret stay in the task's
//! `exports_json` (already stored with the request) and are read at attempt time. The `target`
//! column is a secret-free description (origin of the callback URL, `host:port`, recipients).
//!
//! Statuses: `pending` (waiting for its next attempt), `delivering` (an attempt is running),
//! `delivered`, `failed` (out of attempts, or a permanent error), `skipped` (nothing to
//! deliver: an upload or mail for a task that produced no video).

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Map, Value};

use super::postgres::deliveries as pg;
use super::{now_rfc3339, rfc3339, Backend, Blocking, Store, StoreError};

/// The callback's `position`; destinations are `1 + index` in `exports.destinations`.
pub const CALLBACK_POSITION: i64 = 0;

/// Where a delivery goes: the task's webhook or one of its destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// `exports.callback_url`.
    Webhook,
    /// An `email` destination.
    Email,
    /// An `ftp` destination.
    Ftp,
    /// An `sftp` destination.
    Sftp,
}

impl DeliveryKind {
    /// As stored in `export_deliveries.kind` and shown as `type` in `export_delivery`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Webhook => "webhook",
            DeliveryKind::Email => "email",
            DeliveryKind::Ftp => "ftp",
            DeliveryKind::Sftp => "sftp",
        }
    }

    /// The kind a stored name stands for.
    pub fn parse(s: &str) -> Option<Self> {
        [DeliveryKind::Webhook, DeliveryKind::Email, DeliveryKind::Ftp, DeliveryKind::Sftp]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// Reads a stored kind; a name this build does not know is a store error, not a panic.
    fn from_row(s: String) -> rusqlite::Result<Self> {
        DeliveryKind::parse(&s).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("unknown export delivery kind {s:?}").into(),
            )
        })
    }
}

impl std::fmt::Display for DeliveryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery to create.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Delivery UUID, stable across retries (`X-Samautomation-Delivery`).
    pub id: String,
    /// [`CALLBACK_POSITION`] or `1 + index`.
    pub position: i64,
    /// Webhook or destination type.
    pub kind: DeliveryKind,
    /// Secret-free description of where it goes.
    pub target: String,
    /// `video.completed` or `video.failed`.
    pub event: String,
    /// The webhook body (stable across retries); empty for other kinds.
    pub payload: String,
    /// `None` queues it now; `Some(reason)` records it `skipped`.
    pub skip: Option<String>,
}

/// A delivery the loop took for one attempt.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// Delivery UUID (`X-Samautomation-Delivery`).
    pub id: String,
    /// The task.
    pub task_id: String,
    /// Position (see [`CALLBACK_POSITION`]).
    pub position: i64,
    /// Webhook or destination type.
    pub kind: DeliveryKind,
    /// Event name.
    pub event: String,
    /// Webhook body.
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// The task's stored `exports` (holds the secrets).
    pub exports_json: Option<String>,
    /// The task's output file name in the outputs dir.
    pub output_file: Option<String>,
}

/// A successful attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Webhook HTTP status.
    pub response_status: Option<u16>,
    /// Where an upload landed.
    pub remote_path: Option<String>,
}

pub(super) fn ms_to_rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(rfc3339)
}

/// A unix-ms time as stored text (now when out of range).
pub(super) fn now_text(now_ms: i64) -> String {
    ms_to_rfc3339(now_ms).unwrap_or_else(now_rfc3339)
}

/// Create the task's deliveries (again is a no-op) and refresh its summary.
fn enqueue(conn: &Connection, task_id: &str, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    for d in deliveries {
        let (status, next, error) = match &d.skip {
            None => ("pending", Some(now_ms), None),
            Some(reason) => ("skipped", None, Some(reason.as_str())),
        };
        tx.execute(
            "INSERT OR IGNORE INTO export_deliveries
                (id, task_id, position, kind, target, event, payload, status, next_attempt_ms, last_error, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                d.id,
                task_id,
                d.position,
                d.kind.as_str(),
                d.target,
                d.event,
                d.payload,
                status,
                next,
                error,
                now_text(now_ms)
            ],
        )?;
    }
    refresh_summary(&tx, task_id)?;
    tx.commit()?;
    Ok(())
}

/// Take up to `limit` due deliveries (oldest due first) and mark them `delivering`.
fn claim_due(
    conn: &Connection,
    now_ms: i64,
    limit: usize,
    node: Option<&str>,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let tx = conn.unchecked_transaction()?;
    let claimed = {
        let mut stmt = tx.prepare(
            "SELECT d.id, d.task_id, d.position, d.kind, d.event, d.payload, d.attempts, t.exports_json, t.output_file
             FROM export_deliveries d JOIN tasks t ON t.id = d.task_id
             WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1
             ORDER BY d.next_attempt_ms, d.rowid LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now_ms, limit as i64], |r| {
            Ok(ClaimedDelivery {
                id: r.get(0)?,
                task_id: r.get(1)?,
                position: r.get(2)?,
                kind: DeliveryKind::from_row(r.get(3)?)?,
                event: r.get(4)?,
                payload: r.get(5)?,
                attempts: r.get(6)?,
                exports_json: r.get(7)?,
                output_file: r.get(8)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    let mut tasks = Vec::new();
    for c in &claimed {
        tx.execute(
            "UPDATE export_deliveries SET status = 'delivering', next_attempt_ms = NULL, last_attempt_at = ?2, node_id = ?3
             WHERE id = ?1",
            params![c.id, now_text(now_ms), node],
        )?;
        if !tasks.contains(&c.task_id) {
            tasks.push(c.task_id.clone());
        }
    }
    for t in &tasks {
        refresh_summary(&tx, t)?;
    }
    tx.commit()?;
    Ok(claimed)
}

/// Record an attempt: delivered, or failed and then pending again at the time `retry_at`
/// gives for the attempt count, or failed for good when it gives none.
fn record(
    conn: &Connection,
    id: &str,
    outcome: &Result<Delivered, String>,
    now_ms: i64,
    retry_at: impl FnOnce(i64) -> Option<i64>,
) -> Result<Option<String>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let row: Option<(String, i64)> = tx
        .query_row("SELECT task_id, attempts FROM export_deliveries WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((task_id, attempts)) = row else {
        return Ok(None);
    };
    let attempts = attempts + 1;
    match outcome {
        Ok(d) => {
            tx.execute(
                "UPDATE export_deliveries SET status = 'delivered', attempts = ?2, last_error = NULL,
                    response_status = ?3, remote_path = ?4, delivered_at = ?5, next_attempt_ms = NULL
                 WHERE id = ?1",
                params![id, attempts, d.response_status, d.remote_path, now_text(now_ms)],
            )?;
        }
        Err(error) => {
            let next = retry_at(attempts);
            let status = if next.is_some() { "pending" } else { "failed" };
            tx.execute(
                "UPDATE export_deliveries SET status = ?2, attempts = ?3, last_error = ?4, response_status = NULL,
                    next_attempt_ms = ?5
                 WHERE id = ?1",
                params![id, status, attempts, error, next],
            )?;
        }
    }
    refresh_summary(&tx, &task_id)?;
    tx.commit()?;
    Ok(Some(task_id))
}

/// After a restart: attempts that were running did not finish; run them again now (the
/// delivery id is the same, so a receiver that saw the first one can tell).
fn recover(conn: &Connection, now_ms: i64, node: Option<&str>) -> Result<usize, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let tasks: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT DISTINCT task_id FROM export_deliveries
             WHERE status = 'delivering' AND (node_id IS NULL OR node_id = ?1)",
        )?;
        let rows = stmt.query_map([node], |r| r.get(0))?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    let n = tx.execute(
        "UPDATE export_deliveries SET status = 'pending', next_attempt_ms = ?1, node_id = NULL
         WHERE status = 'delivering' AND (node_id IS NULL OR node_id = ?2)",
        params![now_ms, node],
    )?;
    for t in &tasks {
        refresh_summary(&tx, t)?;
    }
    tx.commit()?;
    Ok(n)
}

/// Tasks that ended at or after `since` (RFC 3339) with exports but no delivery rows: the
/// process stopped between writing the end and running the hook.
fn missed_tasks(conn: &Connection, since: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT t.id FROM tasks t
         WHERE t.status IN ('completed', 'failed', 'timeout', 'cancelled')
           AND t.exports_json IS NOT NULL AND t.export_delivery IS NULL AND t.completed_at >= ?1
           AND NOT EXISTS (SELECT 1 FROM export_deliveries d WHERE d.task_id = t.id)
         ORDER BY t.seq",
    )?;
    let rows = stmt.query_map([since], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// When the next pending delivery is due (unix ms).
fn next_due_ms(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row("SELECT MIN(next_attempt_ms) FROM export_deliveries WHERE status = 'pending'", [], |r| {
        r.get::<_, Option<i64>>(0)
    })?)
}

/// The columns a [`SummaryRow`] reads, in its order.
pub(super) const SUMMARY_COLS: &str = "position, kind, target, event, status, attempts, last_error, response_status, \
    remote_path, last_attempt_at, next_attempt_ms, delivered_at, id";

/// One delivery row as the task's summary shows it ([`SUMMARY_COLS`]).
pub(super) struct SummaryRow {
    pub(super) position: i64,
    pub(super) kind: DeliveryKind,
    pub(super) target: String,
    pub(super) event: String,
    pub(super) status: String,
    pub(super) attempts: i64,
    pub(super) last_error: Option<String>,
    pub(super) response_status: Option<i64>,
    pub(super) remote_path: Option<String>,
    pub(super) last_attempt_at: Option<String>,
    pub(super) next_attempt_ms: Option<i64>,
    pub(super) delivered_at: Option<String>,
    pub(super) id: String,
}

/// The task's `export_delivery` JSON from its delivery rows (any order).
pub(super) fn summary_json(rows: Vec<SummaryRow>) -> String {
    let mut callback = Value::Null;
    let mut destinations = Vec::new();
    let mut rows = rows;
    rows.sort_by_key(|r| r.position);
    for r in rows {
        let mut m = Map::new();
        m.insert("type".into(), json!(r.kind.as_str()));
        m.insert("target".into(), json!(r.target));
        if r.kind == DeliveryKind::Webhook {
            m.insert("event".into(), json!(r.event));
            m.insert("delivery_id".into(), json!(r.id));
            m.insert("response_status".into(), json!(r.response_status));
        }
        if matches!(r.kind, DeliveryKind::Ftp | DeliveryKind::Sftp) {
            m.insert("remote_path".into(), json!(r.remote_path));
        }
        m.insert("status".into(), json!(r.status));
        m.insert("attempts".into(), json!(r.attempts));
        m.insert("last_error".into(), json!(r.last_error));
        m.insert("last_attempt_at".into(), json!(r.last_attempt_at));
        m.insert("next_attempt_at".into(), json!(r.next_attempt_ms.and_then(ms_to_rfc3339)));
        m.insert("delivered_at".into(), json!(r.delivered_at));
        if r.position == CALLBACK_POSITION {
            callback = Value::Object(m);
        } else {
            destinations.push(Value::Object(m));
        }
    }
    json!({"callback": callback, "destinations": destinations}).to_string()
}

/// Rewrite the task's `export_delivery` from its delivery rows.
fn refresh_summary(conn: &Connection, task_id: &str) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {SUMMARY_COLS} FROM export_deliveries WHERE task_id = ?1"))?;
    let rows = stmt.query_map([task_id], |r| {
        Ok(SummaryRow {
            position: r.get(0)?,
            kind: DeliveryKind::from_row(r.get(1)?)?,
            target: r.get(2)?,
            event: r.get(3)?,
            status: r.get(4)?,
            attempts: r.get(5)?,
            last_error: r.get(6)?,
            response_status: r.get(7)?,
            remote_path: r.get(8)?,
            last_attempt_at: r.get(9)?,
            next_attempt_ms: r.get(10)?,
            delivered_at: r.get(11)?,
            id: r.get(12)?,
        })
    })?;
    let summary = summary_json(rows.collect::<Result<Vec<_>, _>>()?);
    conn.execute("UPDATE tasks SET export_delivery = ?2 WHERE id = ?1", params![task_id, summary])?;
    Ok(())
}

impl Store {
    /// After a restart: this node's attempts that were running (and unmarked ones; never
    /// another node's) did not finish; make them due now (the delivery id is the same, so a
    /// receiver that saw the first one can tell). Returns how many.
    pub async fn recover_deliveries(&self, now_ms: i64) -> Result<usize, StoreError> {
        let node = self.node();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| recover(c, now_ms, node.as_deref())).await,
            Backend::Postgres(db) => db.call(move |c| pg::recover(c, now_ms, node)).await,
        }
    }

    /// Take up to `limit` due deliveries (oldest due first) and mark them `delivering` by this
    /// node.
    pub async fn claim_due_deliveries(&self, now_ms: i64, limit: usize) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let node = self.node();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| claim_due(c, now_ms, limit, node.as_deref())).await,
            Backend::Postgres(db) => db.call(move |c| pg::claim_due(c, now_ms, limit, node)).await,
        }
    }

    /// Record an attempt of delivery `id`: `Ok` delivered, `Err(why)` failed, and then due
    /// again at `retry_at(attempts made)` (unix ms) or, when that is `None`, failed for good.
    /// Returns the delivery's task, `None` for an unknown delivery.
    pub async fn record_delivery(
        &self,
        id: &str,
        outcome: Result<Delivered, String>,
        now_ms: i64,
        retry_at: impl FnOnce(i64) -> Option<i64> + Send + 'static,
    ) -> Result<Option<String>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| record(c, &id, &outcome, now_ms, retry_at)).await,
            Backend::Postgres(db) => db.call(move |c| pg::record(c, id, outcome, now_ms, retry_at)).await,
        }
    }

    /// When the next pending delivery is due (unix ms).
    pub async fn next_delivery_due_ms(&self) -> Result<Option<i64>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(next_due_ms).await,
            Backend::Postgres(db) => db.call(pg::next_due_ms).await,
        }
    }
}

impl Blocking<'_> {
    /// Create a task's deliveries (again is a no-op) and refresh its summary (the task hook).
    pub fn enqueue_deliveries(&self, task_id: &str, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| enqueue(c, task_id, deliveries, now_ms)),
            Backend::Postgres(db) => {
                let (task_id, deliveries) = (task_id.to_owned(), deliveries.to_vec());
                db.block(move |c| pg::enqueue(c, task_id, deliveries, now_ms))
            }
        }
    }

    /// Tasks that ended at or after `since` (RFC 3339) with exports but no delivery rows: the
    /// process stopped between writing the end and running the hook.
    pub fn missed_export_tasks(&self, since: &str) -> Result<Vec<String>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| missed_tasks(c, since)),
            Backend::Postgres(db) => {
                let since = since.to_owned();
                db.block(move |c| pg::missed_tasks(c, since))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_kinds_round_trip_and_unknown_names_are_errors() {
        for k in [DeliveryKind::Webhook, DeliveryKind::Email, DeliveryKind::Ftp, DeliveryKind::Sftp] {
            assert_eq!(DeliveryKind::parse(k.as_str()), Some(k));
            assert_eq!(DeliveryKind::from_row(k.to_string()).ok(), Some(k));
        }
        assert_eq!(DeliveryKind::parse("fax"), None);
        let err = DeliveryKind::from_row("fax".into()).expect_err("unknown kind");
        assert!(err.to_string().contains("unknown export delivery kind \"fax\""), "{err}");
    }
}
