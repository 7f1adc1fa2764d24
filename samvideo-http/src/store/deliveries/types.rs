//! Export deliveries as held: a [`DeliveryKind`], a [`NewDelivery`] to queue, a
//! [`ClaimedDelivery`] to attempt, what a [`Delivered`] attempt reports, and how a task's
//! delivery summary is built from its rows ([`SummaryRow`], [`summary_json`]) and times are
//! written, as both backends use them. Nothing here touches a database.

use serde_json::{json, Map, Value};

use crate::store::{now_rfc3339, rfc3339};

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

pub(in crate::store) fn ms_to_rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(rfc3339)
}

/// A unix-ms time as stored text (now when out of range).
pub(in crate::store) fn now_text(now_ms: i64) -> String {
    ms_to_rfc3339(now_ms).unwrap_or_else(now_rfc3339)
}

/// The columns a [`SummaryRow`] reads, in its order.
pub(in crate::store) const SUMMARY_COLS: &str =
    "position, kind, target, event, status, attempts, last_error, response_status, \
    remote_path, last_attempt_at, next_attempt_ms, delivered_at, id";

/// One delivery row as the task's summary shows it ([`SUMMARY_COLS`]).
pub(in crate::store) struct SummaryRow {
    pub(in crate::store) position: i64,
    pub(in crate::store) kind: DeliveryKind,
    pub(in crate::store) target: String,
    pub(in crate::store) event: String,
    pub(in crate::store) status: String,
    pub(in crate::store) attempts: i64,
    pub(in crate::store) last_error: Option<String>,
    pub(in crate::store) response_status: Option<i64>,
    pub(in crate::store) remote_path: Option<String>,
    pub(in crate::store) last_attempt_at: Option<String>,
    pub(in crate::store) next_attempt_ms: Option<i64>,
    pub(in crate::store) delivered_at: Option<String>,
    pub(in crate::store) id: String,
}

/// The task's `export_delivery` JSON from its delivery rows (any order).
pub(in crate::store) fn summary_json(rows: Vec<SummaryRow>) -> String {
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
