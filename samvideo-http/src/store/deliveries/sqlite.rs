//! `export_deliveries` on SQLite: the statements of `store::deliveries`. Every change to a
//! task's deliveries rewrites its summary in the same transaction.

use rusqlite::{params, Connection, OptionalExtension};

use super::types::{
    now_text, summary_json, ClaimedDelivery, Delivered, DeliveryKind, NewDelivery, SummaryRow, SUMMARY_COLS,
};
use crate::store::StoreError;

/// Reads a stored kind; a name this build does not know is a store error, not a panic.
fn kind(s: String) -> rusqlite::Result<DeliveryKind> {
    DeliveryKind::parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown export delivery kind {s:?}").into(),
        )
    })
}

/// Create the task's deliveries (again is a no-op) and refresh its summary.
pub(in crate::store) fn enqueue(
    conn: &Connection,
    task_id: &str,
    deliveries: &[NewDelivery],
    now_ms: i64,
) -> Result<(), StoreError> {
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
pub(in crate::store) fn claim_due(
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
                kind: kind(r.get(3)?)?,
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
pub(in crate::store) fn record(
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
pub(in crate::store) fn recover(conn: &Connection, now_ms: i64, node: Option<&str>) -> Result<usize, StoreError> {
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
pub(in crate::store) fn missed_tasks(conn: &Connection, since: &str) -> Result<Vec<String>, StoreError> {
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
pub(in crate::store) fn next_due_ms(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row("SELECT MIN(next_attempt_ms) FROM export_deliveries WHERE status = 'pending'", [], |r| {
        r.get::<_, Option<i64>>(0)
    })?)
}

/// Rewrite the task's `export_delivery` from its delivery rows.
fn refresh_summary(conn: &Connection, task_id: &str) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {SUMMARY_COLS} FROM export_deliveries WHERE task_id = ?1"))?;
    let rows = stmt.query_map([task_id], |r| {
        Ok(SummaryRow {
            position: r.get(0)?,
            kind: kind(r.get(1)?)?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_kinds_round_trip_and_unknown_names_are_errors() {
        for k in [DeliveryKind::Webhook, DeliveryKind::Email, DeliveryKind::Ftp, DeliveryKind::Sftp] {
            assert_eq!(DeliveryKind::parse(k.as_str()), Some(k));
            assert_eq!(kind(k.to_string()).ok(), Some(k));
        }
        assert_eq!(DeliveryKind::parse("fax"), None);
        let err = kind("fax".into()).expect_err("unknown kind");
        assert!(err.to_string().contains("unknown export delivery kind \"fax\""), "{err}");
    }
}
