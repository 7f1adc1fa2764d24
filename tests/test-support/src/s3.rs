//! A throwaway S3-compatible server for the tests: `moto_server` (PyPI's `moto[server]`, in
//! memory; `scripts/setup.sh test` installs it) started once per test process on a free
//! loopback port, one fresh bucket per caller ([`fresh_bucket`]). moto accepts any
//! credentials; the helpers here speak plain HTTP to it (path-style, unsigned).
//!
//! Like the Postgres server, it lives as long as the test process: it runs under a small shell
//! that waits on a pipe from this process and stops it when the pipe closes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The credentials and region every test hands to samvideo (moto takes any).
pub const AWS_ENV: [(&str, &str); 3] =
    [("AWS_ACCESS_KEY_ID", "samvideo-test"), ("AWS_SECRET_ACCESS_KEY", "samvideo-test"), ("AWS_REGION", "us-east-1")];

struct Server {
    port: u16,
    _lifeline: Mutex<ChildStdin>,
    _shell: Mutex<Child>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_BUCKET: AtomicU32 = AtomicU32::new(1);

const SCRIPT: &str = r#"
port="$1"
if command -v moto_server >/dev/null; then
  moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
else
  python3 -m moto.server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
fi
pid=$!
echo started
cat >/dev/null
kill "$pid"; wait "$pid" 2>/dev/null
"#;

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn start() -> Server {
    let port = free_port();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("sh")
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn moto_server (scripts/setup.sh test installs it)");
    let lifeline = child.stdin.take().expect("stdin");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read the start line");
    assert_eq!(line.trim(), "started", "moto_server did not start: {line}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while request(port, "GET", "/").is_err() {
        assert!(Instant::now() < deadline, "moto_server not answering on port {port} after 60 s (is it installed?)");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { port, _lifeline: Mutex::new(lifeline), _shell: Mutex::new(child) }
}

/// One plain HTTP/1.1 request to the server: (status, body).
fn request(port: u16, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

/// The server's base URL (`--s3-endpoint`), starting it on first use.
pub fn endpoint() -> String {
    format!("http://127.0.0.1:{}", SERVER.get_or_init(start).port)
}

/// A new empty bucket on the test server: (endpoint, bucket name).
pub fn fresh_bucket() -> (String, String) {
    let endpoint = endpoint();
    let port = SERVER.get().expect("started").port;
    let name = format!("samvideo-test-{}-{}", std::process::id(), NEXT_BUCKET.fetch_add(1, Ordering::Relaxed));
    let (status, body) = request(port, "PUT", &format!("/{name}")).expect("create bucket");
    assert_eq!(status, 200, "create bucket {name}: {body}");
    (endpoint, name)
}

/// The keys in `bucket`, sorted.
pub fn list_keys(bucket: &str) -> Vec<String> {
    let port = SERVER.get().expect("the test S3 server was started by fresh_bucket").port;
    let (status, body) = request(port, "GET", &format!("/{bucket}?list-type=2")).expect("list bucket");
    assert_eq!(status, 200, "list {bucket}: {body}");
    let mut keys: Vec<String> =
        body.split("<Key>").skip(1).filter_map(|part| part.split_once("</Key>").map(|(k, _)| k.to_string())).collect();
    keys.sort();
    keys
}
