//! What `samvideo store migrate` carries: the tables in copy order ([`TABLES`]), a stored
//! value ([`Cell`]) and one table's rows ([`TableRows`]), as the SQLite side reads them and the
//! Postgres side loads them. Nothing here touches a database.

/// The tables, parents before the rows that refer to them.
pub(in crate::store) const TABLES: &[&str] = &[
    "api_keys",
    "tasks",
    "templates",
    "export_deliveries",
    "sftp_host_keys",
    "ai_jobs",
    "credit_ledger",
    "video_pack_ledger",
    "stripe_checkouts",
    "rate_hits",
    "idempotency_keys",
];

/// One stored value on its way between backends.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::store) enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// The rows of one table, in the target's column order.
pub(in crate::store) struct TableRows {
    pub(in crate::store) table: &'static str,
    pub(in crate::store) columns: Vec<String>,
    pub(in crate::store) rows: Vec<Vec<Cell>>,
}
