//! API nodes and render workers as separate processes (the real binary) on a real Postgres and
//! a real S3-compatible server (moto), both started by the tests on loopback: an API node with
//! `--workers 0` and `samvideo work` render a spec to the same bytes as `samvideo render`,
//! served with Range from the bucket; a worker frozen (`SIGSTOP`) past its lease keeps nothing
//! when it resumes while another worker completes the task once; a worker killed (`kill -9`)
//! mid-render leaves a task another worker completes; an API node killed mid-create leaves one
//! task per request for a retry on another node; split renders survive a part worker or a
//! coordinator killed, and a part worker frozen in its render or in its commit. Leases are 2 s
//! here, so rescues take seconds; renders are tiny.

use std::collections::BTreeMap;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::get;
use samvideo_http::billing::BillingPlan;
use samvideo_http::store::{Store, StoreLocation, TaskStatus};
use samvideo_test_support::postgres::fresh_database;
use samvideo_test_support::s3::{fresh_bucket, list_keys, AWS_ENV};
use samvideo_test_support::{duration_secs, ffprobe_csv, solid_png, test_card_png, write_wav};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::support::{
    advanced_body, image_video, spawn_app, spawn_server, spawn_worker, spawn_worker_on, Api, ServerLog, CORE,
};

/// A shared store and bucket, and the environment every node of a test gets.
struct Cluster {
    env: Vec<(String, String)>,
    bucket: String,
    key: String,
    dirs: tempfile::TempDir,
    children: Vec<Child>,
}

impl Cluster {
    fn new() -> Cluster {
        let url = fresh_database();
        let (endpoint, bucket) = fresh_bucket();
        let store = Store::connect(&StoreLocation::Postgres(url.clone())).expect("store");
        let key = store.blocking().create_key("k", BillingPlan::Pro).expect("key").key;
        let mut env: Vec<(String, String)> = vec![
            ("SAMVIDEO_STORE".into(), url),
            ("SAMVIDEO_OBJECTS".into(), format!("s3://{bucket}")),
            ("SAMVIDEO_S3_ENDPOINT".into(), endpoint),
            ("SAMVIDEO_LEASE_SECONDS".into(), "2".into()),
        ];
        env.extend(AWS_ENV.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Cluster { env, bucket, key, dirs: tempfile::tempdir().expect("tmp"), children: Vec::new() }
    }

    fn env<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        env.extend_from_slice(extra);
        env
    }

    /// An API node that renders nothing.
    fn api(&mut self) -> Api {
        self.api_named("api", &[])
    }

    /// An API node that renders nothing, named `name` (its data dir), with `extra` settings.
    fn api_named(&mut self, name: &str, extra: &[(&str, &str)]) -> Api {
        let dir = self.dirs.path().join(name);
        let mut env = self.env(&[("SAMVIDEO_WORKERS", "0")]);
        env.extend_from_slice(extra);
        let (child, api, _) = spawn_server(&dir, &env);
        self.children.push(child);
        api
    }

    /// A new key of `plan` in the shared store.
    fn key(&self, plan: BillingPlan) -> String {
        let url = &self.env[0].1;
        let store = Store::connect(&StoreLocation::Postgres(url.clone())).expect("store");
        store.blocking().create_key("another", plan).expect("key").key
    }

    /// A render worker named `name` (its data dir): its pid and log.
    fn worker(&mut self, name: &str) -> (u32, ServerLog) {
        self.worker_with(name, &[])
    }

    /// A render worker named `name` with `extra` settings: its pid and log.
    fn worker_with(&mut self, name: &str, extra: &[(&str, &str)]) -> (u32, ServerLog) {
        self.worker_on(name, extra, None)
    }

    /// [`Cluster::worker_with`], pinned to the CPU core `core` with `taskset` when given.
    fn worker_on(&mut self, name: &str, extra: &[(&str, &str)], core: Option<usize>) -> (u32, ServerLog) {
        let dir = self.dirs.path().join(name);
        let (child, log) = spawn_worker_on(&dir, &self.env(extra), core);
        let pid = child.id();
        self.children.push(child);
        (pid, log)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill").args([sig, &pid.to_string()]).status().is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A media server whose image is held back until [`Gate::open`]: a render that fetches it is
/// stopped mid-render, where the test wants it. `hits` counts the requests that arrived.
struct Gate {
    url: String,
    hits: Arc<AtomicUsize>,
    open: watch::Sender<bool>,
}

impl Gate {
    async fn new() -> Gate {
        let dir = tempfile::tempdir().expect("tmp");
        test_card_png(&dir.path().join("card.png"), 64, 36);
        let png = Bytes::from(std::fs::read(dir.path().join("card.png")).expect("png"));
        let hits = Arc::new(AtomicUsize::new(0));
        let (open, opened) = watch::channel(false);
        let counter = hits.clone();
        let app = axum::Router::new().route(
            "/card.png",
            get(move || {
                let (png, mut opened, counter) = (png.clone(), opened.clone(), counter.clone());
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = opened.wait_for(|o| *o).await;
                    ([("content-type", "image/png")], png)
                }
            }),
        );
        let (addr, _server) = spawn_app(app).await;
        Gate { url: format!("http://{addr}/card.png"), hits, open }
    }

    async fn wait_for_hit(&self, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.hits.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "no worker fetched the media within {secs} s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn open(&self) {
        self.open.send_replace(true);
    }
}

/// A webhook receiver on loopback that records each delivery: its `X-Samautomation-Delivery`
/// id and its body.
struct Hook {
    url: String,
    seen: Arc<std::sync::Mutex<Vec<(String, String)>>>,
    _server: tokio::task::JoinHandle<()>,
}

impl Hook {
    async fn new() -> Hook {
        let seen: Arc<std::sync::Mutex<Vec<(String, String)>>> = Arc::default();
        let record = seen.clone();
        let receiver = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let record = record.clone();
                async move {
                    let id = headers.get("x-samautomation-delivery").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    record.lock().unwrap_or_else(|p| p.into_inner()).push((id.to_string(), body));
                    "ok"
                }
            }),
        );
        let (addr, server) = spawn_app(receiver).await;
        Hook { url: format!("http://{addr}/hook"), seen, _server: server }
    }

    /// The delivery ids of the deliveries whose body names the task `id` (one per delivery).
    fn ids_for(&self, id: &str) -> Vec<String> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.iter().filter(|(_, body)| body.contains(id)).map(|(d, _)| d.clone()).collect()
    }

    /// Wait until `api` shows the webhook of task `id` delivered (so no retry follows), then
    /// assert every delivery that arrived for it carried one delivery id.
    async fn delivered_once(&self, api: &Api, key: &str, id: &str) {
        let path = format!("{CORE}/progress/{id}");
        let done = |b: &Value| b["data"]["settings"]["export_delivery"]["callback"]["status"] == "delivered";
        api.poll(key, &path, 30, &format!("delivered (webhook of {id})"), done).await;
        let mut ids = self.ids_for(id);
        assert!(!ids.is_empty(), "no delivery arrived for {id}");
        ids.dedup();
        assert_eq!(ids.len(), 1, "one delivery id for {id}: {ids:?}");
    }
}

/// Assert `api` shows the account of `key` charged one video and holding one task (a split
/// video's parts are neither counted nor listed).
async fn charged_once(api: &Api, key: &str) {
    let (code, usage) = api.get(key, &format!("{CORE}/usage-summary")).await;
    assert_eq!(code, 200, "{usage}");
    let usage = if usage["data"].is_object() { usage["data"].clone() } else { usage };
    assert_eq!(usage["monthly_videos"]["used"], 1, "one quota charge: {usage}");
    assert_eq!(usage["totals"]["tasks"], 1, "one task: {usage}");
}

async fn wait_log(log: &ServerLog, needles: &[&str], secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let found = log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|l| needles.iter().any(|n| l.contains(n)))
            .cloned();
        if let Some(line) = found {
            return line;
        }
        let all = log.lock().unwrap_or_else(|p| p.into_inner()).join("\n");
        assert!(Instant::now() < deadline, "no {needles:?} in the log within {secs} s:\n{all}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_node_and_a_worker_on_postgres_and_s3_render_the_bytes_of_a_local_render() {
    let started = Instant::now();
    let media = crate::support::Media::card(64, 36).await;
    let mut cluster = Cluster::new();
    let api = cluster.api();
    cluster.worker("worker");
    let spec = image_video(&media.url("card.png"), 1.0);
    let (id, d) = api.render(&cluster.key, &spec, 120).await;
    assert_eq!(d["status"], "completed", "{d}");
    let url = d["output_url"].as_str().expect("output_url");
    assert!(url.ends_with(&format!("/media/outputs/{id}.mp4")), "{url}");
    let served = api.download(url).await;
    assert_eq!(served.len() as i64, d["settings"]["size_bytes"].as_i64().unwrap_or(-1));
    let keys = list_keys(&cluster.bucket);
    assert_eq!(keys, [format!("outputs/{id}.jpg"), format!("outputs/{id}.mp4")], "video and poster in the bucket");

    // The same spec rendered by `samvideo render` on this machine: the same bytes.
    let spec_file = cluster.dirs.path().join("spec.json");
    std::fs::write(&spec_file, spec.to_string()).expect("spec");
    let local = cluster.dirs.path().join("local.mp4");
    let out = Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["render", "--quiet", "--allow-private-network", "--endpoint", "simple-video", "-o"])
        .arg(&local)
        .arg(&spec_file)
        .output()
        .expect("samvideo render");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sha256(&served), sha256(&std::fs::read(&local).expect("local render")));

    // Range requests, answered from the bucket like ServeDir answers them from a folder.
    let r = api.client.get(url).header("Range", "bytes=100-199").send().await.expect("range");
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes 100-199/{}", served.len()).as_str());
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(r.bytes().await.expect("body").as_ref(), &served[100..200]);
    let r = api.client.get(url).header("Range", format!("bytes={}-", served.len())).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 416);
    assert_eq!(r.headers()["content-range"], format!("bytes */{}", served.len()).as_str());
    let thumb = api.download(d["thumbnail_url"].as_str().expect("thumbnail_url")).await;
    assert_eq!(&thumb[..3], &[0xff, 0xd8, 0xff], "a JPEG");
    let missing = api.client.get(api.url("/media/outputs/none.mp4")).send().await.expect("send");
    assert_eq!(missing.status().as_u16(), 404);
    eprintln!("api node + worker on Postgres + S3: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_frozen_past_its_lease_keeps_nothing_and_the_task_completes_once() {
    let started = Instant::now();
    let gate = Gate::new().await;
    let mut cluster = Cluster::new();
    let api = cluster.api();
    let (frozen, frozen_log) = cluster.worker("a");
    let id = api.submit(&cluster.key, &image_video(&gate.url, 1.0)).await;
    gate.wait_for_hit(30).await;
    signal(frozen, "-STOP");
    cluster.worker("b");
    gate.open();
    let d = api.wait_terminal(&cluster.key, &id, 60).await;
    assert_eq!(d["status"], "completed", "{d}");
    let url = d["output_url"].as_str().expect("output_url");
    assert!(url.ends_with(&format!("/media/outputs/{id}-2.mp4")), "the second attempt's output: {url}");

    // Resumed, the frozen worker finds the task gone: its heartbeat's renewal is refused and
    // it stops the render ("nothing kept"; what every run here showed), or, if its render
    // ends first, its fenced commit is refused and its objects deleted ("result refused"; that
    // refusal itself is `store::leases`). Either way nothing of attempt 1 stays.
    signal(frozen, "-CONT");
    let line = wait_log(&frozen_log, &["nothing kept", "result refused"], 30).await;
    assert!(line.contains(&id), "{line}");
    eprintln!("the frozen worker, resumed: {line}");
    let keys = list_keys(&cluster.bucket);
    assert_eq!(keys, [format!("outputs/{id}-2.jpg"), format!("outputs/{id}-2.mp4")], "nothing of attempt 1 kept");
    let (_, status) = api.get(&cluster.key, &format!("/api/async/status/{id}")).await;
    assert_eq!(
        (status["data"]["status"].as_str(), status["data"]["attempts"].as_i64()),
        (Some("completed"), Some(2)),
        "{status}"
    );
    let again = api.wait_terminal(&cluster.key, &id, 5).await;
    assert_eq!(again["output_url"], d["output_url"], "completed once");
    eprintln!("SIGSTOP past the lease: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_worker_is_killed_mid_render_completes_on_another() {
    let started = Instant::now();
    let gate = Gate::new().await;
    let mut cluster = Cluster::new();
    let api = cluster.api();
    let (killed, _) = cluster.worker("a");
    let id = api.submit(&cluster.key, &image_video(&gate.url, 1.0)).await;
    gate.wait_for_hit(30).await;
    signal(killed, "-KILL");
    cluster.worker("b");
    gate.open();
    let d = api.wait_terminal(&cluster.key, &id, 60).await;
    assert_eq!(d["status"], "completed", "{d}");
    assert!(d["output_url"].as_str().is_some_and(|u| u.ends_with(&format!("{id}-2.mp4"))), "{d}");
    assert_eq!(list_keys(&cluster.bucket).len(), 2, "one video, one poster");
    eprintln!("kill -9 mid-render: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn a_bucket_that_cannot_be_used_stops_the_start_naming_the_flag() {
    let (endpoint, _) = fresh_bucket();
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["work", "--objects", "s3://no-such-bucket", "--s3-endpoint", &endpoint, "--data-dir"])
        .arg(dir.path())
        .envs(AWS_ENV)
        .output()
        .expect("samvideo work");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let want = format!("cannot use the object store s3://no-such-bucket (--objects, --s3-endpoint {endpoint}): ");
    assert!(stderr.contains(&want), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["work", "--workers", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("samvideo work");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid workers 0 for samvideo work"));
}

/// On one machine without Postgres or S3: an API node and a worker share the SQLite file and
/// the folder of objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_node_and_a_worker_share_sqlite_and_a_folder_on_one_machine() {
    let media = crate::support::Media::card(64, 36).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let shared = dirs.path().join("shared");
    std::fs::create_dir_all(&shared).expect("dir");
    let key = crate::support::make_key(&shared, "k", BillingPlan::Pro);
    let store = format!("sqlite:{}", shared.join("samvideo.db").display());
    let objects = format!("file:{}", shared.display());
    let env = [("SAMVIDEO_STORE", store.as_str()), ("SAMVIDEO_OBJECTS", objects.as_str())];
    let (mut api_child, api, _) = spawn_server(&dirs.path().join("api"), &[env[0], env[1], ("SAMVIDEO_WORKERS", "0")]);
    let (mut worker_child, _) = spawn_worker(&dirs.path().join("worker"), &env);
    let (id, d) = api.render(&key, &image_video(&media.url("card.png"), 1.0), 120).await;
    assert_eq!(d["status"], "completed", "{d}");
    let served = api.download(d["output_url"].as_str().expect("output_url")).await;
    let kept = std::fs::read(shared.join("outputs").join(format!("{id}.mp4"))).expect("in the shared folder");
    assert_eq!(served, kept);
    for c in [&mut api_child, &mut worker_child] {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// What 20 concurrent simple-video creates of `key`, alternating between `nodes`, were
/// answered: (status, body, `Retry-After`) each.
async fn creates_at_once(nodes: &[&Api], key: &str) -> Vec<(u16, serde_json::Value, Option<String>)> {
    let body = image_video("http://127.0.0.1:9/never-fetched.png", 1.0).to_string();
    let creates: Vec<_> = (0..20)
        .map(|n| {
            let node = nodes[n % nodes.len()];
            let request = node
                .client
                .post(node.url(&format!("{CORE}/simple-video")))
                .header("X-API-Key", key)
                .header("Content-Type", "application/json")
                .body(body.clone());
            tokio::spawn(async move {
                let r = request.send().await.expect("send");
                let retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
                let (code, body) = crate::support::split(r).await;
                (code, body, retry_after)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for c in creates {
        answers.push(c.await.expect("join"));
    }
    answers
}

/// Issue 19's acceptance for shared limits, on real processes: two API nodes (each its own
/// `samvideo serve`) on one Postgres. A free key's 20 concurrent creates get exactly its 5
/// videos a month (the rest the documented 403), and a pro key's 20 get exactly the default
/// 5 a minute (the rest 429 with `Retry-After`); an `Idempotency-Key` create repeated on the
/// other node answers the first node's task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_nodes_admit_exactly_the_quota_and_the_rate_limit() {
    let started = Instant::now();
    let mut cluster = Cluster::new();
    let high = [("SAMVIDEO_CORE_RATE", "1000")];
    let (a, b) = (cluster.api_named("a", &high), cluster.api_named("b", &high));

    // Quota: a free key, a rate limit out of the way.
    let free = cluster.key(BillingPlan::Free);
    let answers = creates_at_once(&[&a, &b], &free).await;
    let accepted: Vec<_> = answers.iter().filter(|(code, ..)| *code == 200).collect();
    let refused: Vec<_> = answers.iter().filter(|(code, ..)| *code == 403).collect();
    assert_eq!((accepted.len(), refused.len()), (5, 15), "{answers:?}");
    let quota = serde_json::json!({
        "success": false,
        "message": "Free tier limit reached. You can generate 5 videos per month. Please upgrade to a paid plan for more videos.",
        "upgrade_url": "/subscription/plans/",
    });
    for (_, body, _) in &refused {
        assert_eq!(body, &quota, "the documented quota payload");
    }
    let (_, listed) = b.get(&free, &format!("{CORE}/tasks")).await;
    let stored = listed["data"]["tasks"].as_array().map_or(0, Vec::len);
    assert_eq!(stored, 5, "5 tasks stored: {listed}");

    // The same Idempotency-Key on the other node: the first node's task, nothing charged.
    let pro = cluster.key(BillingPlan::Pro);
    let once = |node: &Api| {
        let request = node
            .client
            .post(node.url(&format!("{CORE}/simple-video")))
            .header("X-API-Key", &pro)
            .header("Idempotency-Key", "order-19")
            .body(image_video("http://127.0.0.1:9/x.png", 1.0).to_string());
        async move {
            let (code, body) = crate::support::split(request.send().await.expect("send")).await;
            assert_eq!(code, 200, "{body}");
            body["data"]["id"].as_str().expect("id").to_string()
        }
    };
    let first = once(&a).await;
    assert_eq!(once(&b).await, first, "a retry on node b answers node a's task");
    let (_, listed) = a.get(&pro, &format!("{CORE}/tasks")).await;
    assert_eq!(listed["data"]["tasks"].as_array().map_or(0, Vec::len), 1, "stored once: {listed}");

    // Rate: a fresh pro key (500 videos a month; the key above has 2 creates counted in
    // this minute already, a replay counts too) on two nodes with the default 5 a minute.
    let (c, d) = (cluster.api_named("c", &[]), cluster.api_named("d", &[]));
    let answers = creates_at_once(&[&c, &d], &cluster.key(BillingPlan::Pro)).await;
    let accepted = answers.iter().filter(|(code, ..)| *code == 200).count();
    let limited: Vec<_> = answers.iter().filter(|(code, ..)| *code == 429).collect();
    assert_eq!((accepted, limited.len()), (5, 15), "{answers:?}");
    for (_, body, retry_after) in &limited {
        let secs: u64 = retry_after.as_deref().and_then(|s| s.parse().ok()).expect("Retry-After in seconds");
        assert!((1..=60).contains(&secs), "{secs}");
        assert_eq!(body["success"], false);
        assert_eq!(body["message"], format!("Rate limit exceeded. Try again in {secs} seconds."), "{body}");
        assert_eq!(body["error_code"], "RATE_LIMITED");
    }
    eprintln!("quota and rate across two API nodes: {:.1} s", started.elapsed().as_secs_f64());
}

/// A proxy to the node at `node` (`host:port`) for one connection: it passes the request on
/// and, as soon as the node's answer starts to arrive, kills the node (`kill -9` of `pid`) and
/// closes the connection without passing anything back. A create's answer is written after its
/// transaction committed: the node did the work, its client never learns it.
async fn killing_proxy(node: String, pid: u32) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let Ok((mut client, _)) = listener.accept().await else { return };
        let mut upstream = tokio::net::TcpStream::connect(&node).await.expect("connect to the node");
        let (mut request, mut answer) = (vec![0u8; 64 * 1024], [0u8; 1]);
        loop {
            tokio::select! {
                n = client.read(&mut request) => match n {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if upstream.write_all(&request[..n]).await.is_err() {
                            return;
                        }
                    }
                },
                _ = upstream.read(&mut answer) => {
                    signal(pid, "-KILL");
                    return;
                }
            }
        }
    });
    format!("http://{addr}")
}

/// Issue 19: `kill -9` of an API node mid-request. Two API nodes and a worker on Postgres + S3;
/// node A is killed while it handles two creates, each with an `Idempotency-Key`: one whose
/// transaction waits for its account's lock (held here, as a concurrent create would hold it),
/// and one A committed but whose answer never reached its client. Both clients retry on node B
/// with the same key: each request makes exactly one task, one output, one quota charge and
/// one webhook delivery id, and B serves them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_node_killed_mid_create_leaves_one_task_per_request_for_the_retry_on_another() {
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    let media = crate::support::Media::card(64, 36).await;
    let hook = Hook::new().await;
    let mut cluster = Cluster::new();
    let a = cluster.api_named("api-a", &[]);
    let a_child = cluster.children.len() - 1;
    let a_pid = cluster.children[a_child].id();
    let b = cluster.api_named("api-b", &[]);
    cluster.worker("worker");
    let mut spec = image_video(&media.url("card.png"), 1.0);
    spec["exports"] = serde_json::json!({"callback_url": hook.url});
    let spec = spec.to_string();
    let create = |api: &Api, key: &str, once: &str| {
        api.client
            .post(api.url(&format!("{CORE}/simple-video")))
            .header("X-API-Key", key)
            .header("Idempotency-Key", once)
            .header("Content-Type", "application/json")
            .body(spec.clone())
    };
    let (answered, waiting) = (cluster.key.clone(), cluster.key(BillingPlan::Pro));

    // The account of `waiting` locked (a key share lock: A authenticates the key, then the
    // create's transaction waits at its first statement, the account's FOR UPDATE).
    let url = cluster.env[0].1.clone();
    let store = Store::connect(&StoreLocation::Postgres(url.clone())).expect("store");
    let key_id = store.authenticate(&waiting).await.expect("auth").expect("key").id;
    let (mut holder, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let (watcher, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let lock = holder.transaction().await.expect("begin");
    lock.execute("SELECT id FROM api_keys WHERE id = $1 FOR KEY SHARE", &[&key_id]).await.expect("lock");
    let stuck = tokio::spawn(create(&a, &waiting, "order-waiting").send());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = watcher
            .query(
                "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
                &[],
            )
            .await
            .expect("pg_stat_activity");
        if let Some(row) = rows.first() {
            let query: String = row.get(0);
            assert!(query.contains("FROM api_keys WHERE id = $1 FOR UPDATE"), "the create's lock: {query}");
            break;
        }
        assert!(Instant::now() < deadline, "A's create never waited for the account");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Meanwhile the create of `answered` reaches A through a proxy that kills A as A answers.
    let proxy = Api::new(killing_proxy(a.base.trim_start_matches("http://").to_string(), a_pid).await);
    let lost = create(&proxy, &answered, "order-answered").send().await;
    assert!(lost.is_err(), "the answer never reached its client: {lost:?}");
    let status = cluster.children[a_child].wait().expect("wait for A");
    assert_eq!(status.signal(), Some(9), "A was killed: {status:?}");
    let cut = stuck.await.expect("join");
    assert!(cut.is_err(), "the waiting create got no answer: {cut:?}");
    lock.rollback().await.expect("rollback");

    // A committed the first (one task of `answered`), not the second (none of `waiting`).
    let (_, listed) = b.get(&answered, &format!("{CORE}/tasks")).await;
    let tasks = listed["data"]["tasks"].as_array().cloned().unwrap_or_default();
    assert_eq!(tasks.len(), 1, "A stored the answered create: {listed}");
    let stored = tasks[0]["id"].as_str().expect("id").to_string();
    let (_, listed) = b.get(&waiting, &format!("{CORE}/tasks")).await;
    assert_eq!(listed["data"]["count"], 0, "A's interrupted transaction stored nothing: {listed}");

    // The clients retry on B with their keys: the stored task, and one new task.
    let mut ids = Vec::new();
    for (key, once) in [(&answered, "order-answered"), (&waiting, "order-waiting")] {
        let (code, body) = crate::support::split(create(&b, key, once).send().await.expect("send")).await;
        assert_eq!(code, 200, "{body}");
        ids.push(body["data"]["id"].as_str().expect("id").to_string());
    }
    assert_eq!(ids[0], stored, "the retry answers the task A stored");
    let mut outputs = Vec::new();
    for (key, id) in [(&answered, &ids[0]), (&waiting, &ids[1])] {
        let d = b.wait_terminal(key, id, 60).await;
        assert_eq!(d["status"], "completed", "{d}");
        outputs.push(sha256(&b.download(d["output_url"].as_str().expect("output_url")).await));
        charged_once(&b, key).await;
        hook.delivered_once(&b, key, id).await;
    }
    assert_eq!(outputs[0], outputs[1], "one spec, the same bytes");
    let mut want: Vec<String> =
        ids.iter().flat_map(|id| [format!("outputs/{id}.jpg"), format!("outputs/{id}.mp4")]).collect();
    want.sort();
    assert_eq!(list_keys(&cluster.bucket), want, "one output (first attempt) and poster per request");
    eprintln!("kill -9 of an API node mid-create: {:.1} s", started.elapsed().as_secs_f64());
}

/// An advanced-video preview of `card` asked of `api`: the object name its `preview_url` ends
/// with, after checking the MP4 (downloaded through the node) with ffprobe: AV1 at the preview's
/// 480 lines, the spec's 1 s.
async fn preview_through(api: &Api, key: &str, card: &str, scratch: &std::path::Path) -> String {
    let (code, body) = api.post(key, "/api/render/advanced-video", &advanced_body(card, "preview")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["message"], "Preview generated successfully");
    assert_eq!(body["data"]["mode"], "preview");
    let request_id = body["data"]["request_id"].as_str().expect("request_id");
    let url = body["data"]["preview_url"].as_str().expect("preview_url");
    let name = format!("preview_{request_id}.mp4");
    assert_eq!(url, api.url(&format!("/media/previews/{name}")));
    let file = scratch.join(&name);
    std::fs::write(&file, api.download(url).await).expect("write");
    assert_eq!(ffprobe_csv(&file, "v:0", "stream=codec_name,width,height"), "av1,854,480");
    let duration = duration_secs(&file);
    assert!((duration - 1.0).abs() < 0.05, "the spec's 1 s: {duration}");
    name
}

/// On one machine: an API node with `--workers 0` renders no preview itself: a preview waits
/// for a worker up to the preview timeout (504 and the task cancelled, so no worker renders it
/// later), and with a worker running it is rendered there and answered as documented. Neither
/// is a task of the caller's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_only_node_hands_previews_to_a_worker_on_sqlite() {
    let started = Instant::now();
    let media = crate::support::Media::card(320, 180).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let shared = dirs.path().join("shared");
    let key = crate::support::make_key(&shared, "k", BillingPlan::Pro);
    let store = format!("sqlite:{}", shared.join("samvideo.db").display());
    let objects = format!("file:{}", shared.display());
    let env = [("SAMVIDEO_STORE", store.as_str()), ("SAMVIDEO_OBJECTS", objects.as_str())];
    let api_env = |timeout: &'static str| {
        vec![env[0], env[1], ("SAMVIDEO_WORKERS", "0"), ("SAMVIDEO_PREVIEW_TIMEOUT_SECS", timeout)]
    };
    let mut children = Vec::new();
    let (child, impatient, _) = spawn_server(&dirs.path().join("impatient"), &api_env("1"));
    children.push(child);
    let (child, api, _) = spawn_server(&dirs.path().join("api"), &api_env("120"));
    children.push(child);

    // No worker yet: the preview waits its 1 s and gives up.
    let asked = Instant::now();
    let (code, body) =
        impatient.post(&key, "/api/render/advanced-video", &advanced_body(&media.url("card.png"), "preview")).await;
    assert_eq!(code, 504, "{body}");
    assert_eq!(body["error_code"], "PREVIEW_FAILED");
    assert_eq!(body["message"], "Preview generation failed: preview took longer than 1 s");
    assert!(asked.elapsed() < Duration::from_secs(5), "answered at its timeout: {:?}", asked.elapsed());

    let (child, worker_log) = spawn_worker(&dirs.path().join("worker"), &[env[0], env[1], ("RUST_LOG", "info")]);
    children.push(child);
    let asked = Instant::now();
    let name = preview_through(&api, &key, &media.url("card.png"), dirs.path()).await;
    eprintln!("preview through the queue (SQLite): {:.2} s", asked.elapsed().as_secs_f64());
    wait_log(&worker_log, &["render started"], 5).await;
    let kept: Vec<_> = std::fs::read_dir(shared.join("previews"))
        .expect("previews/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(kept, [name], "the cancelled preview was never rendered");
    let (_, list) = api.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(list["data"]["count"], 0, "a preview is not a task of the caller's: {list}");
    for c in &mut children {
        let _ = c.kill();
        let _ = c.wait();
    }
    eprintln!("previews on an API-only node (SQLite): {:.1} s", started.elapsed().as_secs_f64());
}

/// On Postgres and S3: an API node with `--workers 0` answers a preview a worker rendered, and
/// a built-in AI model's job a worker rendered; both MP4s are in the bucket, served through
/// the node; neither is a task of the caller's or counted in its month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_only_node_hands_previews_and_ai_renders_to_workers_on_postgres_and_s3() {
    let started = Instant::now();
    let media = crate::support::Media::card(320, 180).await;
    let mut cluster = Cluster::new();
    let api = cluster.api();
    let (_, worker_log) = cluster.worker_with("worker", &[("RUST_LOG", "info")]);
    let key = cluster.key.clone();
    let asked = Instant::now();
    let preview = preview_through(&api, &key, &media.url("card.png"), cluster.dirs.path()).await;
    eprintln!("preview through the queue (Postgres + S3): {:.2} s", asked.elapsed().as_secs_f64());

    let body = serde_json::json!({
        "model_id": "samvideo-motion",
        "image_urls": [media.url("card.png")],
        "options": {"duration_seconds": 2, "aspect_ratio": "1:1", "quality_mode": "draft"}
    });
    let (code, created) = api.post(&key, "/api/ai/jobs", &body).await;
    assert_eq!(code, 202, "{created}");
    let job = created["job_id"].as_i64().expect("job_id");
    let done = api.poll(&key, &format!("/api/ai/jobs/{job}"), 120, "done", |b| b["status"] != "running").await;
    assert_eq!(done["status"], "success", "{done}");
    let url = done["result_urls"][0].as_str().expect("a result URL");
    assert_eq!(url, api.url(&format!("/media/outputs/ai-{job}.mp4")));
    let file = cluster.dirs.path().join("motion.mp4");
    std::fs::write(&file, api.download(url).await).expect("write");
    assert_eq!(ffprobe_csv(&file, "v:0", "stream=codec_name,width,height"), "av1,480,480", "draft 1:1");
    let duration = duration_secs(&file);
    assert!((duration - 2.0).abs() < 0.1, "the asked 2 s: {duration}");

    let keys = list_keys(&cluster.bucket);
    assert_eq!(keys, [format!("outputs/ai-{job}.mp4"), format!("previews/{preview}")], "no poster, nothing else");
    let rendered =
        worker_log.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|l| l.contains("render ended")).count();
    assert_eq!(rendered, 2, "the worker rendered both");
    let (_, list) = api.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(list["data"]["count"], 0, "{list}");
    let (_, usage) = api.get(&key, &format!("{CORE}/usage-summary")).await;
    assert_eq!(usage["data"]["monthly_videos"]["used"], 0, "{usage}");
    eprintln!("preview and AI render on Postgres + S3: {:.1} s", started.elapsed().as_secs_f64());
}

/// A log line without its ANSI colour codes.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Wait until the bucket holds no part object (the coordinator deletes them right after the
/// video's end is written, so a client may see `completed` a moment before).
async fn no_part_left(bucket: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let keys = list_keys(bucket);
        if keys.iter().all(|k| !k.starts_with("parts/")) {
            return;
        }
        assert!(Instant::now() < deadline, "parts left 10 s after the end: {keys:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Media served from a folder, with the number of requests each path got: what proves that a
/// split render fetches each URL once in all, whatever the number of parts and workers.
struct CountedMedia {
    /// `http://127.0.0.1:PORT`.
    base: String,
    dir: tempfile::TempDir,
    hits: Arc<std::sync::Mutex<BTreeMap<String, usize>>>,
    _server: tokio::task::JoinHandle<()>,
}

impl CountedMedia {
    /// Every request answered after `delay` (an origin farther away than loopback).
    async fn new(delay: Duration) -> CountedMedia {
        let dir = tempfile::tempdir().expect("tmp");
        let hits: Arc<std::sync::Mutex<BTreeMap<String, usize>>> = Arc::default();
        let counted = hits.clone();
        let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir.path())).layer(
            axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
                let counted = counted.clone();
                async move {
                    let path = req.uri().path().to_owned();
                    *counted.lock().unwrap_or_else(|p| p.into_inner()).entry(path).or_default() += 1;
                    tokio::time::sleep(delay).await;
                    next.run(req).await
                }
            }),
        );
        let (addr, server) = spawn_app(app).await;
        CountedMedia { base: format!("http://{addr}"), dir, hits, _server: server }
    }

    fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    /// The requests each path got since the last call (the count starts again).
    fn take_hits(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.hits.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Each of the 40 s spec's five media URLs requested exactly once.
fn once_each() -> BTreeMap<String, usize> {
    ["/a.png", "/b.png", "/c.png", "/d.png", "/music.wav"].iter().map(|p| (p.to_string(), 1)).collect()
}

/// A 40 s 854x480 mix-video of four stills with fades and music (4 segments and the audio when
/// split), its media served from a folder that counts requests.
async fn forty_seconds() -> (CountedMedia, Value) {
    forty_seconds_from(Duration::ZERO).await
}

/// [`forty_seconds`], its origin answering each request after `delay`.
async fn forty_seconds_from(delay: Duration) -> (CountedMedia, Value) {
    let media = CountedMedia::new(delay).await;
    let dir = media.dir.path();
    for (name, rgba) in [
        ("a.png", [220, 30, 30, 255]),
        ("b.png", [30, 30, 220, 255]),
        ("c.png", [30, 200, 30, 255]),
        ("d.png", [200, 200, 30, 255]),
    ] {
        solid_png(dir, name, 640, 360, rgba);
    }
    write_wav(dir, "music.wav", 44_100, 2, 42.0, |t, _| 0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin());
    let stills: Vec<Value> = ["a.png", "b.png", "c.png", "d.png"]
        .iter()
        .map(|n| serde_json::json!({"type": "image", "url": media.url(n), "duration": 10}))
        .collect();
    let spec = serde_json::json!({
        "media_list": stills,
        "background_url": media.url("music.wav"),
        "settings": {"aspect_ratio": "16:9", "output_quality": "low", "transition_type": "fade", "transition_duration": 1}
    });
    (media, spec)
}

/// `samvideo render` of the mix-video `spec` on this machine: the sha256 of its MP4 and the wall
/// time.
fn local_render(dir: &std::path::Path, spec: &Value) -> (String, f64) {
    let spec_file = dir.join("split-spec.json");
    std::fs::write(&spec_file, spec.to_string()).expect("spec");
    let local = dir.join("split-local.mp4");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["render", "--quiet", "--allow-private-network", "--endpoint", "mix-video", "-o"])
        .arg(&local)
        .arg(&spec_file)
        .output()
        .expect("samvideo render");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (sha256(&std::fs::read(&local).expect("local render")), started.elapsed().as_secs_f64())
}

/// [`local_render`] on a thread of its own, while the test goes on: join it for the sha256.
fn local_render_meanwhile(dir: &std::path::Path, spec: &Value) -> std::thread::JoinHandle<String> {
    let (dir, spec) = (dir.to_path_buf(), spec.clone());
    std::thread::spawn(move || local_render(&dir, &spec).0)
}

/// Two API nodes and three `samvideo work --split-renders` (logging at info, so the test sees
/// which part each renders).
fn split_cluster() -> (Cluster, Api, Api, Vec<(u32, ServerLog)>) {
    let mut cluster = Cluster::new();
    let a = cluster.api_named("api-a", &[]);
    let b = cluster.api_named("api-b", &[]);
    let workers = ["w1", "w2", "w3"]
        .iter()
        .map(|n| cluster.worker_with(n, &[("SAMVIDEO_SPLIT_RENDERS", "true"), ("RUST_LOG", "info")]))
        .collect();
    (cluster, a, b, workers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_split_workers_render_the_bytes_of_a_local_render() {
    let (media, spec) = forty_seconds().await;
    let (mut cluster, a, b, workers) = split_cluster();
    let (local, local_secs) = local_render(cluster.dirs.path(), &spec);
    media.take_hits();
    let started = Instant::now();
    let (id, _) = a.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
    let d = b.wait_terminal(&cluster.key, &id, 180).await;
    let split_secs = started.elapsed().as_secs_f64();
    assert_eq!(d["status"], "completed", "{d}");
    let served = b.download(d["output_url"].as_str().expect("output_url")).await;
    assert_eq!(sha256(&served), local, "the bytes of `samvideo render`");
    assert_eq!(media.take_hits(), once_each(), "each media URL fetched once in all (the prepare step)");
    no_part_left(&cluster.bucket).await;
    // The media stay by digest (a cache across videos, swept by age); no part or manifest.
    let kept: Vec<String> = ["a.png", "b.png", "c.png", "d.png", "music.wav"]
        .iter()
        .map(|n| format!("media/{}", sha256(&std::fs::read(media.dir.path().join(n)).expect("medium"))))
        .collect();
    let mut expected = [vec![format!("outputs/{id}.jpg"), format!("outputs/{id}.mp4")], kept].concat();
    expected.sort();
    assert_eq!(list_keys(&cluster.bucket), expected, "video, poster and media by digest; no part left");

    // A second video of the same media fetches them again (a new prepare) but keeps no second copy.
    let (again, _) = b.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
    let d = a.wait_terminal(&cluster.key, &again, 180).await;
    assert_eq!(d["status"], "completed", "{d}");
    assert_eq!(media.take_hits(), once_each(), "the second video's prepare fetched each URL once");
    no_part_left(&cluster.bucket).await;
    let media_keys = list_keys(&cluster.bucket).into_iter().filter(|k| k.starts_with("media/")).count();
    assert_eq!(media_keys, 5, "the same five media objects");
    let parts: usize = workers
        .iter()
        .map(|(_, log)| {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .filter(|l| l.contains("render started") && l.contains("\"part\""))
                .count()
        })
        .sum();
    assert_eq!(parts, 10, "4 segments and the audio of each video, each rendered once");
    let busy = workers
        .iter()
        .filter(|(_, log)| {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|l| l.contains("render started") && l.contains("\"part\""))
        })
        .count();
    eprintln!(
        "split over 3 workers: {split_secs:.1} s (local render {local_secs:.1} s); {busy} workers rendered parts"
    );
    drop(media);
    cluster.children.clear();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_worker_killed_holding_a_part_leaves_only_that_part_to_redo() {
    let (media, mut spec) = forty_seconds().await;
    let (cluster, a, b, workers) = split_cluster();
    let (local, _) = local_render(cluster.dirs.path(), &spec);
    media.take_hits();
    // A webhook receiver that records each delivery's id.
    let deliveries: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let seen = deliveries.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                let id = headers.get("x-samautomation-delivery").and_then(|v| v.to_str().ok()).unwrap_or("-");
                seen.lock().unwrap_or_else(|p| p.into_inner()).push(id.to_string());
                "ok"
            }
        }),
    );
    let (hook_addr, _hook) = spawn_app(receiver).await;
    spec["exports"] = serde_json::json!({"callback_url": format!("http://{hook_addr}/hook")});
    let started = Instant::now();
    let (id, _) = a.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
    // The first worker seen starting a segment part is killed while it renders it.
    let victim = first_part_worker(&workers).await.0;
    signal(victim, "-KILL");
    let d = b.wait_terminal(&cluster.key, &id, 180).await;
    assert_eq!(d["status"], "completed", "{d}");
    let served = a.download(d["output_url"].as_str().expect("output_url")).await;
    assert_eq!(sha256(&served), local, "the bytes of `samvideo render` after a kill -9");
    assert_eq!(media.take_hits(), once_each(), "the part done again read its media from the bucket");
    no_part_left(&cluster.bucket).await;
    let starts: usize = workers
        .iter()
        .filter(|(pid, _)| *pid != victim)
        .map(|(_, log)| {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .filter(|l| l.contains("render started") && l.contains("\"part\""))
                .count()
        })
        .sum();
    assert!(starts <= 5, "the survivors rendered at most the 5 parts once each, not more: {starts}");
    // The part the killed worker held was claimed again after its lease ran out: attempt 2.
    let rescued = workers.iter().filter(|(pid, _)| *pid != victim).any(|(_, log)| {
        log.lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|l| plain(l))
            .any(|l| l.contains("render started") && l.contains("\"part\"") && l.contains("attempt=2"))
    });
    assert!(rescued, "a part rendered again at attempt 2");
    eprintln!("split, kill -9 of a worker holding a part: {:.1} s", started.elapsed().as_secs_f64());

    // One webhook delivery id (the video ends once, through the fenced write), one quota
    // charge (its parts are neither counted nor listed).
    let deadline = Instant::now() + Duration::from_secs(30);
    while deliveries.lock().unwrap_or_else(|p| p.into_inner()).is_empty() {
        assert!(Instant::now() < deadline, "no webhook within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ids = deliveries.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(ids.len(), 1, "one delivery: {ids:?}");
    charged_once(&a, &cluster.key).await;
    drop(media);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_video_whose_coordinator_is_killed_is_finished_by_another_worker() {
    let started = Instant::now();
    let (media, mut spec) = forty_seconds().await;
    let (cluster, a, b, workers) = split_cluster();
    let (local, _) = local_render(cluster.dirs.path(), &spec);
    media.take_hits();
    let hook = Hook::new().await;
    spec["exports"] = serde_json::json!({"callback_url": hook.url});
    let (id, _) = a.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
    let coordinator = first_worker_saying(&workers, "parts queued", |l| l.contains("parts queued")).await.0;
    signal(coordinator, "-KILL");
    let d = a.wait_terminal(&cluster.key, &id, 180).await;
    assert_eq!(d["status"], "completed", "{d}");
    let url = d["output_url"].as_str().expect("output_url");
    assert!(url.ends_with(&format!("{id}-2.mp4")), "the second claim of the video finalized it: {url}");
    assert_eq!(sha256(&a.download(url).await), local, "the same bytes");
    assert_eq!(media.take_hits(), once_each(), "the second coordinator reused the prepared media");
    let reused = workers.iter().filter(|(pid, _)| *pid != coordinator).any(|(_, log)| {
        log.lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|l| plain(l))
            .any(|l| l.contains("media prepared") && l.contains("reused=true"))
    });
    assert!(reused, "the new coordinator found the manifest");
    no_part_left(&cluster.bucket).await;
    // The new coordinator queued nothing new: still 5 parts.
    let store = Store::connect(&StoreLocation::Postgres(cluster.env[0].1.clone())).expect("store");
    assert_eq!(store.parts_of(&id).await.expect("parts").len(), 5);
    // Exactly one output (attempt 2's; the killed coordinator kept none), one quota charge and
    // one webhook delivery id, seen through the other API node.
    let outputs: Vec<String> = list_keys(&cluster.bucket).into_iter().filter(|k| k.starts_with("outputs/")).collect();
    assert_eq!(outputs, [format!("outputs/{id}-2.jpg"), format!("outputs/{id}-2.mp4")], "one output");
    charged_once(&b, &cluster.key).await;
    hook.delivered_once(&b, &cluster.key, &id).await;
    eprintln!("split, kill -9 of the coordinator: {:.1} s", started.elapsed().as_secs_f64());
    drop(media);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_video_cancelled_on_another_node_stops_its_parts_and_leaves_no_part() {
    let started = Instant::now();
    let (media, spec) = forty_seconds().await;
    let (cluster, a, b, workers) = split_cluster();
    let (id, _) = a.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !workers.iter().any(|(_, log)| {
        log.lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|l| l.contains("render started") && l.contains("\"part\""))
    }) {
        assert!(Instant::now() < deadline, "no part started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, body) = b.post(&cluster.key, &format!("/api/async/cancel/{id}"), &serde_json::json!({})).await;
    assert_eq!(code, 200, "{body}");
    let d = a.wait_terminal(&cluster.key, &id, 30).await;
    assert_eq!(d["status"], "cancelled", "{d}");
    // Every part ends (refused renewals stop its workers; the coordinator ends the rest) and no
    // part object stays in the bucket.
    let store = Store::connect(&StoreLocation::Postgres(cluster.env[0].1.clone())).expect("store");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let parts = store.parts_of(&id).await.expect("parts");
        let keys = list_keys(&cluster.bucket);
        let live = parts.iter().filter(|p| !p.status.is_terminal()).count();
        if parts.len() == 5 && live == 0 && keys.iter().all(|k| !k.starts_with("parts/")) {
            break;
        }
        assert!(Instant::now() < deadline, "parts still live or kept: {parts:?} {keys:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let kept = list_keys(&cluster.bucket);
    assert!(kept.iter().all(|k| k.starts_with("media/")), "nothing kept of a cancelled video but its media: {kept:?}");
    eprintln!("split, cancel on another node: {:.1} s", started.elapsed().as_secs_f64());
    drop(media);
}

/// The leftover the sweep of orphaned parts is for: the coordinator of a split video is killed
/// once a part is completed, and the video is cancelled on an API node before another worker
/// takes it over, so no coordinator deletes its completed parts. A node started afterwards
/// (without `--retention-days`) deletes them at its start sweep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_left_by_a_dead_coordinator_of_a_cancelled_video_are_swept_by_a_node() {
    let started = Instant::now();
    let (media, spec) = forty_seconds().await;
    let mut cluster = Cluster::new();
    let api = cluster.api();
    let split = [("SAMVIDEO_SPLIT_RENDERS", "true"), ("RUST_LOG", "info")];
    let workers = [cluster.worker_with("w1", &split), cluster.worker_with("w2", &split)];
    let (id, _) = api.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
    let store = Store::connect(&StoreLocation::Postgres(cluster.env[0].1.clone())).expect("store");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let parts = store.parts_of(&id).await.expect("parts");
        if parts.iter().any(|p| p.status == samvideo_http::store::TaskStatus::Completed) {
            break;
        }
        assert!(Instant::now() < deadline, "no part completed: {parts:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let coordinator = workers
        .iter()
        .find(|(_, log)| log.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|l| l.contains("parts queued")))
        .map(|(pid, _)| *pid)
        .expect("a coordinator");
    signal(coordinator, "-KILL");
    // Within the video's 2 s lease: no other worker has taken the coordination over.
    let (code, body) = api.post(&cluster.key, &format!("/api/async/cancel/{id}"), &serde_json::json!({})).await;
    assert_eq!(code, 200, "{body}");
    // The surviving worker stops its part (its renewal is refused) and deletes what it put; the
    // completed parts' objects stay: nobody coordinates the video any more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let left: Vec<String> = list_keys(&cluster.bucket).into_iter().filter(|k| k.starts_with("parts/")).collect();
    assert!(!left.is_empty(), "the dead coordinator's video left its completed parts");
    assert!(left.iter().any(|k| k.ends_with(".media.json")), "and its media manifest: {left:?}");

    let mut env = cluster.env(&[("SAMVIDEO_WORKERS", "0"), ("RUST_LOG", "info")]);
    env.retain(|(k, _)| *k != "SAMVIDEO_RETENTION_DAYS");
    let (child, _, log) = spawn_server(&cluster.dirs.path().join("sweeper"), &env);
    cluster.children.push(child);
    let line = wait_log(&log, &["orphaned split-render parts deleted"], 30).await;
    let keys = list_keys(&cluster.bucket);
    assert!(keys.iter().all(|k| !k.starts_with("parts/")), "{line}: {keys:?}");
    eprintln!("{} orphaned parts swept by a node's start: {:.1} s", left.len(), started.elapsed().as_secs_f64());
    drop(media);
}

/// After a frozen part worker's late work was refused: the bucket holds the video's output and
/// poster (and the media cache) but no part object or manifest, and the part row still holds
/// attempt 2's file `redone`.
async fn only_the_output_is_left(bucket: &str, url: &str, store: &Store, id: &str, part: &str, redone: Option<String>) {
    no_part_left(bucket).await;
    let stem = url.rsplit('/').next().and_then(|f| f.strip_suffix(".mp4")).expect("an MP4");
    let kept: Vec<String> = list_keys(bucket).into_iter().filter(|k| !k.starts_with("media/")).collect();
    assert_eq!(kept, [format!("outputs/{stem}.jpg"), format!("outputs/{stem}.mp4")], "no part object, no manifest");
    let row = store.parts_of(id).await.expect("parts").into_iter().find(|p| p.id == part).expect("the frozen part");
    assert_eq!((row.status, row.attempts, row.output_file), (TaskStatus::Completed, 2, redone), "unchanged");
}

/// The first of `workers` whose log has a line that `says`: its pid, its log and that line
/// (plain text). Fails after 60 s, naming `what` it waited for.
async fn first_worker_saying(
    workers: &[(u32, ServerLog)],
    what: &str,
    says: impl Fn(&str) -> bool,
) -> (u32, ServerLog, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        for (pid, log) in workers {
            let line = log.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|l| plain(l)).find(|l| says(l));
            if let Some(line) = line {
                return (*pid, log.clone(), line);
            }
        }
        assert!(Instant::now() < deadline, "no worker logged {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The first of `workers` seen starting a part: its pid, its log and the part task's id.
async fn first_part_worker(workers: &[(u32, ServerLog)]) -> (u32, ServerLog, String) {
    let (pid, log, line) =
        first_worker_saying(workers, "a part started", |l| l.contains("render started") && l.contains("\"part\""))
            .await;
    let part = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("task_id="))
        .unwrap_or_else(|| panic!("no task_id in {line}"))
        .to_string();
    (pid, log, part)
}

/// The line in which a resumed worker (its `log`) says the work of `part` was refused: its
/// renewal ("nothing kept"), its commit or its late failure ("result refused"), its give-back
/// ("give-back refused").
async fn refusal(log: &ServerLog, part: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lines: Vec<String> = log.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|l| plain(l)).collect();
        if let Some(line) =
            lines.iter().find(|l| l.contains(part) && ["nothing kept", "refused"].iter().any(|n| l.contains(n)))
        {
            return line.clone();
        }
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        assert!(Instant::now() < deadline, "the resumed worker said nothing of part {part}; its log ends:\n{tail}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Issue 19: `SIGSTOP` a split worker past its lease, then `SIGCONT`. The first worker seen
/// starting a part is frozen (leases of 2 s; it may also be the video's coordinator); its part
/// is claimed again (attempt 2) and the video completes with the bytes of a local render.
/// Resumed, the frozen worker's renewal or its late commit of the part is refused: the part
/// row keeps attempt 2's file, no part object stays, one output, one webhook delivery id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_worker_frozen_past_its_lease_has_its_late_part_refused() {
    let (media, mut spec) = forty_seconds().await;
    let (cluster, a, b, workers) = split_cluster();
    let local = local_render_meanwhile(cluster.dirs.path(), &spec);
    let hook = Hook::new().await;
    spec["exports"] = serde_json::json!({"callback_url": hook.url});
    let started = Instant::now();
    let (id, _) = a.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
    let (frozen, frozen_log, part) = first_part_worker(&workers).await;
    signal(frozen, "-STOP");
    let d = b.wait_terminal(&cluster.key, &id, 120).await;
    assert_eq!(d["status"], "completed", "{d}");
    let url = d["output_url"].as_str().expect("output_url");
    assert_eq!(sha256(&a.download(url).await), local.join().expect("local render"), "the bytes of `samvideo render`");
    let store = Store::connect(&StoreLocation::Postgres(cluster.env[0].1.clone())).expect("store");
    let row = store.parts_of(&id).await.expect("parts").into_iter().find(|p| p.id == part).expect("the frozen part");
    assert_eq!((row.status, row.attempts), (TaskStatus::Completed, 2), "redone by another worker: {row:?}");
    let redone = row.output_file.clone();
    assert_eq!(redone, Some(format!("{part}-2.svpart")), "{row:?}");

    signal(frozen, "-CONT");
    let line = refusal(&frozen_log, &part).await;
    eprintln!("the frozen part worker, resumed: {line}");
    only_the_output_is_left(&cluster.bucket, url, &store, &id, &part, redone).await;
    let again = b.wait_terminal(&cluster.key, &id, 5).await;
    assert_eq!(again["output_url"], d["output_url"], "completed once");
    hook.delivered_once(&a, &cluster.key, &id).await;
    eprintln!("split, SIGSTOP of a part worker past its lease: {:.1} s", started.elapsed().as_secs_f64());
    drop(media);
}

/// TCP proxies to the S3 server, one per worker: each passes every byte through, except the
/// first PUT of a part object among all of them, which it holds until [`PartPutGate::release`].
struct PartPutGate {
    /// The `--s3-endpoint` of each worker.
    endpoints: Vec<String>,
    /// Which worker's PUT is held, and the object's name under `parts/`.
    held: tokio::sync::mpsc::UnboundedReceiver<(usize, String)>,
    release: watch::Sender<bool>,
}

impl PartPutGate {
    async fn new(s3: &str, bucket: &str, workers: usize) -> PartPutGate {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let upstream = s3.trim_start_matches("http://").to_string();
        let needle = format!("PUT /{bucket}/parts/");
        let taken = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (report, held) = tokio::sync::mpsc::unbounded_channel();
        let (release, released) = watch::channel(false);
        let mut endpoints = Vec::new();
        for index in 0..workers {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            endpoints.push(format!("http://{}", listener.local_addr().expect("addr")));
            let (upstream, needle, taken, report, released) =
                (upstream.clone(), needle.clone(), taken.clone(), report.clone(), released.clone());
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (upstream, needle, taken, report, mut released) =
                        (upstream.clone(), needle.clone(), taken.clone(), report.clone(), released.clone());
                    tokio::spawn(async move {
                        let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                        let (mut from_client, mut to_client) = client.into_split();
                        let (mut from_server, mut to_server) = server.into_split();
                        let down = tokio::spawn(async move {
                            let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                        });
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match from_client.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            let text = String::from_utf8_lossy(&buf[..n]);
                            if let Some(at) = text.find(&needle) {
                                let rest = &text[at + needle.len()..];
                                let name = rest.split(' ').next().unwrap_or_default().to_string();
                                // A part's own object, not the coordinator's media manifest.
                                if !name.contains(".media.json") && !taken.swap(true, Ordering::SeqCst) {
                                    let _ = report.send((index, name));
                                    let _ = released.wait_for(|r| *r).await;
                                }
                            }
                            if to_server.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = to_server.shutdown().await;
                        let _ = down.await;
                    });
                }
            });
        }
        PartPutGate { endpoints, held, release }
    }

    fn release(&self) {
        self.release.send_replace(true);
    }
}

/// Issue 19: `SIGSTOP` a split worker past its lease, then `SIGCONT`: its late commit is
/// refused. Each of three split workers reaches the bucket through a proxy of its own that
/// holds the first PUT of a part object; the worker making it (its part rendered, its commit
/// under way) is frozen there past its 2 s lease. Another worker renders that part again
/// (attempt 2) and the video completes with the bytes of a local render. Then the PUT goes
/// through and the worker resumes: its object lands after the video ended, its fenced end is
/// refused, and it deletes what it put: no part object stays, the part row keeps attempt 2's
/// file, one output, one webhook delivery id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_worker_frozen_in_its_commit_has_its_late_part_refused_and_deleted() {
    let (media, mut spec) = forty_seconds().await;
    let mut cluster = Cluster::new();
    let a = cluster.api_named("api-a", &[]);
    let s3 = cluster.env.iter().find(|(k, _)| k == "SAMVIDEO_S3_ENDPOINT").expect("endpoint").1.clone();
    let mut gate = PartPutGate::new(&s3, &cluster.bucket, 3).await;
    let workers: Vec<(u32, ServerLog)> = gate
        .endpoints
        .clone()
        .iter()
        .enumerate()
        .map(|(n, endpoint)| {
            let env =
                [("SAMVIDEO_SPLIT_RENDERS", "true"), ("RUST_LOG", "info"), ("SAMVIDEO_S3_ENDPOINT", endpoint.as_str())];
            cluster.worker_with(&format!("w{n}"), &env)
        })
        .collect();
    let local = local_render_meanwhile(cluster.dirs.path(), &spec);
    let hook = Hook::new().await;
    spec["exports"] = serde_json::json!({"callback_url": hook.url});
    let started = Instant::now();
    let (id, _) = a.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
    let (index, object) =
        tokio::time::timeout(Duration::from_secs(60), gate.held.recv()).await.expect("no part put").expect("gate");
    let (frozen, frozen_log) = workers[index].clone();
    signal(frozen, "-STOP");
    let held_at = started.elapsed().as_secs_f64();
    let part = object.rsplit_once('-').map(|(part, _)| part.to_string()).expect("PART-ATTEMPT.ext");
    assert!(object.starts_with(&format!("{part}-1.")), "attempt 1's object: {object}");

    let d = a.wait_terminal(&cluster.key, &id, 120).await;
    let completed_at = started.elapsed().as_secs_f64();
    assert_eq!(d["status"], "completed", "{d}");
    let url = d["output_url"].as_str().expect("output_url");
    assert_eq!(sha256(&a.download(url).await), local.join().expect("local render"), "the bytes of `samvideo render`");
    let store = Store::connect(&StoreLocation::Postgres(cluster.env[0].1.clone())).expect("store");
    let row = store.parts_of(&id).await.expect("parts").into_iter().find(|p| p.id == part).expect("the frozen part");
    assert_eq!((row.status, row.attempts), (TaskStatus::Completed, 2), "redone by another worker: {row:?}");
    let redone = row.output_file.clone();
    assert_eq!(redone, Some(format!("{part}-2.svpart")), "{row:?}");

    // The held PUT goes through, the worker resumes: the late object is put, then refused.
    gate.release();
    signal(frozen, "-CONT");
    let line = refusal(&frozen_log, &part).await;
    assert!(line.contains("result refused"), "its commit, not its render, was refused: {line}");
    only_the_output_is_left(&cluster.bucket, url, &store, &id, &part, redone).await;
    let again = a.wait_terminal(&cluster.key, &id, 5).await;
    assert_eq!(again["output_url"], d["output_url"], "completed once");
    hook.delivered_once(&a, &cluster.key, &id).await;
    eprintln!(
        "split, SIGSTOP of a part worker in its commit: {:.1} s (frozen at {held_at:.1} s, completed at {completed_at:.1} s): {line}",
        started.elapsed().as_secs_f64()
    );
    drop(media);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_video_with_a_missing_medium_fails_in_prepare_naming_it() {
    let started = Instant::now();
    let (media, mut spec) = forty_seconds().await;
    let missing = media.url("gone.png");
    spec["media_list"][2]["url"] = Value::String(missing.clone());
    let (cluster, a, _b, _workers) = split_cluster();
    let (id, _) = a.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
    let d = a.wait_terminal(&cluster.key, &id, 60).await;
    assert_eq!(d["status"], "failed", "{d}");
    let reason = d["error"].as_str().expect("error");
    assert_eq!(reason, format!("media_list[2] ({missing}): HTTP 404"), "{d}");
    assert_eq!(media.take_hits().get("/gone.png"), Some(&1), "tried once");
    // The message of an in-process render of the same spec.
    let spec_file = cluster.dirs.path().join("missing-spec.json");
    std::fs::write(&spec_file, spec.to_string()).expect("spec");
    let out = Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(["render", "--quiet", "--allow-private-network", "--endpoint", "mix-video", "-o"])
        .arg(cluster.dirs.path().join("missing.mp4"))
        .arg(&spec_file)
        .output()
        .expect("samvideo render");
    assert!(!out.status.success(), "the local render fails too");
    let local = String::from_utf8_lossy(&out.stderr);
    assert!(local.contains(reason), "the local render says {local:?}");
    // Failed before any part was queued: no part row, nothing in the bucket.
    let store = Store::connect(&StoreLocation::Postgres(cluster.env[0].1.clone())).expect("store");
    assert!(store.parts_of(&id).await.expect("parts").is_empty());
    assert!(list_keys(&cluster.bucket).is_empty(), "{:?}", list_keys(&cluster.bucket));
    eprintln!("split, a missing medium: {:.1} s", started.elapsed().as_secs_f64());
}

/// A mix-video spec read from `file` (the body of a create, or a CLI job's `{"data": ...}`),
/// each media URL that is a bare file name served from `file`'s folder by the counting origin
/// (e.g. the standard bench job, `/var/tmp/bench-work/job-medium-30s.json`).
async fn spec_from_file(file: &std::path::Path, delay: Duration) -> (CountedMedia, Value) {
    fn serve(value: &mut Value, from: &std::path::Path, media: &CountedMedia) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    match v {
                        Value::String(name) if key.ends_with("url") && !name.contains("://") => {
                            std::fs::copy(from.join(&*name), media.dir.path().join(&*name))
                                .expect("a medium of the spec");
                            *name = media.url(name);
                        }
                        _ => serve(v, from, media),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| serve(v, from, media)),
            _ => {}
        }
    }
    let media = CountedMedia::new(delay).await;
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut spec: Value = serde_json::from_str(&text).expect("a JSON spec");
    if let Some(data) = spec.get_mut("data").map(Value::take) {
        spec = data;
    }
    serve(&mut spec, file.parent().expect("the spec's folder"), &media);
    (media, spec)
}

/// Timings for docs/scale-out.md (run by hand: `cargo test -p samvideo-http --test it --
/// --ignored scale_out::split_timings --nocapture`): the 40 s spec by one in-process worker, by
/// one split worker and by three, then by split workers pinned one to a core with `taskset`
/// (one worker on core 0; two on cores 0 and 1: the T(N) model's N = 1 and 2, each worker
/// seeing one core, so one encoder), on Postgres + moto (the API node, Postgres, moto and this
/// test not pinned), with each worker's part and finalize lines (at their time after the
/// create) and which part each part task was. `SAMVIDEO_TIMINGS_ORIGIN_DELAY_MS` delays each answer of the media's origin (0 by
/// default: loopback), and the origin's request count is printed per run.
/// `SAMVIDEO_TIMINGS_SPEC=FILE` renders that spec instead of the 40 s one ([`spec_from_file`]:
/// its bare media file names served from its folder), e.g. the standard job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, run by hand"]
async fn split_timings() {
    let delay = std::env::var("SAMVIDEO_TIMINGS_ORIGIN_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let delay = Duration::from_millis(delay);
    let (media, spec) = match std::env::var_os("SAMVIDEO_TIMINGS_SPEC") {
        Some(file) => spec_from_file(std::path::Path::new(&file), delay).await,
        None => forty_seconds_from(delay).await,
    };
    let runs: [(&str, &str, &[Option<usize>]); 5] = [
        ("in-process, 1 worker", "false", &[None]),
        ("split, 1 worker", "true", &[None]),
        ("split, 3 workers", "true", &[None, None, None]),
        ("split, 1 worker on core 0 (taskset)", "true", &[Some(0)]),
        ("split, 2 workers on cores 0 and 1 (taskset)", "true", &[Some(0), Some(1)]),
    ];
    for (label, split, cores) in runs {
        let mut cluster = Cluster::new();
        let api = cluster.api();
        let workers: Vec<(u32, ServerLog)> = cores
            .iter()
            .enumerate()
            .map(|(n, core)| {
                let env = [("SAMVIDEO_SPLIT_RENDERS", split), ("RUST_LOG", "info")];
                cluster.worker_on(&format!("w{n}"), &env, *core)
            })
            .collect();
        let (started, created) = (Instant::now(), chrono::Utc::now());
        let (id, _) = api.create(&cluster.key, &format!("{CORE}/mix-video"), &spec).await;
        let d = api.wait_terminal(&cluster.key, &id, 300).await;
        assert_eq!(d["status"], "completed", "{d}");
        eprintln!("== {label}: {:.2} s create to completed", started.elapsed().as_secs_f64());
        eprintln!("  origin requests: {:?}", media.take_hits());
        let store = Store::connect(&StoreLocation::Postgres(cluster.env[0].1.clone())).expect("store");
        for part in store.parts_of(&id).await.expect("parts") {
            eprintln!("  part {} = {}", part.id, part.part);
        }
        for (n, (pid, log)) in workers.iter().enumerate() {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let cpus = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap_or("?").trim();
            eprintln!("  w{n}: pid {pid}, cores {cpus}");
            for line in log.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|l| plain(l)) {
                if ["render ended", "split render", "render started", "worker started"].iter().any(|n| line.contains(n))
                {
                    // Each line at its time after the create (the log's RFC 3339 stamp).
                    let at = line.split_whitespace().next().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                    let at = at.map_or(String::new(), |t| {
                        format!("{:+.3} s", (t.with_timezone(&chrono::Utc) - created).num_milliseconds() as f64 / 1e3)
                    });
                    let rest = line.split_once("samvideo_http").map_or(line.as_str(), |(_, r)| r);
                    eprintln!("  w{n}: {at} {rest}");
                }
            }
        }
    }
    drop(media);
}
