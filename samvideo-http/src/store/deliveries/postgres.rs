//! `export_deliveries` on Postgres: the statements of `store::deliveries`. Due deliveries are
//! claimed with `FOR UPDATE SKIP LOCKED` (nodes never run one attempt twice at once), and
//! every rewrite of a task's delivery summary first locks the task's row, so the last writer
//! has read every delivery change committed before it: the summary never goes stale.

use tokio_postgres::{GenericClient, Row};

use super::types::{
    now_text, summary_json, ClaimedDelivery, Delivered, DeliveryKind, NewDelivery, SummaryRow, SUMMARY_COLS,
};
use crate::store::postgres::Conn;
use crate::store::StoreError;

fn kind(stored: String) -> Result<DeliveryKind, StoreError> {
    DeliveryKind::parse(&stored).ok_or_else(|| StoreError::Corrupt {
        table: "export_deliveries",
        reason: format!("unknown export delivery kind {stored:?}"),
    })
}

/// Rewrite the task's `export_delivery` from its delivery rows, under the task's row lock.
async fn refresh_summary(c: &impl GenericClient, task_id: &str) -> Result<(), StoreError> {
    c.query_opt("SELECT id FROM tasks WHERE id = $1 FOR UPDATE", &[&task_id]).await?;
    let rows =
        c.query(&format!("SELECT {SUMMARY_COLS} FROM export_deliveries WHERE task_id = $1"), &[&task_id]).await?;
    let rows = rows
        .iter()
        .map(|r| {
            Ok(SummaryRow {
                position: r.try_get(0)?,
                kind: kind(r.try_get(1)?)?,
                target: r.try_get(2)?,
                event: r.try_get(3)?,
                status: r.try_get(4)?,
                attempts: r.try_get(5)?,
                last_error: r.try_get(6)?,
                response_status: r.try_get(7)?,
                remote_path: r.try_get(8)?,
                last_attempt_at: r.try_get(9)?,
                next_attempt_ms: r.try_get(10)?,
                delivered_at: r.try_get(11)?,
                id: r.try_get(12)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    c.execute("UPDATE tasks SET export_delivery = $2 WHERE id = $1", &[&task_id, &summary_json(rows)]).await?;
    Ok(())
}

pub(in crate::store) async fn enqueue(
    mut c: Conn,
    task_id: String,
    deliveries: Vec<NewDelivery>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    for d in &deliveries {
        let (status, next, error) = match &d.skip {
            None => ("pending", Some(now_ms), None),
            Some(reason) => ("skipped", None, Some(reason.as_str())),
        };
        tx.execute(
            "INSERT INTO export_deliveries \
                (id, task_id, position, kind, target, event, payload, status, next_attempt_ms, last_error, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
            &[
                &d.id,
                &task_id,
                &d.position,
                &d.kind.as_str(),
                &d.target,
                &d.event,
                &d.payload,
                &status,
                &next,
                &error,
                &now_text(now_ms),
            ],
        )
        .await?;
    }
    refresh_summary(&tx, &task_id).await?;
    tx.commit().await?;
    Ok(())
}

fn claimed(r: &Row) -> Result<ClaimedDelivery, StoreError> {
    Ok(ClaimedDelivery {
        id: r.try_get(0)?,
        task_id: r.try_get(1)?,
        position: r.try_get(2)?,
        kind: kind(r.try_get(3)?)?,
        event: r.try_get(4)?,
        payload: r.try_get(5)?,
        attempts: r.try_get(6)?,
        exports_json: r.try_get(7)?,
        output_file: r.try_get(8)?,
    })
}

pub(in crate::store) async fn claim_due(
    mut c: Conn,
    now_ms: i64,
    limit: usize,
    node: Option<String>,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    let rows = tx
        .query(
            "SELECT d.id, d.task_id, d.position, d.kind, d.event, d.payload, d.attempts, t.exports_json, t.output_file \
             FROM export_deliveries d JOIN tasks t ON t.id = d.task_id \
             WHERE d.status = 'pending' AND d.next_attempt_ms <= $1 \
             ORDER BY d.next_attempt_ms, d.seq LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
            &[&now_ms, &limit],
        )
        .await?;
    let claimed = rows.iter().map(claimed).collect::<Result<Vec<_>, _>>()?;
    let mut tasks: Vec<&str> = Vec::new();
    for d in &claimed {
        tx.execute(
            "UPDATE export_deliveries SET status = 'delivering', next_attempt_ms = NULL, last_attempt_at = $2, \
             node_id = $3 WHERE id = $1",
            &[&d.id, &now_text(now_ms), &node],
        )
        .await?;
        if !tasks.contains(&d.task_id.as_str()) {
            tasks.push(&d.task_id);
        }
    }
    for t in tasks {
        refresh_summary(&tx, t).await?;
    }
    tx.commit().await?;
    Ok(claimed)
}

pub(in crate::store) async fn record(
    mut c: Conn,
    id: String,
    outcome: Result<Delivered, String>,
    now_ms: i64,
    retry_at: impl FnOnce(i64) -> Option<i64>,
) -> Result<Option<String>, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    let row = tx.query_opt("SELECT task_id, attempts FROM export_deliveries WHERE id = $1 FOR UPDATE", &[&id]).await?;
    let Some(row) = row else { return Ok(None) };
    let task_id: String = row.try_get(0)?;
    let attempts: i64 = row.try_get::<_, i64>(1)? + 1;
    match &outcome {
        Ok(d) => {
            tx.execute(
                "UPDATE export_deliveries SET status = 'delivered', attempts = $2, last_error = NULL, \
                    response_status = $3, remote_path = $4, delivered_at = $5, next_attempt_ms = NULL \
                 WHERE id = $1",
                &[&id, &attempts, &d.response_status.map(i64::from), &d.remote_path, &now_text(now_ms)],
            )
            .await?;
        }
        Err(error) => {
            let next = retry_at(attempts);
            let status = if next.is_some() { "pending" } else { "failed" };
            tx.execute(
                "UPDATE export_deliveries SET status = $2, attempts = $3, last_error = $4, response_status = NULL, \
                    next_attempt_ms = $5 \
                 WHERE id = $1",
                &[&id, &status, &attempts, &error, &next],
            )
            .await?;
        }
    }
    refresh_summary(&tx, &task_id).await?;
    tx.commit().await?;
    Ok(Some(task_id))
}

pub(in crate::store) async fn recover(mut c: Conn, now_ms: i64, node: Option<String>) -> Result<usize, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    let rows = tx
        .query(
            "UPDATE export_deliveries SET status = 'pending', next_attempt_ms = $1, node_id = NULL \
             WHERE status = 'delivering' AND (node_id IS NULL OR node_id = $2) RETURNING task_id",
            &[&now_ms, &node],
        )
        .await?;
    let mut tasks: Vec<String> = Vec::new();
    for r in &rows {
        let t: String = r.try_get(0)?;
        if !tasks.contains(&t) {
            tasks.push(t);
        }
    }
    for t in &tasks {
        refresh_summary(&tx, t).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

pub(in crate::store) async fn missed_tasks(c: Conn, since: String) -> Result<Vec<String>, StoreError> {
    let rows = c
        .query(
            "SELECT t.id FROM tasks t \
             WHERE t.status IN ('completed', 'failed', 'timeout', 'cancelled') \
               AND t.exports_json IS NOT NULL AND t.export_delivery IS NULL AND t.completed_at >= $1 \
               AND NOT EXISTS (SELECT 1 FROM export_deliveries d WHERE d.task_id = t.id) \
             ORDER BY t.seq",
            &[&since],
        )
        .await?;
    Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<Vec<String>, _>>()?)
}

pub(in crate::store) async fn next_due_ms(c: Conn) -> Result<Option<i64>, StoreError> {
    let r = c.query_one("SELECT MIN(next_attempt_ms) FROM export_deliveries WHERE status = 'pending'", &[]).await?;
    Ok(r.try_get(0)?)
}
