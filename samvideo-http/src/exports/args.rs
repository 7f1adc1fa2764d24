//! The export flags of `samvideo serve` (flattened into `ServeArgs`): SMTP relay, default
//! webhook secret, retry schedule and the SFTP known-hosts file.
//!
//! Each flag has a `SAMVIDEO_*` environment variable and may also come from the `--config`
//! file (flag/env first, then the file, then the default), like every other serve setting.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{parse_schedule, ExportsConfig, ExportsConfigError, SmtpConfig, SmtpTls};

/// Export settings on the command line.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ExportArgs {
    /// SMTP relay for `email` destinations: smtp://host:port (STARTTLS per --smtp-starttls)
    /// or smtps://host:port (TLS). Without it, email destinations are refused at submit.
    #[arg(long, env = "SAMVIDEO_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// STARTTLS on smtp:// relays: off, opportunistic or required [default: opportunistic].
    #[arg(long, env = "SAMVIDEO_SMTP_STARTTLS")]
    pub smtp_starttls: Option<String>,
    /// SMTP login (or put it in the URL).
    #[arg(long, env = "SAMVIDEO_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// SMTP password (prefer the environment variable to the flag).
    #[arg(long, env = "SAMVIDEO_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// From: of delivery mails (default: samvideo <samvideo@localhost>).
    #[arg(long, env = "SAMVIDEO_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Webhook signing secret for tasks without exports.callback_secret.
    #[arg(long, env = "SAMVIDEO_CALLBACK_SECRET", hide_env_values = true)]
    pub callback_secret: Option<String>,
    /// Waits between delivery attempts [default: 5s,5m,30m,2h,5h,10h,10h].
    #[arg(long, env = "SAMVIDEO_EXPORT_RETRY_SCHEDULE")]
    pub export_retry_schedule: Option<String>,
    /// OpenSSH known_hosts file: SFTP servers must match it. Without it, the first key seen
    /// per host:port is pinned.
    #[arg(long, env = "SAMVIDEO_SFTP_KNOWN_HOSTS")]
    pub sftp_known_hosts: Option<PathBuf>,
}

impl ExportArgs {
    /// Resolve flags/env, then the config file's `SAMVIDEO_*` keys, into export settings.
    pub fn to_config(&self, file: &HashMap<String, String>) -> Result<ExportsConfig, ExportsConfigError> {
        let get = |flag: &Option<String>, key: &str| {
            flag.clone().or_else(|| file.get(key).cloned()).filter(|v| !v.is_empty())
        };
        let mut c = ExportsConfig::default();
        if let Some(url) = get(&self.smtp_url, "SAMVIDEO_SMTP_URL") {
            let starttls =
                get(&self.smtp_starttls, "SAMVIDEO_SMTP_STARTTLS").map(|s| s.parse::<SmtpTls>()).transpose()?;
            c.smtp = Some(SmtpConfig::from_url(
                &url,
                starttls,
                get(&self.smtp_username, "SAMVIDEO_SMTP_USERNAME"),
                get(&self.smtp_password, "SAMVIDEO_SMTP_PASSWORD"),
                get(&self.smtp_from, "SAMVIDEO_SMTP_FROM"),
            )?);
        }
        c.default_callback_secret = get(&self.callback_secret, "SAMVIDEO_CALLBACK_SECRET");
        if let Some(s) = get(&self.export_retry_schedule, "SAMVIDEO_EXPORT_RETRY_SCHEDULE") {
            c.retry_schedule = parse_schedule(&s)?;
        }
        let known = self.sftp_known_hosts.clone().or_else(|| file.get("SAMVIDEO_SFTP_KNOWN_HOSTS").map(PathBuf::from));
        if let Some(path) = known {
            std::fs::metadata(&path).map_err(|e| ExportsConfigError::KnownHosts {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            c.sftp_known_hosts = Some(path);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_then_file_then_defaults() {
        let mut file = HashMap::new();
        file.insert("SAMVIDEO_SMTP_URL".to_string(), "smtp://relay:2525".to_string());
        file.insert("SAMVIDEO_EXPORT_RETRY_SCHEDULE".to_string(), "1s,2s".to_string());
        let args = ExportArgs {
            smtp_starttls: Some("required".into()),
            callback_secret: Some("k".into()),
            ..Default::default()
        };
        let c = args.to_config(&file).expect("config");
        let smtp = c.smtp.expect("smtp from the file");
        assert_eq!((smtp.port, smtp.tls), (2525, SmtpTls::Required));
        assert_eq!(c.retry_schedule.len(), 2);
        assert_eq!(c.default_callback_secret.as_deref(), Some("k"));
        assert!(!format!("{:?}", ExportsConfig { default_callback_secret: Some("zz9".into()), ..Default::default() })
            .contains("zz9"));
        let bad = ExportArgs { sftp_known_hosts: Some("/nonexistent/known_hosts".into()), ..Default::default() };
        let e = bad.to_config(&HashMap::new()).expect_err("missing file");
        assert!(e.to_string().contains("/nonexistent/known_hosts"), "{e}");
        let bad = ExportArgs { export_retry_schedule: Some("soon".into()), ..Default::default() };
        assert!(bad.to_config(&HashMap::new()).is_err());
    }
}
