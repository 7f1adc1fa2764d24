//! AI video jobs: the model catalog, the providers that run jobs, and the job lifecycle.
//!
//! A create (`POST /api/ai/jobs`, [`routes`]) is checked in this order: key, rate limit, body
//! (`samvideo_core::validate::validate_ai_job`), model (404), plan visibility (403), the
//! model's options (400), provider availability (503, nothing charged), then one transaction
//! inserts the `running` job row and reserves its credits (402 when short). A tokio task then
//! runs the provider on a blocking thread ([`AiService::spawn`]; on an API-only node the built-in
//! model's render is queued for a worker instead, `crate::jobs::queued`); the job ends `success` with
//! its result files moved into `outputs/` (or the provider's URLs), or `failed` with its
//! credits refunded in the same transaction.
//!
//! On start, [`AiService::recover`] handles jobs a dead process left `running`: jobs of the
//! built-in provider (their partial render is gone) fail with `SERVER_RESTARTED` and are
//! refunded; third-party jobs with a recorded provider job id resume polling.
//!
//! Layout: `catalog` (data + option checks), `providers` (the trait), `builtin` (the motion
//! model), `http_adapter` (configured third parties), `routes`. The `ai_jobs` rows are the
//! store's ([`crate::store::AiJobRow`]).

pub mod args;
pub mod builtin;
pub mod catalog;
pub mod http_adapter;
pub mod providers;
pub mod routes;
pub mod settings;

pub use settings::AiConfig;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use samvideo_core::media::MediaSource;
use samvideo_core::render::CancelToken;
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;

use crate::config::ServerConfig;
use crate::credits::{self, CreditsConfig};
use crate::limits::RateLimiter;
use crate::store::{AiJobRow, Store, StoreError};
use catalog::{Catalog, CatalogError, Model};
use http_adapter::ProvidersFileError;
use providers::{JobContext, JobInput, JobOutput, Provider, ProviderError};

/// Why the AI service cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AiStartError {
    /// The catalog is unreadable or invalid.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The providers file is unreadable or invalid.
    #[error(transparent)]
    Providers(#[from] ProvidersFileError),
    /// Recovery could not read the database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Inner {
    catalog: Catalog,
    providers: HashMap<String, Arc<dyn Provider>>,
    store: Store,
    config: Arc<ServerConfig>,
    source: Arc<dyn MediaSource>,
    objects: crate::objects::Objects,
    builtin_slots: Semaphore,
    shutdown: CancelToken,
    rate: RateLimiter,
}

/// Catalog, providers and running jobs; cheap to clone.
#[derive(Clone)]
pub struct AiService {
    inner: Arc<Inner>,
}

impl AiService {
    /// Load the catalog and providers (blocking: reads files).
    pub fn new(
        config: Arc<ServerConfig>,
        store: Store,
        source: Arc<dyn MediaSource>,
        objects: crate::objects::Objects,
    ) -> Result<AiService, AiStartError> {
        let ai = &config.ai;
        let catalog = match &ai.catalog_path {
            Some(p) => Catalog::from_file(p)?,
            None => Catalog::bundled()?,
        };
        let mut providers: HashMap<String, Arc<dyn Provider>> = HashMap::new();
        providers.insert(builtin::NAME.into(), Arc::new(builtin::MotionProvider));
        if let Some(p) = &ai.providers_path {
            for provider in http_adapter::read_providers(p)? {
                providers.insert(provider.name().to_string(), Arc::new(provider));
            }
        }
        let rate = RateLimiter::new("ai", config.core_rate, store.clone());
        Ok(AiService {
            inner: Arc::new(Inner {
                catalog,
                providers,
                store,
                builtin_slots: Semaphore::new(ai.builtin_concurrency.max(1)),
                config,
                source,
                objects,
                shutdown: CancelToken::new(),
                rate,
            }),
        })
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// Credits settings.
    pub fn credits(&self) -> &CreditsConfig {
        &self.inner.config.ai.credits
    }

    /// The per-key create limiter.
    pub fn rate(&self) -> &RateLimiter {
        &self.inner.rate
    }

    /// The provider that runs `model`, or why none can (503).
    pub fn provider_for(&self, model: &Model) -> Result<Arc<dyn Provider>, ProviderError> {
        let p = self.inner.providers.get(&model.provider).ok_or_else(|| {
            ProviderError::Unavailable(format!(
                "Model {} is not available on this server: its provider {:?} is not configured",
                model.id, model.provider
            ))
        })?;
        p.ready()?;
        Ok(p.clone())
    }

    /// Is `model`'s provider configured?
    pub fn is_available(&self, model: &Model) -> bool {
        self.provider_for(model).is_ok()
    }

    /// Stop waiting jobs (shutdown): running renders stop; their rows stay `running` and are
    /// recovered on the next start.
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// After a restart: fail and refund built-in jobs, resume third-party ones.
    pub fn recover(&self) -> Result<(), StoreError> {
        let store = self.inner.store.blocking();
        let running = store.running_ai_jobs()?;
        for job in running {
            let resumable = job.provider != builtin::NAME
                && job.external_id.is_some()
                && self.inner.providers.contains_key(&job.provider);
            if resumable {
                tracing::info!(job_id = job.id, provider = %job.provider, "resuming AI job after restart");
                self.spawn(job);
            } else {
                tracing::warn!(job_id = job.id, "AI job was running when the server stopped; failed and refunded");
                store.fail_ai_job(
                    job.id,
                    "SERVER_RESTARTED",
                    "The server restarted while the job ran; credits were refunded",
                    &credits::current_period(),
                )?;
            }
        }
        Ok(())
    }

    /// Run `job` in the background.
    pub fn spawn(&self, job: AiJobRow) {
        let me = self.clone();
        tokio::spawn(async move { me.run(job).await });
    }

    async fn run(self, job: AiJobRow) {
        let id = job.id;
        let input: Result<JobInput, String> =
            serde_json::from_str::<Value>(&job.request_json).map_err(|e| e.to_string()).map(|v| JobInput {
                job_id: id,
                model_id: job.model_id.clone(),
                prompt: v.get("prompt").and_then(Value::as_str).map(str::to_string),
                image_urls: v
                    .get("image_urls")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default(),
                options: v.get("options").and_then(Value::as_object).cloned().unwrap_or_default(),
            });
        let provider = self.inner.providers.get(&job.provider).cloned();
        let (input, provider) = match (input, provider) {
            (Ok(i), Some(p)) => (i, p),
            (Err(e), _) => return self.fail(id, "INTERNAL_ERROR", &format!("stored job does not parse: {e}")).await,
            (_, None) => {
                let msg = format!("provider {:?} is no longer configured", job.provider);
                return self.fail(id, "PROVIDER_UNAVAILABLE", &msg).await;
            }
        };
        if job.provider == builtin::NAME && crate::jobs::queued::through_queue(&self.inner.config) {
            return self.run_queued(&job, &input).await;
        }
        let _permit = if job.provider == builtin::NAME {
            match self.inner.builtin_slots.acquire().await {
                Ok(p) => Some(p),
                Err(_) => return,
            }
        } else {
            None
        };
        let store = self.inner.store.clone();
        let ctx = JobContext {
            source: self.inner.source.clone(),
            render: self.inner.config.render_options(self.inner.shutdown.clone()),
            tmp_dir: self.inner.config.tmp_dir(),
            cancel: self.inner.shutdown.clone(),
            external_id: job.external_id.clone(),
            record_external_id: Box::new(move |ext: &str| {
                if let Err(e) = store.blocking().set_ai_external_id(id, ext) {
                    tracing::error!(job_id = id, error = %e, "cannot record the provider's job id");
                }
            }),
        };
        tracing::info!(job_id = id, model = %job.model_id, provider = %job.provider, "AI job started");
        let result = tokio::task::spawn_blocking(move || provider.run(&input, &ctx)).await;
        let outcome = match result {
            Ok(Ok(JobOutput::Files(files))) => match self.store_files(id, files).await {
                Ok(names) => Ok(json!({"files": names})),
                Err(e) => Err(("INTERNAL_ERROR", format!("cannot store the output: {e}"))),
            },
            Ok(Ok(JobOutput::Urls(urls))) => Ok(json!({"urls": urls})),
            Ok(Err(ProviderError::Failed { code: "CANCELLED", .. })) if self.inner.shutdown.is_cancelled() => {
                // Left running: the next start recovers it.
                return;
            }
            Ok(Err(ProviderError::Failed { code, message })) => Err((code, message)),
            Ok(Err(ProviderError::Unavailable(message))) => Err(("PROVIDER_UNAVAILABLE", message)),
            Err(join) => Err(("INTERNAL_ERROR", format!("the job crashed: {join}"))),
        };
        match outcome {
            Ok(result) => {
                let r = self.inner.store.succeed_ai_job(id, &result).await;
                match r {
                    Ok(_) => tracing::info!(job_id = id, "AI job succeeded"),
                    Err(e) => tracing::error!(job_id = id, error = %e, "cannot record the end of an AI job"),
                }
            }
            Err((code, message)) => self.fail(id, code, &message).await,
        }
    }

    /// The built-in model's render on an API-only node: queued for a worker, waited for (no
    /// time limit; stopped by shutdown, which leaves the job to the next start's recovery).
    async fn run_queued(&self, job: &AiJobRow, input: &JobInput) {
        let id = job.id;
        let request_json = match builtin::motion_task_body(input) {
            Ok(body) => body,
            Err(ProviderError::Failed { code, message }) => return self.fail(id, code, &message).await,
            Err(ProviderError::Unavailable(message)) => return self.fail(id, "PROVIDER_UNAVAILABLE", &message).await,
        };
        let aspect = input.options.get("aspect_ratio").and_then(Value::as_str).unwrap_or("16:9");
        let task = crate::store::NewTask {
            id: uuid::Uuid::new_v4().to_string(),
            celery_task_id: uuid::Uuid::new_v4().to_string(),
            api_key_id: job.api_key_id,
            endpoint: samvideo_core::request::Endpoint::SimpleVideo.as_str().to_string(),
            request_json,
            exports_json: None,
            request_id: Some(id.to_string()),
            aspect_ratio: aspect.to_string(),
        };
        tracing::info!(job_id = id, model = %job.model_id, "AI job queued for a worker");
        let shutdown = self.inner.shutdown.clone();
        let kind = crate::store::TaskKind::Ai;
        let done = crate::jobs::queued::render(&self.inner.store, task, kind, None, || shutdown.is_cancelled()).await;
        match done {
            Ok(done) => match self.inner.store.succeed_ai_job(id, &json!({"files": [done.file]})).await {
                Ok(_) => tracing::info!(job_id = id, "AI job succeeded"),
                Err(e) => tracing::error!(job_id = id, error = %e, "cannot record the end of an AI job"),
            },
            // Left running: the next start recovers it.
            Err(crate::jobs::queued::QueuedError::Stopped) => {}
            Err(crate::jobs::queued::QueuedError::Failed(message)) => {
                self.fail(id, builtin::queued_failure_code(&message), &message).await
            }
            Err(e) => self.fail(id, "INTERNAL_ERROR", &e.to_string()).await,
        }
    }

    async fn fail(&self, id: i64, code: &'static str, message: &str) {
        tracing::warn!(job_id = id, code, message, "AI job failed; credits refunded");
        if let Err(e) = self.inner.store.fail_ai_job(id, code, message, &credits::current_period()).await {
            tracing::error!(job_id = id, error = %e, "cannot record an AI job failure");
        }
    }

    /// Put rendered files into the object store's `outputs/` as `ai-{id}.mp4`
    /// (`ai-{id}-{n}.mp4` for more).
    async fn store_files(&self, id: i64, files: Vec<PathBuf>) -> Result<Vec<String>, crate::objects::ObjectsError> {
        let mut names = Vec::new();
        for (n, f) in files.iter().enumerate() {
            let name = if n == 0 { format!("ai-{id}.mp4") } else { format!("ai-{id}-{n}.mp4") };
            self.inner.objects.put_file(crate::objects::OUTPUTS, &name, f).await?;
            names.push(name);
        }
        Ok(names)
    }
}

/// The files a job's result names under `outputs/` (`{"files": [...]}`); none for a
/// provider's URLs or a job without a result.
pub fn result_files(result: Option<&Value>) -> Vec<&str> {
    let files = result.and_then(|r| r.get("files")).and_then(Value::as_array);
    files.into_iter().flatten().filter_map(Value::as_str).collect()
}

/// The job an object under `outputs/` belongs to, by its name: every name a job's files get
/// (`AiService::store_files`, `crate::jobs::queued::object`) is `ai-JOB.mp4` or `ai-JOB-N.mp4`.
pub fn job_of_object(file: &str) -> Option<i64> {
    let rest = file.strip_prefix("ai-")?;
    let end = rest.find(['.', '-'])?;
    rest[..end].parse().ok().filter(|_| rest[..end].bytes().all(|b| b.is_ascii_digit()))
}

/// The job input stored with a job: prompt, image URLs and options with defaults filled in.
pub fn stored_input(prompt: Option<&str>, image_urls: &[String], options: &Map<String, Value>) -> String {
    json!({"prompt": prompt, "image_urls": image_urls, "options": options}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_names_its_job() {
        assert_eq!(job_of_object("ai-17.mp4"), Some(17));
        assert_eq!(job_of_object("ai-17-2.mp4"), Some(17));
        for other in ["ai-.mp4", "ai-x.mp4", "ai-+1.mp4", "ai-17", "b0c4f7e2-0000-4000-8000-000000000000.mp4"] {
            assert_eq!(job_of_object(other), None, "{other}");
        }
        let result = json!({"files": ["ai-1.mp4", "ai-1-1.mp4"]});
        assert_eq!(result_files(Some(&result)), ["ai-1.mp4", "ai-1-1.mp4"]);
        assert!(result_files(Some(&json!({"urls": ["https://x/y.mp4"]}))).is_empty());
        assert!(result_files(None).is_empty());
    }
}
