//! Counters behind `/metrics` (Prometheus text format 0.0.4): renders finished by status and a
//! histogram of render wall time. Queue depth and per-state task counts are read from the
//! store at scrape time, so they survive restarts.
//!
//! A render is what a client asked for: a video (also when `--split-renders` renders it as
//! parts: it counts once, when it ends, with the coordination's wall time), a preview or an AI
//! render. Parts of split videos are never renders or tasks here (the store counts videos only,
//! `Store::task_counts`); the parts rendering now have their own gauge.

use std::fmt::Write;
use std::sync::Mutex;

use crate::store::{StatusCounts, TaskStatus};

const BUCKETS: [f64; 10] = [1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0];

#[derive(Default)]
struct Inner {
    renders: [u64; 6],
    bucket_counts: [u64; BUCKETS.len()],
    seconds_sum: f64,
    seconds_count: u64,
}

/// In-memory counters since process start.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Values read from the store and the job runner at scrape time.
pub struct Snapshot {
    /// Tasks waiting for a worker.
    pub queued: i64,
    /// Renders running now (parts of split videos not included).
    pub active: usize,
    /// Parts of split videos rendering now.
    pub active_parts: usize,
    /// Configured workers.
    pub workers: usize,
    /// All tasks by state.
    pub tasks: StatusCounts,
}

impl Metrics {
    /// A render ended in `status` after `seconds` of work.
    pub fn render_finished(&self, status: TaskStatus, seconds: f64) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = TaskStatus::ALL.iter().position(|s| *s == status) {
            m.renders[i] += 1;
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                m.bucket_counts[i] += 1;
            }
        }
        m.seconds_sum += seconds;
        m.seconds_count += 1;
    }

    /// The exposition text.
    pub fn render(&self, snap: &Snapshot) -> String {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let _ = writeln!(out, "# HELP samvideo_queue_depth Tasks waiting for a render worker.");
        let _ = writeln!(out, "# TYPE samvideo_queue_depth gauge");
        let _ = writeln!(out, "samvideo_queue_depth {}", snap.queued);
        let _ = writeln!(out, "# HELP samvideo_active_renders Renders running now.");
        let _ = writeln!(out, "# TYPE samvideo_active_renders gauge");
        let _ = writeln!(out, "samvideo_active_renders {}", snap.active);
        let _ = writeln!(out, "# HELP samvideo_active_parts Parts of split renders rendering now.");
        let _ = writeln!(out, "# TYPE samvideo_active_parts gauge");
        let _ = writeln!(out, "samvideo_active_parts {}", snap.active_parts);
        let _ = writeln!(out, "# HELP samvideo_workers Configured render workers.");
        let _ = writeln!(out, "# TYPE samvideo_workers gauge");
        let _ = writeln!(out, "samvideo_workers {}", snap.workers);
        let _ = writeln!(out, "# HELP samvideo_tasks Stored tasks by status.");
        let _ = writeln!(out, "# TYPE samvideo_tasks gauge");
        for s in TaskStatus::ALL {
            let _ = writeln!(out, "samvideo_tasks{{status=\"{}\"}} {}", s.as_str(), snap.tasks.get(s));
        }
        let _ = writeln!(out, "# HELP samvideo_renders_total Renders finished since start, by status.");
        let _ = writeln!(out, "# TYPE samvideo_renders_total counter");
        for (i, s) in TaskStatus::ALL.iter().enumerate().filter(|(_, s)| s.is_terminal()) {
            let _ = writeln!(out, "samvideo_renders_total{{status=\"{}\"}} {}", s.as_str(), m.renders[i]);
        }
        let _ = writeln!(out, "# HELP samvideo_render_seconds Wall time of finished renders.");
        let _ = writeln!(out, "# TYPE samvideo_render_seconds histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "samvideo_render_seconds_bucket{{le=\"{b}\"}} {}", m.bucket_counts[i]);
        }
        let _ = writeln!(out, "samvideo_render_seconds_bucket{{le=\"+Inf\"}} {}", m.seconds_count);
        let _ = writeln!(out, "samvideo_render_seconds_sum {}", m.seconds_sum);
        let _ = writeln!(out, "samvideo_render_seconds_count {}", m.seconds_count);
        out
    }
}
