//! The store with more than one node on it (two `Store` handles on one database, as two API
//! nodes would hold): shared quota, queue and rate limits, migrations at once, per-node
//! recovery; and `samvideo store migrate` from a SQLite store into Postgres.

use samvideo_http::billing::BillingPlan;
use samvideo_http::config::Rate;
use samvideo_http::credits::subscription_first;
use samvideo_http::limits::{admit, sliding_window};
use samvideo_http::store::{
    Created, DeliveryKind, IdempotencyKey, NewAiJob, NewDelivery, QuotaDecision, Reservation, Store, StoreLocation,
    TaskStatus, CALLBACK_POSITION,
};
use samvideo_test_support::postgres::fresh_database;

use crate::store::{
    ai_jobs, credits, deliveries, grant, host_keys, keys, new_task, open, packs, rates, templates, MONTH_START,
};

/// Two nodes on one database: concurrent creates of one free key admit exactly the quota, and
/// concurrent claims never hand one task to two workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_nodes_share_quota_and_queue() {
    let url = fresh_database();
    let a = Store::connect(&StoreLocation::Postgres(url.clone())).expect("node a");
    let b = Store::connect(&StoreLocation::Postgres(url)).expect("node b");
    let key = a.blocking().create_key("k", BillingPlan::Free).expect("key");
    assert_eq!(b.authenticate(&key.key).await.expect("auth").expect("made on a, known on b").id, key.row.id);
    warm(&a, &b, &key.key).await;
    let creates: Vec<_> = (0..20)
        .map(|n| {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            let id = key.row.id;
            tokio::spawn(async move { store.create_task(new_task(id, n), MONTH_START, |u| admit(Some(5), u)).await })
        })
        .collect();
    let mut admitted = 0;
    for c in creates {
        if c.await.expect("join").expect("create") != QuotaDecision::Refuse {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 5, "exactly the quota across both nodes");
    let claims = (0..10).map(|n| {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { crate::store::claim(&store).await })
    });
    let mut ids = Vec::new();
    for c in claims {
        if let Some(t) = c.await.expect("join") {
            ids.push(t.id);
        }
    }
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!((before, ids.len()), (5, 5), "each task claimed once");
}

/// Two nodes on one database: 20 concurrent requests of one caller, half on each node, with
/// 5 allowed a minute: exactly 5 get through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_nodes_count_one_rate_limit() {
    let url = fresh_database();
    let a = Store::connect(&StoreLocation::Postgres(url.clone())).expect("node a");
    let b = Store::connect(&StoreLocation::Postgres(url)).expect("node b");
    let key = a.blocking().create_key("k", BillingPlan::Pro).expect("key");
    warm(&a, &b, &key.key).await;
    let rate = Rate::per_minute(5);
    let now = 1_800_000_000_000;
    let hits: Vec<_> = (0..20)
        .map(|n| {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                store.rate_hit("core", "7", now, 60_000, move |w| sliding_window(rate, now, w)).await
            })
        })
        .collect();
    let mut through = 0;
    for h in hits {
        if h.await.expect("join").expect("hit").is_ok() {
            through += 1;
        }
    }
    assert_eq!(through, 5, "5 a minute across both nodes");
}

/// Open a pool's worth of connections on both nodes, so that what a test runs next races for
/// real instead of queueing behind connection set-up.
async fn warm(a: &Store, b: &Store, key: &str) {
    let warm: Vec<_> = (0..32)
        .map(|n| {
            let (store, k) = (if n % 2 == 0 { a.clone() } else { b.clone() }, key.to_owned());
            tokio::spawn(async move { store.authenticate(&k).await })
        })
        .collect();
    for w in warm {
        w.await.expect("join").expect("auth");
    }
}

/// Nodes starting at once on an empty database: the advisory lock lets one migrate, the others
/// find the schema done.
#[test]
fn postgres_nodes_starting_at_once_migrate_once() {
    let url = fresh_database();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || Store::connect(&StoreLocation::Postgres(url)).map(|_| ()))
        })
        .collect();
    for s in starts {
        s.join().expect("thread").expect("every node starts");
    }
    let err = Store::connect(&StoreLocation::Postgres("postgres://nobody@127.0.0.1:1/none".into()))
        .err()
        .expect("no server on port 1");
    let text = err.to_string();
    assert!(text.starts_with("cannot open the store postgres://nobody@127.0.0.1:1/none (--store): "), "{text}");
}

/// `samvideo store migrate`: a SQLite store with rows in every table, copied by the CLI into
/// an empty Postgres database, reads back the same through the seam; keys keep working, new
/// rows get new ids, and a second copy into the now full target is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_copies_a_sqlite_store_into_postgres() {
    let (sqlite, dir) = open("sqlite");
    let dir = dir.expect("sqlite dir");
    keys(&sqlite).await;
    templates(&sqlite).await;
    credits(&sqlite).await;
    ai_jobs(&sqlite).await;
    packs(&sqlite).await;
    deliveries(&sqlite).await;
    host_keys(&sqlite).await;
    rates(&sqlite).await;
    let kept = sqlite.blocking().create_key("kept", BillingPlan::Basic).expect("key");
    let once = Some(IdempotencyKey { key: "order-9".into(), since: MONTH_START.into() });
    let created =
        sqlite.create_task_once(new_task(kept.row.id, 9), MONTH_START, once.clone(), |_| QuotaDecision::Admit);
    assert_eq!(created.await.expect("create"), Created::New(QuotaDecision::Admit));

    let url = fresh_database();
    let from = format!("sqlite:{}", dir.path().join("samvideo.db").display());
    let migrate = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_samvideo"))
            .args(["store", "migrate", "--from", &from, "--to", &url])
            .output()
            .expect("samvideo runs")
    };
    let out = migrate();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("credit_ledger") && report.contains("copied sqlite:"), "{report}");

    let pg = Store::connect(&StoreLocation::Postgres(url.clone())).expect("postgres");
    let keys = sqlite.blocking().list_keys().expect("keys");
    assert_eq!(pg.blocking().list_keys().expect("keys"), keys);
    for k in &keys {
        assert_eq!(
            pg.blocking().credit_ledger(k.id, 1000).expect("ledger"),
            sqlite.blocking().credit_ledger(k.id, 1000).expect("ledger")
        );
        assert_eq!(
            pg.list_tasks(k.id, None, 1000).await.expect("tasks"),
            sqlite.list_tasks(k.id, None, 1000).await.expect("tasks")
        );
        assert_eq!(
            pg.list_templates(k.id, true, None).await.expect("t"),
            sqlite.list_templates(k.id, true, None).await.expect("t")
        );
        assert_eq!(
            pg.key_usage(k.id, MONTH_START, MONTH_START).await.expect("u"),
            sqlite.key_usage(k.id, MONTH_START, MONTH_START).await.expect("u")
        );
    }
    assert!(!keys.is_empty());
    for job in 1..=3 {
        assert_eq!(pg.ai_job(job).await.expect("job"), sqlite.ai_job(job).await.expect("job"));
    }
    assert_eq!(
        pg.task("task-0").await.expect("task"),
        sqlite.task("task-0").await.expect("task"),
        "with its delivery summary"
    );
    assert_eq!(pg.pin_host_key("h", 22, "ssh-ed25519 OTHER").await.expect("pin"), "ssh-ed25519 AAAA1", "pins kept");
    assert_eq!(pg.authenticate(&kept.key).await.expect("auth").expect("the key works").id, kept.row.id);
    let replay = pg.create_task_once(new_task(kept.row.id, 10), MONTH_START, once, |_| QuotaDecision::Admit).await;
    assert!(matches!(replay.expect("create"), Created::Replayed(t) if t.id == "task-9"), "idempotency keys kept");
    let newer = pg.blocking().create_key("new", BillingPlan::Free).expect("a new key after the copy");
    assert!(newer.row.id > kept.row.id, "ids continue after the copied ones");

    let again = migrate();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("the target store is not empty"), "{:?}", again);
}

/// Two nodes on one store: a node that restarts recovers the tasks, AI jobs and delivery
/// attempts it took (and unmarked ones), never those the other, live node is running.
async fn recovery_is_per_node(a: &Store, b: &Store) {
    let key = a.blocking().create_key("k", BillingPlan::Pro).expect("key").row;
    for n in 0..2 {
        a.create_task(new_task(key.id, n), MONTH_START, |_| QuotaDecision::Admit).await.expect("create");
    }
    assert_eq!(crate::store::claim(a).await.expect("task").id, "task-0");
    assert_eq!(crate::store::claim(b).await.expect("task").id, "task-1");
    assert_eq!(b.blocking().recover_tasks(2).expect("recover"), (vec!["task-1".to_string()], vec![]));
    assert_eq!(b.task("task-0").await.expect("get").expect("row").status, TaskStatus::Processing, "a's task runs on");

    let job = NewAiJob {
        api_key_id: key.id,
        model_id: "samvideo-motion".into(),
        provider: "builtin".into(),
        request_json: "{}".into(),
        credits: 5,
    };
    let reserved = a.create_ai_job(job, grant(key.id, 100), |b| subscription_first(b, 5)).await.expect("create");
    let Reservation::Reserved { job, .. } = reserved else { panic!("reserved: {reserved:?}") };
    assert!(b.blocking().running_ai_jobs().expect("running").is_empty(), "b never fails a's job");
    assert_eq!(a.blocking().running_ai_jobs().expect("running")[0].id, job.id);

    let hook = NewDelivery {
        id: "d-1".into(),
        position: CALLBACK_POSITION,
        kind: DeliveryKind::Webhook,
        target: "http://127.0.0.1:9".into(),
        event: "video.completed".into(),
        payload: "{}".into(),
        skip: None,
    };
    a.blocking().enqueue_deliveries("task-0", &[hook], 1000).expect("enqueue");
    assert_eq!(a.claim_due_deliveries(1000, 10).await.expect("claim").len(), 1);
    assert_eq!(b.recover_deliveries(2000).await.expect("recover"), 0, "b never re-runs a's attempt");
    assert_eq!(a.recover_deliveries(2000).await.expect("recover"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_is_per_node_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    let at = StoreLocation::Sqlite(dir.path().join("samvideo.db"));
    let a = Store::connect(&at).expect("a").for_node("a");
    let b = Store::connect(&at).expect("b").for_node("b");
    recovery_is_per_node(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_is_per_node_on_postgres() {
    let at = StoreLocation::Postgres(fresh_database());
    let a = Store::connect(&at).expect("a").for_node("a");
    let b = Store::connect(&at).expect("b").for_node("b");
    recovery_is_per_node(&a, &b).await;
}
