//! Hostile media through the whole service: each bad item ends its task `failed` with a
//! message naming the item and the reason, nothing is left in the temp dir, memory stays
//! small on a decompression bomb, and the next good job still completes. Without
//! `--allow-private-network`, loopback media is refused before any request reaches it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::{relaxed, spawn_app, TestServer};
use axum::body::Body;
use axum::http::{header, Response, StatusCode};
use axum::routing::get;
use samvideo_core::media::limits::Limits;
use samvideo_http::billing::BillingPlan;
use samvideo_test_support::{is_child, peak_rss_kb, report, run_child, test_card_png, test_name};
use serde_json::{json, Value};

/// CRC-32 (IEEE) for PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A valid PNG header announcing `w`x`h` RGBA with a token IDAT: 400 MP of promises in
/// ~70 bytes. A decoder that trusted it would allocate 1.6 GB.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Loopback media server: good, bomb, truncated, mislabelled, missing and slow items; counts
/// every request it sees.
async fn media_server(good: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let png = |bytes: Vec<u8>| {
        move || {
            let bytes = bytes.clone();
            async move {
                Response::builder().header(header::CONTENT_TYPE, "image/png").body(Body::from(bytes)).expect("response")
            }
        }
    };
    let truncated = good[..good.len() / 2].to_vec();
    let counter = hits.clone();
    let app = axum::Router::new()
        .route("/good.png", get(png(good)))
        .route("/bomb.png", get(png(png_bomb(20_000, 20_000))))
        .route("/truncated.png", get(png(truncated)))
        .route("/mislabelled.png", get(png(b"<html><body>Not an image</body></html>".to_vec())))
        .route("/missing.png", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/slow.png",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(20)).await;
                StatusCode::OK
            }),
        )
        .layer(axum::middleware::from_fn(move |req, next: axum::middleware::Next| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                next.run(req).await
            }
        }));
    let (addr, _) = spawn_app(app).await;
    (format!("http://{addr}"), hits)
}

/// A two-item job: a good still first, the item under test at `media_list[1]`.
fn two_items(good: &str, bad: &str) -> Value {
    json!({
        "media_list": [{"type": "image", "url": good, "duration": 1}, {"type": "image", "url": bad, "duration": 1}],
        "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15}
    })
}

/// Runs [`each_bad_item_child`] in a child process: it reads the peak RSS (`VmHWM`), which
/// must be its own, not also that of the other tests in this binary.
#[test]
fn each_bad_item_fails_its_task_by_name_and_a_good_job_still_completes() {
    let run = run_child(&test_name!(each_bad_item_child), &[]);
    eprintln!("decompression bomb: peak RSS grew {} MiB", run.field("growth_mib"));
}

/// Each hostile item fails its task with its name and reason and leaves no temp files; the
/// 20000x20000 PNG header is refused before decoding (peak RSS grows < 300 MiB); a good job
/// still completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by each_bad_item_fails_its_task_by_name_and_a_good_job_still_completes in a child process"]
async fn each_bad_item_child() {
    if !is_child() {
        return;
    }
    let media = tempfile::tempdir().expect("tmp");
    let good_path = media.path().join("good.png");
    test_card_png(&good_path, 320, 180);
    let (base, _) = media_server(std::fs::read(&good_path).expect("png")).await;
    let good = format!("{base}/good.png");

    let dir = tempfile::tempdir().expect("tmp");
    let limits = Limits::default().with_fetch_timeout(Duration::from_secs(2));
    let t = TestServer::start(relaxed(dir.path()).with_media_limits(limits)).await;
    let key = t.key("k", BillingPlan::Pro);

    let before = peak_rss_kb() / 1024;
    let cases = [
        ("bomb.png", "20000x20000 exceeds the 50 MP limit"),
        ("truncated.png", "corrupt image"),
        ("mislabelled.png", "not a supported image"),
        ("missing.png", "HTTP 404"),
        ("slow.png", "timed out after 2 s"),
    ];
    for (name, reason) in cases {
        let bad = format!("{base}/{name}");
        let (_, d) = t.render(&key, &two_items(&good, &bad), 120).await;
        assert_eq!(d["status"], "failed", "{name}: {d}");
        let error = d["error"].as_str().unwrap_or_default();
        eprintln!("{name}: {error}");
        assert!(error.starts_with(&format!("media_list[1] ({bad}): ")), "{name}: names the item and URL: {error:?}");
        assert!(error.contains(reason), "{name}: says why ({reason:?}): {error:?}");
        assert!(d["output_url"].is_null(), "{name}: no output");
        let left: Vec<_> =
            std::fs::read_dir(dir.path().join("tmp")).expect("tmp").flatten().map(|e| e.file_name()).collect();
        assert!(left.is_empty(), "{name}: temp files left behind: {left:?}");
    }
    let growth = (peak_rss_kb() / 1024).saturating_sub(before);
    assert!(growth < 300, "a 20000x20000 header must not be decoded: peak RSS grew {growth} MiB");
    report(&[("growth_mib", growth)]);

    let (_, d) = t.render(&key, &two_items(&good, &good), 120).await;
    assert_eq!(d["status"], "completed", "the service still renders: {d}");
    assert!(d["settings"]["size_bytes"].as_i64().is_some_and(|n| n > 0), "{d}");
    let (code, health) = t.get(&key, "/api/async/health").await;
    assert_eq!(code, 200, "{health}");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_media_is_refused_by_default_before_any_request() {
    let media = tempfile::tempdir().expect("tmp");
    let good_path = media.path().join("good.png");
    test_card_png(&good_path, 320, 180);
    let (base, hits) = media_server(std::fs::read(&good_path).expect("png")).await;
    let port = base.rsplit(':').next().expect("port").to_string();

    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(dir.path()).with_allow_private_network(false)).await;
    let key = t.key("k", BillingPlan::Pro);
    // The same loopback server under spellings a string check would miss.
    for host in ["127.0.0.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "0.0.0.0", "localhost"] {
        let url = format!("http://{host}:{port}/good.png");
        let (_, d) = t.render(&key, &crate::support::simple_body(&url), 120).await;
        assert_eq!(d["status"], "failed", "{host}: {d}");
        let error = d["error"].as_str().unwrap_or_default();
        eprintln!("{host}: {error}");
        assert!(error.starts_with("media_list[0] ("), "{host}: names the item: {error:?}");
        assert!(error.contains("is not allowed"), "{host}: says the address is refused: {error:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the loopback server must see no request at all");
    t.server.stop().await;
}

/// The fuzz finding that aborted the process (an `stsc` box declaring 2.8 G entries), and an
/// MP4 whose box decoder error carries the crate's source location: both given to the real
/// binary with `RUST_BACKTRACE=1` as `video` items. Each task fails with one short line naming
/// the item; no task error, API reply or webhook body holds a build path or a backtrace; the
/// full error goes to the server log with the task id; the next task renders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_mp4s_fail_their_task_in_one_clean_line_and_the_server_renders_on() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/fuzz_video_decode");
    let stsc = std::fs::read(seeds.join("stsc-entry-count-34GB.mp4")).expect("finding");
    // A well-formed file whose sample table lacks its mandatory `stsz` box.
    let mut no_stsz = std::fs::read(seeds.join("h264.mp4")).expect("seed");
    let at = no_stsz.windows(4).position(|w| w == b"stsz").expect("stsz");
    no_stsz[at..at + 4].copy_from_slice(b"zzzz");

    let media = tempfile::tempdir().expect("tmp");
    test_card_png(&media.path().join("good.png"), 320, 180);
    std::fs::write(media.path().join("stsc.mp4"), &stsc).expect("write");
    std::fs::write(media.path().join("no-stsz.mp4"), &no_stsz).expect("write");
    let (base, _files) = crate::support::serve_dir(media.path()).await;
    let hooks: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let seen = hooks.clone();
    let hook_app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap_or_else(|p| p.into_inner()).push(body);
                StatusCode::OK
            }
        }),
    );
    let (hook_addr, _hook) = spawn_app(hook_app).await;

    let dir = tempfile::tempdir().expect("tmp");
    let key = crate::support::make_key(dir.path(), "k", BillingPlan::Pro);
    let (mut child, api, log) =
        crate::support::spawn_server(dir.path(), &[("RUST_BACKTRACE", "1"), ("RUST_LOG", "info,samvideo_core=debug")]);
    let leaks = |what: &str, text: &str| {
        for bad in ["/root/", ".cargo", "registry/src", ".rs:", "backtrace", "(at "] {
            assert!(!text.contains(bad), "{what} shows {bad:?}: {text}");
        }
    };
    for (file, reason) in [
        ("stsc.mp4", "malformed MP4: stsc box declares 2842980207 entries in 28 bytes"),
        ("no-stsz.mp4", "malformed MP4: video track: "),
    ] {
        let url = format!("{base}/{file}");
        let mut body = json!({
            "media_list": [{"type": "video", "url": url}],
            "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15}
        });
        body["exports"] =
            json!({"callback_url": format!("http://{hook_addr}/hook"), "callback_secret": "s3cret-for-test"});
        let (id, _) = api.create(&key, &format!("{}/mix-video", crate::support::CORE), &body).await;
        let d = api.wait_terminal(&key, &id, 120).await;
        assert_eq!(d["status"], "failed", "{file}: {d}");
        let error = d["error"].as_str().unwrap_or_default();
        eprintln!("{file}: {error}");
        assert_eq!(error.lines().count(), 1, "{file}: one line: {error:?}");
        assert!(error.starts_with(&format!("media_list[0] ({url}): {reason}")), "{file}: {error:?}");
        assert!(error.len() < 300, "{file}: short: {error:?}");
        leaks(&format!("{file}: task error"), error);
        for path in [
            format!("{}/progress/{id}", crate::support::CORE),
            format!("/api/async/status/{id}"),
            format!("{}/tasks", crate::support::CORE),
        ] {
            let (code, reply) = api.get(&key, &path).await;
            assert_eq!(code, 200, "{path}: {reply}");
            leaks(&path, &reply.to_string());
        }
        // The log line follows the database write: give the server a moment to print it.
        let logged =
            || log.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|l| l.contains(&id) && l.contains("failed"));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !logged() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(logged(), "{file}: the server log names task {id}");
        if file == "no-stsz.mp4" {
            // The box decoder's whole error, source location included, goes to the log only,
            // inside the task's span.
            let full = log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|l| l.contains("MP4 box decoder error") && l.contains(&id) && l.contains(".rs:"));
            assert!(full, "{file}: the full decoder error is logged with task {id}");
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while hooks.lock().unwrap_or_else(|p| p.into_inner()).len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bodies = hooks.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(bodies.len(), 2, "one video.failed webhook per task: {bodies:?}");
    for b in &bodies {
        assert!(b.contains("video.failed") && b.contains("malformed MP4"), "{b}");
        leaks("webhook body", b);
    }

    let (id, _) = api
        .create(
            &key,
            &format!("{}/simple-video", crate::support::CORE),
            &crate::support::simple_body(&format!("{base}/good.png")),
        )
        .await;
    let d = api.wait_terminal(&key, &id, 120).await;
    assert_eq!(d["status"], "completed", "the server renders on: {d}");
    let _ = child.kill();
    let _ = child.wait();
}
