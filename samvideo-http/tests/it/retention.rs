//! Retention through the HTTP API, on a real server over a folder of objects: a rendered,
//! captioned task aged past `--retention-days` (the sweep run with a clock N + 1 days ahead)
//! loses its output, poster and caption sidecars, an old preview and a stale scratch file go
//! too, the task keeps `completed` with `output_expired`, and its URLs answer 410
//! `OUTPUT_EXPIRED` while a file that never was stays 404. And with the real binary on
//! Postgres and a bucket (moto): a task whose end time is written back past the retention is
//! swept from the bucket once by two nodes that both sweep at start (the second finds it
//! marked), and its download from the bucket answers 410. (Two sweeps at the same instant are
//! `store::retention`'s case: the hold gives each task to one.)

use std::time::{Duration, Instant};

use samvideo_http::billing::BillingPlan;
use samvideo_http::objects::{Objects, ObjectsLocation, S3Settings, MEDIA, PARTS};
use samvideo_http::retention::{Retention, Swept};
use serde_json::{json, Value};

use samvideo_http::store::{NewPart, QuotaDecision, Store, StoreLocation, TaskStatus, TaskUpdate};
use samvideo_test_support::postgres::fresh_database;
use samvideo_test_support::s3::{fresh_bucket, list_keys, AWS_ENV};

use crate::store::MONTH_START;
use crate::support::{image_video, relaxed, spawn_server, Media, ServerLog, TestServer, CORE};

async fn get_url(t: &TestServer, url: &str) -> (u16, Value) {
    let r = t.client.get(url).send().await.expect("get");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aged_task_loses_its_files_keeps_completed_and_its_urls_answer_410() {
    let media = Media::card(320, 180).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(tmp.path()).with_retention_days(Some(7))).await;
    let key = t.key("k", BillingPlan::Pro);
    let mut body = image_video(&media.url("card.png"), 1.0);
    body["transcript_srt"] = json!("1\n00:00:00,100 --> 00:00:00,800\nbye\n");
    let (id, _) = t.create(&key, &format!("{CORE}/mix-video"), &body).await;
    let d = t.wait_terminal(&key, &id, 300).await;
    assert_eq!(d["status"], "completed", "{d}");
    let outputs = tmp.path().join("outputs");
    let files = [format!("{id}.mp4"), format!("{id}.jpg"), format!("{id}.vtt"), format!("{id}.srt")];
    for f in &files {
        assert!(outputs.join(f).exists(), "{f} kept");
    }
    std::fs::write(tmp.path().join("previews/old-preview.mp4"), b"preview").expect("a preview");
    std::fs::write(tmp.path().join("tmp/stale.part"), b"scratch").expect("a scratch file");

    let state = t.server.state();
    let sweeper = Retention::new(state.store.clone(), state.objects.clone(), Some(7), tmp.path().join("tmp"));
    let now = chrono::Utc::now();
    let started = Instant::now();
    let swept = sweeper.sweep(now).await.expect("sweep");
    assert_eq!((swept.tasks, swept.previews, swept.scratch), (0, 0, 0), "nothing is 7 days old yet");
    assert!(outputs.join(&files[0]).exists());

    let swept = sweeper.sweep(now + chrono::Duration::days(8)).await.expect("sweep");
    assert_eq!((swept.tasks, swept.tasks_left, swept.previews, swept.scratch), (1, 0, 1, 1), "{swept:?}");
    for f in &files {
        assert!(!outputs.join(f).exists(), "{f} deleted");
    }
    assert!(!tmp.path().join("previews/old-preview.mp4").exists());
    assert!(!tmp.path().join("tmp/stale.part").exists());
    let again = sweeper.sweep(now + chrono::Duration::days(9)).await.expect("sweep");
    assert_eq!(again.tasks, 0, "a swept task is not swept again");
    eprintln!("three sweeps: {:?}", started.elapsed());

    let d = t.wait_terminal(&key, &id, 5).await;
    assert_eq!(d["status"], "completed", "the task keeps its state: {d}");
    assert!(d["error"].is_null(), "{d}");
    let message = d["output_expired"]["message"].as_str().expect("output_expired.message");
    assert!(message.contains("retention"), "{message}");
    assert!(d["output_expired"]["expired_at"].is_string(), "{d}");
    let url = d["output_url"].as_str().expect("the URL stays");
    for u in [url, d["thumbnail_url"].as_str().expect("thumb"), d["subtitles_url"].as_str().expect("vtt")] {
        let (status, body) = get_url(&t, u).await;
        assert_eq!(status, 410, "{u}: {body}");
        assert_eq!(body["error_code"], "OUTPUT_EXPIRED", "{body}");
        assert_eq!(body["message"], message, "the download says what the task says");
        assert_eq!(body["success"], false);
    }
    let (status, _) = get_url(&t, &url.replace(".mp4", ".srt")).await;
    assert_eq!(status, 410, "the SubRip sidecar too");
    let (status, _) = get_url(&t, &url.replace(&id, "00000000-0000-4000-8000-000000000000")).await;
    assert_eq!(status, 404, "a file that never was stays 404");
    let (_, list) = t.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(list["data"]["tasks"][0]["output_expired"]["message"], message, "{list}");
    t.server.stop().await;
}

/// Stop a spawned node.
fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn log_lines(log: &ServerLog, needle: &str) -> usize {
    log.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|l| l.contains(needle)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_and_a_bucket_sweep_an_aged_task_once_and_it_answers_410() {
    let started = Instant::now();
    let media = Media::card(64, 36).await;
    let url = fresh_database();
    let (endpoint, bucket) = fresh_bucket();
    let key = Store::connect(&StoreLocation::Postgres(url.clone())).expect("store");
    let key = key.blocking().create_key("k", BillingPlan::Pro).expect("key").key;
    let objects = format!("s3://{bucket}");
    let mut env: Vec<(&str, &str)> =
        vec![("SAMVIDEO_STORE", &url), ("SAMVIDEO_OBJECTS", &objects), ("SAMVIDEO_S3_ENDPOINT", &endpoint)];
    env.extend(AWS_ENV);
    let dirs = tempfile::tempdir().expect("tmp");

    let (node, api, _) = spawn_server(&dirs.path().join("a"), &env);
    let (id, d) = api.render(&key, &image_video(&media.url("card.png"), 1.0), 120).await;
    assert_eq!(d["status"], "completed", "{d}");
    assert_eq!(list_keys(&bucket), [format!("outputs/{id}.jpg"), format!("outputs/{id}.mp4")]);
    stop(node);

    // Age the task: its end time written back past the retention.
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let aged = client
        .execute("UPDATE tasks SET completed_at = '2000-01-01T00:00:00+00:00' WHERE id = $1", &[&id])
        .await
        .expect("age the task");
    assert_eq!(aged, 1);

    // Two nodes on the store, both sweeping at start: the task is deleted and marked once.
    env.extend([("SAMVIDEO_RETENTION_DAYS", "1"), ("RUST_LOG", "info")]);
    let (a, api, log_a) = spawn_server(&dirs.path().join("a"), &env);
    let (b, _, log_b) = spawn_server(&dirs.path().join("b"), &env);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !list_keys(&bucket).is_empty() || log_lines(&log_a, "tasks: 1") + log_lines(&log_b, "tasks: 1") == 0 {
        assert!(Instant::now() < deadline, "still in the bucket: {:?}", list_keys(&bucket));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sweeps = log_lines(&log_a, "old outputs deleted") + log_lines(&log_b, "old outputs deleted");
    assert_eq!(sweeps, 1, "one node deleted, the other found nothing to do");

    let d = api.wait_terminal(&key, &id, 5).await;
    assert_eq!(d["status"], "completed", "{d}");
    assert!(d["output_expired"]["message"].is_string(), "{d}");
    let url = d["output_url"].as_str().expect("the URL stays");
    let r = api.client.get(url).send().await.expect("download");
    assert_eq!(r.status().as_u16(), 410, "from the bucket too");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error_code"], "OUTPUT_EXPIRED", "{body}");
    stop(a);
    stop(b);
    eprintln!("two nodes sweeping one bucket: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aged_ai_job_loses_its_files_keeps_success_and_its_urls_answer_410_and_old_media_go() {
    let started = Instant::now();
    let media = Media::card(64, 36).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(tmp.path()).with_retention_days(Some(7))).await;
    let key = t.key("k", BillingPlan::Basic);
    let body = json!({
        "model_id": "samvideo-motion",
        "image_urls": [media.url("card.png")],
        "options": {"duration_seconds": 1, "aspect_ratio": "1:1", "quality_mode": "draft"}
    });
    let (code, created) = t.post(&key, "/api/ai/jobs", &body).await;
    assert_eq!(code, 202, "{created}");
    let id = created["job_id"].as_i64().expect("job_id");
    let path = format!("/api/ai/jobs/{id}");
    let done = t.poll(&key, &path, 240, "ended", |b| b["status"] != "running").await;
    assert_eq!(done["status"], "success", "{done}");
    assert!(done.get("output_expired").is_none(), "absent until swept: {done}");
    let file = tmp.path().join(format!("outputs/ai-{id}.mp4"));
    assert!(file.exists());
    // Fetched media kept by content (what the prepare step writes), and one put later.
    let cached = tmp.path().join("media").join("ab".repeat(32));
    std::fs::write(&cached, b"media bytes").expect("a fetched medium");

    let state = t.server.state();
    let sweeper = Retention::new(state.store.clone(), state.objects.clone(), Some(7), tmp.path().join("tmp"));
    let now = chrono::Utc::now();
    let swept = sweeper.sweep(now).await.expect("sweep");
    assert_eq!((swept.ai_jobs, swept.media), (0, 0), "nothing is 7 days old yet");
    assert!(file.exists() && cached.exists());
    let swept = sweeper.sweep(now + chrono::Duration::days(8)).await.expect("sweep");
    assert_eq!((swept.ai_jobs, swept.ai_jobs_left, swept.media), (1, 0, 1), "{swept:?}");
    assert!(!file.exists() && !cached.exists());
    let again = sweeper.sweep(now + chrono::Duration::days(9)).await.expect("sweep");
    assert_eq!(again.ai_jobs, 0, "a swept job is not swept again");

    let (code, d) = t.get(&key, &path).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(d["status"], "success", "the job keeps its state: {d}");
    assert_eq!(d["result_urls"], done["result_urls"], "its URLs stay");
    let message = d["output_expired"]["message"].as_str().expect("output_expired.message");
    assert!(message.contains("AI job") && message.contains("retention"), "{message}");
    assert!(d["output_expired"]["expired_at"].is_string(), "{d}");
    let url = d["result_urls"][0].as_str().expect("url");
    let (status, body) = get_url(&t, url).await;
    assert_eq!(status, 410, "{url}: {body}");
    assert_eq!((body["error_code"].as_str(), body["message"].as_str()), (Some("OUTPUT_EXPIRED"), Some(message)));
    let (status, _) = get_url(&t, &url.replace(".mp4", "-7.mp4")).await;
    assert_eq!(status, 404, "a file the job never had stays 404");
    t.server.stop().await;
    eprintln!("an AI job aged and swept: {:.1} s", started.elapsed().as_secs_f64());
}

/// The AWS settings of the test S3 server, for the bucket this process opens itself (the
/// same values every spawned node gets); set once, before this process opens a bucket.
fn aws_env() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for (k, v) in AWS_ENV {
            std::env::set_var(k, v);
        }
    });
}

/// Orphaned parts: a part object of a video that ended goes at the first sweep, with or
/// without `--retention-days`; one of a video still processing stays at any age; an object
/// that names no part goes once it is a day old. Fetched media stay without retention.
async fn orphaned_parts_are_swept(store: Store, objects: Objects, scratch: &std::path::Path) {
    let key = store.blocking().create_key("k", BillingPlan::Pro).expect("key").row;
    for n in 0..2 {
        store
            .create_task(crate::store::new_task(key.id, n), MONTH_START, |_| QuotaDecision::Admit)
            .await
            .expect("create");
    }
    // Both videos processing before any part is queued (a claim takes parts first).
    for n in 0..2 {
        let video = crate::store::claim(&store).await.expect("claim");
        assert_eq!(video.id, format!("task-{n}"));
    }
    for n in 0..2 {
        let part = vec![NewPart { part: "segment:0".into(), frames: 10 }];
        store.add_parts(&format!("task-{n}"), part).await.expect("parts");
    }
    let (ended, _) =
        store.end_task("task-1", TaskUpdate::ended(TaskStatus::Cancelled, "cancelled")).await.expect("end");
    assert!(ended);
    let live = store.parts_of("task-0").await.expect("parts")[0].id.clone();
    let orphan = store.parts_of("task-1").await.expect("parts")[0].id.clone();
    let put = |folder: &'static str, name: String| {
        let (objects, local) = (objects.clone(), scratch.join(format!("put-{name}")));
        async move {
            std::fs::write(&local, b"part").expect("scratch");
            objects.put_file(folder, &name, &local).await.expect("put");
        }
    };
    for name in [
        format!("{live}-1.svpart"),
        format!("{live}-1.jpg"),
        format!("{orphan}-1.svpart"),
        format!("{orphan}-2.svpart"),
        "stray.bin".into(),
    ] {
        put(PARTS, name).await;
    }
    put(MEDIA, "cd".repeat(32)).await;
    let names = |folder: &'static str| {
        let objects = objects.clone();
        async move {
            let mut names: Vec<String> =
                objects.list(folder).await.expect("list").into_iter().map(|o| o.name).collect();
            names.sort();
            names
        }
    };

    let sweeper = Retention::new(store.clone(), objects.clone(), None, scratch.to_path_buf());
    let now = chrono::Utc::now();
    let swept = sweeper.sweep(now).await.expect("sweep");
    assert_eq!(swept, Swept { parts: 2, ..Swept::default() }, "the cancelled video's parts, nothing else");
    let mut kept = vec![format!("{live}-1.jpg"), format!("{live}-1.svpart"), "stray.bin".to_string()];
    kept.sort();
    assert_eq!(names(PARTS).await, kept);
    let swept = sweeper.sweep(now + chrono::Duration::days(100)).await.expect("sweep");
    assert_eq!(swept, Swept { parts: 1, ..Swept::default() }, "the stray object, once old; no retention: media stay");
    kept.retain(|n| n != "stray.bin");
    assert_eq!(names(PARTS).await, kept, "a processing video's parts stay at any age");
    assert_eq!(names(MEDIA).await, ["cd".repeat(32)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_parts_are_swept_from_a_folder_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::connect(&StoreLocation::Sqlite(dir.path().join("samvideo.db"))).expect("store");
    let objects = Objects::open(&ObjectsLocation::Dir(dir.path().join("objects")), &S3Settings::default()).await;
    orphaned_parts_are_swept(store, objects.expect("objects"), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_parts_and_old_media_are_swept_from_a_bucket_on_postgres() {
    let started = Instant::now();
    aws_env();
    let dir = tempfile::tempdir().expect("tmp");
    let (endpoint, bucket) = fresh_bucket();
    let store = Store::connect(&StoreLocation::Postgres(fresh_database())).expect("store");
    let location = ObjectsLocation::S3 { bucket: bucket.clone(), prefix: String::new() };
    let objects = Objects::open(&location, &S3Settings { endpoint: Some(endpoint) }).await.expect("bucket");
    orphaned_parts_are_swept(store.clone(), objects.clone(), dir.path()).await;

    // Retention on a bucket: media by their listed age.
    let sweeper = Retention::new(store, objects, Some(7), dir.path().to_path_buf());
    let now = chrono::Utc::now();
    assert_eq!(sweeper.sweep(now).await.expect("sweep").media, 0, "a day old is kept");
    assert_eq!(sweeper.sweep(now + chrono::Duration::days(8)).await.expect("sweep").media, 1);
    let left: Vec<String> = list_keys(&bucket).into_iter().filter(|k| !k.starts_with("parts/")).collect();
    assert!(left.is_empty(), "{left:?}");
    eprintln!("parts and media on a bucket: {:.1} s", started.elapsed().as_secs_f64());
}
