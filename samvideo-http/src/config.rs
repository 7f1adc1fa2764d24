//! Server configuration: the validated settings `samvideo serve` runs with.
//!
//! Enter: built by `cli::serve` from flags, `SAMVIDEO_*` environment variables and an optional
//! config file (see [`read_config_file`]), or by tests with the `with_*` builders.
//! Leave: shared read-only through [`crate::state::AppState`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::billing::BillingPlan;

/// Requests allowed per window for one limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed in one window.
    pub requests: u32,
    /// Window length.
    pub window: Duration,
}

impl Rate {
    /// `requests` per minute.
    pub const fn per_minute(requests: u32) -> Self {
        Rate { requests, window: Duration::from_secs(60) }
    }
}

/// Why a configuration is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `--workers` over 64.
    #[error("invalid workers {0} (expected 0..=64; 0 runs an API node that renders nothing)")]
    Workers(usize),
    /// `samvideo work --workers 0`.
    #[error("invalid workers 0 for samvideo work (expected 1..=64: a worker that renders nothing does nothing)")]
    NoWorkers,
    /// `--lease-seconds` too short to renew or too long to rescue.
    #[error("invalid lease {0} s (--lease-seconds: expected 1..=3600)")]
    Lease(f64),
    /// `--retention-days` outside [`RETENTION_DAYS`].
    #[error(
        "invalid retention {0} days (--retention-days: expected 1..=3650; leave it unset to keep outputs forever)"
    )]
    RetentionDays(u32),
    /// The public URL is not http(s).
    #[error("invalid public URL {0:?} (expected http://host[:port] or https://...)")]
    PublicUrl(String),
    /// A plan limit entry does not parse.
    #[error("invalid plan limit {0:?} (expected PLAN=N, e.g. basic=100; 0 means unlimited)")]
    PlanLimit(String),
    /// A media limit cannot work (zero sizes or timeouts, ...).
    #[error(transparent)]
    MediaLimit(#[from] samvideo_core::media::limits::InvalidLimit),
    /// A config file line does not parse.
    #[error("config file {path}: line {line}: {reason}")]
    File {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Export settings (SMTP relay, retry schedule, known-hosts file) are wrong.
    #[error(transparent)]
    Exports(#[from] crate::exports::settings::ExportsConfigError),
    /// An AI, credits or video-pack setting is invalid.
    #[error("{0}")]
    Billing(String),
    /// The data directory cannot be created.
    #[error("cannot create data dir {path}: {reason}")]
    DataDir {
        /// The path.
        path: String,
        /// OS error.
        reason: String,
    },
}

/// The days `--retention-days` may say: at least one (a sweep never races a render that just
/// ended), at most ten years.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

/// Everything the server needs to run. Defaults match the issue: one worker, the documented
/// rate limits, free plan 5 videos a month.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Outputs, previews, temporary files and (by default) the SQLite store live here.
    pub data_dir: PathBuf,
    /// Where the store lives (`--store`); `None`: `samvideo.db` in the data dir.
    pub store: Option<crate::store::StoreLocation>,
    /// Base of absolute `output_url`s; `None` uses the request's Host header.
    pub public_url: Option<String>,
    /// Lets media URLs point at loopback/private addresses (tests, intranets).
    pub allow_private_network: bool,
    /// Renders running at once (0: an API node that renders nothing).
    pub workers: usize,
    /// Where outputs, posters, sidecars and previews are kept (`--objects`); `None`: the data
    /// dir, as files.
    pub objects: Option<crate::objects::ObjectsLocation>,
    /// The S3 endpoint and client settings of an `s3://` object store (`--s3-endpoint`).
    pub s3: crate::objects::S3Settings,
    /// How long a claimed task stays a worker's without a heartbeat (`--lease-seconds`); its
    /// heartbeat renews it three times as often.
    pub lease: Duration,
    /// Video codec of requests that name none (`--default-codec`).
    pub default_codec: samvideo_core::VideoCodec,
    /// A running task that reports no progress for this long ends `timeout`.
    pub inactivity_timeout: Duration,
    /// Core create endpoints (mix/simple/loop), per API key.
    pub core_rate: Rate,
    /// Advanced create endpoint, per API key.
    pub advanced_rate: Rate,
    /// Template endpoints, per client IP.
    pub templates_rate: Rate,
    /// The playground's unauthenticated validate endpoint, per client IP.
    pub validate_rate: Rate,
    /// Largest body the validate endpoint reads; larger gets 413 before parsing.
    pub max_validate_body: usize,
    /// Largest accepted advanced-video body; larger gets 413 before parsing.
    pub max_advanced_body: usize,
    /// Largest accepted body on the other endpoints.
    pub max_body: usize,
    /// Monthly video limit of the free plan.
    pub free_monthly_videos: u32,
    /// Monthly video limits of the paid plans; absent or 0 means unlimited.
    pub plan_limits: BTreeMap<BillingPlan, u32>,
    /// A synchronous preview render is cancelled after this long.
    pub preview_timeout: Duration,
    /// Attempts a task gets when the server dies under it before it is marked failed.
    pub max_attempts: u32,
    /// `--split-renders`: a video is rendered as parts (each segment of at most 10 s, the audio) that any
    /// worker claims, then finalized by the worker that claimed the video (`crate::jobs::split`);
    /// off, a worker renders the whole video in-process with its segment threads.
    pub split_renders: bool,
    /// Outputs, posters, caption sidecars and previews older than this many days are deleted
    /// (`--retention-days`, within [`RETENTION_DAYS`]); `None` keeps them forever.
    pub retention_days: Option<u32>,
    /// The waits between the tries of putting a finished render into the object store, while
    /// the worker holds its lease; after the last, the task goes back to the queue.
    pub upload_retries: Vec<Duration>,
    /// Bounds on what one job may fetch and decode (bytes, timeouts, redirects, pixels,
    /// input video size and length, output length, clips); see `docs/ingest.md`.
    pub media_limits: samvideo_core::media::limits::Limits,
    /// Export delivery: SMTP relay, default webhook secret, retry schedule, SFTP host keys
    /// (see `docs/exports.md`).
    pub exports: crate::exports::settings::ExportsConfig,
    /// AI catalog, providers and monthly credits (`docs/ai-and-credits.md`).
    pub ai: crate::ai::settings::AiConfig,
    /// Stripe and the video packs on sale.
    pub packs: crate::packs::PacksConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let mut plan_limits = BTreeMap::new();
        plan_limits.insert(BillingPlan::Basic, 100);
        plan_limits.insert(BillingPlan::Pro, 500);
        plan_limits.insert(BillingPlan::Ultimate, 0);
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            store: None,
            public_url: None,
            allow_private_network: false,
            workers: 1,
            objects: None,
            s3: crate::objects::S3Settings::default(),
            lease: Duration::from_secs(30),
            default_codec: samvideo_core::VideoCodec::Av1,
            inactivity_timeout: Duration::from_secs(300),
            core_rate: Rate::per_minute(5),
            advanced_rate: Rate::per_minute(3),
            templates_rate: Rate::per_minute(60),
            validate_rate: Rate::per_minute(120),
            max_validate_body: 256 * 1024,
            max_advanced_body: 1024 * 1024,
            max_body: 2 * 1024 * 1024,
            free_monthly_videos: 5,
            plan_limits,
            preview_timeout: Duration::from_secs(120),
            max_attempts: 2,
            split_renders: false,
            retention_days: None,
            upload_retries: vec![Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4)],
            media_limits: samvideo_core::media::limits::Limits::default(),
            exports: crate::exports::settings::ExportsConfig::default(),
            ai: crate::ai::settings::AiConfig::default(),
            packs: crate::packs::PacksConfig::default(),
        }
    }
}

impl ServerConfig {
    /// Defaults with `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig { data_dir: data_dir.into(), ..Default::default() }
    }
    /// Keep the store at `location` (`--store`).
    pub fn with_store(mut self, location: crate::store::StoreLocation) -> Self {
        self.store = Some(location);
        self
    }
    /// Set the media limits.
    pub fn with_media_limits(mut self, limits: samvideo_core::media::limits::Limits) -> Self {
        self.media_limits = limits;
        self
    }
    /// Set the listen address.
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
    /// Set the public base URL.
    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.public_url = url;
        self
    }
    /// Allow private-network media URLs.
    pub fn with_allow_private_network(mut self, allow: bool) -> Self {
        self.allow_private_network = allow;
        self
    }
    /// Set the codec of requests that name none.
    pub fn with_default_codec(mut self, codec: samvideo_core::VideoCodec) -> Self {
        self.default_codec = codec;
        self
    }
    /// Keep objects at `location` (`--objects`), with the S3 settings of a bucket.
    pub fn with_objects(mut self, location: crate::objects::ObjectsLocation, s3: crate::objects::S3Settings) -> Self {
        self.objects = Some(location);
        self.s3 = s3;
        self
    }
    /// Set the lease of claimed tasks.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }
    /// Delete outputs older than `days` (`--retention-days`).
    pub fn with_retention_days(mut self, days: Option<u32>) -> Self {
        self.retention_days = days;
        self
    }
    /// Set the waits between tries of an output upload (tests shorten them).
    pub fn with_upload_retries(mut self, waits: Vec<Duration>) -> Self {
        self.upload_retries = waits;
        self
    }
    /// Set the number of render workers.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }
    /// Segment encoders each render runs: the machine's cores shared among the render
    /// workers, at least one each. Every encoder holds ~140 MB at 720p, so `workers`
    /// concurrent renders never run more encoders than there are cores.
    pub fn encoders_per_render(&self) -> usize {
        encoders_for(std::thread::available_parallelism().map_or(1, |n| n.get()), self.workers)
    }
    /// What every render of this server starts from — jobs, previews and the AI built-in
    /// model alike: the operator's media limits and [`Self::encoders_per_render`] encoders.
    pub fn render_options(&self, cancel: samvideo_core::render::CancelToken) -> samvideo_core::render::RenderOptions {
        samvideo_core::render::RenderOptions {
            cancel,
            limits: Some(self.media_limits.clone()),
            threads: self.encoders_per_render(),
            default_codec: self.default_codec,
            ..Default::default()
        }
    }
    /// Set the inactivity window.
    pub fn with_inactivity_timeout(mut self, d: Duration) -> Self {
        self.inactivity_timeout = d;
        self
    }
    /// Set the three rate limits.
    pub fn with_rates(mut self, core: Rate, advanced: Rate, templates: Rate) -> Self {
        self.core_rate = core;
        self.advanced_rate = advanced;
        self.templates_rate = templates;
        self
    }
    /// Set the validate endpoint's per-IP rate and body limit.
    pub fn with_validate_limits(mut self, rate: Rate, max_body: usize) -> Self {
        self.validate_rate = rate;
        self.max_validate_body = max_body;
        self
    }
    /// Set the free plan's monthly videos.
    pub fn with_free_monthly_videos(mut self, n: u32) -> Self {
        self.free_monthly_videos = n;
        self
    }
    /// Set one paid plan's monthly limit (0 = unlimited).
    pub fn with_plan_limit(mut self, plan: BillingPlan, n: u32) -> Self {
        self.plan_limits.insert(plan, n);
        self
    }
    /// Set the advanced body limit.
    pub fn with_max_advanced_body(mut self, bytes: usize) -> Self {
        self.max_advanced_body = bytes;
        self
    }

    /// Set the export delivery settings.
    pub fn with_exports(mut self, exports: crate::exports::settings::ExportsConfig) -> Self {
        self.exports = exports;
        self
    }

    /// Set the AI settings (catalog, providers, monthly credits).
    pub fn with_ai(mut self, ai: crate::ai::settings::AiConfig) -> Self {
        self.ai = ai;
        self
    }

    /// Set Stripe and the video packs.
    pub fn with_packs(mut self, packs: crate::packs::PacksConfig) -> Self {
        self.packs = packs;
        self
    }

    /// Monthly limit of `plan`, `None` when unlimited.
    pub fn monthly_limit(&self, plan: BillingPlan) -> Option<u32> {
        let n = match plan {
            BillingPlan::Free => self.free_monthly_videos,
            other => self.plan_limits.get(&other).copied().unwrap_or(0),
        };
        (n > 0 || plan == BillingPlan::Free).then_some(n)
    }

    /// Check the values and create the data directory layout.
    pub fn validate(self) -> Result<Self, ConfigError> {
        if self.workers > 64 {
            return Err(ConfigError::Workers(self.workers));
        }
        if !(1.0..=3600.0).contains(&self.lease.as_secs_f64()) {
            return Err(ConfigError::Lease(self.lease.as_secs_f64()));
        }
        if let Some(days) = self.retention_days.filter(|d| !RETENTION_DAYS.contains(d)) {
            return Err(ConfigError::RetentionDays(days));
        }
        if let Some(url) = &self.public_url {
            let ok = (url.starts_with("http://") || url.starts_with("https://")) && url.len() > 8;
            if !ok {
                return Err(ConfigError::PublicUrl(url.clone()));
            }
        }
        self.media_limits.validate()?;
        for sub in ["", "tmp"] {
            let p = self.data_dir.join(sub);
            std::fs::create_dir_all(&p)
                .map_err(|e| ConfigError::DataDir { path: p.display().to_string(), reason: e.to_string() })?;
        }
        Ok(self)
    }

    /// The default store's SQLite file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("samvideo.db")
    }
    /// The store: `--store`, else the SQLite file in the data dir.
    pub fn store_location(&self) -> crate::store::StoreLocation {
        self.store.clone().unwrap_or_else(|| crate::store::StoreLocation::Sqlite(self.db_path()))
    }
    /// The object store: `--objects`, else the data dir's `outputs/` and `previews/` folders.
    pub fn objects_location(&self) -> crate::objects::ObjectsLocation {
        self.objects.clone().unwrap_or_else(|| crate::objects::ObjectsLocation::Dir(self.data_dir.clone()))
    }
    /// Partial renders and downloads (scratch space); emptied on start.
    pub fn tmp_dir(&self) -> PathBuf {
        self.data_dir.join("tmp")
    }
}

/// Parse `basic=100,pro=500` into plan limits.
pub fn parse_plan_limits(s: &str) -> Result<Vec<(BillingPlan, u32)>, ConfigError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || ConfigError::PlanLimit(part.to_string());
        let (plan, n) = part.split_once('=').ok_or_else(bad)?;
        let plan: BillingPlan = plan.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        out.push((plan, n));
    }
    Ok(out)
}

/// Read a `KEY=VALUE` config file (blank lines and `#` comments skipped). Keys are the
/// `SAMVIDEO_*` variable names with or without the prefix, any case: `workers = 2`.
pub fn read_config_file(path: &std::path::Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        line: 0,
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').ok_or_else(|| ConfigError::File {
            path: path.display().to_string(),
            line: i + 1,
            reason: "expected KEY=VALUE".into(),
        })?;
        let k = k.trim().to_ascii_uppercase();
        let k = if k.starts_with("SAMVIDEO_") { k } else { format!("SAMVIDEO_{k}") };
        let v = v.trim().trim_matches('"').to_string();
        out.push((k, v));
    }
    Ok(out)
}

fn encoders_for(cores: usize, workers: usize) -> usize {
    (cores / workers.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_render_gets_the_limits_and_its_share_of_the_cores() {
        let limits = samvideo_core::media::limits::Limits { max_output_seconds: 900.0, ..Default::default() };
        let config = ServerConfig::default().with_workers(64).with_media_limits(limits.clone());
        let cancel = samvideo_core::render::CancelToken::new();
        let options = config.render_options(cancel.clone());
        assert_eq!(options.threads, config.encoders_per_render());
        assert_ne!(options.threads, 0, "0 would mean one encoder per core for each of 64 renders");
        assert_eq!(options.limits, Some(limits));
        cancel.cancel();
        assert!(options.cancel.is_cancelled(), "the caller's token");
        assert!(!options.preview && options.progress.is_none());
    }

    #[test]
    fn render_workers_share_the_cores_among_their_encoders() {
        assert_eq!(encoders_for(2, 1), 2);
        assert_eq!(encoders_for(8, 3), 2);
        assert_eq!(encoders_for(2, 4), 1);
        assert_eq!(encoders_for(1, 0), 1);
        assert!(ServerConfig::default().with_workers(64).encoders_per_render() >= 1);
    }

    #[test]
    fn plan_limits_parse_and_reject() {
        let v = parse_plan_limits("basic=10, pro=0").expect("parses");
        assert_eq!(v, vec![(BillingPlan::Basic, 10), (BillingPlan::Pro, 0)]);
        let err = parse_plan_limits("gold=3").expect_err("unknown plan");
        assert!(err.to_string().contains("gold=3"), "{err}");
    }

    #[test]
    fn monthly_limit_zero_is_unlimited_for_paid_plans_only() {
        let c = ServerConfig::default().with_plan_limit(BillingPlan::Pro, 0).with_free_monthly_videos(0);
        assert_eq!(c.monthly_limit(BillingPlan::Pro), None);
        assert_eq!(c.monthly_limit(BillingPlan::Free), Some(0));
        assert_eq!(ServerConfig::default().monthly_limit(BillingPlan::Basic), Some(100));
    }
}
