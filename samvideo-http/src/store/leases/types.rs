//! Leases as held: what a claim does with a found task ([`Rescue`]), its [`LeaseTerms`], the
//! [`Claim`] it returns and a [`LeaseState`]. Nothing here touches a database.

use crate::store::{TaskRow, TaskStatus};

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
    /// When the lease runs out: `now_ms + lease_ms`, in ms.
    pub(in crate::store) fn until(self) -> i64 {
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
pub(in crate::store) type Found = (i64, i64);
