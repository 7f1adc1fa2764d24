//! A worker's hold on the task it renders: the rule a claim applies to a task it finds
//! ([`rescue`]: one more attempt, or failed with the reason once `--max-attempts` are used), the
//! rule for a result that could not be stored ([`unstored`]: back to the queue, or failed), and
//! the [`Heartbeat`] that renews the lease on a thread of its own while the render runs.
//!
//! The heartbeat is a plain OS thread, not a task on the async runtime or a slot among the
//! render's encoder threads: a render that keeps every core busy cannot starve it of its turn
//! (the OS schedules it like any thread; it sleeps between renewals). Each renewal names the
//! fencing token (the attempt the worker claimed); when the store answers that the task is no
//! longer this worker's (a cancel ended it, or another worker claimed it after the lease ran
//! out), the heartbeat calls `on_lost` once and stops: that is how a cancel made on any API node
//! reaches the worker rendering the task.
//!
//! Enter: [`Heartbeat::start`] after a claim. Leave: the `on_lost` call; dropping the heartbeat
//! stops it.

use std::sync::mpsc;
use std::time::Duration;

use crate::store::{LeaseState, LeaseTerms, Rescue, Store};

/// The claim rule: a found task that has used `attempts` of `max_attempts` is taken again, or
/// failed with the reason. Both backends call it inside the claim's transaction.
pub fn rescue(attempts: i64, max_attempts: u32) -> Rescue {
    if attempts < i64::from(max_attempts) {
        Rescue::Claim
    } else {
        Rescue::Fail(format!(
            "Render interrupted: its worker stopped (lease expired) while rendering this task {attempts} time(s)"
        ))
    }
}

/// What becomes of a task whose worker rendered it but could not store the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unstored {
    /// Back to the queue, this reason in its `error`, for a later claim to render it again.
    Queue(String),
    /// Its attempts are used: it ends `failed` with this reason.
    Fail(String),
}

/// What a worker could not put into the object store after its tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unkept {
    /// A finished render's output.
    Output,
    /// A split render's media, in its prepare step (`prepare.rs`).
    Media,
}

impl Unkept {
    fn what(self) -> &'static str {
        match self {
            Unkept::Output => "cannot store the output",
            Unkept::Media => "cannot keep the media",
        }
    }
}

/// The rule for a result (or a split render's media) that could not be stored after the
/// worker's tries: attempt `attempt` of `max_attempts` gives the task back while a claim is
/// left, else fails it; both keep the cause.
pub fn unstored(attempt: i64, max_attempts: u32, unkept: Unkept, cause: &impl std::fmt::Display) -> Unstored {
    let what = unkept.what();
    if attempt < i64::from(max_attempts) {
        Unstored::Queue(format!("{what} (attempt {attempt} of {max_attempts}, queued again): {cause}"))
    } else {
        Unstored::Fail(format!("{what} (attempt {attempt} of {max_attempts}): {cause}"))
    }
}

/// How often a lease of `lease` is renewed: three times per lease, at least every 5 s (so a
/// cancel reaches a worker within 5 s).
pub fn renew_every(lease: Duration) -> Duration {
    (lease / 3).clamp(Duration::from_millis(50), Duration::from_secs(5))
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The lease terms of a claim or renewal made now.
pub fn terms(lease: Duration) -> LeaseTerms {
    LeaseTerms { now_ms: now_ms(), lease_ms: i64::try_from(lease.as_millis()).unwrap_or(i64::MAX) }
}

/// Renews one task's lease on its own thread until dropped or the lease is lost.
pub struct Heartbeat {
    /// Dropped to stop the thread (its wait ends at once).
    _stop: mpsc::Sender<()>,
}

impl Heartbeat {
    /// Renew the lease of task `id`, held by `token`, every [`renew_every`]; call `on_lost` with
    /// what the store found when the task is no longer this worker's.
    pub fn start(
        store: Store,
        id: String,
        token: i64,
        lease: Duration,
        on_lost: impl FnOnce(LeaseState) + Send + 'static,
    ) -> Result<Heartbeat, std::io::Error> {
        let (stop, stopped) = mpsc::channel::<()>();
        let every = renew_every(lease);
        std::thread::Builder::new().name(format!("lease-{id}")).spawn(move || loop {
            match stopped.recv_timeout(every) {
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            match store.blocking().renew_lease(&id, token, terms(lease)) {
                Ok(LeaseState::Held) => {}
                Ok(lost) => {
                    tracing::warn!(task_id = %id, token, found = ?lost, "lease lost: the task is no longer this worker's");
                    on_lost(lost);
                    return;
                }
                // The lease runs out if this goes on; then the commit is refused.
                Err(e) => tracing::warn!(task_id = %id, error = %e, "cannot renew the lease"),
            }
        })?;
        Ok(Heartbeat { _stop: stop })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_bounded_and_the_reason_kept() {
        assert_eq!(rescue(0, 2), Rescue::Claim);
        assert_eq!(rescue(1, 2), Rescue::Claim);
        match rescue(2, 2) {
            Rescue::Fail(reason) => {
                assert!(reason.contains("lease expired") && reason.contains("2 time(s)"), "{reason}")
            }
            Rescue::Claim => panic!("a third attempt of two"),
        }
        assert_eq!(renew_every(Duration::from_secs(30)), Duration::from_secs(5));
        assert_eq!(
            unstored(1, 2, Unkept::Output, &"down"),
            Unstored::Queue("cannot store the output (attempt 1 of 2, queued again): down".into())
        );
        assert_eq!(
            unstored(2, 2, Unkept::Output, &"down"),
            Unstored::Fail("cannot store the output (attempt 2 of 2): down".into())
        );
        assert_eq!(
            unstored(1, 3, Unkept::Media, &"cannot keep the media http://a/b.png as media/ab: down"),
            Unstored::Queue(
                "cannot keep the media (attempt 1 of 3, queued again): cannot keep the media http://a/b.png as media/ab: down"
                    .into()
            )
        );
        assert_eq!(renew_every(Duration::from_secs(3)), Duration::from_secs(1));
    }
}
