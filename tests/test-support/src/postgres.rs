//! A throwaway Postgres server for the tests: started once per test process on a free loopback
//! port (initdb into a temp dir, durability off), one fresh database per caller
//! ([`fresh_database`]). Postgres refuses to run as root, so as root the server runs as the
//! `postgres` user (`runuser`), in a folder it owns.
//!
//! The server lives as long as the test process and no longer: it runs under a small shell
//! that waits on a pipe from this process, and when the process exits (or dies) the pipe
//! closes, the shell stops the server and removes its folder.
//!
//! Binaries: `SAMVIDEO_PG_BIN` if set, else the newest `/usr/lib/postgresql/*/bin` (Debian's
//! `postgresql` package; `scripts/setup.sh test` installs it).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The running server.
struct Server {
    port: u16,
    bin: PathBuf,
    /// Held open for the life of the process: its end stops the server.
    _lifeline: Mutex<ChildStdin>,
    /// The shell that owns the server (reaped by the OS when this process ends).
    _shell: Mutex<Child>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

/// The shell that owns the server: initdb, start, wait for our pipe to close, stop, clean up.
const SCRIPT: &str = r#"
dir="$1"; port="$2"; bin="$3"
if ! "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
  echo "initdb failed: $(tail -5 "$dir/initdb.log")"; rm -rf "$dir"; exit 1
fi
"$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
  >"$dir/postgres.log" 2>&1 &
pid=$!
echo started
cat >/dev/null
kill -INT "$pid"; wait "$pid"
rm -rf "$dir"
"#;

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SAMVIDEO_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!("no Postgres server binaries in /usr/lib/postgresql/*/bin: run `scripts/setup.sh test`"),
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn start() -> Server {
    let bin = bin_dir();
    let root = is_root();
    let dir = std::env::temp_dir().join(format!("samvideo-pg-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir(&dir).expect("create the Postgres test dir");
    if root {
        let ok = Command::new("chown").arg("postgres:").arg(&dir).status().is_ok_and(|s| s.success());
        assert!(ok, "chown postgres: {} (is there a postgres user?)", dir.display());
    }
    let port = free_port();
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh"]);
        c
    } else {
        Command::new("sh")
    };
    cmd.arg("-c").arg(SCRIPT).arg("sh").arg(&dir).arg(port.to_string()).arg(&bin);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the Postgres test server");
    let lifeline = child.stdin.take().expect("stdin");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("read the server's start line");
    assert_eq!(line.trim(), "started", "Postgres test server did not start: {line}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
        assert!(Instant::now() < deadline, "Postgres test server not ready after 60 s:\n{log}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { port, bin, _lifeline: Mutex::new(lifeline), _shell: Mutex::new(child) }
}

/// A new empty database on the test server (started on first use), as a connection URL.
pub fn fresh_database() -> String {
    let server = SERVER.get_or_init(start);
    let name = format!("t{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
    let port = server.port.to_string();
    let out = Command::new(server.bin.join("createdb"))
        .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", &name])
        .output()
        .expect("run createdb");
    assert!(out.status.success(), "createdb {name}: {}", String::from_utf8_lossy(&out.stderr));
    format!("postgres://postgres@127.0.0.1:{port}/{name}")
}
