//! Shared by the HTTP tests: start a real server on 127.0.0.1:0 over a temp data dir, make
//! keys, speak HTTP with reqwest, create tasks and poll them until they settle, serve media
//! over loopback. (ffmpeg/ffprobe helpers and test cards: `samvideo-test-support`.)
//!
//! [`Api`] speaks to any samvideo base URL (also the real binary a test spawned);
//! [`TestServer`] is an in-process server plus an [`Api`] for it (it derefs to it).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, Response};
use samvideo_http::billing::BillingPlan;
use samvideo_http::config::{Rate, ServerConfig};
use samvideo_http::jobs::hooks::TaskHook;
use samvideo_http::server::Server;
use samvideo_http::store::{Store, StoreLocation};
use samvideo_test_support::postgres::fresh_database;
use samvideo_test_support::test_card_png;
use serde_json::Value;
use tempfile::TempDir;
use tokio::task::JoinHandle;

/// The core video-generation API's path prefix.
pub const CORE: &str = "/api/function/video-generation";

/// How often the polling helpers ask again.
pub const POLL_EVERY: Duration = Duration::from_millis(50);

/// Task states that never change again.
const TERMINAL: [&str; 4] = ["completed", "failed", "cancelled", "timeout"];

/// A client for one samvideo base URL (`http://127.0.0.1:PORT`).
pub struct Api {
    pub base: String,
    pub client: Client,
}

/// A running in-process server and an [`Api`] for it.
pub struct TestServer {
    pub server: Server,
    pub api: Api,
    pub data_dir: PathBuf,
    /// The data dir when [`TestServer::start_relaxed`] made it (removed on drop).
    _tmp: Option<TempDir>,
}

impl std::ops::Deref for TestServer {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// The store a test server keeps its tables in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The default: `samvideo.db` in the data dir.
    Sqlite,
    /// A fresh database of the test Postgres server.
    Postgres,
}

impl Backend {
    /// `config` with its store on this backend.
    pub fn store(self, config: ServerConfig) -> ServerConfig {
        match self {
            Backend::Sqlite => config,
            Backend::Postgres => config.with_store(StoreLocation::Postgres(fresh_database())),
        }
    }
}

/// The `--data-dir` and `--store` arguments of a CLI subcommand working on `config`'s store.
pub fn store_args(config: &ServerConfig) -> Vec<String> {
    vec![
        "--data-dir".into(),
        config.data_dir.display().to_string(),
        "--store".into(),
        match config.store_location() {
            StoreLocation::Sqlite(path) => format!("sqlite:{}", path.display()),
            StoreLocation::Postgres(url) => url,
        },
    ]
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
        Self::wrap(server, data_dir, None)
    }

    /// A server with [`relaxed`] limits over a fresh temp data dir it owns.
    pub async fn start_relaxed() -> TestServer {
        let tmp = tempfile::tempdir().expect("tmp");
        let server = Server::start(relaxed(tmp.path())).await.expect("server starts");
        Self::wrap(server, tmp.path().to_path_buf(), Some(tmp))
    }

    /// A server whose finished tasks go to `hook` instead of export delivery.
    pub async fn start_with_hook(config: ServerConfig, hook: Arc<dyn TaskHook>) -> TestServer {
        let data_dir = config.data_dir.clone();
        let server = Server::start_with_hook(config, hook).await.expect("server starts");
        Self::wrap(server, data_dir, None)
    }

    fn wrap(server: Server, data_dir: PathBuf, tmp: Option<TempDir>) -> TestServer {
        let api = Api::new(format!("http://{}", server.addr()));
        TestServer { server, api, data_dir, _tmp: tmp }
    }

    /// A new key in the server's own store (whichever backend).
    pub fn key(&self, name: &str, plan: BillingPlan) -> String {
        self.server.state().store.blocking().create_key(name, plan).expect("key").key
    }
}

impl Api {
    pub fn new(base: String) -> Api {
        let client = Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        Api { base, client }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
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
        let r = self
            .client
            .post(self.url(path))
            .header("X-API-Key", key)
            .body(body.to_string())
            .send()
            .await
            .expect("send");
        split(r).await
    }

    /// POST a create request to `path`, assert 200 and return (task id, the reply's `data`).
    pub async fn create(&self, key: &str, path: &str, body: &Value) -> (String, Value) {
        let (code, reply) = self.post(key, path, body).await;
        assert_eq!(code, 200, "{path}: {reply}");
        let id = reply["data"]["id"].as_str().unwrap_or_else(|| panic!("{path}: no data.id in {reply}")).to_string();
        (id, reply["data"].clone())
    }

    /// Create a simple-video task (asserting 200) and return its id.
    pub async fn submit(&self, key: &str, body: &Value) -> String {
        self.create(key, &format!("{CORE}/simple-video"), body).await.0
    }

    /// Create a simple-video task and wait up to `secs` for it to end: (id, progress `data`).
    pub async fn render(&self, key: &str, body: &Value, secs: u64) -> (String, Value) {
        let id = self.submit(key, body).await;
        let done = self.wait_terminal(key, &id, secs).await;
        (id, done)
    }

    /// GET `path` (asserting 200) every [`POLL_EVERY`] until `done(reply)`; return that
    /// reply, or panic after `secs` saying it was still not `what`. `done` may assert, to fail
    /// early on a state the test rules out.
    pub async fn poll(&self, key: &str, path: &str, secs: u64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let (code, body) = self.get(key, path).await;
            assert_eq!(code, 200, "{path}: {body}");
            if done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "{path}: still not {what} after {secs} s: {body}");
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Poll progress until a terminal state (or panic after `secs`); returns its `data`.
    pub async fn wait_terminal(&self, key: &str, id: &str, secs: u64) -> Value {
        let done = |b: &Value| TERMINAL.contains(&b["data"]["status"].as_str().unwrap_or_default());
        let path = format!("{CORE}/progress/{id}");
        self.poll(key, &path, secs, &format!("ended (task {id})"), done).await["data"].clone()
    }

    /// GET an absolute URL (an output link), assert 200 and return the bytes.
    pub async fn download(&self, url: &str) -> Vec<u8> {
        let r = self.client.get(url).send().await.expect("download");
        assert_eq!(r.status().as_u16(), 200, "{url}");
        r.bytes().await.expect("body").to_vec()
    }
}

/// Everything a spawned server wrote to stderr so far, a line each.
pub type ServerLog = Arc<Mutex<Vec<String>>>;

/// Starts the real `samvideo serve` binary over `dir` on a free loopback port, with
/// `extra_env` added to its environment: (the child, an [`Api`] for it, its stderr lines).
pub fn spawn_server(dir: &Path, extra_env: &[(&str, &str)]) -> (Child, Api, ServerLog) {
    let (child, ready, log) = spawn_node("serve", dir, extra_env, "samvideo: listening on ", None);
    (child, Api::new(ready), log)
}

/// Starts the real `samvideo work` binary over `dir` (see [`spawn_server`]): (the child, its
/// stderr lines), once it works.
pub fn spawn_worker(dir: &Path, extra_env: &[(&str, &str)]) -> (Child, ServerLog) {
    spawn_worker_on(dir, extra_env, None)
}

/// [`spawn_worker`], pinned to the one CPU core `core` (`taskset -c CORE samvideo work`) when
/// given: the worker then sees one core, so it runs one encoder per render.
pub fn spawn_worker_on(dir: &Path, extra_env: &[(&str, &str)], core: Option<usize>) -> (Child, ServerLog) {
    let (child, _, log) = spawn_node("work", dir, extra_env, "samvideo: working", core);
    (child, log)
}

/// Starts `samvideo SUBCOMMAND` (under `taskset -c CORE` when `core` is given; taskset execs
/// it, so the child's pid is the node's) and waits for the stderr line starting with `ready`:
/// (the child, the rest of that line, all stderr lines).
fn spawn_node(
    subcommand: &str,
    dir: &Path,
    extra_env: &[(&str, &str)],
    ready: &str,
    core: Option<usize>,
) -> (Child, String, ServerLog) {
    let bin = env!("CARGO_BIN_EXE_samvideo");
    let mut cmd = match core {
        Some(core) => {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", &core.to_string(), bin]);
            cmd
        }
        None => Command::new(bin),
    };
    cmd.arg(subcommand)
        .env("SAMVIDEO_ADDR", "127.0.0.1:0")
        .env("SAMVIDEO_DATA_DIR", dir)
        .env("SAMVIDEO_ALLOW_PRIVATE_NETWORK", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn samvideo {subcommand}: {e}"));
    let stderr = child.stderr.take().expect("stderr");
    let log: ServerLog = Arc::default();
    let lines = log.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let ready = ready.to_string();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix(&ready) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(rest.trim().to_string());
                }
            }
            lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    });
    let Ok(rest) = rx.recv_timeout(Duration::from_secs(30)) else {
        let _ = child.kill();
        panic!("samvideo {subcommand} did not start: {:?}", log.lock().unwrap_or_else(|p| p.into_inner()));
    };
    (child, rest, log)
}

pub fn make_key(dir: &Path, name: &str, plan: BillingPlan) -> String {
    std::fs::create_dir_all(dir).expect("dir");
    let store = Store::open(&dir.join("samvideo.db")).expect("store");
    store.blocking().create_key(name, plan).expect("key").key
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
pub async fn black_hole() -> (String, JoinHandle<()>) {
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

/// Serve `app` on a free loopback port until the test ends.
pub async fn spawn_app(app: axum::Router) -> (SocketAddr, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, handle)
}

/// Serve `dir` over HTTP on loopback (media for renders). Returns the base URL.
pub async fn serve_dir(dir: &Path) -> (String, JoinHandle<()>) {
    let (addr, handle) =
        spawn_app(axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir))).await;
    (format!("http://{addr}"), handle)
}

/// A temp dir of media served over loopback for as long as this lives.
pub struct Media {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub dir: TempDir,
    _server: JoinHandle<()>,
}

impl Media {
    /// An empty dir: every URL answers 404.
    pub async fn empty() -> Media {
        let dir = tempfile::tempdir().expect("tmp");
        let (base, server) = serve_dir(dir.path()).await;
        Media { base, dir, _server: server }
    }

    /// A dir holding `card.png`, a `w`x`h` test card.
    pub async fn card(w: u32, h: u32) -> Media {
        let media = Media::empty().await;
        test_card_png(&media.dir.path().join("card.png"), w, h);
        media
    }

    /// The URL of `name` in the dir.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }
}

/// A simple-video body showing `url` for `secs` seconds, tiny and fast.
pub fn image_video(url: &str, secs: f64) -> Value {
    serde_json::json!({
        "media_list": [{"type": "image", "url": url, "duration": secs}],
        "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15}
    })
}
