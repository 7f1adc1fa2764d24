//! Shared by the HTTP tests: start a real server on 127.0.0.1:0 over a temp data dir, make
//! keys, speak HTTP with reqwest.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::{Client, Response};
use samvideo_http::config::{Plan, Rate, ServerConfig};
use samvideo_http::server::Server;
use samvideo_http::store::{KeyRow, Store};
use serde_json::Value;

/// A running server and a client for it.
pub struct TestServer {
    pub server: Server,
    pub base: String,
    pub client: Client,
    pub data_dir: PathBuf,
}

/// Generous limits so tests that are not about limits never hit them.
pub fn relaxed(dir: &Path) -> ServerConfig {
    ServerConfig::new(dir)
        .with_addr("127.0.0.1:0".parse().expect("addr"))
        .with_rates(Rate::per_minute(1000), Rate::per_minute(1000), Rate::per_minute(1000))
        .with_free_monthly_videos(1000)
        .with_allow_private_network(true)
}

impl TestServer {
    pub async fn start(config: ServerConfig) -> TestServer {
        let data_dir = config.data_dir.clone();
        let server = Server::start(config).await.expect("server starts");
        let base = format!("http://{}", server.addr());
        let client = Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        TestServer { server, base, client, data_dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn key(&self, name: &str, plan: Plan) -> String {
        make_key(&self.data_dir, name, plan)
    }

    pub async fn get(&self, key: &str, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).header("X-API-Key", key).send().await.expect("send");
        split(r).await
    }

    pub async fn post(&self, key: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .header("X-API-Key", key)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("send");
        split(r).await
    }

    pub async fn post_raw(&self, key: &str, path: &str, body: &str) -> (u16, Value) {
        let r = self.client.post(self.url(path)).header("X-API-Key", key).body(body.to_string()).send().await.expect("send");
        split(r).await
    }

    /// Poll progress until a terminal state (or panic after `secs`).
    pub async fn wait_terminal(&self, key: &str, id: &str, secs: u64) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let (code, body) = self.get(key, &format!("/api/function/video-generation/progress/{id}")).await;
            assert_eq!(code, 200, "{body}");
            let status = body["data"]["status"].as_str().unwrap_or_default().to_string();
            if ["completed", "failed", "cancelled", "timeout"].contains(&status.as_str()) {
                return body["data"].clone();
            }
            assert!(std::time::Instant::now() < deadline, "task {id} still {status} after {secs} s: {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub fn make_key(dir: &Path, name: &str, plan: Plan) -> String {
    std::fs::create_dir_all(dir).expect("dir");
    let store = Store::open(&dir.join("samvideo.db")).expect("store");
    store.with(|c| KeyRow::create(c, name, plan)).expect("key").key
}

pub async fn split(r: Response) -> (u16, Value) {
    let code = r.status().as_u16();
    let text = r.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (code, v)
}

/// A tiny valid simple-video body whose media URL is `url`.
pub fn simple_body(url: &str) -> Value {
    serde_json::json!({
        "media_list": [{"type": "image", "url": url, "duration": 1}],
        "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15}
    })
}

/// A tiny valid advanced body.
pub fn advanced_body(url: &str, mode: &str) -> Value {
    serde_json::json!({
        "config": {
            "output_settings": {"aspect_ratio": "16:9", "resolution": "480p", "framerate": 15},
            "media_inputs": {"main_clips": [{"type": "image", "url": url, "duration": 1}]},
            "render_options": {"mode": mode, "quality": "low"}
        }
    })
}

/// An address that accepts connections and never answers: renders fetching from it stall.
pub async fn black_hole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handle = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    (format!("http://{addr}/stall.png"), handle)
}

/// Serve `dir` over HTTP on loopback (media for renders). Returns the base URL.
pub async fn serve_dir(dir: &Path) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), handle)
}

/// Write a `w`x`h` PNG test card with ffmpeg.
pub fn make_png(path: &Path, w: u32, h: u32) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={w}x{h}:rate=1"))
        .args(["-frames:v", "1"])
        .arg(path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg made the PNG");
}

/// A simple-video body showing `url` for `secs` seconds, tiny and fast.
pub fn image_video(url: &str, secs: f64) -> Value {
    serde_json::json!({
        "media_list": [{"type": "image", "url": url, "duration": secs}],
        "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15}
    })
}
