//! The store seam on both backends: every behaviour below runs once on a SQLite file and once
//! on a fresh database of the test Postgres server (`samvideo_test_support::postgres`), with
//! the features' own rule functions, and must give the same answers. What only a store with
//! several nodes on it has to get right is in `store_nodes`.

use std::time::Duration;

use samvideo_http::billing::BillingPlan;
use samvideo_http::config::Rate;
use samvideo_http::credits::subscription_first;
use samvideo_http::exports::next_attempt_ms;
use samvideo_http::limits::{admit, sliding_window};
use samvideo_http::packs::videos_for;
use samvideo_http::store::{
    Checkout, Created, Delivered, DeliveryKind, ExtraVideos, IdempotencyKey, LeaseState, LeaseTerms, MonthlyGrant,
    NewAiJob, NewDelivery, NewPart, NewTask, PackCredit, PackPurchase, QuotaDecision, RateWindow, Rescue, Reservation,
    Store, StoreLocation, TaskKind, TaskRow, TaskStatus, TaskUpdate, TemplateWrite, CALLBACK_POSITION,
};
use samvideo_test_support::postgres::fresh_database;
use serde_json::Value;
use tempfile::TempDir;

/// A store on the named backend, and the temp dir a SQLite file lives in.
pub(crate) fn open(backend: &str) -> (Store, Option<TempDir>) {
    match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().expect("tmp");
            let store = Store::connect(&StoreLocation::Sqlite(dir.path().join("samvideo.db"))).expect("sqlite");
            (store, Some(dir))
        }
        _ => (Store::connect(&StoreLocation::Postgres(fresh_database())).expect("postgres"), None),
    }
}

/// One test per backend for each behaviour: `NAME::on_sqlite`, `NAME::on_postgres`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let (store, _dir) = super::open("sqlite");
                assert_eq!(store.backend_name(), "sqlite");
                super::$name(&store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let (store, _dir) = super::open("postgres");
                assert_eq!(store.backend_name(), "postgres");
                super::$name(&store).await;
            }
        }
    )*};
}

on_both!(
    keys,
    tasks,
    task_kinds,
    split_parts,
    leases,
    quotas,
    idempotency,
    templates,
    credits,
    ai_jobs,
    packs,
    deliveries,
    host_keys,
    rates
);

/// Claim the next task under a 30 s lease, taking whatever is found (the tests of the claim
/// rule itself are in `leases`).
pub(crate) async fn claim(store: &Store) -> Option<TaskRow> {
    let terms = LeaseTerms { now_ms: chrono_now_ms(), lease_ms: 30_000 };
    store.claim_next_task(terms, |_| Rescue::Claim).await.expect("claim").task
}

fn chrono_now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis())
        .expect("ms")
}

pub(crate) fn new_task(key_id: i64, n: usize) -> NewTask {
    NewTask {
        id: format!("task-{n}"),
        celery_task_id: format!("celery-{n}"),
        api_key_id: key_id,
        endpoint: "simple-video".into(),
        request_json: "{}".into(),
        exports_json: None,
        request_id: None,
        aspect_ratio: "16:9".into(),
    }
}

pub(crate) const MONTH_START: &str = "2000-01-01T00:00:00+00:00";

pub(crate) async fn keys(store: &Store) {
    let b = store.blocking();
    let made = b.create_key("prod", BillingPlan::Pro).expect("create");
    assert_eq!(made.key.len(), 48);
    assert_eq!(made.row.plan, BillingPlan::Pro);
    assert!(made.row.active);
    let other = b.create_key("other", BillingPlan::Free).expect("create");
    assert!(other.row.id > made.row.id);
    let seen = store.authenticate(&made.key).await.expect("auth").expect("known key");
    assert_eq!((seen.id, seen.usage_count), (made.row.id, 1));
    assert!(seen.last_used.is_some());
    assert_eq!(store.authenticate(&made.key).await.expect("auth").expect("known").usage_count, 2);
    assert_eq!(store.authenticate("nope").await.expect("auth"), None);
    let names: Vec<String> = b.list_keys().expect("list").into_iter().map(|k| k.name).collect();
    assert_eq!(names, ["prod", "other"]);
    assert!(b.revoke_key(made.row.id).expect("revoke"));
    assert!(!b.revoke_key(made.row.id).expect("revoke again"), "already revoked");
    let revoked = store.authenticate(&made.key).await.expect("auth").expect("still known");
    assert!(!revoked.active);
    assert_eq!(revoked.usage_count, 2, "a revoked key's use is not counted");
}

async fn tasks(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
    for n in 0..3 {
        let d = store.create_task(new_task(key.id, n), MONTH_START, |_| QuotaDecision::Admit).await.expect("create");
        assert_eq!(d, QuotaDecision::Admit);
    }
    let t = store.task("task-0").await.expect("get").expect("stored");
    assert_eq!((t.status, t.attempts, t.api_key_id), (TaskStatus::Pending, 0, key.id));
    assert_eq!(store.task_any("celery-1").await.expect("any").expect("by worker id").id, "task-1");
    let first = claim(store).await.expect("one pending");
    assert_eq!((first.id.as_str(), first.status, first.attempts), ("task-0", TaskStatus::Processing, 1));
    store.blocking().set_task_progress("task-0", 1, 1.7).expect("progress");
    assert_eq!(store.task("task-0").await.expect("get").expect("row").progress, 1.0, "clamped");
    let done = TaskUpdate {
        status: TaskStatus::Completed,
        error: None,
        duration: 2.5,
        size_bytes: 1234,
        output_file: Some("task-0.mp4".into()),
        thumbnail_file: Some("task-0.jpg".into()),
        subtitles_file: Some("task-0.vtt".into()),
        render_seconds: Some(0.5),
    };
    let (ended, row) = store.end_task("task-0", done.clone()).await.expect("end");
    let row = row.expect("row");
    assert!(ended);
    assert_eq!(
        (row.status, row.size_bytes, row.output_file.as_deref(), row.subtitles_file.as_deref()),
        (TaskStatus::Completed, 1234, Some("task-0.mp4"), Some("task-0.vtt"))
    );
    assert!(row.completed_at.is_some());
    let (again, _) = store.end_task("task-0", TaskUpdate::ended(TaskStatus::Failed, "late")).await.expect("end");
    assert!(!again, "a terminal task never changes");
    let cancelled = store.end_task("task-1", TaskUpdate::ended(TaskStatus::Cancelled, "Cancelled by user")).await;
    assert!(cancelled.expect("cancel").0, "a pending task may be cancelled");
    store.blocking().set_export_delivery("task-0", r#"{"callback":null}"#).expect("delivery");
    assert_eq!(
        store.task("task-0").await.expect("get").expect("row").export_delivery.as_deref(),
        Some(r#"{"callback":null}"#)
    );

    let listed: Vec<String> =
        store.list_tasks(key.id, None, 10).await.expect("list").into_iter().map(|t| t.id).collect();
    assert_eq!(listed, ["task-2", "task-1", "task-0"], "newest first");
    let pending = store.list_tasks(key.id, Some(TaskStatus::Pending), 10).await.expect("list");
    assert_eq!(pending.len(), 1);
    assert_eq!(store.list_tasks(key.id, None, 1).await.expect("list").len(), 1);
    let counts = store.task_counts().await.expect("counts");
    assert_eq!(
        (counts.get(TaskStatus::Completed), counts.get(TaskStatus::Cancelled), counts.get(TaskStatus::Pending)),
        (1, 1, 1)
    );

    // Crash recovery: a processing task goes back while it has attempts, then fails.
    assert_eq!(claim(store).await.expect("task-2").id, "task-2");
    let (requeued, failed) = store.blocking().recover_tasks(2).expect("recover");
    assert_eq!((requeued, failed), (vec!["task-2".to_string()], vec![]));
    assert_eq!(claim(store).await.expect("again").attempts, 2);
    let (requeued, failed) = store.blocking().recover_tasks(2).expect("recover");
    assert_eq!((requeued, failed), (vec![], vec!["task-2".to_string()]));
    let t = store.task("task-2").await.expect("get").expect("row");
    assert_eq!(t.status, TaskStatus::Failed);
    assert_eq!(t.error.as_deref(), Some("Render interrupted: the server stopped while rendering this task 2 time(s)"));
    assert!(claim(store).await.is_none());
}

/// The lease rules: a live lease keeps a task from other workers, a dead one lets the next
/// claim take it with a larger token; the old token's heartbeat, progress and result are
/// refused; a cancel is what the old worker's heartbeat finds; attempts are bounded by the
/// jobs' rule, with its reason kept.
async fn leases(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
    for n in 0..2 {
        store.create_task(new_task(key.id, n), MONTH_START, |_| QuotaDecision::Admit).await.expect("create");
    }
    let at = |now_ms| LeaseTerms { now_ms, lease_ms: 1_000 };
    let rule = |attempts| samvideo_http::jobs::lease::rescue(attempts, 2);
    let first = store.claim_next_task(at(10_000), rule).await.expect("claim").task.expect("task-0");
    assert_eq!((first.id.as_str(), first.attempts), ("task-0", 1));
    let second = store.claim_next_task(at(10_500), rule).await.expect("claim").task.expect("task-1");
    assert_eq!(second.id, "task-1", "task-0's lease (until 11 000) still holds");
    assert_eq!(store.blocking().renew_lease("task-0", 1, at(10_900)).expect("renew"), LeaseState::Held);
    assert!(store.claim_next_task(at(11_500), rule).await.expect("claim").task.is_none(), "renewed to 11 900");

    // Frozen past its lease: the next claim takes task-0 over with token 2.
    let rescued = store.claim_next_task(at(12_000), rule).await.expect("claim").task.expect("rescued");
    assert_eq!((rescued.id.as_str(), rescued.attempts, rescued.status), ("task-0", 2, TaskStatus::Processing));
    let lost = store.blocking().renew_lease("task-0", 1, at(12_100)).expect("renew");
    assert_eq!(lost, LeaseState::Lost { status: TaskStatus::Processing, attempts: 2 }, "the old token is refused");
    store.blocking().set_task_progress("task-0", 1, 0.9).expect("late progress is ignored");
    store.blocking().set_task_progress("task-0", 2, 0.4).expect("progress");
    assert_eq!(store.task("task-0").await.expect("get").expect("row").progress, 0.4);
    let mut done = TaskUpdate::ended(TaskStatus::Completed, "");
    done.error = None;
    done.output_file = Some("task-0.mp4".into());
    let (kept, _) = store.end_task_as("task-0", 1, done.clone()).await.expect("late commit");
    assert!(!kept, "the late worker's result is refused");
    done.output_file = Some("task-0-2.mp4".into());
    let (kept, row) = store.end_task_as("task-0", 2, done).await.expect("commit");
    let row = row.expect("row");
    assert!(kept);
    assert_eq!((row.status, row.output_file.as_deref()), (TaskStatus::Completed, Some("task-0-2.mp4")));

    // A cancel on any node is what the worker's next heartbeat finds.
    store.end_task("task-1", TaskUpdate::ended(TaskStatus::Cancelled, "Cancelled by user")).await.expect("cancel");
    let found = store.blocking().renew_lease("task-1", 1, at(13_000)).expect("renew");
    assert_eq!(found, LeaseState::Lost { status: TaskStatus::Cancelled, attempts: 1 });

    // Attempts are bounded: a task whose second lease also ran out fails with the reason.
    store.create_task(new_task(key.id, 2), MONTH_START, |_| QuotaDecision::Admit).await.expect("create");
    assert_eq!(store.claim_next_task(at(20_000), rule).await.expect("claim").task.expect("t2").attempts, 1);
    assert_eq!(store.claim_next_task(at(22_000), rule).await.expect("claim").task.expect("t2").attempts, 2);
    let claim = store.claim_next_task(at(24_000), rule).await.expect("claim");
    assert!(claim.task.is_none());
    let failed: Vec<_> = claim.failed.iter().map(|t| (t.id.as_str(), t.status)).collect();
    assert_eq!(failed, [("task-2", TaskStatus::Failed)]);
    let reason = claim.failed[0].error.clone().unwrap_or_default();
    assert!(reason.contains("lease expired") && reason.contains("2 time(s)"), "{reason}");
}

/// A preview or an AI render queued for the workers is claimed before an older video, and is
/// no video of its key: not listed, not counted in the quota or the usage.
async fn task_kinds(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
    let create = |n: usize| store.create_task(new_task(key.id, n), MONTH_START, |u| admit(Some(1), u));
    assert_eq!(create(0).await.expect("video"), QuotaDecision::Admit);
    store.queue_task(new_task(key.id, 1), TaskKind::Preview).await.expect("preview");
    store.queue_task(new_task(key.id, 2), TaskKind::Ai).await.expect("ai");
    assert_eq!(create(3).await.expect("video"), QuotaDecision::Refuse, "1 a month: previews do not count");
    let listed: Vec<String> =
        store.list_tasks(key.id, None, 10).await.expect("list").into_iter().map(|t| t.id).collect();
    assert_eq!(listed, ["task-0"]);
    let usage = store.key_usage(key.id, MONTH_START, MONTH_START).await.expect("usage");
    assert_eq!((usage.month_used, usage.counts.total()), (1, 1));
    let claimed = [claim(store).await, claim(store).await, claim(store).await];
    let order: Vec<_> = claimed.iter().flatten().map(|t| (t.id.as_str(), t.kind)).collect();
    assert_eq!(order, [("task-1", TaskKind::Preview), ("task-2", TaskKind::Ai), ("task-0", TaskKind::Video)]);
}

/// The part tasks of a split video (`--split-renders`): queued once per part however often a
/// coordinator asks, claimed (parts first, or parts only) only while their video is
/// `processing`, fenced like any task, renewed only while the video is `processing` (a cancel
/// of the video is how their workers learn to stop), never listed or counted.
async fn split_parts(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
    let create = |n: usize| store.create_task(new_task(key.id, n), MONTH_START, |u| admit(Some(5), u));
    assert_eq!(create(0).await.expect("video"), QuotaDecision::Admit);
    assert_eq!(create(1).await.expect("video"), QuotaDecision::Admit);
    let parts = || {
        vec![
            NewPart { part: "segment:0".into(), frames: 300 },
            NewPart { part: "segment:1".into(), frames: 150 },
            NewPart { part: "audio".into(), frames: 225 },
        ]
    };
    let terms = || LeaseTerms { now_ms: chrono_now_ms(), lease_ms: 30_000 };
    // Parts of a pending video are not claimable.
    store.add_parts("task-1", parts()).await.expect("parts of a pending video");
    assert!(store.claim_next_part(terms(), |_| Rescue::Claim).await.expect("claim").task.is_none());

    let video = claim(store).await.expect("the oldest video");
    assert_eq!(video.id, "task-0");
    store.add_parts("task-0", parts()).await.expect("parts");
    store.add_parts("task-0", parts()).await.expect("again: nothing added");
    let rows = store.parts_of("task-0").await.expect("parts of");
    let names: Vec<_> = rows.iter().map(|r| (r.part.as_str(), r.frames, r.status)).collect();
    assert_eq!(
        names,
        [
            ("segment:0", 300, TaskStatus::Pending),
            ("segment:1", 150, TaskStatus::Pending),
            ("audio", 225, TaskStatus::Pending)
        ]
    );
    let listed: Vec<String> =
        store.list_tasks(key.id, None, 10).await.expect("list").into_iter().map(|t| t.id).collect();
    assert_eq!(listed.len(), 2, "parts are not listed: {listed:?}");
    let usage = store.key_usage(key.id, MONTH_START, MONTH_START).await.expect("usage");
    assert_eq!(usage.month_used, 2, "parts are not counted");

    // Parts come before videos; a part is fenced by its own attempt.
    let p0 = claim(store).await.expect("a part before the pending video");
    assert_eq!((p0.kind, p0.request_id.as_deref(), p0.attempts), (TaskKind::Part, Some("segment:0"), 1));
    let mut done = TaskUpdate::ended(TaskStatus::Completed, "");
    done.error = None;
    done.output_file = Some(format!("{}-1.svpart", p0.id));
    assert!(store.end_task_as(&p0.id, 1, done.clone()).await.expect("end").0);
    assert!(!store.end_task_as(&p0.id, 1, done).await.expect("again").0, "ended once");
    let p1 = store.claim_next_part(terms(), |_| Rescue::Claim).await.expect("claim").task.expect("segment 1");
    assert_eq!(p1.request_id.as_deref(), Some("segment:1"));
    assert_eq!(store.blocking().renew_lease(&p1.id, 1, terms()).expect("renew"), LeaseState::Held);
    store.blocking().set_task_progress(&p1.id, 1, 0.5).expect("progress");
    let rows = store.parts_of("task-0").await.expect("parts of");
    assert_eq!(rows[0].status, TaskStatus::Completed);
    assert_eq!(rows[0].output_file.as_deref(), Some(format!("{}-1.svpart", p0.id).as_str()));
    assert_eq!((rows[1].status, rows[1].progress), (TaskStatus::Processing, 0.5));

    // The video is cancelled: its parts' renewals are refused and nothing of it is claimed.
    let (cancelled, _) =
        store.end_task("task-0", TaskUpdate::ended(TaskStatus::Cancelled, "Cancelled by user")).await.expect("cancel");
    assert!(cancelled);
    assert!(matches!(store.blocking().renew_lease(&p1.id, 1, terms()).expect("renew"), LeaseState::Lost { .. }));
    let mut late = TaskUpdate::ended(TaskStatus::Completed, "");
    late.error = None;
    assert!(
        !store.end_task_as(&p1.id, 1, late).await.expect("late end").0,
        "a part's end after its video's cancel is refused"
    );
    assert!(store.claim_next_part(terms(), |_| Rescue::Claim).await.expect("claim").task.is_none(), "audio left");
    let next = claim(store).await.expect("the other video");
    assert_eq!(next.id, "task-1");
    let p = store.claim_next_part(terms(), |_| Rescue::Claim).await.expect("claim").task.expect("its part");
    assert_eq!(p.request_id.as_deref(), Some("segment:0"));
}

async fn quotas(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
    let create = |n: usize| store.create_task(new_task(key.id, n), MONTH_START, |u| admit(Some(2), u));
    assert_eq!(create(0).await.expect("0"), QuotaDecision::Admit);
    assert_eq!(create(1).await.expect("1"), QuotaDecision::Admit);
    assert_eq!(create(2).await.expect("2"), QuotaDecision::Refuse, "monthly limit reached");
    assert!(store.task("task-2").await.expect("get").is_none(), "a refused task is not stored");
    let buy = PackPurchase { api_key_id: key.id, pack_id: "p".into(), event_id: "evt".into(), session_id: "cs".into() };
    let credited = store.credit_pack(buy, |_| Ok(1)).await.expect("credit");
    assert_eq!(credited, PackCredit::Applied { videos: 1 });
    assert_eq!(create(3).await.expect("3"), QuotaDecision::SpendExtraVideo);
    assert_eq!(create(4).await.expect("4"), QuotaDecision::Refuse, "the extra video is spent");
    let usage = store.key_usage(key.id, MONTH_START, MONTH_START).await.expect("usage");
    assert_eq!(usage.month_used, 3);
    assert_eq!(usage.counts.get(TaskStatus::Pending), 3);
    assert_eq!(usage.extra_videos, ExtraVideos { purchased: 1, used: 1, remaining: 0 });
    assert_eq!(usage.key.expect("key").id, key.id);
    let later = store.key_usage(key.id, "2999-01-01T00:00:00+00:00", "2999-01-01T00:00:00+00:00").await;
    assert_eq!(later.expect("usage").month_used, 0, "the window is compared as time");
}

async fn idempotency(store: &Store) {
    let b = store.blocking();
    let (key, other) =
        (b.create_key("k", BillingPlan::Free).expect("k").row, b.create_key("o", BillingPlan::Free).expect("o").row);
    let once = |k: &str, since: &str| Some(IdempotencyKey { key: k.into(), since: since.into() });
    let quota_of_one = |u| admit(Some(1), u);
    let first = store.create_task_once(new_task(key.id, 0), MONTH_START, once("retry-1", MONTH_START), quota_of_one);
    assert_eq!(first.await.expect("create"), Created::New(QuotaDecision::Admit));
    let again = store.create_task_once(new_task(key.id, 1), MONTH_START, once("retry-1", MONTH_START), quota_of_one);
    match again.await.expect("create") {
        Created::Replayed(t) => assert_eq!(t.id, "task-0", "the first create's task, not refused by the spent quota"),
        other => panic!("replayed: {other:?}"),
    }
    assert!(store.task("task-1").await.expect("get").is_none(), "a replay stores nothing");
    let fresh = store.create_task_once(new_task(key.id, 2), MONTH_START, once("retry-2", MONTH_START), quota_of_one);
    assert_eq!(fresh.await.expect("create"), Created::New(QuotaDecision::Refuse), "another key is another create");
    let theirs = store.create_task_once(new_task(other.id, 3), MONTH_START, once("retry-1", MONTH_START), quota_of_one);
    assert_eq!(theirs.await.expect("create"), Created::New(QuotaDecision::Admit), "keys are per account");
    // Past its window a key is forgotten, then names the task of its next use.
    let later = "2999-01-01T00:00:00+00:00";
    let expired =
        store.create_task_once(new_task(key.id, 4), MONTH_START, once("retry-1", later), |_| QuotaDecision::Admit);
    assert_eq!(expired.await.expect("create"), Created::New(QuotaDecision::Admit));
    let replay = store.create_task_once(new_task(key.id, 5), MONTH_START, once("retry-1", MONTH_START), quota_of_one);
    match replay.await.expect("create") {
        Created::Replayed(t) => assert_eq!(t.id, "task-4"),
        other => panic!("replayed: {other:?}"),
    }
}

pub(crate) async fn templates(store: &Store) {
    let b = store.blocking();
    let (owner, other) =
        (b.create_key("a", BillingPlan::Free).expect("a").row, b.create_key("b", BillingPlan::Free).expect("b").row);
    let write = |name: &str, public: bool, category: Option<&str>| TemplateWrite {
        name: name.into(),
        description: Some("d".into()),
        category: category.map(Into::into),
        is_public: public,
        settings_json: r#"{"a":1}"#.into(),
    };
    let t1 =
        store.create_template("t1", owner.id, write("one", false, Some("ads"))).await.expect("create").expect("row");
    assert_eq!((t1.name.as_str(), t1.is_public, t1.owner_key_id), ("one", false, owner.id));
    store.create_template("t2", owner.id, write("two", true, None)).await.expect("create");
    store.create_template("t3", other.id, write("three", true, Some("ads"))).await.expect("create");
    store.create_template("t4", other.id, write("four", false, None)).await.expect("create");
    let ids = |rows: Vec<samvideo_http::store::TemplateRow>| rows.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_templates(owner.id, false, None).await.expect("list")), ["t2", "t1"], "newest first");
    assert_eq!(ids(store.list_templates(owner.id, true, None).await.expect("list")), ["t3", "t2", "t1"]);
    assert_eq!(ids(store.list_templates(owner.id, true, Some("ads".into())).await.expect("list")), ["t3", "t1"]);
    let updated = store.update_template("t1", write("uno", true, None)).await.expect("update").expect("row");
    assert_eq!((updated.name.as_str(), updated.is_public, updated.category), ("uno", true, None));
    store.delete_template("t1").await.expect("delete");
    assert!(store.template("t1").await.expect("get").is_none());
    assert_eq!(store.template("t4").await.expect("get").expect("row").owner_key_id, other.id);
}

pub(crate) fn grant(key_id: i64, allowance: i64) -> MonthlyGrant {
    MonthlyGrant { api_key_id: key_id, period: "2026-12".into(), allowance, reason: "pro plan monthly credits".into() }
}

pub(crate) async fn credits(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Pro).expect("key").row;
    let b = store.credit_balance(grant(key.id, 100)).await.expect("balance");
    assert_eq!((b.subscription, b.topup), (100, 0));
    let b = store.credit_balance(grant(key.id, 100)).await.expect("balance");
    assert_eq!(b.subscription, 100, "granted once per period");
    let b = store.credit_balance(grant(key.id, 150)).await.expect("balance");
    assert_eq!(b.subscription, 150, "an upgrade grants the difference");
    let blocking = store.blocking();
    assert_eq!(blocking.grant_topup(key.id, 30, "invoice").expect("grant"), Ok(30));
    assert_eq!(blocking.grant_topup(key.id, -40, "too much").expect("grant"), Err(30), "never below zero");
    assert_eq!(blocking.grant_topup(key.id, -10, "correction").expect("grant"), Ok(20));
    let sums = blocking.credit_sums(key.id, "2026-12").expect("sums");
    assert_eq!((sums.subscription, sums.topup), (150, 20));
    assert_eq!(blocking.credit_sums(key.id, "2027-01").expect("sums").subscription, 0, "per period");
    let ledger = blocking.credit_ledger(key.id, 10).expect("ledger");
    let kinds: Vec<(&str, i64)> = ledger.iter().map(|r| (r.kind.as_str(), r.amount)).collect();
    assert_eq!(kinds, [("grant", -10), ("grant", 30), ("monthly", 50), ("monthly", 100)], "newest first");
    assert_eq!(ledger[0].reason.as_deref(), Some("correction"));
    assert_eq!(ledger[3].period.as_deref(), Some("2026-12"));
    assert_eq!(blocking.credit_ledger(key.id, 1).expect("ledger").len(), 1);
}

pub(crate) async fn ai_jobs(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Pro).expect("key").row;
    store.blocking().grant_topup(key.id, 50, "topup").expect("grant").expect("ok");
    let job = |credits: i64| NewAiJob {
        api_key_id: key.id,
        model_id: "samvideo-motion".into(),
        provider: "builtin".into(),
        request_json: r#"{"prompt":"x"}"#.into(),
        credits,
    };
    let r = store.create_ai_job(job(80), grant(key.id, 40), |b| subscription_first(b, 80)).await.expect("create");
    let Reservation::Reserved { job: first, remaining } = r else { panic!("reserved: {r:?}") };
    assert_eq!((first.charged_subscription, first.charged_topup, remaining), (40, 40, 10));
    assert_eq!(first.status, "running");
    let r = store.create_ai_job(job(20), grant(key.id, 40), |b| subscription_first(b, 20)).await.expect("create");
    assert_eq!(r, Reservation::Short { remaining: 10 }, "short: nothing stored");
    let second = match store.create_ai_job(job(5), grant(key.id, 40), |b| subscription_first(b, 5)).await {
        Ok(Reservation::Reserved { job, .. }) => job,
        other => panic!("reserved: {other:?}"),
    };
    let running: Vec<i64> = store.blocking().running_ai_jobs().expect("running").into_iter().map(|j| j.id).collect();
    assert_eq!(running, [first.id, second.id]);
    store.blocking().set_ai_external_id(first.id, "ext-1").expect("external");
    assert!(store.fail_ai_job(first.id, "provider_error", "boom", "2026-12").await.expect("fail"));
    assert!(!store.blocking().fail_ai_job(first.id, "again", "twice", "2026-12").expect("fail"), "refunded once");
    let failed = store.ai_job(first.id).await.expect("get").expect("row");
    assert_eq!((failed.status.as_str(), failed.external_id.as_deref()), ("failed", Some("ext-1")));
    assert_eq!(failed.error_message.as_deref(), Some("boom"));
    let sums = store.blocking().credit_sums(key.id, "2026-12").expect("sums");
    // Subscription +40 -40 +40 (refund); top-up +50 -40 -5 (the second job) +40 (refund).
    assert_eq!((sums.subscription, sums.topup), (40, 45), "the failed job's 80 credits are back");
    let result: Value = serde_json::json!({"files": ["a.mp4"]});
    assert!(store.succeed_ai_job(second.id, &result).await.expect("succeed"));
    assert!(!store.succeed_ai_job(second.id, &result).await.expect("succeed"), "already ended");
    assert_eq!(store.ai_job(second.id).await.expect("get").expect("row").result, Some(result));
    assert!(store.blocking().running_ai_jobs().expect("running").is_empty());
    assert!(store.ai_job(9999).await.expect("get").is_none());
}

pub(crate) async fn packs(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
    let checkout = Checkout {
        session_id: "cs_1".into(),
        api_key_id: key.id,
        pack_id: "pack10".into(),
        videos: 10,
        amount_cents: 900,
        currency: "eur".into(),
    };
    store.record_checkout(checkout.clone()).await.expect("record");
    store.record_checkout(Checkout { videos: 12, ..checkout.clone() }).await.expect("record again replaces");
    let buy = |event: &str, session: &str, key_id: i64| PackPurchase {
        api_key_id: key_id,
        pack_id: "pack10".into(),
        event_id: event.into(),
        session_id: session.into(),
    };
    let rule = move |c: Option<Checkout>| videos_for(key.id, "pack10", c, None);
    assert_eq!(
        store.credit_pack(buy("evt_1", "cs_1", key.id), rule).await.expect("credit"),
        PackCredit::Applied { videos: 12 }
    );
    assert_eq!(
        store.credit_pack(buy("evt_1", "cs_1", key.id), rule).await.expect("credit"),
        PackCredit::AlreadyApplied
    );
    assert_eq!(
        store.credit_pack(buy("evt_2", "cs_1", key.id), rule).await.expect("credit"),
        PackCredit::AlreadyApplied
    );
    assert_eq!(store.credit_pack(buy("evt_3", "cs_9", 9999), rule).await.expect("credit"), PackCredit::UnknownAccount);
    let refused = store.credit_pack(buy("evt_4", "cs_unknown", key.id), rule).await.expect("credit");
    assert!(matches!(refused, PackCredit::Refused(_)), "{refused:?}");
    let usage = store.key_usage(key.id, MONTH_START, MONTH_START).await.expect("usage");
    assert_eq!(usage.extra_videos, ExtraVideos { purchased: 12, used: 0, remaining: 12 });
}

pub(crate) async fn deliveries(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
    let mut task = new_task(key.id, 0);
    task.exports_json = Some(r#"{"callback_url":"http://127.0.0.1:9/hook"}"#.into());
    store.create_task(task, MONTH_START, |_| QuotaDecision::Admit).await.expect("create");
    store.end_task("task-0", TaskUpdate::ended(TaskStatus::Failed, "x")).await.expect("end");
    let b = store.blocking();
    assert_eq!(b.missed_export_tasks(MONTH_START).expect("missed"), ["task-0"], "ended with exports, not queued");
    let hook = NewDelivery {
        id: "d-hook".into(),
        position: CALLBACK_POSITION,
        kind: DeliveryKind::Webhook,
        target: "http://127.0.0.1:9".into(),
        event: "video.failed".into(),
        payload: "{}".into(),
        skip: None,
    };
    let ftp = NewDelivery {
        id: "d-ftp".into(),
        position: 1,
        kind: DeliveryKind::Ftp,
        target: "127.0.0.1:21".into(),
        event: "video.failed".into(),
        payload: String::new(),
        skip: Some("no video to upload".into()),
    };
    let now = 1_800_000_000_000;
    b.enqueue_deliveries("task-0", &[hook.clone(), ftp.clone()], now).expect("enqueue");
    b.enqueue_deliveries("task-0", &[hook, ftp], now + 5).expect("again is a no-op");
    assert!(b.missed_export_tasks(MONTH_START).expect("missed").is_empty());
    assert_eq!(store.next_delivery_due_ms().await.expect("due"), Some(now));
    assert!(store.claim_due_deliveries(now - 1, 10).await.expect("claim").is_empty(), "not due yet");
    let claimed = store.claim_due_deliveries(now, 10).await.expect("claim");
    assert_eq!(claimed.len(), 1, "the skipped upload is never claimed");
    let c = &claimed[0];
    assert_eq!((c.id.as_str(), c.kind, c.attempts, c.task_id.as_str()), ("d-hook", DeliveryKind::Webhook, 0, "task-0"));
    assert_eq!(c.exports_json.as_deref(), Some(r#"{"callback_url":"http://127.0.0.1:9/hook"}"#));
    assert!(store.claim_due_deliveries(now, 10).await.expect("claim").is_empty(), "claimed once");
    assert_eq!(store.next_delivery_due_ms().await.expect("due"), None);
    let schedule = [Duration::from_secs(10)];
    let task = store
        .record_delivery("d-hook", Err("refused".into()), now, move |n| next_attempt_ms(&schedule, n, false, now))
        .await
        .expect("record");
    assert_eq!(task.as_deref(), Some("task-0"));
    assert_eq!(store.next_delivery_due_ms().await.expect("due"), Some(now + 10_000), "retried per the schedule");
    let summary: Value =
        serde_json::from_str(&store.task("task-0").await.expect("get").expect("row").export_delivery.expect("summary"))
            .expect("json");
    assert_eq!(summary["callback"]["status"], "pending");
    assert_eq!(summary["callback"]["attempts"], 1);
    assert_eq!(summary["callback"]["last_error"], "refused");
    assert_eq!(summary["callback"]["delivery_id"], "d-hook");
    assert_eq!(summary["destinations"][0]["status"], "skipped");
    assert_eq!(summary["destinations"][0]["type"], "ftp");

    // A restart while an attempt runs makes it due again now.
    let later = now + 10_000;
    assert_eq!(store.claim_due_deliveries(later, 10).await.expect("claim").len(), 1);
    assert_eq!(store.recover_deliveries(later + 1).await.expect("recover"), 1);
    assert_eq!(store.claim_due_deliveries(later + 1, 10).await.expect("claim")[0].attempts, 1);
    let ok = Ok(Delivered { response_status: Some(204), remote_path: None });
    store.record_delivery("d-hook", ok, later + 2, |_| None).await.expect("record");
    let summary: Value =
        serde_json::from_str(&store.task("task-0").await.expect("get").expect("row").export_delivery.expect("summary"))
            .expect("json");
    assert_eq!(summary["callback"]["status"], "delivered");
    assert_eq!(summary["callback"]["response_status"], 204);
    assert_eq!(summary["callback"]["attempts"], 2);
    assert_eq!(store.record_delivery("nope", Err("x".into()), later, |_| None).await.expect("record"), None);
}

pub(crate) async fn host_keys(store: &Store) {
    assert_eq!(store.pin_host_key("h", 22, "ssh-ed25519 AAAA1").await.expect("pin"), "ssh-ed25519 AAAA1");
    assert_eq!(store.pin_host_key("h", 22, "ssh-ed25519 BBBB2").await.expect("pin"), "ssh-ed25519 AAAA1", "first wins");
    assert_eq!(store.pin_host_key("h", 2222, "ssh-ed25519 BBBB2").await.expect("pin"), "ssh-ed25519 BBBB2", "per port");
}

pub(crate) async fn rates(store: &Store) {
    let rate = Rate { requests: 2, window: Duration::from_secs(60) };
    let hit = |limiter: &'static str, who: &'static str, now: i64| {
        store.rate_hit(limiter, who, now, 60_000, move |w| sliding_window(rate, now, w))
    };
    let t0 = 1_800_000_000_000;
    assert_eq!(hit("core", "1", t0).await.expect("hit"), Ok(()));
    assert_eq!(hit("core", "1", t0 + 1_000).await.expect("hit"), Ok(()));
    assert_eq!(hit("core", "1", t0 + 10_000).await.expect("hit"), Err(50), "third in the window: wait for the first");
    assert_eq!(hit("core", "2", t0 + 10_000).await.expect("hit"), Ok(()), "callers are counted apart");
    assert_eq!(hit("advanced", "1", t0 + 10_000).await.expect("hit"), Ok(()), "limiters are counted apart");
    assert_eq!(hit("core", "1", t0 + 60_000).await.expect("hit"), Ok(()), "the first left the window");
    assert_eq!(hit("core", "1", t0 + 60_500).await.expect("hit"), Err(1), "still two in the window");
    let seen = store.rate_hit("core", "1", t0 + 61_000, 60_000, Err::<(), _>).await.expect("hit");
    assert_eq!(
        seen,
        Err(RateWindow { hits: 1, oldest_ms: Some(t0 + 60_000) }),
        "old hits are gone, refused ones never counted"
    );
}

on_both!(retention, ai_retention, give_back);

/// Retention's hold and mark: only completed tasks that ended before the cutoff and still have
/// their objects are held, each by one sweep until its hold runs out; a marked task keeps its
/// state and files and is never held again.
async fn retention(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
    for n in 0..4 {
        store.create_task(new_task(key.id, n), MONTH_START, |_| QuotaDecision::Admit).await.expect("create");
    }
    for n in 0..3 {
        let t = claim(store).await.expect("pending");
        let mut done = TaskUpdate::ended(TaskStatus::Completed, "");
        done.error = None;
        done.output_file = Some(format!("{}.mp4", t.id));
        if n == 2 {
            done = TaskUpdate::ended(TaskStatus::Failed, "no output");
        }
        assert!(store.end_task_as(&t.id, t.attempts, done).await.expect("end").0);
    }
    let later = "9999-01-01T00:00:00+00:00";
    let earlier = "2000-01-01T00:00:00+00:00";
    let at = |now_ms| LeaseTerms { now_ms, lease_ms: 1_000 };
    assert!(store.claim_expired_outputs(earlier, at(10_000), 10).await.expect("claim").is_empty(), "none so old");

    // Two sweeps at once: each task goes to one of them.
    let first = store.claim_expired_outputs(later, at(10_000), 1).await.expect("claim");
    let second = store.claim_expired_outputs(later, at(10_000), 10).await.expect("claim");
    let ids = |rows: &[TaskRow]| rows.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
    assert_eq!((ids(&first), ids(&second)), (vec!["task-0".to_string()], vec!["task-1".to_string()]));
    assert!(store.claim_expired_outputs(later, at(10_500), 10).await.expect("claim").is_empty(), "both held");

    assert!(store.mark_output_expired("task-0", "2030-01-01T00:00:00+00:00").await.expect("mark"));
    assert!(!store.mark_output_expired("task-0", "2030-01-02T00:00:00+00:00").await.expect("mark"), "once");
    let t = store.task("task-0").await.expect("get").expect("row");
    assert_eq!(
        (t.status, t.output_file.as_deref(), t.output_expired_at.as_deref()),
        (TaskStatus::Completed, Some("task-0.mp4"), Some("2030-01-01T00:00:00+00:00")),
        "the state and the names stay; the row says when its objects went"
    );

    // task-1's sweep died: once its hold runs out another sweep takes it over; task-0 is done.
    let again = store.claim_expired_outputs(later, at(11_500), 10).await.expect("claim");
    assert_eq!(ids(&again), ["task-1"]);
    assert!(store.mark_output_expired("task-1", "2030-01-01T00:00:00+00:00").await.expect("mark"));
    assert!(store.claim_expired_outputs(later, at(99_000), 10).await.expect("claim").is_empty());
    let pending = store.task("task-3").await.expect("get").expect("row");
    assert_eq!((pending.status, pending.output_expired_at), (TaskStatus::Pending, None));
}

/// Retention's hold and mark of AI jobs, the rule of tasks: only successful jobs whose result
/// is files kept here, that ended before the cutoff and were not swept, each held by one sweep
/// until its hold runs out; a marked job keeps its state and result. A job whose result is a
/// provider's URLs, a failed one and a running one are never held.
async fn ai_retention(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Pro).expect("key").row;
    store.blocking().grant_topup(key.id, 100, "topup").expect("grant").expect("ok");
    let mut ids = Vec::new();
    for _ in 0..5 {
        let job = NewAiJob {
            api_key_id: key.id,
            model_id: "samvideo-motion".into(),
            provider: "builtin".into(),
            request_json: "{}".into(),
            credits: 1,
        };
        match store.create_ai_job(job, grant(key.id, 0), |b| subscription_first(b, 1)).await.expect("create") {
            Reservation::Reserved { job, .. } => ids.push(job.id),
            short => panic!("reserved: {short:?}"),
        }
    }
    let files = |n: i64| serde_json::json!({"files": [format!("ai-{n}.mp4"), format!("ai-{n}-1.mp4")]});
    assert!(store.succeed_ai_job(ids[0], &files(ids[0])).await.expect("succeed"));
    assert!(store.succeed_ai_job(ids[1], &files(ids[1])).await.expect("succeed"));
    let urls = serde_json::json!({"urls": ["https://provider.example/v.mp4"]});
    assert!(store.succeed_ai_job(ids[2], &urls).await.expect("succeed"));
    assert!(store.fail_ai_job(ids[3], "x", "failed", "2026-12").await.expect("fail"));
    let later = "9999-01-01T00:00:00+00:00";
    let at = |now_ms| LeaseTerms { now_ms, lease_ms: 1_000 };
    let held = |rows: Vec<samvideo_http::store::AiJobRow>| rows.iter().map(|j| j.id).collect::<Vec<_>>();
    let none = store.claim_expired_ai_outputs("2000-01-01T00:00:00+00:00", at(10_000), 10).await.expect("claim");
    assert!(none.is_empty(), "none so old");

    // Two sweeps at once: each job goes to one of them.
    let first = store.claim_expired_ai_outputs(later, at(10_000), 1).await.expect("claim");
    let second = store.claim_expired_ai_outputs(later, at(10_000), 10).await.expect("claim");
    assert_eq!((held(first), held(second)), (vec![ids[0]], vec![ids[1]]), "only jobs with files");
    assert!(store.claim_expired_ai_outputs(later, at(10_500), 10).await.expect("claim").is_empty(), "both held");

    assert!(store.mark_ai_output_expired(ids[0], "2030-01-01T00:00:00+00:00").await.expect("mark"));
    assert!(!store.mark_ai_output_expired(ids[0], "2030-01-02T00:00:00+00:00").await.expect("mark"), "once");
    let job = store.ai_job(ids[0]).await.expect("get").expect("row");
    assert_eq!(
        (job.status.as_str(), job.result, job.output_expired_at.as_deref()),
        ("success", Some(files(ids[0])), Some("2030-01-01T00:00:00+00:00")),
        "the state and the result stay; the row says when its files went"
    );

    // The second sweep died: once its hold runs out another sweep takes the job over.
    let again = store.claim_expired_ai_outputs(later, at(11_500), 10).await.expect("claim");
    assert_eq!(held(again), [ids[1]]);
    assert!(store.mark_ai_output_expired(ids[1], "2030-01-01T00:00:00+00:00").await.expect("mark"));
    assert!(store.claim_expired_ai_outputs(later, at(99_000), 10).await.expect("claim").is_empty());
    for id in &ids[2..] {
        assert_eq!(store.ai_job(*id).await.expect("get").expect("row").output_expired_at, None);
    }
}

/// A worker that cannot keep its result gives the task back: pending again with the reason and
/// its attempts kept, taken by the next claim with the next token; a stale token gives nothing
/// back.
async fn give_back(store: &Store) {
    let key = store.blocking().create_key("k", BillingPlan::Free).expect("key").row;
    store.create_task(new_task(key.id, 0), MONTH_START, |_| QuotaDecision::Admit).await.expect("create");
    let t = claim(store).await.expect("pending");
    assert!(!store.give_back_task("task-0", 7, "not mine").await.expect("give back"), "a stale token");
    assert!(store.give_back_task("task-0", t.attempts, "cannot store the output: down").await.expect("give back"));
    let row = store.task("task-0").await.expect("get").expect("row");
    assert_eq!(
        (row.status, row.attempts, row.error.as_deref()),
        (TaskStatus::Pending, 1, Some("cannot store the output: down"))
    );
    assert!(!store.give_back_task("task-0", 1, "twice").await.expect("give back"), "no longer processing");
    let again = claim(store).await.expect("queued again");
    assert_eq!((again.id.as_str(), again.attempts), ("task-0", 2));
    store.end_task("task-0", TaskUpdate::ended(TaskStatus::Cancelled, "Cancelled by user")).await.expect("cancel");
    assert!(!store.give_back_task("task-0", 2, "late").await.expect("give back"), "a cancel stays");
}
