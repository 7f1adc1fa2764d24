//! Measurements that must own their process: peak resident memory (`VmHWM`) is one number
//! per process, so a test that reads it while other tests of the same binary run would see
//! their allocations too (a false failure), or miss its own under their earlier peak (a false
//! pass). Such a test runs its work in a child: the same test binary, started on one
//! `#[ignore]`d test with [`run_child`]. The child checks [`is_child`] (it does nothing when a
//! person runs the ignored tests), does the work, and prints its numbers with
//! [`report`]; the parent reads them with [`ChildRun::field`].
//!
//! ```text
//! #[test]
//! #[ignore = "run by the memory test in a child process"]
//! fn memory_child() {
//!     if !is_child() { return; }
//!     // ... the work ...
//!     report(&[("hwm_kb", peak_rss_kb())]);
//! }
//!
//! #[test]
//! fn memory_stays_flat() {
//!     let run = run_child(&test_name!(memory_child), &[("CLIP", "long.mp4")]);
//!     assert!(run.field("hwm_kb") < 300_000);
//! }
//! ```

use std::process::Command;

/// Set (to `1`) in the environment of a child started by [`run_child`].
pub const CHILD_ENV: &str = "SAMVIDEO_TEST_CHILD";

/// Whether this process is a child started by [`run_child`].
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Peak resident memory of this process so far (`VmHWM`), in kB.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Print the child's numbers (`REPORT k=v k=v`) for the parent's [`ChildRun::field`].
pub fn report(fields: &[(&str, u64)]) {
    let line: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("\nREPORT {}", line.join(" "));
}

/// The libtest name of test function `name` in module `module_path` (as `module_path!()`
/// gives it: the crate's name first, which test names leave out). Use [`test_name!`](crate::test_name).
pub fn test_path(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{name}"),
        None => name.to_string(),
    }
}

/// The full libtest name (`video::memory_child`) of a test function in the calling module,
/// checked at compile time to exist: what [`run_child`] takes.
#[macro_export]
macro_rules! test_name {
    ($test:ident) => {{
        let _exists: fn() = $test;
        $crate::child::test_path(module_path!(), stringify!($test))
    }};
}

/// What a child printed.
pub struct ChildRun {
    /// Its standard output (the harness's lines and the test's own).
    pub stdout: String,
}

impl ChildRun {
    /// The number `key` of the child's [`report`] line; panics if there is none.
    pub fn field(&self, key: &str) -> u64 {
        let line = self
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("REPORT "))
            .unwrap_or_else(|| panic!("the child printed no REPORT line: {}", self.stdout));
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key}= in the child's report: {line}"))
    }
}

/// Run the ignored test `test` (its full name, see [`test_name!`](crate::test_name)) alone in a new process of
/// this test binary, with `env` added to its environment and [`CHILD_ENV`] set. Panics unless
/// it ran and passed; its stderr is copied to this test's stderr.
pub fn run_child(test: &str, env: &[(&str, &str)]) -> ChildRun {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(exe)
        .args(["--exact", test, "--ignored", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, "1")
        .envs(env.iter().copied())
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    assert!(out.status.success(), "child {test} failed: {stdout}{stderr}");
    // An unknown name or a test that is not ignored runs nothing, successfully.
    assert!(stdout.contains("test result: ok. 1 passed"), "child {test} did not run: {stdout}");
    ChildRun { stdout }
}
