//! Leases on render tasks: the columns of `tasks` that say which worker holds a task and until
//! when (`lease_until_ms`), and the fencing token that makes a late worker harmless (the task's
//! `attempts`: every claim adds one, nothing ever lowers it, so the newest claim always holds
//! the largest number).
//!
//! A claim takes the oldest task that is `pending`, or `processing` under a lease that ran out
//! (its worker died, froze or lost the store), and gives it a lease; a heartbeat renews it
//! while its token is still the task's ([`Blocking::renew_lease`]); a worker's progress and its
//! terminal write name the token ([`Store::end_task_as`]) and change nothing once another
//! claim has taken the task or a cancel has ended it. Whether a found task is taken or failed
//! (its attempts used up) is the jobs' rule ([`crate::jobs::lease::rescue`]), called between
//! the read and the write of the claim's transaction on both backends.
//!
//! Enter: a worker's claim, heartbeats, progress and results. Leave: [`Claim`] (the task taken
//! and the tasks failed on the way), [`LeaseState`], whether a result was kept.

use rusqlite::{params, Connection, OptionalExtension};

use super::postgres::leases as pg;
use super::tasks::{get, TaskUpdate};
use super::{now_rfc3339, Backend, Blocking, Store, StoreError, TaskRow, TaskStatus};

/// What a claim does with the task it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rescue {
    /// Take it: one more attempt, a new lease.
    Claim,
    /// Its attempts are used up: it ends `failed` with this reason.
    Fail(String),
}

/// The clock and lease length of a claim or a renewal (unix milliseconds of the worker's
/// clock: nodes' clocks should agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTerms {
    /// Now.
    pub now_ms: i64,
    /// How long the lease lasts from now.
    pub lease_ms: i64,
}

impl LeaseTerms {
    fn until(self) -> i64 {
        self.now_ms.saturating_add(self.lease_ms)
    }
}

/// What a claim did.
#[derive(Debug, Default)]
pub struct Claim {
    /// The task taken (`processing`, its `attempts` is the fencing token), if any was due.
    pub task: Option<TaskRow>,
    /// Tasks found under a dead lease with no attempts left, now `failed` (their hooks are due).
    pub failed: Vec<TaskRow>,
}

/// What a heartbeat found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// The lease is renewed: the task is still this worker's.
    Held,
    /// The task is no longer this worker's: cancelled, ended, or claimed again by another
    /// worker (a larger token).
    Lost {
        /// The task's state now.
        status: TaskStatus,
        /// The token that holds it now.
        attempts: i64,
    },
}

/// A found task: its `seq` and `attempts`.
pub(super) type Found = (i64, i64);

/// Run `f` in an IMMEDIATE transaction (the write lock first: other processes on the file wait
/// at the start instead of failing at the first write).
fn immediate<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(v) => {
            conn.execute_batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Take the oldest due task (pending, or processing under a lease that ran out), failing on the
/// way those `rule` says have no attempts left.
fn claim(
    conn: &Connection,
    node: Option<&str>,
    terms: LeaseTerms,
    rule: &dyn Fn(i64) -> Rescue,
) -> Result<Claim, StoreError> {
    immediate(conn, |c| {
        let mut out = Claim::default();
        loop {
            let found: Option<Found> = c
                .query_row(
                    "SELECT seq, attempts FROM tasks WHERE status = 'pending' \
                     OR (status = 'processing' AND lease_until_ms < ?1) ORDER BY seq LIMIT 1",
                    [terms.now_ms],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((seq, attempts)) = found else { return Ok(out) };
            let now = now_rfc3339();
            match rule(attempts) {
                Rescue::Claim => {
                    let id: String = c.query_row(
                        "UPDATE tasks SET status = 'processing', attempts = attempts + 1, progress = 0, \
                         started_at = ?2, updated_at = ?2, node_id = ?3, lease_until_ms = ?4 WHERE seq = ?1 RETURNING id",
                        params![seq, now, node, terms.until()],
                        |r| r.get(0),
                    )?;
                    out.task = get(c, &id)?;
                    return Ok(out);
                }
                Rescue::Fail(reason) => {
                    let id: String = c.query_row(
                        "UPDATE tasks SET status = 'failed', error = ?2, completed_at = ?3, updated_at = ?3, \
                         lease_until_ms = NULL WHERE seq = ?1 RETURNING id",
                        params![seq, reason, now],
                        |r| r.get(0),
                    )?;
                    out.failed.extend(get(c, &id)?);
                }
            }
        }
    })
}

/// Renew the lease of `id` while `token` holds it.
fn renew(conn: &Connection, id: &str, token: i64, terms: LeaseTerms) -> Result<LeaseState, StoreError> {
    let n = conn.execute(
        "UPDATE tasks SET lease_until_ms = ?3 WHERE id = ?1 AND status = 'processing' AND attempts = ?2",
        params![id, token, terms.until()],
    )?;
    if n == 1 {
        return Ok(LeaseState::Held);
    }
    let row = get(conn, id)?.ok_or_else(|| StoreError::Corrupt { table: "tasks", reason: format!("{id} is gone") })?;
    Ok(LeaseState::Lost { status: row.status, attempts: row.attempts })
}

/// Progress of a task while `token` holds it.
fn progress(conn: &Connection, id: &str, token: i64, value: f64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE tasks SET progress = ?3, updated_at = ?4 WHERE id = ?1 AND status = 'processing' AND attempts = ?2",
        params![id, token, value.clamp(0.0, 1.0), now_rfc3339()],
    )?;
    Ok(())
}

/// A worker's terminal write: applied only while `token` holds the task.
fn end_as(conn: &Connection, id: &str, token: i64, u: &TaskUpdate) -> Result<bool, StoreError> {
    let now = now_rfc3339();
    let progress = if u.status == TaskStatus::Completed { Some(1.0) } else { None };
    let n = conn.execute(
        "UPDATE tasks SET status = ?3, error = ?4, duration = ?5, size_bytes = ?6, output_file = ?7, \
         render_seconds = ?8, progress = COALESCE(?9, progress), completed_at = ?10, updated_at = ?10, \
         thumbnail_file = ?11, subtitles_file = ?12, lease_until_ms = NULL \
         WHERE id = ?1 AND status = 'processing' AND attempts = ?2",
        params![
            id,
            token,
            u.status.as_str(),
            u.error,
            u.duration,
            u.size_bytes,
            u.output_file,
            u.render_seconds,
            progress,
            now,
            u.thumbnail_file,
            u.subtitles_file
        ],
    )?;
    Ok(n == 1)
}

impl Store {
    /// Take the oldest due task for this node: `pending`, or `processing` under a lease that
    /// ran out. `rule` gets the attempts a found task has used and says whether to take it or
    /// fail it; failed ones are returned with the claim (their end is the caller's to report).
    pub async fn claim_next_task(
        &self,
        terms: LeaseTerms,
        rule: impl Fn(i64) -> Rescue + Send + Sync + 'static,
    ) -> Result<Claim, StoreError> {
        let node = self.node();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| claim(c, node.as_deref(), terms, &rule)).await,
            Backend::Postgres(db) => db.call(move |c| pg::claim(c, node, terms, rule)).await,
        }
    }

    /// A worker's terminal write, kept only while its `token` (the attempt it claimed) still
    /// holds the task: false (nothing changed) after a cancel, an end, or a newer claim.
    pub async fn end_task_as(
        &self,
        id: &str,
        token: i64,
        update: TaskUpdate,
    ) -> Result<(bool, Option<TaskRow>), StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| Ok((end_as(c, &id, token, &update)?, get(c, &id)?))).await,
            Backend::Postgres(db) => db.call(move |c| pg::end_as(c, id, token, update)).await,
        }
    }
}

impl Blocking<'_> {
    /// Renew the lease of `id` until `terms.now_ms + terms.lease_ms` while `token` holds it
    /// (heartbeat threads).
    pub fn renew_lease(&self, id: &str, token: i64, terms: LeaseTerms) -> Result<LeaseState, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| renew(c, id, token, terms)),
            Backend::Postgres(db) => {
                let id = id.to_owned();
                db.block(move |c| pg::renew(c, id, token, terms))
            }
        }
    }

    /// Record progress of a task while `token` holds it (render threads).
    pub fn set_task_progress(&self, id: &str, token: i64, value: f64) -> Result<(), StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| progress(c, id, token, value)),
            Backend::Postgres(db) => {
                let id = id.to_owned();
                db.block(move |c| pg::progress(c, id, token, value))
            }
        }
    }
}
