//! The playground (`GET /playground`) and its unauthenticated validate endpoint.
//!
//! - In a real browser: the real `samvideo serve` binary (media from private addresses refused,
//!   so the examples' `bundled:` media cannot come over loopback), a key from `samvideo keys
//!   create`, and `samvideo-http/tests/playground/playground.mjs` driving headless Chromium
//!   with playwright-core (installed by `scripts/setup.sh test`): a shared `#spec=` link shows
//!   its message before any key is entered; an example loads valid; a broken field shows the
//!   validator's message; fixed, rendered with the key, the progress bar fills and the
//!   `<video>` plays. The expected messages come from `samvideo_core::validate` here.
//! - `samvideo render` renders `bundled:` media from the binary too.
//! - Over HTTP: the validate endpoint answers the documented bodies of
//!   `examples/requests/invalid` exactly as the create endpoints do, needs no key, and is
//!   limited per client IP and in body size.

use std::path::{Path, PathBuf};
use std::process::Command;

use samvideo_core::request::Endpoint;
use samvideo_http::bundled::examples::EXAMPLES;
use samvideo_http::config::Rate;
use samvideo_http::routes::playground::ENDPOINTS;
use serde_json::{json, Value};

use crate::support::{relaxed, spawn_server, TestServer};

/// `samvideo-http/tests/playground`.
fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/playground")
}

/// The create path of `endpoint`, as the page calls it.
fn create_path(endpoint: Endpoint) -> &'static str {
    ENDPOINTS.iter().find(|e| e.0 == endpoint).map(|e| e.1).expect("every endpoint is offered")
}

/// The bundled example `name`, with its media as `bundled:` URLs.
fn example(name: &str) -> (Endpoint, Value) {
    let e = EXAMPLES.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("example {name}"));
    (e.endpoint, e.spec().expect("example parses"))
}

/// The message the validator answers for `spec` sent to `endpoint` (it must be refused).
fn refusal(endpoint: Endpoint, spec: &Value) -> String {
    let body = serde_json::to_vec(spec).expect("json");
    let e = samvideo_core::validate::parse_create(endpoint, &body).expect_err("the spec is refused");
    e.message().to_string()
}

/// The spawned server, killed however the test ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_person_validates_renders_and_plays_a_spec_in_headless_chromium() {
    let dir = script_dir();
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "the playground test needs playwright-core: run scripts/setup.sh test (npm ci --prefix {})",
        dir.display()
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let made = Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["keys", "create", "--name", "playground", "--plan", "pro", "--data-dir"])
        .arg(&data)
        .output()
        .expect("keys create");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let key =
        String::from_utf8_lossy(&made.stdout).lines().last().expect("the key is the last line").trim().to_string();
    // Private addresses refused: a `bundled:` file fetched over loopback would fail the render.
    let (child, api, log) = spawn_server(&data, &[("SAMVIDEO_ALLOW_PRIVATE_NETWORK", "false")]);
    let _server = Killed(child);

    // A shared link to a broken social spec.
    let (share_endpoint, mut share) = example("social");
    share["data"]["settings"]["aspect_ratio"] = json!("4:3");
    let share_message = refusal(share_endpoint, &share);
    // The slideshow, broken in one field, then fixed: the render is the example itself.
    let (endpoint, slideshow) = example("slideshow");
    let fps = slideshow["settings"]["fps"].as_u64().expect("the slideshow names its fps");
    let mut broken = slideshow.clone();
    broken["settings"]["fps"] = json!(100);
    let cases = json!({
        "share": {"endpoint": share_endpoint.as_str(), "spec": share.to_string(), "message": share_message},
        "example": "slideshow",
        "endpoint": endpoint.as_str(),
        "edit": {"from": format!("\"fps\": {fps}"), "to": "\"fps\": 100", "message": refusal(endpoint, &broken)},
        "render": serde_json::to_string_pretty(&slideshow).expect("json"),
    });

    let started = std::time::Instant::now();
    let out = Command::new("node")
        .arg(dir.join("playground.mjs"))
        .env("SAMVIDEO_URL", &api.base)
        .env("SAMVIDEO_KEY", &key)
        .env("PLAYGROUND_CASES", cases.to_string())
        .output()
        .expect("node runs (scripts/setup.sh test installs nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}(playground.mjs: {:.1} s)", started.elapsed().as_secs_f64());
    assert!(
        out.status.success() && stdout.contains("playground: all steps passed"),
        "playground.mjs failed:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        log.lock().map(|l| l.join("\n")).unwrap_or_default()
    );
}

/// A spec copied from the playground renders with `samvideo render` too, from an empty folder:
/// its `bundled:` media come from the binary.
#[test]
fn the_cli_renders_bundled_media() {
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = tmp.path().join("spec.json");
    let body = json!({
        "media_list": [{"type": "image", "url": "bundled:slideshow/slide-Ocean.jpg", "duration": 1}],
        "settings": {"output_quality": "low", "fps": 15}
    });
    std::fs::write(&spec, body.to_string()).expect("write");
    let out = tmp.path().join("out.mp4");
    let ran = Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["render", "--quiet", "--endpoint", "simple-video", "-o"])
        .arg(&out)
        .arg(&spec)
        .output()
        .expect("samvideo render");
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let video = samvideo_test_support::ffmpeg::probe(&out, "v:0");
    assert_eq!((video["width"].as_u64(), video["height"].as_u64()), (Some(854), Some(480)), "{video}");
}

/// POST `body` to the validate endpoint of `endpoint`, with no key: (status, Retry-After, body).
async fn validate(t: &TestServer, endpoint: &str, body: impl Into<reqwest::Body>) -> (u16, Option<String>, Value) {
    let r = t
        .client
        .post(t.url(&format!("/api/playground/validate/{endpoint}")))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
    let text = r.text().await.expect("body");
    (status, retry, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_needs_no_key_and_answers_what_the_creates_answer() {
    let t = TestServer::start_relaxed().await;
    let key = t.key("playground", samvideo_http::billing::BillingPlan::Pro);
    for e in EXAMPLES {
        let spec = e.spec().expect("parses").to_string();
        let (status, _, body) = validate(&t, e.endpoint.as_str(), spec).await;
        assert_eq!(status, 200, "{}: {body}", e.name);
        assert_eq!(body, json!({"success": true, "message": format!("Valid {} request", e.endpoint)}));
    }
    let invalid = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/requests/invalid");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(invalid.join("expected.json")).expect("read")).expect("expected.json");
    let expected = expected.as_object().expect("an object");
    assert!(expected.len() >= 19);
    for (file, documented) in expected {
        let endpoint: Endpoint = file.split('.').next().unwrap_or_default().parse().expect("endpoint");
        let body = std::fs::read(invalid.join(file)).expect("read");
        let (status, _, answer) = validate(&t, endpoint.as_str(), body.clone()).await;
        assert_eq!((status, &answer), (400, documented), "{file}");
        let create = create_path(endpoint);
        let (status, created) = t.post_raw(&key, create, &String::from_utf8_lossy(&body)).await;
        assert_eq!((status, &created), (400, documented), "{file}: the create answers the same");
    }
    let (status, _, body) = validate(&t, "movie", "{}").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error_code"], "ENDPOINT_NOT_FOUND");
    assert!(body["message"].as_str().unwrap_or_default().contains("mix-video"), "{body}");

    let page = t.client.get(t.url("/playground")).send().await.expect("send");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/html"));
    let policy = page.headers()["content-security-policy"].to_str().unwrap_or_default().to_string();
    assert!(policy.contains("connect-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = page.text().await.expect("text");
    assert!(html.contains("bundled:slideshow/slide-Ocean.jpg") && html.contains("/api/playground/validate/"));
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_is_limited_per_client_ip_and_in_body_size() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(relaxed(tmp.path()).with_validate_limits(Rate::per_minute(3), 1024)).await;
    let (endpoint, spec) = example("slideshow");
    let spec = spec.to_string();
    assert!(spec.len() < 1024);
    let (status, _, body) = validate(&t, endpoint.as_str(), vec![b' '; 1025]).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["message"], "Request body too large (limit 1024 bytes)");
    assert_eq!(body["error_code"], "PAYLOAD_TOO_LARGE");
    for _ in 0..2 {
        let (status, _, body) = validate(&t, endpoint.as_str(), spec.clone()).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, retry, body) = validate(&t, endpoint.as_str(), spec.clone()).await;
    assert_eq!(status, 429, "the fourth request of the minute: {body}");
    assert_eq!(body["error_code"], "RATE_LIMITED");
    let secs: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&secs), "{secs}");
    t.server.stop().await;
}
