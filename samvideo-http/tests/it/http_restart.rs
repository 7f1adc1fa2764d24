//! Durability: tasks survive a restart; a task left `processing` by a dead process is
//! re-queued or failed with a reason, never left processing; kill -9 of the real binary in the
//! middle of a render.

use crate::support::{black_hole, image_video, make_key, relaxed, spawn_server, TestServer, CORE};
use samvideo_http::billing::BillingPlan;
use samvideo_http::store::{NewTask, QuotaDecision, Store, TaskStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_tasks_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(dir.path())).await;
    let key = t.key("k", BillingPlan::Pro);
    let (id, before) = t.render(&key, &image_video("http://127.0.0.1:9/a.png", 1.0), 60).await;
    t.server.stop().await;

    let t = TestServer::start(relaxed(dir.path())).await;
    let (code, after) = t.get(&key, &format!("{CORE}/progress/{id}")).await;
    assert_eq!(code, 200, "the key and the task are still there");
    let mut after = after["data"].clone();
    // output_url is built from the request's host, which changed with the port.
    after["output_url"] = before["output_url"].clone();
    assert_eq!(after, before);
    let (_, list) = t.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(list["data"]["count"], 1);
    t.server.stop().await;
}

/// Store a valid task and mark it processing, as a process that died mid-render leaves it.
async fn leave_processing(store: &Store, key_id: i64) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let body = image_video("http://127.0.0.1:9/a.png", 1.0).to_string();
    let task = NewTask {
        id: id.clone(),
        celery_task_id: uuid::Uuid::new_v4().to_string(),
        api_key_id: key_id,
        endpoint: "simple-video".into(),
        request_json: body,
        exports_json: None,
        request_id: None,
        aspect_ratio: "16:9".into(),
    };
    let stored = store.create_task(task, "", |_| QuotaDecision::Admit).await.expect("store");
    assert_eq!(stored, QuotaDecision::Admit);
    let claimed = crate::store::claim(store).await.expect("claims it");
    assert_eq!((claimed.id.as_str(), claimed.status), (id.as_str(), TaskStatus::Processing));
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_left_processing_is_requeued_then_failed_with_a_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let key = make_key(dir.path(), "k", BillingPlan::Pro);
    let store = Store::open(&dir.path().join("samvideo.db")).expect("store");
    let key_id = store.blocking().list_keys().expect("keys")[0].id;
    std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp");
    std::fs::write(dir.path().join("tmp").join("stale.mp4.part"), b"partial").expect("write");

    // First restart: one attempt used of two, so it runs again (and ends however the render ends).
    let requeued = leave_processing(&store, key_id).await;
    let t = TestServer::start(relaxed(dir.path())).await;
    let d = t.wait_terminal(&key, &requeued, 60).await;
    assert!(!d["error"].as_str().unwrap_or("").contains("interrupted"), "it was rendered again: {d}");
    let (_, s) = t.get(&key, &format!("/api/async/status/{requeued}")).await;
    assert_eq!(s["data"]["attempts"], 2);
    assert!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp").next().is_none(), "temp files cleaned on start");
    t.server.stop().await;

    // With one attempt allowed, the next start fails it with a reason instead.
    let failed = leave_processing(&store, key_id).await;
    let mut config = relaxed(dir.path());
    config.max_attempts = 1;
    let t = TestServer::start(config).await;
    let (code, body) = t.get(&key, &format!("{CORE}/progress/{failed}")).await;
    assert_eq!(code, 200);
    assert_eq!(body["data"]["status"], "failed", "{body}");
    assert!(body["data"]["error"].as_str().is_some_and(|e| e.contains("interrupted")), "{body}");
    assert!(body["data"]["completed_at"].is_string());
    t.server.stop().await;
}

/// The real binary, listening on a free port; returns the child and a client for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_render_then_restart() {
    let (stall, _hole) = black_hole().await;
    let dir = tempfile::tempdir().expect("tmp");
    let key = make_key(dir.path(), "k", BillingPlan::Pro);

    let (mut child, api, _) = spawn_server(dir.path(), &[]);
    let id = api.submit(&key, &image_video(&stall, 1.0)).await;
    let progress = format!("{CORE}/progress/{id}");
    api.poll(&key, &progress, 20, "started", |p| p["data"]["status"] == "processing").await;
    // SIGKILL: no shutdown code runs.
    child.kill().expect("kill -9");
    let _ = child.wait();

    let (mut child, api, _) = spawn_server(dir.path(), &[("SAMVIDEO_MAX_ATTEMPTS", "1")]);
    let (code, p) = api.get(&key, &progress).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["data"]["status"], "failed", "{p}");
    assert!(p["data"]["error"].as_str().is_some_and(|e| e.contains("interrupted")), "{p}");
}
