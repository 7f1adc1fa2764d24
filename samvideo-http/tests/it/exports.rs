//! Export delivery end to end, against real servers on loopback: a Rust webhook receiver that
//! checks the signature and answers 500 first; pyftpdlib for FTP; OpenSSH sshd (own config,
//! host key, `internal-sftp`, key auth) for SFTP; aiosmtpd for SMTP. Each test goes through
//! the real service: create -> render (or fail) -> deliveries -> progress `export_delivery`.
//!
//! Needs (installed by `.ci/run`): `python3 -m pip install pyftpdlib aiosmtpd`,
//! `apt-get install openssh-server openssh-client`, ffmpeg (test card).

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{image_video, relaxed, spawn_app, Backend, Media, TestServer, CORE};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use samvideo_http::billing::BillingPlan;
use samvideo_http::config::ServerConfig;
use samvideo_http::exports::{parse_schedule, signature, ExportsConfig, SmtpConfig, SmtpTls};
use serde_json::{json, Value};
const SECRET: &str = "whsec_test_9f2c";
const FTP_PASSWORD: &str = "ftp-pass-7Qx";

/// A child process killed when dropped.
struct Proc(Child, &'static str);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Wait until `port` accepts connections (the child is up) or panic with its stderr.
fn wait_port(port: u16, p: &mut Proc) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = p.0.try_wait() {
            let mut err = String::new();
            if let Some(e) = p.0.stderr.as_mut() {
                let _ = std::io::Read::read_to_string(e, &mut err);
            }
            panic!("{} exited ({status}) before listening: {err}", p.1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} did not listen on {port}", p.1);
}

/// `python3 -c script`, a server using the pip package `module`, once it listens on `port`.
fn start_python(script: &str, port: u16, module: &'static str) -> Proc {
    let child = Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 runs (pip install {module}): {e}"));
    let mut p = Proc(child, module);
    wait_port(port, &mut p);
    p
}

/// pyftpdlib with one user whose home is `root`.
fn start_ftp(root: &Path) -> (u16, Proc) {
    let port = free_port();
    let script = format!(
        r#"
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
logging.basicConfig(level=logging.WARNING)
a = DummyAuthorizer()
a.add_user("video", {pw:?}, {root:?}, perm="elradfmwMT")
h = FTPHandler
h.authorizer = a
FTPServer(("127.0.0.1", {port}), h).serve_forever()
"#,
        pw = FTP_PASSWORD,
        root = root.display().to_string(),
    );
    (port, start_python(&script, port, "pyftpdlib"))
}

/// aiosmtpd writing each message (envelope + data) to `out/<n>.eml`.
fn start_smtp(out: &Path) -> (u16, Proc) {
    let port = free_port();
    let script = format!(
        r#"
import asyncio, os, itertools
from aiosmtpd.controller import Controller
n = itertools.count()
class H:
    async def handle_DATA(self, server, session, envelope):
        path = os.path.join({out:?}, "%d.eml" % next(n))
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Rcpt: " + ",".join(envelope.rcpt_tos) + "\r\n").encode())
            f.write(envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"
c = Controller(H(), hostname="127.0.0.1", port={port})
c.start()
import time
while True:
    time.sleep(3600)
"#,
        out = out.display().to_string(),
    );
    (port, start_python(&script, port, "aiosmtpd"))
}

fn sshd_path() -> PathBuf {
    for p in ["/usr/sbin/sshd", "/usr/bin/sshd"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("sshd not found (apt-get install openssh-server)");
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs (apt-get install openssh-client)");
    assert!(st.success(), "ssh-keygen");
}

/// OpenSSH sshd on a loopback port: own config and host key, `internal-sftp`, key auth only
/// for the current user. Returns (port, client private key PEM, host public key line).
fn start_sshd(dir: &Path) -> (u16, String, String, Proc) {
    let port = free_port();
    let host_key = dir.join("host_ed25519");
    let client_key = dir.join("client_ed25519");
    keygen(&host_key);
    keygen(&client_key);
    let authorized = dir.join("authorized_keys");
    std::fs::copy(client_key.with_extension("pub"), &authorized).expect("authorized_keys");
    std::fs::create_dir_all("/run/sshd").expect("privilege separation dir");
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile {pid}\nAuthorizedKeysFile {ak}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nSubsystem sftp internal-sftp\n",
            hk = host_key.display(),
            pid = dir.join("sshd.pid").display(),
            ak = authorized.display(),
        ),
    )
    .expect("config");
    let child = Command::new(sshd_path())
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sshd runs");
    let mut p = Proc(child, "sshd");
    wait_port(port, &mut p);
    let pem = std::fs::read_to_string(&client_key).expect("client key");
    let host_pub = std::fs::read_to_string(host_key.with_extension("pub")).expect("host pub");
    (port, pem, host_pub, p)
}

/// What the webhook receiver saw.
#[derive(Clone, Debug)]
struct Hit {
    headers: HeaderMap,
    body: Bytes,
    signature_ok: bool,
}

/// A webhook receiver: checks the signature, answers 500 to the first `fail_first` requests.
async fn start_receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Hit>>>, tokio::task::JoinHandle<()>) {
    let hits: Arc<Mutex<Vec<Hit>>> = Arc::new(Mutex::new(Vec::new()));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let h = h.clone();
            async move {
                let sig = headers.get("x-samautomation-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
                let now = chrono::Utc::now().timestamp();
                let signature_ok = signature::verify(SECRET.as_bytes(), sig, &body, now, 300).is_ok();
                let mut v = h.lock().unwrap_or_else(|p| p.into_inner());
                v.push(Hit { headers, body, signature_ok });
                if v.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else if signature_ok {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    let (addr, handle) = spawn_app(app).await;
    (format!("http://{addr}/hook"), hits, handle)
}

fn exports_config(smtp_port: Option<u16>, schedule: &str) -> ExportsConfig {
    ExportsConfig {
        smtp: smtp_port.map(|p| {
            SmtpConfig::from_url(
                &format!("smtp://127.0.0.1:{p}"),
                Some(SmtpTls::Off),
                None,
                None,
                Some("samvideo <videos@test.example>".into()),
            )
            .expect("smtp config")
        }),
        retry_schedule: parse_schedule(schedule).expect("schedule"),
        io_timeout: Duration::from_secs(10),
        webhook_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

/// Poll progress until no delivery is pending or running; returns the progress `data`.
async fn wait_deliveries(t: &TestServer, key: &str, id: &str, secs: u64) -> Value {
    let settled = |body: &Value| {
        let d = &body["data"]["settings"]["export_delivery"];
        let mut all: Vec<&Value> = d["destinations"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        if !d["callback"].is_null() {
            all.push(&d["callback"]);
        }
        !d.is_null() && all.iter().all(|e| !matches!(e["status"].as_str(), Some("pending" | "delivering")))
    };
    let path = format!("{CORE}/progress/{id}");
    t.poll(key, &path, secs, &format!("settled (deliveries of {id})"), settled).await["data"].clone()
}

/// Render `body` (asserting it completes within 300 s) and wait up to `secs` for its
/// deliveries: (id, progress `data` once every delivery settled).
async fn render_and_deliver(t: &TestServer, key: &str, body: &Value, secs: u64) -> (String, Value) {
    let (id, done) = t.render(key, body, 300).await;
    assert_eq!(done["status"], "completed", "{done}");
    let d = wait_deliveries(t, key, &id, secs).await;
    (id, d)
}

/// The login the test runs as (sshd accepts the key for it).
fn login_user() -> String {
    std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_reaches_the_webhook_ftp_sftp_and_email() {
    let work = tempfile::tempdir().expect("tmp");
    let ftp_root = work.path().join("ftp");
    let sftp_root = work.path().join("sftp");
    let mail_dir = work.path().join("mail");
    let ssh_dir = work.path().join("ssh");
    for d in [&ftp_root, &sftp_root, &mail_dir, &ssh_dir] {
        std::fs::create_dir_all(d).expect("dir");
    }
    let media = Media::card(320, 180).await;
    let (ftp_port, _ftp) = start_ftp(&ftp_root);
    let (smtp_port, _smtp) = start_smtp(&mail_dir);
    let (ssh_port, client_pem, _host_pub, _sshd) = start_sshd(&ssh_dir);
    let (hook_url, hits, _r) = start_receiver(1).await;

    let data = work.path().join("data");
    let config = relaxed(&data).with_exports(exports_config(Some(smtp_port), "300ms,300ms,300ms"));
    let t = TestServer::start(config).await;
    let key = t.key("k", BillingPlan::Pro);
    let user = login_user();
    let sftp_dir = format!("{}/incoming/videos/", sftp_root.display());

    let mut body = image_video(&media.url("card.png"), 1.0);
    body["transcript_srt"] = json!("1\n00:00:00,100 --> 00:00:00,900\nhello\n");
    body["exports"] = json!({
        "callback_url": hook_url,
        "callback_secret": SECRET,
        "destinations": [
            {"type": "email", "to": ["ops@example.com", "creator@example.com"]},
            {"type": "ftp", "host": "127.0.0.1", "port": ftp_port, "username": "video", "password": FTP_PASSWORD, "path": "/out/clip.mp4"},
            {"type": "ftp", "host": "127.0.0.1", "port": ftp_port, "username": "video", "password": "wrong-pass-3Zk", "path": "/"},
            {"type": "sftp", "host": "127.0.0.1", "port": ssh_port, "username": user, "private_key": client_pem, "path": sftp_dir},
        ]
    });
    // mix-video: the endpoint that captions its transcripts (the payload links the sidecar).
    let (id, _) = t.create(&key, &format!("{CORE}/mix-video"), &body).await;
    let done = t.wait_terminal(&key, &id, 300).await;
    assert_eq!(done["status"], "completed", "{done}");
    let d = wait_deliveries(&t, &key, &id, 40).await;
    let output = std::fs::read(data.join("outputs").join(format!("{id}.mp4"))).expect("output file");
    let delivery = &d["settings"]["export_delivery"];

    // Webhook: 500, then a retry with the same delivery id and body, signed both times.
    let cb = &delivery["callback"];
    assert_eq!(cb["status"], "delivered", "{delivery}");
    assert_eq!(cb["attempts"], 2, "{delivery}");
    assert_eq!(cb["response_status"], 200);
    assert_eq!(cb["event"], "video.completed");
    let hits = hits.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(hits.len(), 2, "one failure then one success");
    assert!(hits.iter().all(|h| h.signature_ok), "every attempt is signed with callback_secret");
    let header = |h: &Hit, n: &str| h.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header(&hits[0], "x-samautomation-event"), "video.completed");
    assert_eq!(header(&hits[0], "x-samautomation-delivery"), header(&hits[1], "x-samautomation-delivery"));
    assert_eq!(header(&hits[0], "x-samautomation-delivery"), cb["delivery_id"].as_str().unwrap_or("-"));
    assert_eq!(
        (header(&hits[0], "x-samautomation-attempt").as_str(), header(&hits[1], "x-samautomation-attempt").as_str()),
        ("1", "2")
    );
    assert_eq!(hits[0].body, hits[1].body, "the body is stable across retries");
    let payload: Value = serde_json::from_slice(&hits[1].body).expect("JSON body");
    assert_eq!(payload["event"], "video.completed");
    assert_eq!(payload["data"]["task_id"], id.as_str());
    assert_eq!(payload["data"]["status"], "completed");
    assert_eq!(payload["data"]["size_bytes"].as_u64(), Some(output.len() as u64));
    assert!(payload["data"]["duration"].as_f64().is_some_and(|s| (s - 1.0).abs() < 0.2), "{payload}");
    let link = payload["data"]["output_url"].as_str().expect("output_url").to_string();
    assert!(link.ends_with(&format!("/media/outputs/{id}.mp4")), "{link}");
    let fetched = t.download(&link).await;
    assert_eq!(fetched.len(), output.len(), "the link serves the video");
    let thumb = payload["data"]["thumbnail_url"].as_str().expect("thumbnail_url");
    assert!(thumb.ends_with(&format!("/media/outputs/{id}.jpg")), "{thumb}");
    assert_eq!(&t.download(thumb).await[..3], &[0xff, 0xd8, 0xff], "the poster link serves a JPEG");
    let subs = payload["data"]["subtitles_url"].as_str().expect("subtitles_url");
    assert!(subs.ends_with(&format!("/media/outputs/{id}.vtt")), "{subs}");
    let vtt = String::from_utf8(t.download(subs).await).expect("UTF-8");
    assert!(vtt.starts_with("WEBVTT\n\n00:00:00.") && vtt.ends_with("\nhello\n\n"), "the caption sidecar: {vtt}");

    let dests = delivery["destinations"].as_array().expect("destinations");
    assert_eq!(dests.len(), 4, "{delivery}");
    // Email through aiosmtpd, carrying the link.
    assert_eq!(dests[0]["type"], "email");
    assert_eq!(dests[0]["status"], "delivered", "{delivery}");
    let mail = std::fs::read_to_string(mail_dir.join("0.eml")).expect("a message arrived");
    assert!(mail.contains("X-Rcpt: ops@example.com,creator@example.com"), "{mail}");
    assert!(mail.contains(&format!("\n{link}\r\n")), "the mail carries the link on one line: {mail}");
    assert!(mail.contains("Content-Transfer-Encoding: 7bit"), "{mail}");
    assert!(mail.contains("From: samvideo <videos@test.example>"), "{mail}");
    // FTP to a full file path in a directory that did not exist.
    assert_eq!(dests[1]["status"], "delivered", "{delivery}");
    assert_eq!(dests[1]["remote_path"], "/out/clip.mp4");
    assert_eq!(std::fs::read(ftp_root.join("out/clip.mp4")).expect("uploaded over FTP"), output);
    assert!(!ftp_root.join("out/.clip.mp4.part").exists(), "no partial file left");
    // FTP with a wrong password: refused for good after one attempt.
    assert_eq!(dests[2]["status"], "failed", "{delivery}");
    assert_eq!(dests[2]["attempts"], 1, "a 530 is not retried: {delivery}");
    assert!(dests[2]["last_error"].as_str().unwrap_or_default().contains("login refused"), "{delivery}");
    // SFTP with a key into a directory path: <task id>.mp4, directories created.
    assert_eq!(dests[3]["status"], "delivered", "{delivery}");
    let sftp_file = sftp_root.join("incoming/videos").join(format!("{id}.mp4"));
    assert_eq!(std::fs::read(&sftp_file).expect("uploaded over SFTP"), output);
    assert!(dests[3]["delivered_at"].is_string());

    // No secret in the progress response.
    let text = d.to_string();
    for secret in [SECRET, FTP_PASSWORD, "wrong-pass-3Zk", "PRIVATE KEY"] {
        assert!(!text.contains(secret), "{secret} leaked into progress: {text}");
    }
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_targets_are_refused_without_allow_private_network() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = relaxed(dir.path()).with_allow_private_network(false).with_exports(exports_config(None, "100ms"));
    let t = TestServer::start(config).await;
    let key = t.key("k", BillingPlan::Pro);
    let (hook_url, hits, _r) = start_receiver(0).await;

    // An address literal is refused at submit, naming the field.
    let mut body = image_video("https://media.invalid/card.png", 1.0);
    body["exports"] = json!({"callback_url": hook_url, "callback_secret": SECRET});
    let (code, reply) = t.post(&key, &format!("{CORE}/simple-video"), &body).await;
    assert_eq!(code, 400, "{reply}");
    let msg = reply["message"].as_str().unwrap_or_default();
    assert!(msg.contains("exports.callback_url") && msg.contains("127.0.0.1"), "{reply}");
    // So is an FTP host literal in a private network.
    body["exports"] =
        json!({"destinations": [{"type": "ftp", "host": "10.1.2.3", "username": "u", "password": "p", "path": "/"}]});
    let (code, reply) = t.post(&key, &format!("{CORE}/simple-video"), &body).await;
    assert_eq!(code, 400, "{reply}");
    assert!(reply["message"].as_str().unwrap_or_default().contains("exports.destinations[0].host"), "{reply}");
    // And email without an SMTP relay.
    body["exports"] = json!({"destinations": [{"type": "email", "to": "a@example.com"}]});
    let (code, reply) = t.post(&key, &format!("{CORE}/simple-video"), &body).await;
    assert_eq!(code, 400, "{reply}");
    assert!(reply["message"].as_str().unwrap_or_default().contains("--smtp-url"), "{reply}");

    // A name resolving to loopback passes submit and is refused when connecting: the task fails
    // (its media host does not resolve), video.failed is never sent, and it is not retried.
    let port = hook_url.rsplit(':').next().and_then(|p| p.split('/').next()).expect("port").to_string();
    body["exports"] = json!({"callback_url": format!("http://localhost:{port}/hook"), "callback_secret": SECRET});
    let (id, done) = t.render(&key, &body, 60).await;
    assert_eq!(done["status"], "failed", "{done}");
    let d = wait_deliveries(&t, &key, &id, 20).await;
    let cb = &d["settings"]["export_delivery"]["callback"];
    assert_eq!(cb["status"], "failed", "{cb}");
    assert_eq!(cb["attempts"], 1, "a refused address is not retried: {cb}");
    assert_eq!(cb["event"], "video.failed");
    assert!(cb["last_error"].as_str().unwrap_or_default().contains("not allowed"), "{cb}");
    assert!(hits.lock().unwrap_or_else(|p| p.into_inner()).is_empty(), "nothing reached the receiver");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_retry_survives_a_restart() {
    a_pending_retry_survives_a_restart_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_retry_survives_a_restart_on_postgres() {
    a_pending_retry_survives_a_restart_on(Backend::Postgres).await;
}

async fn a_pending_retry_survives_a_restart_on(backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let media = Media::empty().await;
    // The receiver is not up yet: its port is reserved and closed.
    let port = free_port();
    let hook_url = format!("http://127.0.0.1:{port}/hook");
    let store = backend.store(relaxed(dir.path())).store;
    let config =
        || ServerConfig { store: store.clone(), ..relaxed(dir.path()) }.with_exports(exports_config(None, "2s,1s"));
    let t = TestServer::start(config()).await;
    let key = t.key("k", BillingPlan::Pro);
    let mut body = image_video(&media.url("missing.png"), 1.0);
    body["exports"] = json!({"callback_url": hook_url, "callback_secret": SECRET});
    let (id, done) = t.render(&key, &body, 60).await;
    assert_eq!(done["status"], "failed", "{done}");
    // Wait for the first (refused) attempt, then stop while the retry is pending.
    let callback = |p: &Value| p["data"]["settings"]["export_delivery"]["callback"].clone();
    let p = t
        .poll(&key, &format!("{CORE}/progress/{id}"), 20, "pending after a first attempt", |p| {
            let cb = callback(p);
            cb["attempts"] == 1 && cb["status"] == "pending"
        })
        .await;
    let first = callback(&p);
    assert!(first["last_error"].as_str().unwrap_or_default().contains("cannot connect"), "{first}");
    assert!(first["next_attempt_at"].is_string(), "{first}");
    t.server.stop().await;

    // Bring the receiver up on the reserved port and restart over the same data dir.
    let hits: Arc<Mutex<Vec<(String, Bytes)>>> = Arc::new(Mutex::new(Vec::new()));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, b: Bytes| {
            let h = h.clone();
            async move {
                let id =
                    headers.get("x-samautomation-delivery").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                h.lock().unwrap_or_else(|p| p.into_inner()).push((id, b));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("rebind the reserved port");
    let _r = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let t = TestServer::start(config()).await;
    let d = wait_deliveries(&t, &key, &id, 20).await;
    let cb = &d["settings"]["export_delivery"]["callback"];
    assert_eq!(cb["status"], "delivered", "{cb}");
    assert_eq!(cb["attempts"], 2, "{cb}");
    assert_eq!(cb["response_status"], 204);
    let hits = hits.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].0, first["delivery_id"].as_str().unwrap_or("-"), "same delivery id after the restart");
    let payload: Value = serde_json::from_slice(&hits[0].1).expect("JSON");
    assert_eq!(payload["event"], "video.failed");
    assert_eq!(payload["data"]["status"], "failed");
    assert!(payload["data"]["error"].is_string());
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sftp_host_key_that_changed_is_refused() {
    let work = tempfile::tempdir().expect("tmp");
    let ssh_dir = work.path().join("ssh");
    let sftp_root = work.path().join("sftp");
    for d in [&ssh_dir, &sftp_root] {
        std::fs::create_dir_all(d).expect("dir");
    }
    let media = Media::card(320, 180).await;
    let (ssh_port, client_pem, host_pub, _sshd) = start_sshd(&ssh_dir);
    let data = work.path().join("data");
    // Strict mode: a known_hosts file that lists another key for this host:port.
    let other = work.path().join("other_key");
    keygen(&other);
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).expect("pub");
    let known = work.path().join("known_hosts");
    std::fs::write(&known, format!("[127.0.0.1]:{ssh_port} {other_pub}")).expect("known_hosts");
    let mut exports = exports_config(None, "100ms");
    exports.sftp_known_hosts = Some(known.clone());
    let t = TestServer::start(relaxed(&data).with_exports(exports)).await;
    let key = t.key("k", BillingPlan::Pro);
    let mut body = image_video(&media.url("card.png"), 1.0);
    body["exports"] = json!({"destinations": [
        {"type": "sftp", "host": "127.0.0.1", "port": ssh_port, "username": login_user(), "private_key": client_pem, "path": format!("{}/", sftp_root.display())},
    ]});
    let (_, d) = render_and_deliver(&t, &key, &body, 20).await;
    let s = &d["settings"]["export_delivery"]["destinations"][0];
    assert_eq!(s["status"], "failed", "{s}");
    assert_eq!(s["attempts"], 1, "{s}");
    assert!(s["last_error"].as_str().unwrap_or_default().contains("differs from the known-hosts file"), "{s}");
    assert!(std::fs::read_dir(&sftp_root).expect("dir").next().is_none(), "nothing was uploaded");
    t.server.stop().await;

    // With the right key listed, the same server is accepted.
    std::fs::write(&known, format!("[127.0.0.1]:{ssh_port} {host_pub}")).expect("known_hosts");
    let mut exports = exports_config(None, "100ms");
    exports.sftp_known_hosts = Some(known);
    let t = TestServer::start(relaxed(&data).with_exports(exports)).await;
    let (id, d) = render_and_deliver(&t, &key, &body, 20).await;
    let s = &d["settings"]["export_delivery"]["destinations"][0];
    assert_eq!(s["status"], "delivered", "{s}");
    assert!(sftp_root.join(format!("{id}.mp4")).exists());
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_ended_without_its_deliveries_queued_gets_them_on_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = Media::empty().await;
    let (hook_url, hits, _r) = start_receiver(0).await;
    // A server whose hook does nothing stands for one that stopped before queueing.
    let config = relaxed(dir.path()).with_exports(exports_config(None, "100ms"));
    let t = TestServer::start_with_hook(config.clone(), Arc::new(samvideo_http::jobs::hooks::NoDelivery)).await;
    let key = t.key("k", BillingPlan::Pro);
    let mut body = image_video(&media.url("missing.png"), 1.0);
    body["exports"] = json!({"callback_url": hook_url, "callback_secret": SECRET});
    let (id, done) = t.render(&key, &body, 60).await;
    assert_eq!(done["status"], "failed");
    assert!(done["settings"].get("export_delivery").is_none(), "{done}");
    t.server.stop().await;

    let t = TestServer::start(config).await;
    let d = wait_deliveries(&t, &key, &id, 20).await;
    let cb = &d["settings"]["export_delivery"]["callback"];
    assert_eq!(cb["status"], "delivered", "{d}");
    assert_eq!(cb["event"], "video.failed");
    let hits = hits.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].signature_ok);
    t.server.stop().await;
}
