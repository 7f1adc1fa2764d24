//! Task lifecycle over real HTTP: a failing render, a real render to a downloadable AV1 MP4,
//! cancel (pending and running), the inactivity timeout.

use std::time::{Duration, Instant};

use crate::support::{black_hole, image_video, relaxed, Media, TestServer, CORE};
use samvideo_core::media::limits::Limits;
use samvideo_http::billing::BillingPlan;
use samvideo_test_support::ffprobe_csv;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_error_ends_failed_with_the_message() {
    let t = TestServer::start_relaxed().await;
    let key = t.key("k", BillingPlan::Pro);
    // Nothing listens on port 9 of loopback: the fetch is refused.
    let (_, d) = t.render(&key, &image_video("http://127.0.0.1:9/a.png", 1.0), 60).await;
    assert_eq!(d["status"], "failed", "{d}");
    let error = d["error"].as_str().expect("an error message");
    assert!(!error.is_empty());
    assert!(d["output_url"].is_null());
    assert!(std::fs::read_dir(t.data_dir.join("tmp")).expect("tmp").next().is_none(), "no temp file left");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_render_download_and_ffprobe_reads_av1() {
    let media = Media::card(320, 180).await;
    let t = TestServer::start_relaxed().await;
    let key = t.key("k", BillingPlan::Pro);
    let (_, d) = t.render(&key, &image_video(&media.url("card.png"), 1.0), 300).await;
    assert_eq!(d["status"], "completed", "{d}");
    assert_eq!(d["progress"], 1.0);
    let url = d["output_url"].as_str().expect("output_url");
    assert!(url.starts_with(&t.base), "absolute from the Host header: {url}");
    assert!(d["settings"]["size_bytes"].as_i64().is_some_and(|n| n > 0));
    assert!(d["settings"]["duration"].as_f64().is_some_and(|s| (s - 1.0).abs() < 0.2), "{d}");
    let bytes = t.download(url).await;
    assert_eq!(bytes.len() as i64, d["settings"]["size_bytes"].as_i64().unwrap_or(-1));
    let file = t.data_dir.join("download.mp4");
    std::fs::write(&file, &bytes).expect("write");
    let probe = ffprobe_csv(&file, "v:0", "stream=codec_name,width,height");
    assert!(probe.starts_with("av1,"), "ffprobe: {probe}");
    // The poster frame: a JPEG at the video's size, served beside the video, listed in the
    // task list too.
    let thumb = d["thumbnail_url"].as_str().expect("thumbnail_url");
    let id = d["id"].as_str().expect("id");
    assert!(thumb.starts_with(&t.base) && thumb.ends_with(&format!("/media/outputs/{id}.jpg")), "{thumb}");
    let jpeg = t.download(thumb).await;
    assert_eq!(&jpeg[..3], &[0xff, 0xd8, 0xff], "a JPEG");
    let poster = t.data_dir.join("poster.jpg");
    std::fs::write(&poster, &jpeg).expect("write");
    assert_eq!(ffprobe_csv(&poster, "v:0", "stream=width,height"), probe.trim_start_matches("av1,"), "video's size");
    let (_, list) = t.get(&key, &format!("{CORE}/tasks")).await;
    let listed = list["data"]["tasks"].as_array().and_then(|a| a.iter().find(|x| x["id"] == id)).cloned();
    assert_eq!(listed.map(|x| x["thumbnail_url"].clone()), Some(json!(thumb)), "{list}");
    assert!(d["subtitles_url"].is_null(), "no captions, no sidecar: {d}");
    t.server.stop().await;
}

/// A captioned render keeps its caption pages as WebVTT (and SubRip) beside the video:
/// `subtitles_url` in the progress data and the task list serves the `.vtt`, the `.srt` sits at
/// the same name; ffprobe reads the downloaded `.vtt`, one cue per page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captioned_render_serves_its_subtitles_beside_the_video() {
    let media = Media::card(320, 180).await;
    let t = TestServer::start_relaxed().await;
    let key = t.key("k", BillingPlan::Pro);
    let mut body = image_video(&media.url("card.png"), 2.0);
    body["transcript_srt"] =
        json!("1\n00:00:00,200 --> 00:00:00,800\nfirst page\n\n2\n00:00:01,000 --> 00:00:01,600\nsecond\n");
    let (id, _) = t.create(&key, &format!("{CORE}/mix-video"), &body).await;
    let d = t.wait_terminal(&key, &id, 300).await;
    assert_eq!(d["status"], "completed", "{d}");
    let url = d["subtitles_url"].as_str().expect("subtitles_url");
    assert!(url.starts_with(&t.base) && url.ends_with(&format!("/media/outputs/{id}.vtt")), "{url}");
    let vtt = String::from_utf8(t.download(url).await).expect("UTF-8");
    assert_eq!(vtt, "WEBVTT\n\n00:00:00.200 --> 00:00:00.800\nfirst page\n\n00:00:01.000 --> 00:00:01.600\nsecond\n\n");
    let file = t.data_dir.join("download.vtt");
    std::fs::write(&file, &vtt).expect("write");
    assert_eq!(ffprobe_csv(&file, "s:0", "packet=pts_time,duration_time"), "0.200000,0.600000\n1.000000,0.600000");
    let srt = String::from_utf8(t.download(&url.replace(".vtt", ".srt")).await).expect("UTF-8");
    assert!(srt.starts_with("1\n00:00:00,200 --> 00:00:00,800\nfirst page\n"), "{srt}");
    let (_, list) = t.get(&key, &format!("{CORE}/tasks")).await;
    let listed = list["data"]["tasks"].as_array().and_then(|a| a.iter().find(|x| x["id"] == id.as_str())).cloned();
    assert_eq!(listed.map(|x| x["subtitles_url"].clone()), Some(json!(url)), "{list}");
    t.server.stop().await;
}

/// `serve --default-codec h264`: requests that name no codec get H.264 + AAC (poster and
/// all); a request's `output_codec` still wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_default_codec_applies_when_a_request_names_none() {
    let media = Media::card(320, 180).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let config = relaxed(tmp.path()).with_default_codec(samvideo_core::VideoCodec::H264);
    let t = TestServer::start(config).await;
    let key = t.key("k", BillingPlan::Pro);
    let plain = image_video(&media.url("card.png"), 0.5);
    let mut av1 = plain.clone();
    av1["settings"] = json!({"output_codec": "av1"});
    for (body, want) in [(plain, "h264"), (av1, "av1")] {
        let (_, d) = t.render(&key, &body, 120).await;
        assert_eq!(d["status"], "completed", "{d}");
        let file = t.data_dir.join(format!("{want}.mp4"));
        std::fs::write(&file, t.download(d["output_url"].as_str().expect("output_url")).await).expect("write");
        assert_eq!(ffprobe_csv(&file, "v:0", "stream=codec_name"), want, "{body}");
        assert!(d["thumbnail_url"].is_string(), "a poster either way: {d}");
    }
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_a_running_and_a_pending_task() {
    let media = Media::card(320, 180).await;
    let t = TestServer::start_relaxed().await;
    let key = t.key("k", BillingPlan::Pro);
    // A held still costs almost nothing to encode (it is re-shown, not encoded again): a
    // zooming one makes every frame new, so the render runs long enough to be cancelled.
    let mut long = image_video(&media.url("card.png"), 30.0);
    long["settings"]["zoom_effect"] = json!(true);
    let simple = format!("{CORE}/simple-video");
    let (a_id, _) = t.create(&key, &simple, &long).await;
    let (b_id, b) = t.create(&key, &simple, &long).await;

    // Wait until A renders frames.
    t.poll(&key, &format!("{CORE}/progress/{a_id}"), 120, "rendering frames (A)", |p| {
        assert!(!p["data"]["status"].as_str().is_some_and(|s| s != "pending" && s != "processing"), "{p}");
        p["data"]["status"] == "processing" && p["data"]["progress"].as_f64().unwrap_or(0.0) > 0.0
    })
    .await;
    // B waits behind A (one worker): cancel it while pending, by its celery id.
    let (_, pb) = t.get(&key, &format!("{CORE}/progress/{b_id}")).await;
    assert_eq!(pb["data"]["status"], "pending");
    let (code, body) =
        t.post(&key, &format!("/api/async/cancel/{}", b["celery_task_id"].as_str().unwrap_or("")), &json!({})).await;
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
    assert!(!t.data_dir.join("outputs").join(format!("{a_id}.mp4")).exists());
    assert!(std::fs::read_dir(t.data_dir.join("tmp")).expect("tmp").next().is_none(), "partial output removed");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_without_progress_ends_timeout() {
    let (url, _hole) = black_hole().await;
    let dir = tempfile::tempdir().expect("tmp");
    // The fetch gives up at 3 s (the default is 30 s), well after the 0.8 s watchdog: a task
    // that ends `failed` by fetch timeout instead still fails this test. Stopping the server
    // waits for the stalled fetch, so a shorter one saves ~8 s of test time.
    let limits = Limits::default().with_fetch_timeout(Duration::from_secs(3));
    let config = relaxed(dir.path()).with_inactivity_timeout(Duration::from_millis(800)).with_media_limits(limits);
    let t = TestServer::start(config).await;
    let key = t.key("k", BillingPlan::Pro);
    let id = t.submit(&key, &image_video(&url, 1.0)).await;
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
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push((
            task.id.clone(),
            task.status.as_str().into(),
            has_exports,
        ));
        Some(json!({"callback": {"status": "delivered", "attempts": 1}}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_hook_sees_exports_and_its_result_shows_in_progress() {
    let dir = tempfile::tempdir().expect("tmp");
    let hook = std::sync::Arc::new(RecordingHook(std::sync::Mutex::new(Vec::new())));
    let t = TestServer::start_with_hook(relaxed(dir.path()), hook.clone()).await;
    let key = t.key("k", BillingPlan::Pro);
    let mut body = image_video("http://127.0.0.1:9/a.png", 1.0);
    body["exports"] = json!({"callback_url": "https://hooks.example.com/done", "callback_secret": "s"});
    let id = t.submit(&key, &body).await;
    let progress = t
        .poll(&key, &format!("{CORE}/progress/{id}"), 60, "showing a delivery result", |p| {
            p["data"]["settings"].get("export_delivery").is_some()
        })
        .await;
    assert_eq!(progress["data"]["settings"]["export_delivery"]["callback"]["status"], "delivered");
    let seen = hook.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(seen.len(), 1, "called once per terminal state");
    assert_eq!((seen[0].0.as_str(), seen[0].2), (id.as_str(), true));
    assert_eq!(seen[0].1, progress["data"]["status"].as_str().unwrap_or(""));
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_preview_answers_preview_failed() {
    let t = TestServer::start_relaxed().await;
    let key = t.key("k", BillingPlan::Pro);
    let (code, body) = t
        .post(&key, "/api/render/advanced-video", &crate::support::advanced_body("http://127.0.0.1:9/a.png", "preview"))
        .await;
    assert_eq!(code, 500, "{body}");
    assert_eq!(body["error_code"], "PREVIEW_FAILED");
    assert!(body["message"].as_str().is_some_and(|m| m.starts_with("Preview generation failed: ")), "{body}");
    let (_, list) = t.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(list["data"]["count"], 0, "a preview is not a task");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_renders_synchronously_to_a_playable_file() {
    let media = Media::card(320, 180).await;
    let t = TestServer::start_relaxed().await;
    let key = t.key("k", BillingPlan::Pro);
    let (code, body) = t
        .post(&key, "/api/render/advanced-video", &crate::support::advanced_body(&media.url("card.png"), "preview"))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["message"], "Preview generated successfully");
    assert_eq!(body["data"]["mode"], "preview");
    let url = body["data"]["preview_url"].as_str().expect("preview_url");
    assert!(url.starts_with(&t.base));
    let file = t.data_dir.join("p.mp4");
    std::fs::write(&file, t.download(url).await).expect("write");
    assert_eq!(ffprobe_csv(&file, "v:0", "stream=codec_name"), "av1");
    t.server.stop().await;
}
