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
use samvideo_http::retention::Retention;
use serde_json::{json, Value};

use samvideo_http::store::{Store, StoreLocation};
use samvideo_test_support::postgres::fresh_database;
use samvideo_test_support::s3::{fresh_bucket, list_keys, AWS_ENV};

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
    let sweeper = Retention::new(state.store.clone(), state.objects.clone(), 7, tmp.path().join("tmp"));
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
