//! The export settings of the server (`--smtp-*`, `--export-*`, `--sftp-known-hosts`), as
//! `samvideo serve` builds them (`exports/args.rs`) and `ServerConfig` carries them.
//!
//! Kept apart from `exports/mod.rs` so the server configuration can hold them without
//! importing the exporter (which reads the configuration).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;

/// The Standard Webhooks schedule: the first attempt at once, then these waits.
pub const STANDARD_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";

/// Why the export settings of the server are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportsConfigError {
    /// `--export-retry-schedule` does not parse.
    #[error("invalid export retry schedule {0:?} (expected waits like 5s,5m,2h; units ms, s, m, h)")]
    Schedule(String),
    /// `--smtp-url` or a related option is wrong.
    #[error("invalid SMTP setting: {0}")]
    Smtp(String),
    /// The known-hosts file cannot be read.
    #[error("cannot read --sftp-known-hosts {path}: {reason}")]
    KnownHosts {
        /// The file.
        path: String,
        /// OS error.
        reason: String,
    },
}

/// Export settings of the server.
#[derive(Clone)]
pub struct ExportsConfig {
    /// The mail relay; `None` refuses `email` destinations at submit time.
    pub smtp: Option<SmtpConfig>,
    /// Webhook secret for tasks without `exports.callback_secret`; with neither, the
    /// webhook is sent unsigned.
    pub default_callback_secret: Option<String>,
    /// Waits between attempts; attempts = waits + 1.
    pub retry_schedule: Vec<Duration>,
    /// One webhook attempt (connect to last body byte).
    pub webhook_timeout: Duration,
    /// Connect, read and write timeout of FTP/SFTP/SMTP operations (each, not the total).
    pub io_timeout: Duration,
    /// An OpenSSH `known_hosts` file: when set, SFTP servers must match it (strict);
    /// otherwise the first key seen per host:port is pinned in the database.
    pub sftp_known_hosts: Option<PathBuf>,
    /// Attempts running at once.
    pub max_concurrent: usize,
}

impl std::fmt::Debug for ExportsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportsConfig")
            .field("smtp", &self.smtp)
            .field("default_callback_secret", &self.default_callback_secret.as_ref().map(|_| "<redacted>"))
            .field("retry_schedule", &self.retry_schedule)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("io_timeout", &self.io_timeout)
            .field("sftp_known_hosts", &self.sftp_known_hosts)
            .field("max_concurrent", &self.max_concurrent)
            .finish()
    }
}

impl Default for ExportsConfig {
    fn default() -> Self {
        ExportsConfig {
            smtp: None,
            default_callback_secret: None,
            retry_schedule: parse_schedule(STANDARD_SCHEDULE).unwrap_or_default(),
            webhook_timeout: Duration::from_secs(15),
            io_timeout: Duration::from_secs(30),
            sftp_known_hosts: None,
            max_concurrent: 4,
        }
    }
}

/// Parse `5s,5m,30m,2h` (units `ms`, `s`, `m`, `h`; fractions allowed; `0s` for no wait).
pub fn parse_schedule(s: &str) -> Result<Vec<Duration>, ExportsConfigError> {
    let bad = || ExportsConfigError::Schedule(s.to_string());
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (num, mult) = if let Some(n) = part.strip_suffix("ms") {
            (n, 0.001)
        } else if let Some(n) = part.strip_suffix('s') {
            (n, 1.0)
        } else if let Some(n) = part.strip_suffix('m') {
            (n, 60.0)
        } else if let Some(n) = part.strip_suffix('h') {
            (n, 3600.0)
        } else {
            return Err(bad());
        };
        let v: f64 = num.trim().parse().map_err(|_| bad())?;
        if !v.is_finite() || v < 0.0 || v * mult > 7.0 * 86400.0 {
            return Err(bad());
        }
        out.push(Duration::from_secs_f64(v * mult));
    }
    if out.len() > 20 {
        return Err(bad());
    }
    Ok(out)
}

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text only (a trusted local relay).
    Off,
    /// STARTTLS when the relay offers it, plain text otherwise (`smtp://` default).
    Opportunistic,
    /// STARTTLS or fail.
    Required,
    /// TLS from the first byte (`smtps://`, port 465).
    Implicit,
}

impl std::str::FromStr for SmtpTls {
    type Err = ExportsConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" | "none" | "false" | "no" => Ok(SmtpTls::Off),
            "opportunistic" | "auto" => Ok(SmtpTls::Opportunistic),
            "required" | "true" | "yes" | "on" => Ok(SmtpTls::Required),
            other => Err(ExportsConfigError::Smtp(format!(
                "--smtp-starttls {other:?} (expected off, opportunistic or required)"
            ))),
        }
    }
}

/// The mail relay.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Relay host.
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// Login, if the relay wants one.
    pub username: Option<String>,
    /// Password (never shown).
    pub password: Option<String>,
    /// `From:` mailbox.
    pub from: String,
    /// Connect and command timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

/// `%XX` decoding of URL user info.
fn percent_decode(s: &str) -> String {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpConfig {
    /// Build from `--smtp-url` and the related options. `starttls` applies to `smtp://`
    /// (default `opportunistic`); `smtps://` is implicit TLS. Credentials in the URL's user
    /// info are used unless `username` / `password` are given.
    pub fn from_url(
        url: &str,
        starttls: Option<SmtpTls>,
        username: Option<String>,
        password: Option<String>,
        from: Option<String>,
    ) -> Result<SmtpConfig, ExportsConfigError> {
        let bad = |why: &str| {
            ExportsConfigError::Smtp(format!("--smtp-url: {why} (expected smtp://host:port or smtps://host:port)"))
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        let (tls, default_port) = match parsed.scheme() {
            "smtp" => (starttls.unwrap_or(SmtpTls::Opportunistic), 25),
            "smtps" => {
                if starttls.is_some_and(|t| t != SmtpTls::Implicit) {
                    return Err(ExportsConfigError::Smtp(
                        "--smtp-starttls does not apply to smtps:// (TLS from the start)".into(),
                    ));
                }
                (SmtpTls::Implicit, 465)
            }
            other => return Err(bad(&format!("unsupported scheme {other:?}"))),
        };
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let url_user = Some(percent_decode(parsed.username())).filter(|u| !u.is_empty());
        let url_pass = parsed.password().map(percent_decode);
        let username = username.filter(|u| !u.is_empty()).or(url_user);
        let password = password.or(url_pass);
        if password.is_some() && username.is_none() {
            return Err(ExportsConfigError::Smtp("an SMTP password needs a username (--smtp-username)".into()));
        }
        let from = from.unwrap_or_else(|| "samvideo <samvideo@localhost>".into());
        from.parse::<Mailbox>()
            .map_err(|e| ExportsConfigError::Smtp(format!("--smtp-from {from:?} is not a mailbox: {e}")))?;
        Ok(SmtpConfig {
            host,
            port: parsed.port().unwrap_or(default_port),
            tls,
            username,
            password,
            from,
            timeout: Duration::from_secs(30),
        })
    }
}
