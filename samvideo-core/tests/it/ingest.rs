//! Safe media ingest (issue 7), fetching half: `HttpSource` against real HTTP servers on
//! loopback addresses, the per-job cache, and the messages a user reads.
//!
//! Every server here listens on 127.0.0.1, 127.0.0.2 or ::1 and counts the connections it
//! accepts, so "refused before connecting" is checked as "the server saw zero connections".
//! Forms naming non-loopback addresses (169.254.169.254, 10.0.0.1, ...) are checked with
//! `HttpSource::preflight` — the same gate `fetch` runs first — so that a regression could
//! never send a packet to a real network.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use samvideo_core::media::cache::JobMedia;
use samvideo_core::media::http::HttpSource;
use samvideo_core::media::limits::Limits;
use samvideo_core::media::net_policy::NetPolicy;
use samvideo_core::media::{MediaError, MediaItemError, MediaSource};

/// What the test server answers to one request.
enum Reply {
    /// A complete response with `Content-Length`.
    Full { status: u16, headers: Vec<(&'static str, String)>, body: Vec<u8> },
    /// Wait before sending anything, then answer 200 "late".
    StallHeaders(Duration),
    /// Declare a length, send a few bytes, then hold the connection.
    DeclaredLength(u64),
    /// Chunked transfer of zero bytes until the client hangs up (or 256 MiB).
    ChunkedForever,
    /// A body without length, ended by closing the connection.
    UntilClose(usize),
    /// Declare 1000 bytes and send 10 every 100 ms.
    Drip,
}

fn ok(body: Vec<u8>) -> Reply {
    Reply::Full { status: 200, headers: vec![], body }
}

fn status(code: u16) -> Reply {
    Reply::Full { status: code, headers: vec![], body: b"no".to_vec() }
}

fn redirect(location: impl Into<String>) -> Reply {
    Reply::Full { status: 302, headers: vec![("Location", location.into())], body: vec![] }
}

/// Deterministic test bytes, so a wrong slice cannot pass as the right one.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

type Handler = dyn Fn(&str) -> Reply + Send + Sync;

/// A real HTTP/1.1 server on one address, counting connections and requests.
struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(bind: &str, handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind(bind).expect("bind test server");
        let addr = listener.local_addr().expect("local addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let connections = connections.clone();
            let requests = requests.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let requests = requests.clone();
                    let handler = handler.clone();
                    thread::spawn(move || serve_connection(stream, &*handler, &requests));
                }
            });
        }
        Server { addr, connections, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Answer requests on one connection (keep-alive) until the client closes it.
fn serve_connection(stream: TcpStream, handler: &Handler, requests: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(0) | Err(_) => return,
                Ok(_) if header == "\r\n" || header == "\n" => break,
                Ok(_) => {}
            }
        }
        requests.fetch_add(1, Ordering::SeqCst);
        let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
        if !respond(&mut writer, handler(&path)) {
            return;
        }
    }
}

/// Write one reply; false when the connection must close afterwards.
fn respond(w: &mut TcpStream, reply: Reply) -> bool {
    match reply {
        Reply::Full { status, headers, body } => {
            let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            w.write_all(head.as_bytes()).is_ok() && w.write_all(&body).is_ok()
        }
        Reply::StallHeaders(wait) => {
            thread::sleep(wait);
            let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate");
            false
        }
        Reply::DeclaredLength(len) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n0123456789");
            let _ = w.write_all(head.as_bytes());
            thread::sleep(Duration::from_secs(3));
            false
        }
        Reply::ChunkedForever => {
            if w.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err() {
                return false;
            }
            let chunk = [0u8; 16 * 1024];
            for _ in 0..(256 * 1024 / 16) {
                let ok = w.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_ok()
                    && w.write_all(&chunk).is_ok()
                    && w.write_all(b"\r\n").is_ok();
                if !ok {
                    break;
                }
            }
            false
        }
        Reply::UntilClose(len) => {
            let _ = w.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let _ = w.write_all(&pattern(len));
            false
        }
        Reply::Drip => {
            let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
            for _ in 0..100 {
                if w.write_all(&[b'x'; 10]).is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            false
        }
    }
}

/// Routes shared by most tests: `/bytes/N`, `/status/N`, `/loop/N` (redirects to N+1
/// forever), `/chain/N` (N redirects, then 1000 bytes), `/relative` (-> /bytes/5).
fn standard_routes(path: &str) -> Reply {
    let number = |prefix: &str| path.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
    if let Some(n) = number("/bytes/") {
        return ok(pattern(n));
    }
    if let Some(n) = number("/status/") {
        return status(n as u16);
    }
    if let Some(n) = number("/loop/") {
        return redirect(format!("/loop/{}", n + 1));
    }
    if let Some(n) = number("/chain/") {
        return if n == 0 { ok(pattern(1000)) } else { redirect(format!("/chain/{}", n - 1)) };
    }
    match path {
        "/relative" => redirect("bytes/5"),
        "/no-location" => status(302),
        "/stall" => Reply::StallHeaders(Duration::from_secs(3)),
        "/declared-huge" => Reply::DeclaredLength(10_000_000),
        "/chunked-forever" => Reply::ChunkedForever,
        "/until-close" => Reply::UntilClose(5_000),
        "/drip" => Reply::Drip,
        _ => status(404),
    }
}

fn source(policy: NetPolicy, limits: Limits) -> HttpSource {
    HttpSource::new(policy, limits).expect("http client starts")
}

fn private_ok() -> HttpSource {
    source(NetPolicy::new().with_allow_private_network(true), Limits::default())
}

fn refused(result: Result<impl Sized, MediaError>) -> Option<String> {
    match result {
        Err(MediaError::AddressNotAllowed(addr)) => Some(addr),
        _ => None,
    }
}

#[test]
fn every_refused_loopback_form_never_reaches_the_server() {
    let server = Server::start("127.0.0.1:0", standard_routes);
    let v6 = TcpListener::bind("[::1]:0").ok().map(|probe| {
        drop(probe);
        Server::start("[::1]:0", standard_routes)
    });
    let http = source(NetPolicy::new(), Limits::default());
    let p = server.port();
    let mut forms = vec![
        (format!("http://127.0.0.1:{p}/bytes/5"), "127.0.0.1"),
        (format!("https://127.0.0.1:{p}/bytes/5"), "127.0.0.1"),
        (format!("http://localhost:{p}/bytes/5"), "localhost ("),
        (format!("http://LOCALHOST:{p}/bytes/5"), "localhost ("),
        (format!("http://[::1]:{p}/bytes/5"), "::1"),
        (format!("http://0.0.0.0:{p}/bytes/5"), "0.0.0.0"),
        (format!("http://0:{p}/bytes/5"), "0.0.0.0"),
        (format!("http://2130706433:{p}/bytes/5"), "127.0.0.1"),
        (format!("http://0177.0.0.1:{p}/bytes/5"), "127.0.0.1"),
        (format!("http://0x7f000001:{p}/bytes/5"), "127.0.0.1"),
        (format!("http://0x7f.1:{p}/bytes/5"), "127.0.0.1"),
        (format!("http://127.1:{p}/bytes/5"), "127.0.0.1"),
        (format!("http://127.000.000.001:{p}/bytes/5"), "127.0.0.1"),
        (format!("http://[::ffff:127.0.0.1]:{p}/bytes/5"), "::ffff:127.0.0.1"),
        (format!("http://[::ffff:7f00:1]:{p}/bytes/5"), "::ffff:127.0.0.1"),
        (format!("http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/bytes/5"), "::ffff:127.0.0.1"),
        (format!("http://user:pw@127.0.0.1:{p}/bytes/5"), "127.0.0.1"),
    ];
    if let Some(v6) = &v6 {
        forms.push((format!("http://[::1]:{}/bytes/5", v6.port()), "::1"));
    }
    for (url, shown) in &forms {
        let started = Instant::now();
        let got = refused(http.fetch(url));
        assert!(
            got.as_deref().is_some_and(|a| a.starts_with(shown)),
            "{url}: expected AddressNotAllowed({shown}..), got {got:?} / {:?}",
            http.fetch(url)
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{url} refused slowly");
    }
    assert_eq!(server.connections(), 0, "the loopback server saw a connection");
    if let Some(v6) = &v6 {
        assert_eq!(v6.connections(), 0, "the ::1 server saw a connection");
    }
    // The message a user reads, per the issue.
    let err = http.fetch(&forms[0].0).expect_err("refused");
    assert_eq!(err.to_string(), "address 127.0.0.1 is not allowed");
}

#[test]
fn non_loopback_internal_forms_are_refused_before_any_traffic() {
    let http = source(NetPolicy::new(), Limits::default());
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://2852039166/",
        "http://0xa9fea9fe/",
        "http://10.0.0.1/",
        "http://012.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[ff02::1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::1]/",
        "http://[::]/",
    ] {
        let got = http.preflight(url);
        assert!(refused(got.clone()).is_some(), "{url}: {got:?}");
    }
    assert_eq!(http.preflight("http://2852039166/"), Err(MediaError::AddressNotAllowed("169.254.169.254".into())));
    assert!(http.preflight("https://example.com/a.png").is_ok());
}

#[test]
fn opting_in_reaches_the_loopback_server_but_not_unspecified_or_metadata() {
    let server = Server::start("127.0.0.1:0", standard_routes);
    let http = private_ok();
    let bytes = http.fetch(&server.url("/bytes/3000")).expect("private fetch");
    assert_eq!(*bytes, pattern(3000));
    let bytes = http.fetch(&format!("http://localhost:{}/bytes/7", server.port())).expect("localhost with opt-in");
    assert_eq!(*bytes, pattern(7));
    assert_eq!(server.requests(), 2);

    let before = server.connections();
    let zero = http.fetch(&format!("http://0.0.0.0:{}/bytes/5", server.port()));
    assert_eq!(refused(zero).as_deref(), Some("0.0.0.0"));
    assert!(refused(http.preflight("http://169.254.169.254/")).is_some());
    assert_eq!(server.connections(), before, "0.0.0.0 stays refused with the opt-in");
}

#[test]
fn one_allowed_network_opens_only_that_address() {
    let a = Server::start("127.0.0.1:0", standard_routes);
    let b = Server::start("127.0.0.2:0", standard_routes);
    let http = source(NetPolicy::new().allow_network("127.0.0.1/32".parse().expect("net")), Limits::default());
    assert_eq!(*http.fetch(&a.url("/bytes/10")).expect("allowed"), pattern(10));
    assert_eq!(refused(http.fetch(&b.url("/bytes/10"))).as_deref(), Some("127.0.0.2"));
    assert_eq!(b.connections(), 0);
}

#[test]
fn redirect_to_a_refused_address_is_refused_before_connecting() {
    let target = Server::start("127.0.0.2:0", standard_routes);
    let tp = target.port();
    let first = Server::start("127.0.0.1:0", move |path| match path {
        "/to-target" => redirect(format!("http://127.0.0.2:{tp}/bytes/5")),
        "/to-target-mapped" => redirect(format!("http://[::ffff:127.0.0.2]:{tp}/bytes/5")),
        "/to-target-decimal" => redirect(format!("http://2130706434:{tp}/bytes/5")),
        "/to-metadata" => redirect("http://169.254.169.254:1/latest/meta-data/"),
        "/to-file" => redirect("file:///etc/passwd"),
        "/to-gopher" => redirect(format!("gopher://127.0.0.1:{tp}/")),
        other => standard_routes(other),
    });
    // Only 127.0.0.1 is trusted: the first hop passes, the targets must not.
    let http = source(NetPolicy::new().allow_network("127.0.0.1".parse().expect("net")), Limits::default());
    assert_eq!(refused(http.fetch(&first.url("/to-target"))).as_deref(), Some("127.0.0.2"));
    assert_eq!(refused(http.fetch(&first.url("/to-target-mapped"))).as_deref(), Some("::ffff:127.0.0.2"));
    assert_eq!(refused(http.fetch(&first.url("/to-target-decimal"))).as_deref(), Some("127.0.0.2"));
    // 169.254.169.254 is refused by the same pre-connect check (port 1: nothing real).
    assert_eq!(refused(http.fetch(&first.url("/to-metadata"))).as_deref(), Some("169.254.169.254"));
    assert_eq!(http.fetch(&first.url("/to-file")), Err(MediaError::UnsupportedScheme("file".into())));
    assert_eq!(http.fetch(&first.url("/to-gopher")), Err(MediaError::UnsupportedScheme("gopher".into())));
    assert_eq!(first.requests(), 6, "each first hop was really fetched");
    assert_eq!(target.connections(), 0, "no redirect target was contacted");
    // A relative redirect to an allowed place is followed.
    assert_eq!(*http.fetch(&first.url("/relative")).expect("followed"), pattern(5));
}

#[test]
fn redirect_to_a_denied_host_is_refused() {
    let server = Server::start("127.0.0.1:0", {
        move |path: &str| match path {
            "/to-localhost" => redirect("http://localhost:1/bytes/5".to_string()),
            "/to-sub" => redirect("http://cdn.evil.example:1/x".to_string()),
            other => standard_routes(other),
        }
    });
    let http = source(
        NetPolicy::new().with_allow_private_network(true).deny_host("localhost").deny_host("*.evil.example"),
        Limits::default(),
    );
    assert_eq!(http.fetch(&server.url("/to-localhost")), Err(MediaError::HostNotAllowed("localhost".into())));
    assert_eq!(http.fetch(&server.url("/to-sub")), Err(MediaError::HostNotAllowed("cdn.evil.example".into())));
    assert_eq!(server.requests(), 2);

    // An allow-list is exclusive: only listed hosts, each hop.
    let listed = source(NetPolicy::new().with_allow_private_network(true).allow_host("127.0.0.1"), Limits::default());
    assert_eq!(*listed.fetch(&server.url("/bytes/3")).expect("listed"), pattern(3));
    assert_eq!(listed.fetch(&server.url("/to-localhost")), Err(MediaError::HostNotAllowed("localhost".into())));
}

#[test]
fn redirect_limit_counts_hops() {
    let server = Server::start("127.0.0.1:0", standard_routes);
    let limits = Limits::default().with_max_redirects(3);
    let http = source(NetPolicy::new().with_allow_private_network(true), limits);
    assert_eq!(*http.fetch(&server.url("/chain/3")).expect("3 hops"), pattern(1000));
    assert_eq!(server.requests(), 4);
    let err = http.fetch(&server.url("/loop/0")).expect_err("loop");
    assert_eq!(err, MediaError::TooManyRedirects(3));
    assert_eq!(err.to_string(), "more than 3 redirects");
    assert_eq!(server.requests(), 4 + 4, "the 4th redirect is not followed");
    assert_eq!(http.fetch(&server.url("/no-location")), Err(MediaError::HttpStatus(302)));
}

#[test]
fn slow_servers_hit_the_timeout() {
    let server = Server::start("127.0.0.1:0", move |path| match path {
        p if p.starts_with("/slow-hop/") => {
            thread::sleep(Duration::from_millis(400));
            let n: u32 = p["/slow-hop/".len()..].parse().unwrap_or(0);
            redirect(format!("/slow-hop/{}", n + 1))
        }
        other => standard_routes(other),
    });
    let limits = Limits::default().with_fetch_timeout(Duration::from_secs(1));
    let http = source(NetPolicy::new().with_allow_private_network(true), limits);
    for path in ["/stall", "/drip", "/slow-hop/0"] {
        let started = Instant::now();
        let err = http.fetch(&server.url(path)).expect_err(path);
        let took = started.elapsed();
        assert_eq!(err, MediaError::Timeout(1), "{path}");
        assert_eq!(err.to_string(), "timed out after 1 s");
        assert!(took >= Duration::from_millis(900), "{path} gave up early: {took:?}");
        assert!(took < Duration::from_millis(2000), "{path} took {took:?}");
    }
}

#[test]
fn bodies_over_the_item_limit_are_refused() {
    let server = Server::start("127.0.0.1:0", standard_routes);
    let limits = Limits::default().with_max_item_bytes(100_000);
    let http = source(NetPolicy::new().with_allow_private_network(true), limits);

    // Declared too large: refused from the header, without waiting for the body.
    let started = Instant::now();
    assert_eq!(http.fetch(&server.url("/declared-huge")), Err(MediaError::TooLarge(100_000)));
    assert!(started.elapsed() < Duration::from_secs(1), "did not refuse on Content-Length");

    // Chunked, no length: refused while streaming.
    let started = Instant::now();
    let err = http.fetch(&server.url("/chunked-forever")).expect_err("chunked");
    assert_eq!(err, MediaError::TooLarge(100_000));
    assert_eq!(err.to_string(), "larger than the 100000 byte limit");
    assert!(started.elapsed() < Duration::from_secs(1));

    // Exactly at the limit is fine; one byte over is not.
    assert_eq!(http.fetch(&server.url("/bytes/100000")).map(|b| b.len()), Ok(100_000));
    assert_eq!(http.fetch(&server.url("/bytes/100001")), Err(MediaError::TooLarge(100_000)));

    // Length by connection close.
    let small = source(NetPolicy::new().with_allow_private_network(true), Limits::default().with_max_item_bytes(4_000));
    assert_eq!(small.fetch(&server.url("/until-close")), Err(MediaError::TooLarge(4_000)));
    assert_eq!(*private_ok().fetch(&server.url("/until-close")).expect("5000 bytes"), pattern(5_000));
}

#[test]
fn http_errors_name_the_status() {
    let server = Server::start("127.0.0.1:0", standard_routes);
    let http = private_ok();
    let url = server.url("/status/404");
    let err = http.fetch(&url).expect_err("404");
    assert_eq!(err, MediaError::HttpStatus(404));
    assert_eq!(http.fetch(&server.url("/status/500")), Err(MediaError::HttpStatus(500)));
    assert_eq!(http.fetch(&server.url("/status/204")).map(|b| b.len()), Ok(0));
    let item = MediaItemError { item: "media_list[2]".into(), url: url.clone(), error: err };
    assert_eq!(item.to_string(), format!("media_list[2] ({url}): HTTP 404"));
}

#[test]
fn unusable_limits_are_refused_up_front() {
    let bad = Limits::default().with_fetch_timeout(Duration::ZERO);
    match HttpSource::new(NetPolicy::new(), bad) {
        Err(e) => assert_eq!(e.to_string(), "invalid limit fetch_timeout: must be > 0"),
        Ok(_) => panic!("a zero fetch timeout was accepted"),
    }
}

#[test]
fn a_closed_port_is_a_network_error() {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    match private_ok().fetch(&format!("http://127.0.0.1:{port}/x")) {
        Err(MediaError::Network(msg)) => assert!(msg.starts_with("cannot connect"), "{msg}"),
        other => panic!("expected a network error, got {other:?}"),
    }
}

#[test]
fn other_schemes_and_bad_urls_are_refused() {
    let server = Server::start("127.0.0.1:0", standard_routes);
    let http = private_ok();
    let p = server.port();
    for (url, scheme) in [
        ("file:///etc/passwd".to_string(), "file"),
        (format!("ftp://127.0.0.1:{p}/x"), "ftp"),
        (format!("gopher://127.0.0.1:{p}/x"), "gopher"),
        (format!("ws://127.0.0.1:{p}/x"), "ws"),
        ("data:text/plain,hello".to_string(), "data"),
        ("javascript:alert(1)".to_string(), "javascript"),
    ] {
        assert_eq!(http.fetch(&url), Err(MediaError::UnsupportedScheme(scheme.into())), "{url}");
    }
    for url in ["not a url", "http://", "http://[::1/x", "http://exa mple.com/"] {
        assert!(matches!(http.fetch(url), Err(MediaError::InvalidUrl(_))), "{url}: {:?}", http.fetch(url));
    }
    assert_eq!(server.connections(), 0);
}

#[test]
fn the_job_cache_fetches_each_url_once() {
    let server = Server::start("127.0.0.1:0", standard_routes);
    let job = Arc::new(JobMedia::new(Arc::new(private_ok()), &Limits::default()));
    let url = server.url("/bytes/1000");
    for _ in 0..3 {
        assert_eq!(*job.fetch(&url).expect("cached fetch"), pattern(1000));
    }
    assert_eq!(server.requests(), 1, "three fetches, one request");

    // Concurrent callers for one URL share the one download.
    let shared = server.url("/bytes/2000");
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let job = job.clone();
            let shared = shared.clone();
            thread::spawn(move || job.fetch(&shared).map(|b| b.len()))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("thread"), Ok(2000));
    }
    assert_eq!(server.requests(), 2);

    // Failures are remembered too: a 404 is asked once per job.
    let missing = server.url("/status/404");
    assert_eq!(job.fetch(&missing), Err(MediaError::HttpStatus(404)));
    assert_eq!(job.fetch(&missing), Err(MediaError::HttpStatus(404)));
    assert_eq!(server.requests(), 3);
    assert_eq!(job.fetch_count(), 3);
    assert_eq!(job.bytes_fetched(), 3000);
}

#[test]
fn the_job_cache_enforces_the_per_job_byte_limit() {
    let server = Server::start("127.0.0.1:0", standard_routes);
    let limits = Limits::default().with_max_job_bytes(2_500);
    let job = JobMedia::new(Arc::new(private_ok()), &limits);
    assert!(job.fetch(&server.url("/bytes/1000")).is_ok());
    assert!(job.fetch(&server.url("/bytes/1001")).is_ok());
    let err = job.fetch(&server.url("/bytes/1002")).expect_err("over the job limit");
    assert_eq!(err.to_string(), "the job's media exceed the 2500 byte per-job limit");
    assert!(job.fetch(&server.url("/bytes/1000")).is_ok(), "cached items stay available");
    assert_eq!(server.requests(), 3);
}

/// A subtitle URL (`transcript_vtt`) is fetched with the job's media under its own byte limit
/// (`max_subtitle_bytes`), and every failure names the field and the URL: too large (refused
/// while streaming), not UTF-8, not WebVTT, or on an address the policy refuses (the server
/// never sees a connection).
#[test]
fn subtitle_urls_are_fetched_under_their_own_limit_and_named() {
    use samvideo_core::render::{plan_request, RenderOptions};
    use samvideo_core::request::CreateRequest;

    let vtt = "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nfetched words\n";
    let server = Server::start("127.0.0.1:0", move |path| match path {
        "/c.vtt" => ok(vtt.as_bytes().to_vec()),
        "/srt.vtt" => ok(b"1\n00:00:00,500 --> 00:00:01,500\nsrt\n".to_vec()),
        "/binary.vtt" => ok(vec![b'W', 0xff, 0xfe]),
        other => standard_routes(other),
    });
    // The validator accepts only https subtitle URLs; the test server speaks plain HTTP on
    // loopback, so the request is built from its wire type directly.
    let request = |path: &str| {
        let body = serde_json::json!({"media_list": [{"type": "image", "url": "a.png", "duration": 2}],
            "transcript_vtt": server.url(path)});
        CreateRequest::Mix(serde_json::from_value(body).expect("mix-video"))
    };
    let limits = Limits { max_subtitle_bytes: 4_000, ..Limits::default() };
    let options = RenderOptions { limits: Some(limits), ..RenderOptions::default() };
    let plan = |path: &str, http: HttpSource| plan_request(&request(path), Arc::new(http), &options);

    let p = plan("/c.vtt", private_ok()).expect("fetched and parsed");
    let words: Vec<&str> = p.captions[0].words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!((words, p.captions[0].start, p.captions[0].end), (vec!["fetched", "words"], 15, 45));

    let message = |path: &str, http: HttpSource| plan(path, http).expect_err("refused").to_string();
    let named = |path: &str, reason: &str| format!("transcript_vtt ({}): {reason}", server.url(path));
    assert_eq!(message("/bytes/4001", private_ok()), named("/bytes/4001", "larger than the 4000 byte limit"));
    let started = Instant::now();
    assert_eq!(message("/chunked-forever", private_ok()), named("/chunked-forever", "larger than the 4000 byte limit"));
    assert!(started.elapsed() < Duration::from_secs(1), "refused while streaming");
    assert_eq!(
        message("/srt.vtt", private_ok()),
        named("/srt.vtt", "not valid WebVTT: line 1: a WebVTT file starts with WEBVTT")
    );
    assert!(message("/binary.vtt", private_ok()).starts_with(&named("/binary.vtt", "not UTF-8 text")));
    let before = server.connections();
    let closed = source(NetPolicy::new(), Limits::default());
    assert_eq!(message("/c.vtt", closed), named("/c.vtt", "address 127.0.0.1 is not allowed"));
    assert_eq!(server.connections(), before, "refused before connecting");
}

/// A caption `font_url` is fetched with the job's media under its own byte limit
/// (`max_font_bytes`) and parsed before the first frame: a real font draws the captions (other
/// pixels than the bundled face), and bytes that are not a font, too many bytes, a server too
/// slow or an address the policy refuses each fail naming the field and the URL.
#[test]
fn caption_font_urls_are_fetched_checked_and_named() {
    use samvideo_core::render::{render_to_file, OutputFormat, RenderOptions};
    use samvideo_core::request::CreateRequest;

    // fonts-dejavu-core: installed with ffmpeg (fontconfig's default fonts).
    let serif = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf")
        .expect("DejaVu Serif Bold (apt-get install fonts-dejavu-core)");
    let server = Server::start("127.0.0.1:0", move |path| match path {
        "/serif.ttf" => ok(serif.clone()),
        other => standard_routes(other),
    });
    let dir = tempfile::tempdir().expect("tmp");
    samvideo_test_support::solid_png(dir.path(), "bg.png", 16, 16, [20, 40, 110, 255]);
    // The rules accept any http(s) URL; built from the wire type so the label and URL are exact.
    let request = |font: Option<String>| {
        let mut styling = serde_json::json!({});
        if let Some(url) = font {
            styling["font_url"] = serde_json::json!(url);
        }
        let body = serde_json::json!({"media_list": [{"type": "image", "url": "bg.png", "duration": 0.2}],
            "transcripts": [{"words": "Hello", "start": 0, "end": 0.2}],
            "settings": {"aspect_ratio": "9:16", "output_quality": "low", "fps": 15, "caption_styling": styling}});
        CreateRequest::Mix(serde_json::from_value(body).expect("mix-video"))
    };
    let limits = Limits { max_font_bytes: 1_000_000, ..Limits::default() };
    let options = RenderOptions { format: OutputFormat::Y4m, limits: Some(limits), ..RenderOptions::default() };
    let out = dir.path().join("out.y4m");
    let render = |font: Option<String>, http: HttpSource| {
        let source = samvideo_core::media::local::LocalSource::new(dir.path()).with_remote(Box::new(http));
        render_to_file(&request(font), Arc::new(source), &out, &options).map(|_| std::fs::read(&out).expect("y4m"))
    };
    let bundled = render(None, private_ok()).expect("bundled font");
    let fetched = render(Some(server.url("/serif.ttf")), private_ok()).expect("fetched font");
    assert_eq!(bundled.len(), fetched.len());
    let differ = bundled.iter().zip(&fetched).filter(|(a, b)| a != b).count();
    eprintln!("font_url: {differ} of {} bytes differ from the bundled face", bundled.len());
    assert!(differ > 500, "the fetched face draws the caption: {differ} bytes differ");

    let message = |path: &str, http: HttpSource| render(Some(server.url(path)), http).expect_err("refused").to_string();
    let named =
        |path: &str, reason: &str| format!("settings.caption_styling.font_url ({}): {reason}", server.url(path));
    assert_eq!(message("/bytes/5000", private_ok()), named("/bytes/5000", "not a TrueType or OpenType font"));
    assert_eq!(message("/bytes/1000001", private_ok()), named("/bytes/1000001", "larger than the 1000000 byte limit"));
    let slow = source(
        NetPolicy::new().with_allow_private_network(true),
        Limits::default().with_fetch_timeout(Duration::from_secs(1)),
    );
    assert_eq!(message("/stall", slow), named("/stall", "timed out after 1 s"));
    let before = server.connections();
    let closed = source(NetPolicy::new(), Limits::default());
    assert_eq!(message("/serif.ttf", closed), named("/serif.ttf", "address 127.0.0.1 is not allowed"));
    assert_eq!(server.connections(), before, "refused before connecting");
    assert!(!out.exists(), "no output left by a failed render");
}
