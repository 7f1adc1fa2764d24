//! The documented API over real HTTP on loopback with a real SQLite file (and, for the tests
//! named `*_on_postgres`, a Postgres database): envelopes, response
//! shapes, exact error payloads, status codes, auth, ownership, limits, templates, metadata.

use std::time::Duration;

use crate::support::{advanced_body, image_video, relaxed, simple_body, store_args, Backend, Media, TestServer, CORE};
use samvideo_http::billing::BillingPlan;
use samvideo_http::config::Rate;
use serde_json::{json, Value};
const MEDIA: &str = "http://127.0.0.1:9/a.png";

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
}

fn is_rfc3339_utc(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.ends_with("+00:00") && chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_missing_unknown_revoked_and_legacy_query_key() {
    auth_missing_unknown_revoked_and_legacy_query_key_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_missing_unknown_revoked_and_legacy_query_key_on_postgres() {
    auth_missing_unknown_revoked_and_legacy_query_key_on(Backend::Postgres).await;
}

async fn auth_missing_unknown_revoked_and_legacy_query_key_on(backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let config = backend.store(relaxed(dir.path()));
    let cli_store = store_args(&config);
    let t = TestServer::start(config).await;
    let key = t.key("Production", BillingPlan::Free);

    let r = t.client.get(t.url(&format!("{CORE}/tasks"))).send().await.expect("send");
    let (code, body) = crate::support::split(r).await;
    assert_eq!(code, 401);
    assert_eq!(body, json!({"success": false, "message": "API key required", "error_code": "API_KEY_MISSING"}));

    let (code, body) = t.get("not-a-key", &format!("{CORE}/tasks")).await;
    assert_eq!(code, 403);
    assert_eq!(body, json!({"success": false, "message": "API key is not active or missing"}));

    let r = t.client.get(t.url(&format!("{CORE}/tasks?api_key={key}"))).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 200, "legacy api_key query parameter works");

    let (code, _) = t.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(code, 200);

    // Revoke through the CLI binary, as an operator would, while the server runs.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["keys", "list"])
        .args(&cli_store)
        .output()
        .expect("keys list");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains(&format!("{}...{}", &key[..4], &key[key.len() - 4..])), "{listing}");
    assert!(!listing.contains(&key), "list never shows the whole key");
    let id = listing.lines().nth(1).and_then(|l| l.split_whitespace().next()).expect("id column").to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["keys", "revoke"])
        .args(&cli_store)
        .arg(&id)
        .output()
        .expect("keys revoke");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, body) = t.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(code, 403);
    assert_eq!(body["message"], "API key is not active or missing");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_create_prints_the_key_last_and_stores_only_its_hash() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["keys", "create", "--name", "CI", "--plan", "pro", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("keys create");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let key = stdout.lines().last().expect("a line").trim().to_string();
    assert!(key.len() >= 32, "{stdout}");
    let db = std::fs::read(dir.path().join("samvideo.db")).expect("db");
    assert!(!db.windows(key.len()).any(|w| w == key.as_bytes()), "the plain key is not stored");

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["keys", "create", "--name", "x", "--plan", "gold", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("gold"));

    let t = TestServer::start(relaxed(dir.path())).await;
    let (code, body) = t.get(&key, &format!("{CORE}/usage-summary")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["api_key"]["name"], "CI");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_creates_answer_the_documented_responses() {
    let t = TestServer::start_relaxed().await;
    let key = t.key("k", BillingPlan::Pro);

    // mix-video, nested in data.
    let (code, body) = t.post(&key, &format!("{CORE}/mix-video"), &json!({"data": simple_body(MEDIA)})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Video generation started");
    let id = body["data"]["id"].as_str().expect("id").to_string();
    assert!(is_uuid(&body["data"]["id"]) && is_uuid(&body["data"]["celery_task_id"]));
    assert_ne!(body["data"]["id"], body["data"]["celery_task_id"]);
    assert_eq!(body["data"]["progress_url"], format!("{CORE}/progress/{id}"));
    assert_eq!(body["data"].as_object().map(|o| o.len()), Some(3));

    // simple-video at the root.
    let (code, body) = t.post(&key, &format!("{CORE}/simple-video"), &simple_body(MEDIA)).await;
    assert_eq!(code, 200, "{body}");
    assert!(body["data"]["progress_url"].is_string());

    // loop-video: the documented response has no progress_url.
    let loop_body = json!({"type": "LoopVideo", "data": {
        "media_list": [{"type": "image", "url": MEDIA, "duration": 1}],
        "background_url": "http://127.0.0.1:9/m.mp3", "duration": 1,
        "settings": {"aspect_ratio": "1:1", "output_quality": "low", "fps": 15}}});
    let (code, body) = t.post(&key, &format!("{CORE}/loop-video"), &loop_body).await;
    assert_eq!(code, 200, "{body}");
    let data = body["data"].as_object().expect("data");
    assert_eq!(data.keys().cloned().collect::<Vec<_>>(), vec!["id".to_string(), "celery_task_id".to_string()]);
    let loop_id = data["id"].as_str().expect("id").to_string();

    // Progress: the documented shape.
    let (code, body) = t.get(&key, &format!("{CORE}/progress/{loop_id}")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["success"], true);
    let d = &body["data"];
    assert_eq!(d["id"], loop_id.as_str());
    assert!(["pending", "processing", "completed", "failed"].contains(&d["status"].as_str().unwrap_or("")), "{d}");
    assert!(d["progress"].as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)));
    assert!(is_rfc3339_utc(&d["created_at"]), "{d}");
    for k in ["completed_at", "output_url", "error"] {
        assert!(d.get(k).is_some(), "progress has {k}: {d}");
    }
    assert_eq!(d["settings"]["aspect_ratio"], "1:1");
    assert!(d["settings"]["duration"].is_number() && d["settings"]["size_bytes"].is_number());

    let done = t.wait_terminal(&key, &id, 120).await;
    assert!(is_rfc3339_utc(&done["completed_at"]), "{done}");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_the_documented_400s() {
    let t = TestServer::start_relaxed().await;
    let key = t.key("k", BillingPlan::Pro);
    let (code, body) = t.post_raw(&key, &format!("{CORE}/mix-video"), "{not json").await;
    assert_eq!((code, body), (400, json!({"success": false, "message": "Invalid JSON data"})));
    let (code, body) = t.post(&key, &format!("{CORE}/mix-video"), &json!({"media_list": []})).await;
    assert_eq!((code, body), (400, json!({"success": false, "message": "No media items provided"})));
    let (code, body) = t.post(&key, &format!("{CORE}/simple-video"), &json!({"media_list": [{"type": "image"}]})).await;
    assert_eq!((code, body), (400, json!({"success": false, "message": "Each media item must have 'type' and 'url'"})));
    let (code, body) = t.post(&key, &format!("{CORE}/loop-video"), &json!({"type": "Loop", "data": {}})).await;
    assert_eq!(
        (code, body),
        (400, json!({"success": false, "message": "Invalid video type. Only 'LoopVideo' is supported."}))
    );
    let captions = json!({"media_list": [{"type": "image", "url": "https://a/b.jpg"}],
        "transcripts": [{"words": "hi", "start": 0, "end": 1}], "settings": {"caption_style": "karaoke"}});
    let (code, body) = t.post(&key, &format!("{CORE}/mix-video"), &captions).await;
    let want = "caption_style must be one of classic, boxed-line, boxed-word, highlight, one-word, pop";
    assert_eq!((code, body), (400, json!({"success": false, "message": want})));
    let (code, body) = t
        .post(
            &key,
            &format!("{CORE}/mix-video"),
            &json!({"media_list": [{"type": "image", "url": "https://a/b.jpg"}],
            "settings": {"caption_styling": {"max_words": 20}}}),
        )
        .await;
    assert_eq!((code, body["message"].clone()), (400, json!("caption_styling.max_words must be between 1 and 12")));
    let (code, body) = t.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(code, 200);
    assert_eq!(body["data"]["count"], 0, "rejected requests create no task");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_keys_task_is_not_found() {
    let t = TestServer::start_relaxed().await;
    let alice = t.key("alice", BillingPlan::Pro);
    let bob = t.key("bob", BillingPlan::Pro);
    let (id, created) = t.create(&alice, &format!("{CORE}/simple-video"), &simple_body(MEDIA)).await;
    let celery = created["celery_task_id"].as_str().expect("celery").to_string();
    let not_found = json!({"success": false, "message": "Task not found", "error_code": "TASK_NOT_FOUND"});
    for path in [
        format!("{CORE}/progress/{id}"),
        format!("/api/render/advanced-video/progress/{id}"),
        format!("/api/async/status/{celery}"),
    ] {
        let (code, body) = t.get(&bob, &path).await;
        assert_eq!((code, &body), (404, &not_found), "{path}");
    }
    let (code, body) = t.post(&bob, &format!("/api/async/cancel/{celery}"), &json!({})).await;
    assert_eq!((code, body), (404, not_found.clone()));
    let (code, body) = t.get(&bob, &format!("{CORE}/tasks")).await;
    assert_eq!((code, body["data"]["count"].clone()), (200, json!(0)));
    let (code, _) = t.get(&alice, &format!("{CORE}/progress/{id}")).await;
    assert_eq!(code, 200);
    let (code, body) = t.get(&alice, &format!("{CORE}/progress/{}", uuid::Uuid::new_v4())).await;
    assert_eq!((code, body), (404, not_found));
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_list_and_usage_summary() {
    tasks_list_and_usage_summary_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_list_and_usage_summary_on_postgres() {
    tasks_list_and_usage_summary_on(Backend::Postgres).await;
}

async fn tasks_list_and_usage_summary_on(backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(backend.store(relaxed(dir.path()))).await;
    let key = t.key("Production", BillingPlan::Pro);
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(t.submit(&key, &simple_body(MEDIA)).await);
    }
    for id in &ids {
        t.wait_terminal(&key, id, 120).await;
    }
    let (code, body) = t.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(code, 200);
    let tasks = body["data"]["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 10, "default limit 10");
    assert_eq!(tasks[0]["id"], ids[11].as_str(), "newest first");
    assert_eq!(tasks[0]["type"], "simple-video");
    let (_, body) = t.get(&key, &format!("{CORE}/tasks?limit=1000")).await;
    assert_eq!(body["data"]["limit"], 100);
    assert_eq!(body["data"]["tasks"].as_array().map(Vec::len), Some(12));
    let status = tasks[0]["status"].as_str().expect("status").to_string();
    let (_, body) = t.get(&key, &format!("{CORE}/tasks?status={status}&limit=3")).await;
    let listed = body["data"]["tasks"].as_array().expect("tasks");
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|x| x["status"] == status.as_str()));
    let (_, body) = t.get(&key, &format!("{CORE}/tasks?status=processing")).await;
    assert_eq!(body["data"]["count"], 0);
    let (code, body) = t.get(&key, &format!("{CORE}/tasks?status=bogus")).await;
    assert_eq!(code, 400, "{body}");
    let (code, _) = t.get(&key, &format!("{CORE}/tasks?limit=ten")).await;
    assert_eq!(code, 400);

    let (code, body) = t.get(&key, &format!("{CORE}/usage-summary?days=7")).await;
    assert_eq!(code, 200);
    let d = &body["data"];
    assert_eq!(d["window_days"], 7);
    assert!(is_rfc3339_utc(&d["since"]));
    assert_eq!(d["totals"]["tasks"], 12);
    let sum: i64 =
        ["completed", "failed", "cancelled", "timeout"].iter().map(|k| d["totals"][*k].as_i64().unwrap_or(-100)).sum();
    assert_eq!(sum, 12);
    let completed = d["totals"]["completed"].as_f64().unwrap_or(-1.0);
    assert_eq!(d["totals"]["success_rate"].as_f64(), Some(((completed / 12.0) * 10_000.0).round() / 10_000.0));
    for s in ["pending", "processing", "completed", "failed", "cancelled", "timeout"] {
        assert!(d["by_status"][s].is_i64(), "by_status.{s}");
    }
    assert_eq!(d["api_key"]["name"], "Production");
    assert_eq!(d["api_key"]["masked_key"], format!("{}...{}", &key[..4], &key[key.len() - 4..]));
    assert!(d["api_key"]["usage_count"].as_i64().is_some_and(|n| n >= 15), "{d}");
    assert!(is_rfc3339_utc(&d["api_key"]["last_used"]));
    let (code, _) = t.get(&key, &format!("{CORE}/usage-summary?days=0")).await;
    assert_eq!(code, 400);
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = relaxed(dir.path()).with_rates(Rate::per_minute(5), Rate::per_minute(3), Rate::per_minute(4));
    let t = TestServer::start(config).await;
    let key = t.key("k", BillingPlan::Ultimate);
    let other = t.key("other", BillingPlan::Ultimate);
    for i in 0..5 {
        let (code, body) = t.post_raw(&key, &format!("{CORE}/mix-video"), "{bad").await;
        assert_eq!(code, 400, "request {i} is let through to validation: {body}");
    }
    let r = t
        .client
        .post(t.url(&format!("{CORE}/simple-video")))
        .header("X-API-Key", &key)
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["success"], false);
    assert_eq!(body["error_code"], "RATE_LIMITED");
    let (code, _) = t.post_raw(&other, &format!("{CORE}/mix-video"), "{bad").await;
    assert_eq!(code, 400, "limits are per key");

    for _ in 0..3 {
        let (code, _) = t.post_raw(&key, "/api/render/advanced-video", "{bad").await;
        assert_ne!(code, 429);
    }
    let (code, _) = t.post_raw(&key, "/api/render/advanced-video", "{bad").await;
    assert_eq!(code, 429, "advanced: 3 a minute");

    for _ in 0..4 {
        let (code, _) = t.get(&key, "/api/templates/list/").await;
        assert_eq!(code, 200);
    }
    let (code, _) = t.get(&other, "/api/templates/list/").await;
    assert_eq!(code, 429, "templates are limited by client IP, whatever the key");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monthly_quotas_answer_the_documented_403s() {
    monthly_quotas_answer_the_documented_403s_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monthly_quotas_answer_the_documented_403s_on_postgres() {
    monthly_quotas_answer_the_documented_403s_on(Backend::Postgres).await;
}

async fn monthly_quotas_answer_the_documented_403s_on(backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let config = relaxed(dir.path()).with_free_monthly_videos(5).with_plan_limit(BillingPlan::Basic, 2);
    let t = TestServer::start(backend.store(config)).await;
    let free = t.key("free", BillingPlan::Free);
    let basic = t.key("basic", BillingPlan::Basic);
    for _ in 0..5 {
        let (code, body) = t.post(&free, &format!("{CORE}/simple-video"), &simple_body(MEDIA)).await;
        assert_eq!(code, 200, "{body}");
    }
    let (code, body) = t.post(&free, &format!("{CORE}/mix-video"), &simple_body(MEDIA)).await;
    assert_eq!(code, 403);
    assert_eq!(
        body,
        json!({"success": false,
            "message": "Free tier limit reached. You can generate 5 videos per month. Please upgrade to a paid plan for more videos.",
            "upgrade_url": "/subscription/plans/"})
    );
    for _ in 0..2 {
        let (code, _) = t.post(&basic, "/api/render/advanced-video", &advanced_body(MEDIA, "full")).await;
        assert_eq!(code, 200);
    }
    let (code, body) = t.post(&basic, &format!("{CORE}/simple-video"), &simple_body(MEDIA)).await;
    assert_eq!(code, 403);
    assert_eq!(
        body,
        json!({"success": false, "message": "Monthly limit reached. Your plan allows 2 videos per month.",
            "upgrade_url": "/subscription/plans/"})
    );
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advanced_full_create_413_validation_and_template_merge() {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(dir.path()).with_max_advanced_body(4096)).await;
    let key = t.key("k", BillingPlan::Pro);

    // Too large is refused before parsing: this body is not even JSON.
    let big = "x".repeat(5000);
    let (code, body) = t.post_raw(&key, "/api/render/advanced-video", &big).await;
    assert_eq!(code, 413, "{body}");
    assert_eq!(body["success"], false);

    let (code, body) =
        t.post(&key, "/api/render/advanced-video", &json!({"config": {"output_settings": {"framerate": 99}}})).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["error_code"], "VALIDATION_ERROR");
    assert!(body["message"].as_str().is_some_and(|m| m.starts_with("Configuration validation failed: ")), "{body}");

    let (code, body) = t.post(&key, "/api/render/advanced-video", &advanced_body(MEDIA, "full")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["message"], "Advanced video generation started");
    let d = &body["data"];
    let id = d["id"].as_str().expect("id").to_string();
    assert_eq!(d["mode"], "full");
    assert_eq!(d["progress_url"], format!("/api/render/advanced-video/progress/{id}"));
    assert!(d["estimated_time"].is_string());
    assert!(d["request_id"].as_str().is_some_and(|r| r.len() == 8));
    assert!(is_uuid(&d["celery_task_id"]));
    let (code, body) = t.get(&key, &format!("/api/render/advanced-video/progress/{id}")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["id"], id.as_str());
    assert_eq!(body["data"]["settings"]["aspect_ratio"], "16:9");

    // template_id: the template supplies media_inputs; the request's own values win.
    let template = json!({"name": "clips", "settings": {
        "output_settings": {"aspect_ratio": "9:16", "resolution": "480p", "framerate": 15},
        "media_inputs": {"main_clips": [{"type": "image", "url": MEDIA, "duration": 1}]}}});
    let (code, body) = t.post(&key, "/api/templates/", &template).await;
    assert_eq!(code, 201, "{body}");
    let tid = body["data"]["id"].as_str().expect("id").to_string();
    let req =
        json!({"template_id": tid, "output_settings": {"aspect_ratio": "1:1"}, "render_options": {"mode": "full"}});
    let (code, body) = t.post(&key, "/api/render/advanced-video", &req).await;
    assert_eq!(code, 200, "merged request validates: {body}");
    let id = body["data"]["id"].as_str().expect("id").to_string();
    let (_, body) = t.get(&key, &format!("/api/render/advanced-video/progress/{id}")).await;
    assert_eq!(body["data"]["settings"]["aspect_ratio"], "1:1", "request wins over template");
    let req = json!({"template_id": uuid::Uuid::new_v4().to_string(), "output_settings": {}});
    let (code, body) = t.post(&key, "/api/render/advanced-video", &req).await;
    assert_eq!((code, body["message"].clone()), (404, json!("Template not found")));
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_control_endpoints() {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(dir.path()).with_workers(2)).await;
    let key = t.key("k", BillingPlan::Pro);
    let invalid = json!({"success": false, "message": "Invalid task ID format", "error_code": "INVALID_TASK_ID"});
    let (code, body) = t.get(&key, "/api/async/status/not-a-uuid").await;
    assert_eq!((code, body), (400, invalid.clone()));
    let (code, body) = t.post(&key, "/api/async/cancel/12345", &json!({})).await;
    assert_eq!((code, body), (400, invalid));

    let (code, body) = t.get(&key, "/api/async/queue/status").await;
    assert_eq!(code, 200);
    assert_eq!(body["data"]["workers"], 2);
    assert!(body["data"]["active"].is_u64() && body["data"]["queued"].is_i64(), "{body}");

    let r = t.client.get(t.url("/api/async/health")).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 200, "health needs no key");
    let body: Value = r.json().await.expect("json");
    assert_eq!((body["success"].clone(), body["status"].clone()), (json!(true), json!("healthy")));

    let (id, created) = t.create(&key, &format!("{CORE}/simple-video"), &simple_body(MEDIA)).await;
    let celery = created["celery_task_id"].as_str().expect("celery").to_string();
    let done = t.wait_terminal(&key, &id, 120).await;
    for any in [&id, &celery] {
        let (code, body) = t.get(&key, &format!("/api/async/status/{any}")).await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(body["data"]["task_id"], celery.as_str());
        assert_eq!(body["data"]["status"], done["status"]);
        assert_eq!(body["data"]["ready"], true);
    }
    let (code, body) = t.post(&key, &format!("/api/async/cancel/{celery}"), &json!({})).await;
    assert_eq!(code, 400, "a finished task is not cancellable: {body}");
    assert_eq!(body["error_code"], "TASK_NOT_CANCELLABLE");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_crud_privacy_list_and_apply() {
    templates_crud_privacy_list_and_apply_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_crud_privacy_list_and_apply_on_postgres() {
    templates_crud_privacy_list_and_apply_on(Backend::Postgres).await;
}

async fn templates_crud_privacy_list_and_apply_on(backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(backend.store(relaxed(dir.path()))).await;
    let alice = t.key("alice", BillingPlan::Pro);
    let bob = t.key("bob", BillingPlan::Pro);
    let promo = json!({"name": "My 9:16 Promo", "description": "Short promo style with captions",
        "category": "marketing", "is_public": false,
        "settings": {"output_settings": {"aspect_ratio": "9:16", "framerate": 30}, "render_options": {"quality": "high"}}});
    let (code, body) = t.post(&alice, "/api/templates/", &promo).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["success"], true);
    let private_id = body["data"]["id"].as_str().expect("id").to_string();
    assert_eq!(body["data"]["settings"], promo["settings"]);
    let public = json!({"name": "Square", "category": "social", "is_public": true, "settings": {"output_settings": {"aspect_ratio": "1:1"}}});
    let (_, body) = t.post(&alice, "/api/templates/", &public).await;
    let public_id = body["data"]["id"].as_str().expect("id").to_string();

    // The rules table decides (docs/api-validation.md), settings keys included.
    let refused = [
        (json!({"description": "no name"}), "name is required"),
        (json!({"name": "x", "settings": [1]}), "settings must be an object"),
        (json!({"name": "x".repeat(256)}), "name must be at most 255 characters"),
        (
            json!({"name": "x", "settings": {"output_settings": {"framerate": 90}}}),
            "settings.output_settings.framerate must be between 15 and 60",
        ),
    ];
    for (bad, message) in &refused {
        let (code, body) = t.post(&alice, "/api/templates/", bad).await;
        assert_eq!((code, body["message"].clone()), (400, json!(message)), "{bad}");
    }
    let (code, body) = t.post(&alice, "/api/templates/", &json!({"name": "n".repeat(255)})).await;
    assert_eq!(code, 201, "a 255-character name is accepted: {body}");
    let long_id = body["data"]["id"].as_str().expect("id").to_string();
    let r = t
        .client
        .put(t.url(&format!("/api/templates/{long_id}/")))
        .header("X-API-Key", &alice)
        .json(&json!({"settings": {"output_settings": {"aspect_ratio": "4:3"}}}))
        .send()
        .await
        .expect("send");
    let (code, body) = crate::support::split(r).await;
    assert_eq!(code, 400, "updates are checked too: {body}");
    assert!(
        body["message"].as_str().unwrap_or("").starts_with("settings.output_settings.aspect_ratio must be one of"),
        "{body}"
    );

    // Private templates are the owner's alone.
    let (code, _) = t.get(&bob, &format!("/api/templates/{private_id}/")).await;
    assert_eq!(code, 404);
    let (code, _) = t.post(&bob, &format!("/api/templates/{private_id}/apply/"), &json!({})).await;
    assert_eq!(code, 404);
    let r = t
        .client
        .delete(t.url(&format!("/api/templates/{private_id}/")))
        .header("X-API-Key", &bob)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 404);
    let (code, _) = t.get(&bob, &format!("/api/templates/{public_id}/")).await;
    assert_eq!(code, 200, "public templates are readable");
    let r = t
        .client
        .put(t.url(&format!("/api/templates/{public_id}/")))
        .header("X-API-Key", &bob)
        .body(r#"{"name":"mine"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 403, "only the owner changes a public template");

    let (_, body) = t.get(&bob, "/api/templates/list/").await;
    assert_eq!(body["data"]["count"], 0);
    let (_, body) = t.get(&bob, "/api/templates/list/?include_public=true").await;
    assert_eq!(body["data"]["count"], 1);
    let (_, body) = t.get(&alice, "/api/templates/list/?include_public=true&category=marketing").await;
    let names: Vec<_> = body["data"]["templates"].as_array().expect("list").iter().map(|x| x["name"].clone()).collect();
    assert_eq!(names, vec![json!("My 9:16 Promo")]);

    let r = t
        .client
        .put(t.url(&format!("/api/templates/{private_id}/")))
        .header("X-API-Key", &alice)
        .body(r#"{"category":"ads","is_public":true}"#)
        .send()
        .await
        .expect("send");
    let (code, body) = crate::support::split(r).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!((body["data"]["category"].clone(), body["data"]["is_public"].clone()), (json!("ads"), json!(true)));
    assert_eq!(body["data"]["name"], "My 9:16 Promo", "fields not sent are kept");

    let (code, body) = t
        .post(
            &bob,
            &format!("/api/templates/{private_id}/apply/"),
            &json!({"settings": {"render_options": {"quality": "low"}}}),
        )
        .await;
    assert_eq!(code, 200, "now public: {body}");
    assert_eq!(
        body["data"]["settings"],
        json!({"output_settings": {"aspect_ratio": "9:16", "framerate": 30}, "render_options": {"quality": "low"}})
    );

    let r = t
        .client
        .delete(t.url(&format!("/api/templates/{private_id}/")))
        .header("X-API-Key", &alice)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let (code, _) = t.get(&alice, &format!("/api/templates/{private_id}/")).await;
    assert_eq!(code, 404);
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_route_and_docs_and_metrics_serve() {
    let t = TestServer::start_relaxed().await;
    let doc: Value = t.client.get(t.url("/api/openapi.json")).send().await.expect("send").json().await.expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    for path in samvideo_http::routed_paths(t.server.state()) {
        assert!(doc["paths"].get(&path).is_some(), "{path} is routed but not in /api/openapi.json");
    }
    for path in doc["paths"].as_object().expect("paths").keys() {
        let concrete = path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{task_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{template_id}", "t")
            .replace("{file}", "none.mp4");
        // Both spellings: with and without a trailing slash (the reference mixes them).
        let other = match concrete.strip_suffix('/') {
            Some(bare) => bare.to_string(),
            None => format!("{concrete}/"),
        };
        for url in [&concrete, &other] {
            if url.starts_with("/media/") {
                continue; // files: one spelling
            }
            let r = t.client.request(reqwest::Method::OPTIONS, t.url(url)).send().await.expect("send");
            let body = r.text().await.unwrap_or_default();
            assert!(!body.contains("\"message\":\"Not found\""), "{url} ({path}) is documented but not routed");
        }
    }
    let html = t.client.get(t.url("/docs")).send().await.expect("send").text().await.expect("text");
    assert!(html.contains("/api/openapi.json") && html.contains("<script>"));

    let key = t.key("k", BillingPlan::Pro);
    t.post(&key, &format!("{CORE}/simple-video"), &simple_body(MEDIA)).await;
    let r = t.client.get(t.url("/metrics")).send().await.expect("send");
    assert!(r.headers()["content-type"].to_str().unwrap_or("").starts_with("text/plain"));
    let text = r.text().await.expect("text");
    for needle in [
        "samvideo_queue_depth ",
        "samvideo_renders_total{status=\"completed\"}",
        "samvideo_render_seconds_count ",
        "samvideo_tasks{status=\"pending\"}",
    ] {
        assert!(text.contains(needle), "metrics lack {needle}:\n{text}");
    }
    t.server.stop().await;
}

/// `--split-renders` on one node (two workers over a folder): a 12 s video rendered as three
/// parts (two segments, the audio) is one render and one task in `/metrics`, not four.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_render_counts_as_one_render_in_the_metrics() {
    let started = std::time::Instant::now();
    let media = Media::card(64, 36).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let mut config = relaxed(tmp.path()).with_workers(2);
    config.split_renders = true;
    let t = TestServer::start(config).await;
    let key = t.key("k", BillingPlan::Pro);
    let (id, d) = t.render(&key, &image_video(&media.url("card.png"), 12.0), 300).await;
    assert_eq!(d["status"], "completed", "{d}");
    let parts = t.server.state().store.parts_of(&id).await.expect("parts");
    assert_eq!(parts.len(), 3, "rendered as parts: {parts:?}");
    let text = t.client.get(t.url("/metrics")).send().await.expect("send").text().await.expect("text");
    for line in [
        "samvideo_renders_total{status=\"completed\"} 1\n",
        "samvideo_render_seconds_count 1\n",
        "samvideo_tasks{status=\"completed\"} 1\n",
        "samvideo_active_renders 0\n",
        "samvideo_active_parts 0\n",
    ] {
        assert!(text.contains(line), "metrics lack {line:?}:\n{text}");
    }
    t.server.stop().await;
    eprintln!("a split render and its metrics: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_are_served_with_range_requests() {
    let t = TestServer::start_relaxed().await;
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(t.data_dir.join("outputs").join("x.mp4"), &bytes).expect("write");
    let r = t.client.get(t.url("/media/outputs/x.mp4")).header("Range", "bytes=100-199").send().await.expect("send");
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 100-199/10000");
    assert_eq!(r.bytes().await.expect("body").as_ref(), &bytes[100..200]);
    let r = t.client.get(t.url("/media/outputs/../samvideo.db")).send().await.expect("send");
    assert_ne!(r.status().as_u16(), 200, "no way out of outputs/");
    tokio::time::sleep(Duration::from_millis(10)).await;
    t.server.stop().await;
}
