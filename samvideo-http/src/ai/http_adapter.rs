//! Third-party AI providers over HTTP, one [`HttpProvider`] per entry of the providers file
//! (`--ai-providers FILE`):
//!
//! ```json
//! {"providers": {"kling": {"base_url": "https://gateway.example.com/v1",
//!                          "api_key_env": "KLING_API_KEY",
//!                          "timeout_secs": 900, "poll_interval_secs": 5}}}
//! ```
//!
//! The wire protocol (a small gateway contract, see `docs/ai-and-credits.md`):
//! `POST {base_url}/jobs` with `Authorization: Bearer KEY` and
//! `{"model_id","prompt","image_urls","options"}` answers `{"id": ...}`; then
//! `GET {base_url}/jobs/{id}` answers `{"status": "queued"|"running"|"success"|"failed",
//! "result_urls": [...], "error_message": ...}` and is polled until it ends. Result URLs are
//! passed through to the client (http/https only).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

use super::providers::{JobContext, JobInput, JobOutput, Provider, ProviderError};

/// Why the providers file is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvidersFileError {
    /// Cannot read it.
    #[error("cannot read AI providers file {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// OS error.
        reason: String,
    },
    /// Bad content.
    #[error("AI providers file {path}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// One provider's settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ProviderSettings {
    /// Base of the gateway's endpoints (http or https).
    pub base_url: String,
    /// The key, inline.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Or the environment variable holding it.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// A job still running after this long fails `PROVIDER_TIMEOUT` [default 900].
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Seconds between status polls [default 5].
    #[serde(default = "default_poll")]
    pub poll_interval_secs: f64,
}

fn default_timeout() -> u64 {
    900
}
fn default_poll() -> f64 {
    5.0
}

#[derive(Deserialize)]
struct ProvidersFile {
    providers: BTreeMap<String, ProviderSettings>,
}

/// Parse the providers file (keys resolved from the environment here).
pub fn read_providers(path: &Path) -> Result<Vec<HttpProvider>, ProvidersFileError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ProvidersFileError::Read { path: p.clone(), reason: e.to_string() })?;
    parse_providers(&text, &p)
}

/// Parse providers from text.
pub fn parse_providers(text: &str, path: &str) -> Result<Vec<HttpProvider>, ProvidersFileError> {
    let bad = |reason: String| ProvidersFileError::Parse { path: path.to_string(), reason };
    let file: ProvidersFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for (name, s) in file.providers {
        if name == super::builtin::NAME {
            return Err(bad("\"builtin\" is reserved for the built-in provider".into()));
        }
        if !(s.base_url.starts_with("http://") || s.base_url.starts_with("https://")) {
            return Err(bad(format!("provider {name}: base_url must be http(s), got {:?}", s.base_url)));
        }
        if !(s.poll_interval_secs > 0.0 && s.poll_interval_secs <= 3600.0) || s.timeout_secs == 0 {
            return Err(bad(format!("provider {name}: poll_interval_secs must be in (0, 3600], timeout_secs >= 1")));
        }
        let key = match (&s.api_key, &s.api_key_env) {
            (Some(k), _) => Some(k.clone()),
            (None, Some(var)) => Some(
                std::env::var(var)
                    .map_err(|_| bad(format!("provider {name}: environment variable {var} is not set")))?,
            ),
            (None, None) => None,
        };
        out.push(HttpProvider { name, settings: s, key });
    }
    Ok(out)
}

/// A configured third-party provider.
#[derive(Debug, Clone)]
pub struct HttpProvider {
    name: String,
    settings: ProviderSettings,
    key: Option<String>,
}

fn fail(message: impl Into<String>) -> ProviderError {
    ProviderError::failed("PROVIDER_ERROR", message)
}

impl HttpProvider {
    fn url(&self, tail: &str) -> String {
        format!("{}/{tail}", self.settings.base_url.trim_end_matches('/'))
    }

    fn request(&self, rb: reqwest::blocking::RequestBuilder) -> Result<Value, ProviderError> {
        let rb = match &self.key {
            Some(k) => rb.bearer_auth(k),
            None => rb,
        };
        let resp = rb.send().map_err(|e| fail(format!("{}: {e}", self.name)))?;
        let status = resp.status();
        let text = resp.text().map_err(|e| fail(format!("{}: {e}", self.name)))?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            let msg = body
                .get("error_message")
                .or_else(|| body.get("message"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string());
            return Err(fail(format!("{} answered {status}: {msg}", self.name)));
        }
        Ok(body)
    }
}

impl Provider for HttpProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn ready(&self) -> Result<(), ProviderError> {
        Ok(())
    }

    fn run(&self, job: &JobInput, ctx: &JobContext) -> Result<JobOutput, ProviderError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let id = match &ctx.external_id {
            Some(id) => id.clone(),
            None => {
                let body = json!({
                    "model_id": job.model_id,
                    "prompt": job.prompt,
                    "image_urls": job.image_urls,
                    "options": job.options,
                });
                let created = self.request(client.post(self.url("jobs")).json(&body))?;
                let id = match created.get("id") {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(fail(format!("{} did not return a job id: {created}", self.name))),
                };
                (ctx.record_external_id)(&id);
                id
            }
        };
        let deadline = Instant::now() + Duration::from_secs(self.settings.timeout_secs);
        let poll = Duration::from_secs_f64(self.settings.poll_interval_secs);
        let status_url = self.url(&format!("jobs/{id}"));
        loop {
            if ctx.cancel.is_cancelled() {
                return Err(ProviderError::failed("CANCELLED", "the server stopped while waiting"));
            }
            let s = self.request(client.get(&status_url))?;
            match s.get("status").and_then(Value::as_str).unwrap_or("") {
                "success" | "succeeded" | "completed" => {
                    let urls: Vec<String> = s
                        .get("result_urls")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                        .unwrap_or_default();
                    if urls.is_empty() || urls.iter().any(|u| !(u.starts_with("https://") || u.starts_with("http://")))
                    {
                        return Err(fail(format!("{} finished without usable result_urls: {s}", self.name)));
                    }
                    return Ok(JobOutput::Urls(urls));
                }
                "failed" | "error" | "cancelled" => {
                    let msg =
                        s.get("error_message").and_then(Value::as_str).unwrap_or("the provider reported a failure");
                    return Err(fail(format!("{}: {msg}", self.name)));
                }
                _ => {}
            }
            if Instant::now() >= deadline {
                return Err(ProviderError::failed(
                    "PROVIDER_TIMEOUT",
                    format!("{} did not finish within {} s", self.name, self.settings.timeout_secs),
                ));
            }
            // Sleep in short steps so a shutdown is noticed.
            let until = Instant::now() + poll;
            while Instant::now() < until && !ctx.cancel.is_cancelled() {
                std::thread::sleep(Duration::from_millis(50).min(poll));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_file_is_checked() {
        let ok =
            parse_providers(r#"{"providers":{"kling":{"base_url":"https://gw.example.com/v1","api_key":"k"}}}"#, "f")
                .expect("parses");
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].name(), "kling");
        assert_eq!(ok[0].url("jobs"), "https://gw.example.com/v1/jobs");
        let err = parse_providers(r#"{"providers":{"x":{"base_url":"ftp://a"}}}"#, "f").expect_err("scheme");
        assert!(err.to_string().contains("base_url must be http(s)"), "{err}");
        let err = parse_providers(r#"{"providers":{"builtin":{"base_url":"http://a"}}}"#, "f").expect_err("reserved");
        assert!(err.to_string().contains("reserved"), "{err}");
        let err = parse_providers(
            r#"{"providers":{"x":{"base_url":"http://a","api_key_env":"SAMVIDEO_TEST_SURELY_UNSET_VAR"}}}"#,
            "f",
        )
        .expect_err("env");
        assert!(err.to_string().contains("SAMVIDEO_TEST_SURELY_UNSET_VAR is not set"), "{err}");
    }
}
