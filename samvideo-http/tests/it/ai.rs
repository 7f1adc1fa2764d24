//! AI jobs, the credits ledger and video packs over real HTTP: a real server on loopback over
//! a temp SQLite database, a real render by the built-in motion model checked with
//! ffprobe/ffmpeg, and local HTTP servers standing in for Stripe and a third-party provider
//! (they record what they receive).

use std::sync::{Arc, Mutex};

use crate::support::{make_key, relaxed, spawn_app, store_args, Backend, Media, TestServer};
use axum::extract::{Path as AxPath, State as AxState};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use samvideo_http::ai::AiConfig;
use samvideo_http::billing::BillingPlan;
use samvideo_http::config::ServerConfig;
use samvideo_http::packs::{stripe, PacksConfig};
use samvideo_test_support::ffprobe_csv;
use serde_json::{json, Value};

const WHSEC: &str = "whsec_test_secret";

/// The reference's table: id, base credits, capabilities, plans.
const DOCUMENTED: &[(&str, i64, &[&str], &[&str])] = &[
    ("grok-imagine-video", 80, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("grok-video", 180, &["t2v", "i2v"], &["ultimate"]),
    ("hailuo-02-pro", 110, &["t2v"], &["pro", "ultimate"]),
    ("hailuo-2-3-pro", 55, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("hailuo-2-3-standard", 40, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("kling-2-6-standard", 90, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("kling-2-6", 55, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("kling-2-6-audio", 130, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("kling-3-0-pro", 220, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("kling-3-0-standard", 120, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("kling-3-0", 75, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("pixverse-v4-5", 95, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("seedance-1-5-pro-480p", 75, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("seedance-1-5-pro-720p", 120, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("seedance-1-5-pro", 40, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("sora-2-image", 30, &["i2v"], &["basic", "pro", "ultimate"]),
    ("sora-2-pro-image", 150, &["i2v"], &["basic", "pro", "ultimate"]),
    ("sora-2-pro-storyboard", 180, &["storyboard", "t2v", "i2v"], &["ultimate"]),
    ("sora-2-pro-text", 150, &["t2v"], &["basic", "pro", "ultimate"]),
    ("sora-2-pro", 120, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("sora-2-text", 30, &["t2v"], &["basic", "pro", "ultimate"]),
    ("sora-2", 40, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("veo-3-1-fast", 60, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("veo-3-1-quality", 250, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("wan-2-6-1080p", 140, &["t2v", "i2v"], &["pro", "ultimate"]),
    ("wan-2-6-720p", 70, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("wan-2-6", 25, &["t2v", "i2v"], &["basic", "pro", "ultimate"]),
    ("wan-2-6-v2v", 45, &["v2v", "i2v", "edit"], &["basic", "pro", "ultimate"]),
    ("wan-vace", 160, &["t2v", "i2v", "edit"], &["ultimate"]),
];

fn config(dir: &std::path::Path) -> ServerConfig {
    let packs = PacksConfig { stripe_webhook_secret: Some(WHSEC.into()), ..Default::default() };
    relaxed(dir).with_packs(packs)
}

fn key_id(t: &TestServer, name: &str) -> i64 {
    let keys = t.server.state().store.blocking().list_keys().expect("keys");
    keys.into_iter().find(|k| k.name == name).map(|k| k.id).expect("key exists")
}

async fn balance(t: &TestServer, key: &str) -> Value {
    let (code, b) = t.get(key, "/api/ai/credits/balance").await;
    assert_eq!(code, 200, "{b}");
    b
}

async fn wait_job(t: &TestServer, key: &str, id: i64, secs: u64) -> Value {
    t.poll(key, &format!("/api/ai/jobs/{id}"), secs, "done (still running)", |b| b["status"] != "running").await
}

async fn webhook(t: &TestServer, payload: &str, signature: Option<&str>) -> (u16, Value) {
    let mut rb = t.client.post(t.url("/api/video-packs/webhook/")).body(payload.to_string());
    if let Some(s) = signature {
        rb = rb.header("Stripe-Signature", s);
    }
    crate::support::split(rb.send().await.expect("send")).await
}

fn completed_event(event_id: &str, session_id: &str, key_id: i64, pack: &str) -> String {
    json!({
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": session_id,
            "object": "checkout.session",
            "client_reference_id": key_id.to_string(),
            "payment_status": "paid",
            "metadata": {"pack_id": pack}
        }}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_lists_the_documented_models_and_filters_by_type() {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(config(dir.path())).await;
    let key = t.key("k", BillingPlan::Basic);
    let (code, all) = t.get(&key, "/api/ai/models").await;
    assert_eq!(code, 200, "{all}");
    let (code, video) = t.get(&key, "/api/ai/models?type=video").await;
    assert_eq!(code, 200, "{video}");
    let models = video["models"].as_array().expect("models");
    assert_eq!(video["count"], models.len());
    assert_eq!(models.len(), 30, "29 documented video models and samvideo-motion");
    for (id, credits, caps, plans) in DOCUMENTED {
        let m = models.iter().find(|m| m["id"] == *id).unwrap_or_else(|| panic!("{id} is listed"));
        assert_eq!(m["credits"], *credits, "{id}");
        assert_eq!(m["capabilities"], json!(caps), "{id}");
        assert_eq!(m["plans"], json!(plans), "{id}");
        assert_eq!(m["type"], "video");
        assert_eq!(m["available"], false, "{id}: no provider is configured");
        assert_eq!(m["available_on_your_plan"], plans.contains(&"basic"), "{id}");
        assert!(m["options"]["duration_seconds"].is_object(), "{id} declares its durations");
    }
    let motion = models.iter().find(|m| m["id"] == "samvideo-motion").expect("built-in listed");
    assert_eq!(motion["available"], true);
    assert_eq!(motion["options"]["duration_seconds"]["max"], 30.0);
    let (_, image) = t.get(&key, "/api/ai/models?type=image").await;
    assert_eq!(image["count"], 0, "no image model is documented: {image}");
    assert_eq!(all["count"], video["count"].as_u64().unwrap_or(0) + image["count"].as_u64().unwrap_or(0));
    let (code, bad) = t.get(&key, "/api/ai/models?type=audio").await;
    assert_eq!(code, 400, "{bad}");
    assert_eq!(bad["message"], "type must be video or image");
    let r = t.client.get(t.url("/api/ai/models")).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401, "a key is required");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_refusals_404_403_402_503_400_charge_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(config(dir.path())).await;
    let free = t.key("free", BillingPlan::Free);
    let basic = t.key("basic", BillingPlan::Basic);
    let job = |model: &str| json!({"model_id": model, "prompt": "Rainy neon city", "image_urls": ["http://127.0.0.1:9/a.png"]});

    let (code, b) = t.post(&free, "/api/ai/jobs", &job("no-such-model")).await;
    assert_eq!(code, 404, "{b}");
    assert_eq!(b["error_code"], "MODEL_NOT_FOUND");

    let (code, b) = t.post(&basic, "/api/ai/jobs", &job("kling-3-0-pro")).await;
    assert_eq!(code, 403, "pro and ultimate only: {b}");
    assert_eq!(b["success"], false);
    assert_eq!(b["error_code"], "MODEL_NOT_AVAILABLE_ON_PLAN");
    assert!(b["message"].as_str().unwrap_or("").contains("not available on your plan (basic)"), "{b}");

    let (code, b) = t.post(&free, "/api/ai/jobs", &job("samvideo-motion")).await;
    assert_eq!(code, 402, "free has no credits: {b}");
    assert_eq!(
        b,
        json!({"success": false, "message": "Insufficient credits", "credits_required": 10, "credits_remaining": 0})
    );

    let (code, b) = t.post(&basic, "/api/ai/generate", &job("kling-2-6")).await;
    assert_eq!(code, 503, "{b}");
    assert_eq!(b["error_code"], "PROVIDER_UNAVAILABLE");
    assert!(b["message"].as_str().unwrap_or("").contains("provider \"kling\" is not configured"), "{b}");

    let mut bad = job("samvideo-motion");
    bad["options"] = json!({"duration_seconds": 45});
    let (code, b) = t.post(&basic, "/api/ai/jobs", &bad).await;
    assert_eq!(code, 400, "{b}");
    assert_eq!(b["message"], "options.duration_seconds must be between 1 and 30");
    let (code, b) = t.post(&basic, "/api/ai/jobs", &json!({"model_id": "samvideo-motion"})).await;
    assert_eq!(code, 400, "prompt or image_urls required: {b}");
    let (code, b) = t.post_raw(&basic, "/api/ai/jobs", "{not json").await;
    assert_eq!(code, 400);
    assert_eq!(b["message"], "Invalid JSON data");

    let bal = balance(&t, &basic).await;
    assert_eq!(bal["credits_remaining"], 1000, "nothing charged: {bal}");
    assert_eq!(bal["subscription_credits"], 1000);
    assert_eq!(bal["topup_credits"], 0);
    assert_eq!(bal["plan"], "basic");
    let (code, b) = t.get(&basic, "/api/ai/jobs/abc").await;
    assert_eq!((code, b["error_code"].clone()), (400, json!("INVALID_JOB_ID")));
    let (code, _) = t.get(&basic, "/api/ai/jobs/999").await;
    assert_eq!(code, 404);
    t.server.stop().await;
}

/// Decode frame `n` as 64x64 grey bytes with ffmpeg.
fn grey_frame(file: &std::path::Path, n: u32) -> Vec<u8> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args([
            "-vf",
            &format!("select=eq(n\\,{n}),scale=64:64"),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    assert_eq!(out.stdout.len(), 64 * 64, "frame {n} decodes: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (i32::from(*x) - i32::from(*y)).unsigned_abs() as f64).sum::<f64>() / a.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_motion_job_renders_the_asked_duration_and_the_frames_move() {
    let media = Media::card(640, 360).await;
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(config(dir.path())).await;
    let key = t.key("k", BillingPlan::Basic);
    let other = t.key("other", BillingPlan::Basic);
    let body = json!({
        "model_id": "samvideo-motion",
        "prompt": "A test card",
        "image_urls": [media.url("card.png")],
        "options": {"duration_seconds": 2, "aspect_ratio": "1:1", "quality_mode": "draft",
                    "camera_motion": "zoom_in", "motion_strength": 1.0, "caption": true}
    });
    let (code, created) = t.post(&key, "/api/ai/jobs", &body).await;
    assert_eq!(code, 202, "{created}");
    let id = created["job_id"].as_i64().expect("numeric job_id");
    assert_eq!(
        created,
        json!({"success": true, "job_id": id, "status": "running", "credits_charged": 10, "credits_remaining": 990})
    );
    let (code, _) = t.get(&other, &format!("/api/ai/jobs/{id}")).await;
    assert_eq!(code, 404, "another key cannot see the job");

    let done = wait_job(&t, &key, id, 240).await;
    assert_eq!(done["status"], "success", "{done}");
    assert!(done["error_code"].is_null() && done["error_message"].is_null(), "{done}");
    assert_eq!(done["credits_charged"], 10);
    assert!(done["created_at"].is_string() && done["completed_at"].is_string(), "{done}");
    let url = done["result_urls"][0].as_str().expect("a result URL");
    assert!(url.starts_with(&t.base), "{url}");
    let file = dir.path().join("motion.mp4");
    std::fs::write(&file, t.download(url).await).expect("write");
    let stream = ffprobe_csv(&file, "v:0", "stream=codec_name,width,height");
    let duration: f64 = ffprobe_csv(&file, "v:0", "format=duration").parse().unwrap_or(-1.0);
    assert_eq!(stream, "av1,480,480", "AV1, draft 1:1 is 480x480");
    assert!((duration - 2.0).abs() < 0.1, "lasts the asked 2 s: {duration}");
    // 2 s at 15 fps: the camera zooms from the first to the last frame.
    let first = grey_frame(&file, 0);
    let middle = grey_frame(&file, 15);
    let last = grey_frame(&file, 29);
    let (d1, d2) = (mean_abs_diff(&first, &middle), mean_abs_diff(&middle, &last));
    assert!(d1 > 3.0 && d2 > 3.0, "the picture moves: first->middle {d1:.2}, middle->last {d2:.2}");

    let bal = balance(&t, &key).await;
    assert_eq!(bal["credits_remaining"], 990, "a success keeps its charge: {bal}");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_refunded_once() {
    a_failing_job_is_refunded_once_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_refunded_once_on_postgres() {
    a_failing_job_is_refunded_once_on(Backend::Postgres).await;
}

async fn a_failing_job_is_refunded_once_on(backend: Backend) {
    let media = Media::empty().await;
    let dir = tempfile::tempdir().expect("tmp");
    let config = backend.store(config(dir.path()));
    let cli_store = store_args(&config);
    let t = TestServer::start(config).await;
    let key = t.key("k", BillingPlan::Basic);
    // Top-up credits through the admin CLI, the way an operator grants them.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["credits", "grant"])
        .args(&cli_store)
        .args(["--name", "k", "--amount", "25", "--reason", "support ticket 12"])
        .output()
        .expect("samvideo runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("top-up balance now 25"));
    let bal = balance(&t, &key).await;
    assert_eq!((bal["subscription_credits"].clone(), bal["topup_credits"].clone()), (json!(1000), json!(25)));

    let body = json!({"model_id": "samvideo-motion", "image_urls": [media.url("missing.png")],
                      "options": {"duration_seconds": 1, "quality_mode": "draft"}});
    let (code, created) = t.post(&key, "/api/ai/jobs", &body).await;
    assert_eq!(code, 202, "{created}");
    assert_eq!(created["credits_remaining"], 1015);
    let id = created["job_id"].as_i64().expect("id");
    let done = wait_job(&t, &key, id, 60).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error_code"], "MEDIA_ERROR");
    assert!(done["error_message"].as_str().unwrap_or("").contains("404"), "{done}");
    assert_eq!(done["result_urls"], json!([]));
    let bal = balance(&t, &key).await;
    assert_eq!(bal["credits_remaining"], 1025, "refunded: {bal}");
    // The ledger shows each change once: the top-up grant, the monthly grant (on the first
    // balance read), the reserve and the refund.
    let store = &t.server.state().store;
    let kid = key_id(&t, "k");
    let rows = store.blocking().credit_ledger(kid, 100).expect("ledger");
    let kinds: Vec<(String, i64)> = rows.iter().rev().map(|r| (r.kind.clone(), r.amount)).collect();
    let expect: Vec<(String, i64)> = [("grant", 25), ("monthly", 1000), ("reserve", -10), ("refund", 10)]
        .iter()
        .map(|(k, a)| (k.to_string(), *a))
        .collect();
    assert_eq!(kinds, expect);
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_webhook_applies_a_pack_once_and_refuses_bad_signatures() {
    stripe_webhook_applies_a_pack_once_and_refuses_bad_signatures_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_webhook_applies_a_pack_once_and_refuses_bad_signatures_on_postgres() {
    stripe_webhook_applies_a_pack_once_and_refuses_bad_signatures_on(Backend::Postgres).await;
}

async fn stripe_webhook_applies_a_pack_once_and_refuses_bad_signatures_on(backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(backend.store(config(dir.path()))).await;
    let key = t.key("buyer", BillingPlan::Free);
    let kid = key_id(&t, "buyer");
    let payload = completed_event("evt_1", "cs_1", kid, "videos-10");
    let now = chrono::Utc::now().timestamp();

    let (code, b) = webhook(&t, &payload, Some(&stripe::sign(payload.as_bytes(), "whsec_wrong", now))).await;
    assert_eq!(code, 400, "wrong secret: {b}");
    assert_eq!(b["error_code"], "INVALID_SIGNATURE");
    let (code, _) = webhook(&t, &payload, Some(&stripe::sign(payload.as_bytes(), WHSEC, now - 301))).await;
    assert_eq!(code, 400, "outside the 300 s tolerance");
    let (code, _) = webhook(&t, &payload, None).await;
    assert_eq!(code, 400, "no header");
    let tampered = payload.replace("videos-10", "videos-100");
    let good = stripe::sign(payload.as_bytes(), WHSEC, now);
    let (code, _) = webhook(&t, &tampered, Some(&good)).await;
    assert_eq!(code, 400, "a signature does not cover another payload");

    let (code, b) = webhook(&t, &payload, Some(&good)).await;
    assert_eq!(code, 200, "{b}");
    assert_eq!(b["videos_added"], 10);
    let (code, b) = webhook(&t, &payload, Some(&good)).await;
    assert_eq!(code, 200, "a replay is acknowledged: {b}");
    assert_eq!(b["message"], "Already applied");
    let again = completed_event("evt_2", "cs_1", kid, "videos-10");
    let (code, b) = webhook(&t, &again, Some(&stripe::sign(again.as_bytes(), WHSEC, now))).await;
    assert_eq!((code, b["videos_added"].clone()), (200, json!(0)), "same session, new event id: {b}");
    let other = json!({"id": "evt_3", "type": "invoice.paid", "data": {"object": {}}}).to_string();
    let (code, b) = webhook(&t, &other, Some(&stripe::sign(other.as_bytes(), WHSEC, now))).await;
    assert_eq!(code, 200, "{b}");

    let (code, summary) = t.get(&key, "/api/function/video-generation/usage-summary").await;
    assert_eq!(code, 200, "{summary}");
    assert_eq!(summary["data"]["extra_videos"], json!({"purchased": 10, "used": 0, "remaining": 10}));

    // This server has no Stripe secret key: checkout is refused, clearly.
    let (code, b) = t.post(&key, "/api/video-packs/videos-10/buy/", &json!({})).await;
    assert_eq!(code, 503, "{b}");
    for (path, needle) in
        [("/api/video-packs/success/", "Payment received"), ("/api/video-packs/cancel/", "Nothing was charged")]
    {
        let r = t.client.get(t.url(path)).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.text().await.expect("html").contains(needle), "{path}");
    }
    t.server.stop().await;
}

#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<(String, String)>>>);

fn form_pairs(body: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let h = u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex escape");
                    out.push(h);
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).expect("utf-8")
    }
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_sends_stripe_the_documented_form_and_the_webhook_completes_it() {
    // A Stripe-compatible endpoint that records the request.
    let seen = Recorded::default();
    async fn sessions(AxState(seen): AxState<Recorded>, headers: HeaderMap, body: String) -> Json<Value> {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        seen.0.lock().expect("lock").push((auth, body));
        Json(
            json!({"id": "cs_test_123", "object": "checkout.session", "url": "https://checkout.stripe.test/c/pay/cs_test_123"}),
        )
    }
    let app = Router::new().route("/v1/checkout/sessions", post(sessions)).with_state(seen.clone());
    let (addr, _stripe) = spawn_app(app).await;
    let stripe_base = format!("http://{addr}");

    let dir = tempfile::tempdir().expect("tmp");
    let packs = PacksConfig {
        stripe_api_base: stripe_base,
        stripe_secret_key: Some("sk_test_abc".into()),
        stripe_webhook_secret: Some(WHSEC.into()),
        packs: samvideo_http::packs::parse_packs("videos-10=10:900:usd,big=50:3900:eur").expect("packs"),
    };
    let t = TestServer::start(relaxed(dir.path()).with_packs(packs)).await;
    let key = t.key("buyer", BillingPlan::Basic);
    let kid = key_id(&t, "buyer");

    let (code, b) = t.post(&key, "/api/video-packs/nope/buy/", &json!({})).await;
    assert_eq!(code, 404, "{b}");
    assert!(seen.0.lock().expect("lock").is_empty(), "nothing sent for an unknown pack");

    let (code, b) = t.post(&key, "/api/video-packs/big/buy/", &json!({})).await;
    assert_eq!(code, 200, "{b}");
    assert_eq!(b["checkout_url"], "https://checkout.stripe.test/c/pay/cs_test_123");
    assert_eq!(b["session_id"], "cs_test_123");
    let (auth, form) = seen.0.lock().expect("lock")[0].clone();
    assert_eq!(auth, "Bearer sk_test_abc");
    let form = form_pairs(&form);
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(get("mode"), "payment");
    assert_eq!(get("client_reference_id"), kid.to_string());
    assert_eq!(get("metadata[pack_id]"), "big");
    assert_eq!(get("line_items[0][quantity]"), "1");
    assert_eq!(get("line_items[0][price_data][currency]"), "eur");
    assert_eq!(get("line_items[0][price_data][unit_amount]"), "3900");
    assert_eq!(get("line_items[0][price_data][product_data][name]"), "50 extra videos");
    assert_eq!(get("success_url"), format!("{}/api/video-packs/success/?session_id={{CHECKOUT_SESSION_ID}}", t.base));
    assert_eq!(get("cancel_url"), format!("{}/api/video-packs/cancel/", t.base));

    let payload = completed_event("evt_9", "cs_test_123", kid, "big");
    let sig = stripe::sign(payload.as_bytes(), WHSEC, chrono::Utc::now().timestamp());
    let (code, b) = webhook(&t, &payload, Some(&sig)).await;
    assert_eq!((code, b["videos_added"].clone()), (200, json!(50)), "{b}");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_videos_are_spent_after_the_monthly_limit() {
    let media = Media::empty().await;
    let dir = tempfile::tempdir().expect("tmp");
    let t = TestServer::start(config(dir.path()).with_free_monthly_videos(1)).await;
    let key = t.key("free", BillingPlan::Free);
    let kid = key_id(&t, "free");
    // The media 404s: tasks fail fast, but each still counts against the month.
    let body = crate::support::image_video(&media.url("missing.png"), 1.0);
    let create = || t.post(&key, "/api/function/video-generation/simple-video", &body);
    assert_eq!(create().await.0, 200, "the plan's one video");
    let (code, b) = create().await;
    assert_eq!(code, 403, "{b}");
    assert!(b["message"].as_str().unwrap_or("").starts_with("Free tier limit reached"), "{b}");

    let payload = json!({"id": "evt_x", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_x", "client_reference_id": kid.to_string(), "payment_status": "paid", "metadata": {"pack_id": "videos-10"}}}})
    .to_string();
    let (code, _) =
        webhook(&t, &payload, Some(&stripe::sign(payload.as_bytes(), WHSEC, chrono::Utc::now().timestamp()))).await;
    assert_eq!(code, 200);
    for _ in 0..10 {
        let (code, b) = create().await;
        assert_eq!(code, 200, "an extra video is spent: {b}");
    }
    let (code, b) = create().await;
    assert_eq!(code, 403, "all ten spent: {b}");
    let (_, summary) = t.get(&key, "/api/function/video-generation/usage-summary").await;
    assert_eq!(summary["data"]["extra_videos"], json!({"purchased": 10, "used": 10, "remaining": 0}), "{summary}");
    assert_eq!(summary["data"]["monthly_videos"], json!({"limit": 1, "used": 11}), "{summary}");
    t.server.stop().await;
}

#[derive(Clone, Default)]
struct Provider {
    polls: Arc<Mutex<u32>>,
    auth: Arc<Mutex<Vec<String>>>,
    fail: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_http_provider_runs_jobs_and_failures_are_refunded() {
    async fn create(AxState(p): AxState<Provider>, headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
        p.auth
            .lock()
            .expect("lock")
            .push(headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").into());
        assert!(body["options"]["duration_seconds"].is_number(), "defaults are filled in: {body}");
        Json(json!({"id": if p.fail { "ext-fail" } else { "ext-1" }}))
    }
    async fn status(AxState(p): AxState<Provider>, AxPath(id): AxPath<String>) -> Json<Value> {
        let mut n = p.polls.lock().expect("lock");
        *n += 1;
        match (id.as_str(), *n) {
            (_, 1) => Json(json!({"status": "running"})),
            ("ext-1", _) => Json(json!({"status": "success", "result_urls": ["https://cdn.example.com/out-1.mp4"]})),
            _ => Json(json!({"status": "failed", "error_message": "content policy"})),
        }
    }
    let mut bases = Vec::new();
    let mut seen = Vec::new();
    for fail in [false, true] {
        let p = Provider { fail, ..Default::default() };
        seen.push(p.clone());
        let app = Router::new().route("/v1/jobs", post(create)).route("/v1/jobs/{id}", get(status)).with_state(p);
        let (addr, _) = spawn_app(app).await;
        bases.push(format!("http://{addr}/v1"));
    }
    let dir = tempfile::tempdir().expect("tmp");
    let providers = dir.path().join("providers.json");
    std::fs::write(
        &providers,
        json!({"providers": {
            "kling": {"base_url": bases[0], "api_key": "kl-secret", "poll_interval_secs": 0.05},
            "openai": {"base_url": bases[1], "api_key": "oa-secret", "poll_interval_secs": 0.05}
        }})
        .to_string(),
    )
    .expect("write");
    let ai = AiConfig { providers_path: Some(providers), ..Default::default() };
    let t = TestServer::start(config(dir.path()).with_ai(ai)).await;
    let key = make_key(&t.data_dir, "pro", BillingPlan::Pro);

    let (code, created) = t.post(&key, "/api/ai/jobs", &json!({"model_id": "kling_3_0", "prompt": "rain"})).await;
    assert_eq!(code, 202, "the reference's spelling kling_3_0 finds kling-3-0: {created}");
    assert_eq!(created["credits_charged"], 75);
    let done = wait_job(&t, &key, created["job_id"].as_i64().expect("id"), 30).await;
    assert_eq!(done["status"], "success", "{done}");
    assert_eq!(done["model_id"], "kling-3-0");
    assert_eq!(done["result_urls"], json!(["https://cdn.example.com/out-1.mp4"]));

    let (code, created) = t.post(&key, "/api/ai/jobs", &json!({"model_id": "sora-2-text", "prompt": "rain"})).await;
    assert_eq!(code, 202, "{created}");
    assert_eq!(created["credits_remaining"], 5000 - 75 - 30);
    let done = wait_job(&t, &key, created["job_id"].as_i64().expect("id"), 30).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error_code"], "PROVIDER_ERROR");
    assert!(done["error_message"].as_str().unwrap_or("").contains("content policy"), "{done}");
    let bal = balance(&t, &key).await;
    assert_eq!(bal["credits_remaining"], 5000 - 75, "the failed job is refunded: {bal}");
    assert_eq!(
        *seen[0].auth.lock().expect("lock"),
        vec!["Bearer kl-secret".to_string()],
        "each provider gets its own key"
    );
    assert_eq!(*seen[1].auth.lock().expect("lock"), vec!["Bearer oa-secret".to_string()]);

    // The reference's own example: kling_3_0 with quality_mode pro is Kling 3.0 Pro, 220 credits.
    let reference = json!({"model_id": "kling_3_0", "prompt": "Cinematic tracking shot in a rainy neon city",
        "image_urls": ["https://cdn.example.com/source.jpg"],
        "options": {"duration_seconds": 8, "aspect_ratio": "16:9", "quality_mode": "pro", "sound": true, "multiShots": true}});
    let (code, created) = t.post(&key, "/api/ai/jobs", &reference).await;
    assert_eq!(code, 202, "{created}");
    assert_eq!(created["credits_charged"], 220, "{created}");
    let done = wait_job(&t, &key, created["job_id"].as_i64().expect("id"), 30).await;
    assert_eq!(done["model_id"], "kling-3-0-pro", "{done}");
    t.server.stop().await;
}
