//! The per-job media cache: each URL is fetched once per job, and the job's total bytes
//! are bounded.
//!
//! A render job creates one [`JobMedia`] around the service's [`MediaSource`] (an
//! [`super::http::HttpSource`], or a [`super::local::LocalSource`] in the CLI) and passes it
//! where a `MediaSource` is expected. URLs enter through [`MediaSource::fetch`]; the first
//! caller for a URL fetches it while concurrent callers for the same URL wait for that one
//! result; bytes (or the error) leave as the same `Arc` for every caller. Errors are cached
//! too, so a failing URL is tried once per job. The cache lives as long as the job and is
//! dropped with it: nothing is written to disk.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::limits::Limits;
use super::{MediaError, MediaSource};

type Slot = Arc<OnceLock<Result<Arc<Vec<u8>>, MediaError>>>;

/// A job's view of a media source: fetch-once per URL, bounded total bytes. Thread-safe.
pub struct JobMedia {
    /// Where bytes really come from.
    inner: Arc<dyn MediaSource>,
    /// Largest sum of distinct media bytes this job may hold.
    max_job_bytes: u64,
    /// One slot per URL; the map lock is held only to find or insert a slot.
    slots: Mutex<HashMap<String, Slot>>,
    /// Bytes of all successful fetches so far.
    bytes: AtomicU64,
    /// Fetches that reached `inner` (for tests and logs).
    fetches: AtomicU64,
}

impl JobMedia {
    /// Wrap `inner` with the per-job byte limit of `limits`.
    pub fn new(inner: Arc<dyn MediaSource>, limits: &Limits) -> Self {
        JobMedia::with_max_job_bytes(inner, limits.max_job_bytes)
    }

    /// Wrap `inner`, allowing at most `max_job_bytes` in total.
    pub fn with_max_job_bytes(inner: Arc<dyn MediaSource>, max_job_bytes: u64) -> Self {
        JobMedia {
            inner,
            max_job_bytes,
            slots: Mutex::new(HashMap::new()),
            bytes: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        }
    }

    /// Bytes fetched so far by this job.
    pub fn bytes_fetched(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// How many times the inner source was asked (once per distinct URL).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn slot(&self, url: &str) -> Slot {
        // A poisoned lock only means another fetch panicked; the map itself is intact.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(url.to_string()).or_default().clone()
    }

    fn fetch_once(&self, url: &str, max_bytes: Option<u64>) -> Result<Arc<Vec<u8>>, MediaError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let bytes = match max_bytes {
            Some(max) => self.inner.fetch_at_most(url, max)?,
            None => self.inner.fetch(url)?,
        };
        let len = bytes.len() as u64;
        let total = self.bytes.fetch_add(len, Ordering::Relaxed).saturating_add(len);
        if total > self.max_job_bytes {
            return Err(MediaError::Limit(format!(
                "the job's media exceed the {} byte per-job limit",
                self.max_job_bytes
            )));
        }
        Ok(bytes)
    }
}

impl MediaSource for JobMedia {
    fn fetch(&self, url: &str) -> Result<Arc<Vec<u8>>, MediaError> {
        self.slot(url).get_or_init(|| self.fetch_once(url, None)).clone()
    }

    /// Cached like [`MediaSource::fetch`]; bytes this job already holds for the URL (fetched
    /// under a larger limit) are checked against `max_bytes` too.
    fn fetch_at_most(&self, url: &str, max_bytes: u64) -> Result<Arc<Vec<u8>>, MediaError> {
        let bytes = self.slot(url).get_or_init(|| self.fetch_once(url, Some(max_bytes))).clone()?;
        if bytes.len() as u64 > max_bytes {
            return Err(MediaError::TooLarge(max_bytes));
        }
        Ok(bytes)
    }
}
