//! `samvideo serve`: run the HTTP API.
//!
//! Every setting comes from a flag, its `SAMVIDEO_*` environment variable, or a `KEY=VALUE`
//! config file (`--config`), in that order of precedence; then the defaults of
//! [`ServerConfig`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use crate::config::{parse_plan_limits, read_config_file, ConfigError, Rate, ServerConfig};
use crate::objects::ObjectsLocation;
use crate::server::Server;
use crate::store::StoreLocation;
use samvideo_core::media::limits::Limits;
use samvideo_core::VideoCodec;

/// Arguments of `samvideo serve`.
#[derive(clap::Args, Debug, Default)]
pub struct ServeArgs {
    /// What an API node and a render worker both take: data dir, store, objects, workers,
    /// lease, media limits.
    #[command(flatten)]
    pub node: NodeArgs,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "SAMVIDEO_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Core creates (mix/simple/loop) per key per window [default: 5].
    #[arg(long, env = "SAMVIDEO_CORE_RATE")]
    pub core_rate: Option<u32>,
    /// Advanced creates per key per window [default: 3].
    #[arg(long, env = "SAMVIDEO_ADVANCED_RATE")]
    pub advanced_rate: Option<u32>,
    /// Template requests per client IP per window [default: 60].
    #[arg(long, env = "SAMVIDEO_TEMPLATES_RATE")]
    pub templates_rate: Option<u32>,
    /// Playground validate requests (no key) per client IP per window [default: 120].
    #[arg(long, env = "SAMVIDEO_VALIDATE_RATE")]
    pub validate_rate: Option<u32>,
    /// Largest body of the playground validate endpoint in bytes; larger gets 413 [default: 262144].
    #[arg(long, env = "SAMVIDEO_MAX_VALIDATE_BODY")]
    pub max_validate_body: Option<usize>,
    /// Rate-limit window in seconds [default: 60].
    #[arg(long, env = "SAMVIDEO_RATE_WINDOW_SECS")]
    pub rate_window_secs: Option<f64>,
    /// Largest advanced-video body in bytes; larger gets 413 [default: 1048576].
    #[arg(long, env = "SAMVIDEO_MAX_ADVANCED_BODY")]
    pub max_advanced_body: Option<usize>,
    /// Largest body of other endpoints in bytes [default: 2097152].
    #[arg(long, env = "SAMVIDEO_MAX_BODY")]
    pub max_body: Option<usize>,
    /// Videos a month on the free plan [default: 5].
    #[arg(long, env = "SAMVIDEO_FREE_MONTHLY_VIDEOS")]
    pub free_monthly_videos: Option<u32>,
    /// Paid plans' monthly videos, e.g. basic=100,pro=500,ultimate=0 (0 = unlimited).
    #[arg(long, env = "SAMVIDEO_PLAN_LIMITS")]
    pub plan_limits: Option<String>,
    /// Seconds a synchronous preview may take [default: 120].
    #[arg(long, env = "SAMVIDEO_PREVIEW_TIMEOUT_SECS")]
    pub preview_timeout_secs: Option<f64>,
    /// Export delivery: SMTP relay, webhook secret, retry schedule, SFTP known hosts.
    #[command(flatten)]
    pub exports: crate::exports::args::ExportArgs,
    /// AI catalog and providers, monthly AI credits, Stripe and video packs.
    #[command(flatten)]
    pub billing: crate::ai::args::BillingArgs,
}

/// The flags of every node that renders or could: `samvideo serve` and `samvideo work` take
/// them alike (one definition, one reading: [`NodeArgs::apply`]).
#[derive(clap::Args, Debug, Default)]
pub struct NodeArgs {
    /// Directory for the node id, scratch files and, by default, the database and outputs
    /// [default: ./data].
    #[arg(long, env = "SAMVIDEO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The store: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE (shared by
    /// several nodes) [default: sqlite:DATA_DIR/samvideo.db].
    #[arg(long, env = "SAMVIDEO_STORE")]
    pub store: Option<StoreLocation>,
    /// Where outputs, posters, caption sidecars and previews are kept: file:DIR or
    /// s3://BUCKET[/PREFIX] (shared by several nodes) [default: file:DATA_DIR].
    #[arg(long, env = "SAMVIDEO_OBJECTS")]
    pub objects: Option<ObjectsLocation>,
    /// Base URL of an S3-compatible server for s3:// objects (credentials and region from
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION) [default: AWS].
    #[arg(long, env = "SAMVIDEO_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// A config file of KEY=VALUE lines (keys as the env variables, prefix optional).
    #[arg(long, env = "SAMVIDEO_CONFIG")]
    pub config: Option<PathBuf>,
    /// Base of absolute output URLs (API responses, webhooks, emails), e.g.
    /// <https://videos.example.com> (default: the request's Host).
    #[arg(long, env = "SAMVIDEO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Let media URLs (and export targets) point at loopback and private networks.
    #[arg(long, env = "SAMVIDEO_ALLOW_PRIVATE_NETWORK")]
    pub allow_private_network: Option<Option<bool>>,
    /// Renders running at once; 0 on `serve` runs an API node that renders nothing
    /// [default: 1].
    #[arg(long, env = "SAMVIDEO_WORKERS")]
    pub workers: Option<usize>,
    /// Video codec of requests that name none (`output_codec`): av1 (with Opus) or h264
    /// (with AAC) [default: av1].
    #[arg(long, env = "SAMVIDEO_DEFAULT_CODEC")]
    pub default_codec: Option<VideoCodec>,
    /// Seconds without render progress before a task ends `timeout` [default: 300].
    #[arg(long, env = "SAMVIDEO_INACTIVITY_TIMEOUT_SECS")]
    pub inactivity_timeout_secs: Option<f64>,
    /// Times a task is started before it fails, when its worker dies under it [default: 2].
    #[arg(long, env = "SAMVIDEO_MAX_ATTEMPTS")]
    pub max_attempts: Option<u32>,
    /// Delete outputs, posters, caption sidecars and previews this many days after they were
    /// made (1..=3650; the task keeps its state and says so) [default: keep forever].
    #[arg(long, env = "SAMVIDEO_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
    /// Seconds a claimed task stays its worker's without a heartbeat; then another worker
    /// takes it over (1..=3600) [default: 30].
    #[arg(long, env = "SAMVIDEO_LEASE_SECONDS")]
    pub lease_seconds: Option<f64>,
    /// Render each video as parts (its segments of at most 10 s and its audio) that any worker of the
    /// store claims, joined into the same bytes by one worker (docs/scale-out.md) [default:
    /// off: a worker renders a whole video with its own segment threads].
    #[arg(long, env = "SAMVIDEO_SPLIT_RENDERS")]
    pub split_renders: Option<Option<bool>>,
    /// Largest media item in MiB [default: 200].
    #[arg(long, env = "SAMVIDEO_MAX_ITEM_MB")]
    pub max_item_mb: Option<u64>,
    /// Largest sum of a job's media in MiB [default: 1024].
    #[arg(long, env = "SAMVIDEO_MAX_JOB_MB")]
    pub max_job_mb: Option<u64>,
    /// Seconds to wait for a connection to a media host [default: 10].
    #[arg(long, env = "SAMVIDEO_CONNECT_TIMEOUT_SECS")]
    pub connect_timeout_secs: Option<f64>,
    /// Seconds one media item may take to download, redirects included [default: 30].
    #[arg(long, env = "SAMVIDEO_FETCH_TIMEOUT_SECS")]
    pub fetch_timeout_secs: Option<f64>,
    /// Redirects followed per media item [default: 10].
    #[arg(long, env = "SAMVIDEO_MAX_REDIRECTS")]
    pub max_redirects: Option<u32>,
    /// Largest image in megapixels, checked from the header [default: 50].
    #[arg(long, env = "SAMVIDEO_MAX_IMAGE_MEGAPIXELS")]
    pub max_image_megapixels: Option<u64>,
    /// Longest input video in seconds [default: 1800].
    #[arg(long, env = "SAMVIDEO_MAX_INPUT_VIDEO_SECS")]
    pub max_input_video_secs: Option<f64>,
    /// Largest input video width or height in pixels [default: 4096].
    #[arg(long, env = "SAMVIDEO_MAX_INPUT_VIDEO_SIDE")]
    pub max_input_video_side: Option<u32>,
    /// Longest output video in seconds [default: 600].
    #[arg(long, env = "SAMVIDEO_MAX_OUTPUT_SECS")]
    pub max_output_secs: Option<f64>,
}

/// A setting from the flag/env value, else the config file, else `None`.
pub(crate) fn pick<T: FromStr>(
    flag: Option<T>,
    file: &HashMap<String, String>,
    key: &str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    if flag.is_some() {
        return Ok(flag);
    }
    match file.get(key) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|e| ConfigError::File {
            path: "--config".into(),
            line: 0,
            reason: format!("{key}={v}: {e}"),
        }),
    }
}

pub(crate) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.001, 1e9))
}

impl NodeArgs {
    /// The config file's lines (`--config`), empty without one.
    pub fn file(&self) -> Result<HashMap<String, String>, ConfigError> {
        Ok(match &self.config {
            Some(p) => read_config_file(p)?.into_iter().collect(),
            None => HashMap::new(),
        })
    }

    /// Apply these flags (over the config file `file`) to `c`.
    pub fn apply(&self, file: &HashMap<String, String>, c: &mut ServerConfig) -> Result<(), ConfigError> {
        if let Some(v) = pick(self.data_dir.clone(), file, "SAMVIDEO_DATA_DIR")? {
            c.data_dir = v;
        }
        if let Some(v) = pick(self.store.clone(), file, "SAMVIDEO_STORE")? {
            c.store = Some(v);
        }
        if let Some(v) = pick(self.objects.clone(), file, "SAMVIDEO_OBJECTS")? {
            c.objects = Some(v);
        }
        if let Some(v) = pick(self.s3_endpoint.clone(), file, "SAMVIDEO_S3_ENDPOINT")? {
            c.s3.endpoint = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = pick(self.public_url.clone(), file, "SAMVIDEO_PUBLIC_URL")? {
            c.public_url = Some(v).filter(|s| !s.is_empty());
        }
        let apn = self.allow_private_network.map(|v| v.unwrap_or(true));
        if let Some(v) = pick(apn, file, "SAMVIDEO_ALLOW_PRIVATE_NETWORK")? {
            c.allow_private_network = v;
        }
        if let Some(v) = pick(self.workers, file, "SAMVIDEO_WORKERS")? {
            c.workers = v;
        }
        if let Some(v) = pick(self.default_codec, file, "SAMVIDEO_DEFAULT_CODEC")? {
            c.default_codec = v;
        }
        if let Some(v) = pick(self.inactivity_timeout_secs, file, "SAMVIDEO_INACTIVITY_TIMEOUT_SECS")? {
            c.inactivity_timeout = secs(v);
        }
        if let Some(v) = pick(self.max_attempts, file, "SAMVIDEO_MAX_ATTEMPTS")? {
            c.max_attempts = v.max(1);
        }
        if let Some(v) = pick(self.retention_days, file, "SAMVIDEO_RETENTION_DAYS")? {
            c.retention_days = Some(v);
        }
        if let Some(v) = pick(self.lease_seconds, file, "SAMVIDEO_LEASE_SECONDS")? {
            c.lease = secs(v);
        }
        let split = self.split_renders.map(|v| v.unwrap_or(true));
        if let Some(v) = pick(split, file, "SAMVIDEO_SPLIT_RENDERS")? {
            c.split_renders = v;
        }
        self.media_limits(file, &mut c.media_limits)
    }

    /// The media limits (`docs/ingest.md`) from flags, environment and the config file.
    fn media_limits(&self, file: &HashMap<String, String>, l: &mut Limits) -> Result<(), ConfigError> {
        const MIB: u64 = 1024 * 1024;
        if let Some(v) = pick(self.max_item_mb, file, "SAMVIDEO_MAX_ITEM_MB")? {
            l.max_item_bytes = v.saturating_mul(MIB);
        }
        if let Some(v) = pick(self.max_job_mb, file, "SAMVIDEO_MAX_JOB_MB")? {
            l.max_job_bytes = v.saturating_mul(MIB);
        }
        if let Some(v) = pick(self.connect_timeout_secs, file, "SAMVIDEO_CONNECT_TIMEOUT_SECS")? {
            l.connect_timeout = secs(v);
        }
        if let Some(v) = pick(self.fetch_timeout_secs, file, "SAMVIDEO_FETCH_TIMEOUT_SECS")? {
            l.fetch_timeout = secs(v);
        }
        if let Some(v) = pick(self.max_redirects, file, "SAMVIDEO_MAX_REDIRECTS")? {
            l.max_redirects = v;
        }
        if let Some(v) = pick(self.max_image_megapixels, file, "SAMVIDEO_MAX_IMAGE_MEGAPIXELS")? {
            l.max_image_pixels = v.saturating_mul(1_000_000);
        }
        if let Some(v) = pick(self.max_input_video_secs, file, "SAMVIDEO_MAX_INPUT_VIDEO_SECS")? {
            l.max_input_video_seconds = v;
        }
        if let Some(v) = pick(self.max_input_video_side, file, "SAMVIDEO_MAX_INPUT_VIDEO_SIDE")? {
            l.max_input_video_side = v;
        }
        if let Some(v) = pick(self.max_output_secs, file, "SAMVIDEO_MAX_OUTPUT_SECS")? {
            l.max_output_seconds = v;
        }
        Ok(())
    }
}

impl ServeArgs {
    /// Resolve flags, environment, config file and defaults into a config.
    pub fn to_config(&self) -> Result<ServerConfig, ConfigError> {
        let file = self.node.file()?;
        let mut c = ServerConfig::default();
        self.node.apply(&file, &mut c)?;
        if let Some(v) = pick(self.addr, &file, "SAMVIDEO_ADDR")? {
            c.addr = v;
        }
        let window = pick(self.rate_window_secs, &file, "SAMVIDEO_RATE_WINDOW_SECS")?.map(secs);
        let window = window.unwrap_or(Duration::from_secs(60));
        let rate = |n: Option<u32>, d: u32| Rate { requests: n.unwrap_or(d), window };
        c.core_rate = rate(pick(self.core_rate, &file, "SAMVIDEO_CORE_RATE")?, 5);
        c.advanced_rate = rate(pick(self.advanced_rate, &file, "SAMVIDEO_ADVANCED_RATE")?, 3);
        c.templates_rate = rate(pick(self.templates_rate, &file, "SAMVIDEO_TEMPLATES_RATE")?, 60);
        c.validate_rate = rate(pick(self.validate_rate, &file, "SAMVIDEO_VALIDATE_RATE")?, c.validate_rate.requests);
        if let Some(v) = pick(self.max_validate_body, &file, "SAMVIDEO_MAX_VALIDATE_BODY")? {
            c.max_validate_body = v;
        }
        if let Some(v) = pick(self.max_advanced_body, &file, "SAMVIDEO_MAX_ADVANCED_BODY")? {
            c.max_advanced_body = v;
        }
        if let Some(v) = pick(self.max_body, &file, "SAMVIDEO_MAX_BODY")? {
            c.max_body = v;
        }
        if let Some(v) = pick(self.free_monthly_videos, &file, "SAMVIDEO_FREE_MONTHLY_VIDEOS")? {
            c.free_monthly_videos = v;
        }
        if let Some(v) = pick(self.plan_limits.clone(), &file, "SAMVIDEO_PLAN_LIMITS")? {
            for (plan, n) in parse_plan_limits(&v)? {
                c.plan_limits.insert(plan, n);
            }
        }
        if let Some(v) = pick(self.preview_timeout_secs, &file, "SAMVIDEO_PREVIEW_TIMEOUT_SECS")? {
            c.preview_timeout = secs(v);
        }
        c.exports = self.exports.to_config(&file)?;
        self.billing.apply(&file, &mut c)?;
        Ok(c)
    }
}

/// The log every node writes: `RUST_LOG` (default `info`), on stderr.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

/// Run the subcommand.
pub fn run(args: ServeArgs) -> ExitCode {
    init_logging();
    let config = match args.to_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("samvideo serve: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("samvideo serve: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        match Server::start(config).await {
            Ok(server) => {
                eprintln!("samvideo: listening on http://{}", server.addr());
                server.run_until_signal().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("samvideo serve: {e}");
                ExitCode::from(1)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_config_file_which_beats_defaults() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("samvideo.conf");
        std::fs::write(
            &file,
            "# comment\nworkers = 3\nSAMVIDEO_CORE_RATE=7\nplan_limits=basic=9\nfree_monthly_videos=2\ndefault_codec=h264\n",
        )
        .expect("write");
        let node = NodeArgs { config: Some(file.clone()), workers: Some(2), ..Default::default() };
        let args = ServeArgs { node, ..Default::default() };
        let c = args.to_config().expect("config");
        assert_eq!(c.workers, 2, "flag wins");
        assert_eq!(c.core_rate.requests, 7, "file fills what flags leave");
        assert_eq!(c.advanced_rate.requests, 3, "default");
        assert_eq!(c.monthly_limit(crate::billing::BillingPlan::Basic), Some(9));
        assert_eq!(c.free_monthly_videos, 2);
        assert_eq!(c.default_codec, samvideo_core::VideoCodec::H264);
        assert_eq!(ServeArgs::default().to_config().expect("config").default_codec, samvideo_core::VideoCodec::Av1);
        std::fs::write(&file, "default_codec = hevc\n").expect("write");
        let with_file = |file: &std::path::Path| ServeArgs {
            node: NodeArgs { config: Some(file.to_path_buf()), ..Default::default() },
            ..Default::default()
        };
        let err = with_file(&file).to_config().expect_err("bad codec");
        assert!(err.to_string().contains("expected one of av1, h264"), "{err}");
        std::fs::write(&file, "workers = many\n").expect("write");
        let err = with_file(&file).to_config().expect_err("bad value");
        assert!(err.to_string().contains("SAMVIDEO_WORKERS=many"), "{err}");
    }
}
