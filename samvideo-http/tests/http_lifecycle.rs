//! Task lifecycle over real HTTP: a failing render, a real render to a downloadable AV1 MP4,
//! cancel (pending and running), the inactivity timeout.

mod support;

use std::time::{Duration, Instant};

use samvideo_http::config::Plan;
use serde_json::json;
use support::{black_hole, image_video, make_png, relaxed, serve_dir, TestServer};

const CORE: &str = "/api/function/video-generation";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_error_ends_failed_with_the_message() {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(dir.path())).await;
    let key = t.key("k", Plan::Pro);
    // Nothing listens on port 9 of loopback: the fetch is refused.
    let (code, body) = t.post(&key, &format!("{CORE}/simple-video"), &image_video("http://127.0.0.1:9/a.png", 1.0)).await;
    assert_eq!(code, 200, "{body}");
    let id = body["data"]["id"].as_str().expect("id").to_string();
    let d = t.wait_terminal(&key, &id, 60).await;
    assert_eq!(d["status"], "failed", "{d}");
    let error = d["error"].as_str().expect("an error message");
    assert!(!error.is_empty());
    assert!(d["output_url"].is_null());
    assert!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp").next().is_none(), "no temp file left");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_render_download_and_ffprobe_reads_av1() {
    let media = tempfile::tempdir().expect("tmp");
    make_png(&media.path().join("card.png"), 320, 180);
    let (media_base, _m) = serve_dir(media.path()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(dir.path())).await;
    let key = t.key("k", Plan::Pro);
    let (code, body) = t.post(&key, &format!("{CORE}/simple-video"), &image_video(&format!("{media_base}/card.png"), 1.0)).await;
    assert_eq!(code, 200, "{body}");
    let id = body["data"]["id"].as_str().expect("id").to_string();
    let d = t.wait_terminal(&key, &id, 300).await;
    assert_eq!(d["status"], "completed", "{d}");
    assert_eq!(d["progress"], 1.0);
    let url = d["output_url"].as_str().expect("output_url");
    assert!(url.starts_with(&t.base), "absolute from the Host header: {url}");
    assert!(d["settings"]["size_bytes"].as_i64().is_some_and(|n| n > 0));
    assert!(d["settings"]["duration"].as_f64().is_some_and(|s| (s - 1.0).abs() < 0.2), "{d}");
    let bytes = t.client.get(url).send().await.expect("download").bytes().await.expect("body");
    assert_eq!(bytes.len() as i64, d["settings"]["size_bytes"].as_i64().unwrap_or(-1));
    let file = dir.path().join("download.mp4");
    std::fs::write(&file, &bytes).expect("write");
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0"])
        .arg(&file)
        .output()
        .expect("ffprobe runs");
    let probe = String::from_utf8_lossy(&out.stdout);
    assert!(probe.trim().starts_with("av1,"), "ffprobe: {probe} {}", String::from_utf8_lossy(&out.stderr));
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_a_running_and_a_pending_task() {
    let media = tempfile::tempdir().expect("tmp");
    make_png(&media.path().join("card.png"), 320, 180);
    let (media_base, _m) = serve_dir(media.path()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(dir.path())).await;
    let key = t.key("k", Plan::Pro);
    let long = image_video(&format!("{media_base}/card.png"), 30.0);
    let (_, a) = t.post(&key, &format!("{CORE}/simple-video"), &long).await;
    let (_, b) = t.post(&key, &format!("{CORE}/simple-video"), &long).await;
    let a_id = a["data"]["id"].as_str().expect("id").to_string();
    let b_id = b["data"]["id"].as_str().expect("id").to_string();

    // Wait until A renders frames.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, p) = t.get(&key, &format!("{CORE}/progress/{a_id}")).await;
        if p["data"]["status"] == "processing" && p["data"]["progress"].as_f64().unwrap_or(0.0) > 0.0 {
            break;
        }
        assert!(!p["data"]["status"].as_str().is_some_and(|s| s != "pending" && s != "processing"), "{p}");
        assert!(Instant::now() < deadline, "A never made progress: {p}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // B waits behind A (one worker): cancel it while pending, by its celery id.
    let (_, pb) = t.get(&key, &format!("{CORE}/progress/{b_id}")).await;
    assert_eq!(pb["data"]["status"], "pending");
    let (code, body) = t.post(&key, &format!("/api/async/cancel/{}", b["data"]["celery_task_id"].as_str().unwrap_or("")), &json!({})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["status"], "cancelled");

    let started = Instant::now();
    let (code, body) = t.post(&key, &format!("/api/async/cancel/{a_id}"), &json!({})).await;
    assert_eq!(code, 200, "{body}");
    let d = t.wait_terminal(&key, &a_id, 5).await;
    assert_eq!(d["status"], "cancelled");
    assert!(started.elapsed() < Duration::from_secs(1), "cancelled within a second");
    // The worker is free again within a second: the renderer stopped between frames.
    let deadline = Instant::now() + Duration::from_secs(2);
    while t.server.state().jobs.active() > 0 {
        assert!(Instant::now() < deadline, "render thread still running after cancel");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, pb) = t.get(&key, &format!("{CORE}/progress/{b_id}")).await;
    assert_eq!(pb["data"]["status"], "cancelled", "B never ran");
    assert!(!dir.path().join("outputs").join(format!("{a_id}.mp4")).exists());
    assert!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp").next().is_none(), "partial output removed");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_without_progress_ends_timeout() {
    let (url, _hole) = black_hole().await;
    let dir = tempfile::tempdir().expect("tmp");
    let config = relaxed(dir.path()).with_inactivity_timeout(Duration::from_millis(800));
    let t = TestServer::start(config).await;
    let key = t.key("k", Plan::Pro);
    let (code, body) = t.post(&key, &format!("{CORE}/simple-video"), &image_video(&url, 1.0)).await;
    assert_eq!(code, 200, "{body}");
    let id = body["data"]["id"].as_str().expect("id").to_string();
    let started = Instant::now();
    let d = t.wait_terminal(&key, &id, 10).await;
    assert_eq!(d["status"], "timeout", "{d}");
    assert!(d["error"].as_str().is_some_and(|e| e.contains("inactivity")), "{d}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let (_, u) = t.get(&key, &format!("{CORE}/usage-summary")).await;
    assert_eq!(u["data"]["totals"]["timeout"], 1);
    t.server.stop().await;
}

/// Records what it saw and answers a delivery result, as export delivery will.
struct RecordingHook(std::sync::Mutex<Vec<(String, String, bool)>>);

impl samvideo_http::jobs::hooks::TaskHook for RecordingHook {
    fn on_finished(&self, task: &samvideo_http::jobs::hooks::FinishedTask) -> Option<serde_json::Value> {
        let has_exports = task.exports.as_ref().is_some_and(|e| e.callback_url.is_some());
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push((task.id.clone(), task.status.as_str().into(), has_exports));
        Some(json!({"callback": {"status": "delivered", "attempts": 1}}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_hook_sees_exports_and_its_result_shows_in_progress() {
    let dir = tempfile::tempdir().expect("tmp");
    let hook = std::sync::Arc::new(RecordingHook(std::sync::Mutex::new(Vec::new())));
    let server = samvideo_http::server::Server::start_with_hook(relaxed(dir.path()), hook.clone()).await.expect("start");
    let base = format!("http://{}", server.addr());
    let key = support::make_key(dir.path(), "k", Plan::Pro);
    let mut body = image_video("http://127.0.0.1:9/a.png", 1.0);
    body["exports"] = json!({"callback_url": "https://hooks.example.com/done", "callback_secret": "s"});
    let client = reqwest::Client::new();
    let r: serde_json::Value = client.post(format!("{base}{CORE}/simple-video")).header("X-API-Key", &key)
        .body(body.to_string()).send().await.expect("send").json().await.expect("json");
    let id = r["data"]["id"].as_str().expect("id").to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let progress = loop {
        let p: serde_json::Value = client.get(format!("{base}{CORE}/progress/{id}")).header("X-API-Key", &key)
            .send().await.expect("send").json().await.expect("json");
        if p["data"]["settings"].get("export_delivery").is_some() {
            break p;
        }
        assert!(Instant::now() < deadline, "no delivery result: {p}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(progress["data"]["settings"]["export_delivery"]["callback"]["status"], "delivered");
    let seen = hook.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(seen.len(), 1, "called once per terminal state");
    assert_eq!((seen[0].0.as_str(), seen[0].2), (id.as_str(), true));
    assert_eq!(seen[0].1, progress["data"]["status"].as_str().unwrap_or(""));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_preview_answers_preview_failed() {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(dir.path())).await;
    let key = t.key("k", Plan::Pro);
    let (code, body) = t.post(&key, "/api/render/advanced-video", &support::advanced_body("http://127.0.0.1:9/a.png", "preview")).await;
    assert_eq!(code, 500, "{body}");
    assert_eq!(body["error_code"], "PREVIEW_FAILED");
    assert!(body["message"].as_str().is_some_and(|m| m.starts_with("Preview generation failed: ")), "{body}");
    let (_, list) = t.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(list["data"]["count"], 0, "a preview is not a task");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_renders_synchronously_to_a_playable_file() {
    let media = tempfile::tempdir().expect("tmp");
    make_png(&media.path().join("card.png"), 320, 180);
    let (media_base, _m) = serve_dir(media.path()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(dir.path())).await;
    let key = t.key("k", Plan::Pro);
    let (code, body) = t.post(&key, "/api/render/advanced-video", &support::advanced_body(&format!("{media_base}/card.png"), "preview")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["message"], "Preview generated successfully");
    assert_eq!(body["data"]["mode"], "preview");
    let url = body["data"]["preview_url"].as_str().expect("preview_url");
    assert!(url.starts_with(&t.base));
    let bytes = t.client.get(url).send().await.expect("get").bytes().await.expect("body");
    let file = dir.path().join("p.mp4");
    std::fs::write(&file, &bytes).expect("write");
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0"])
        .arg(&file).output().expect("ffprobe");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "av1");
    t.server.stop().await;
}
