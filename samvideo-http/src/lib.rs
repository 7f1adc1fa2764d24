//! # samvideo-http
//!
//! The `samvideo` binary's subcommands (`cli/`) and the HTTP API: the documented JSON-to-video
//! endpoints over an embedded SQLite store and a bounded pool of render workers. One process,
//! no other service to install.
//!
//! A request enters [`app`]'s router, authenticates through [`auth::Caller`], passes the
//! limiters in [`limits`], is validated by `samvideo_core::validate`, and becomes a `pending`
//! row in [`store`]. A worker in [`jobs`] claims it, renders it on a blocking thread with
//! `samvideo_core::render::render_to_file`, persists progress, and puts the output into the
//! object store (the data dir, or a bucket), from where `/media/outputs/` serves it (with
//! Range). `samvideo work` runs those workers without the HTTP API ([`worker`]).
//!
//! # Layout
//! - `config`    [`config::ServerConfig`]: flags/env/file resolved and validated
//! - `server`    [`server::Server`]: open store, recover, bind, spawn workers, stop
//! - `worker`    [`worker::Worker`]: `samvideo work`, render workers without the HTTP API
//! - `node`      what API nodes and workers both open: node id, store, objects, media source
//! - `bundled/`  the built-in example media (`bundled:` URLs, compiled in) and the examples'
//!   specs rewritten to them, for the playground
//! - `objects/`  [`objects::Objects`]: outputs and previews in a folder or an S3 bucket,
//!   downloads with Range
//! - `state`     [`state::AppState`] shared by handlers; absolute URL base
//! - `routes/`   one file per endpoint group: core, tasks, advanced, async_ctl, health,
//!   templates, openapi (the typed OpenAPI 3.1 document + docs page), playground (the
//!   `/playground` page and its unauthenticated validate endpoint), metrics;
//!   [`routes::routes`] is the route table
//! - `responses/` the JSON bodies handlers answer, typed (serde + schemars for the document)
//! - `auth`      `X-API-Key` / `api_key` -> [`auth::Caller`], documented 401/403
//! - `limits`    sliding-window rate limits (429 + Retry-After), monthly quotas (403)
//! - `store/`    the persistence seam: all SQL and every SQLite and Postgres type (keys
//!   (hashed), tasks (the durable queue), templates, AI jobs, credit and video pack ledgers,
//!   export deliveries) behind typed [`store::Store`] methods, on SQLite or Postgres
//! - `store_flags` `--data-dir` / `--store` of the subcommands that open a store
//! - `jobs/`     workers, cancel tokens, inactivity timeout, restart recovery, previews,
//!   the [`jobs::hooks::TaskHook`] seam for export delivery, the media source
//! - `exports/`  [`exports::Exporter`]: webhooks (signed), FTP, SFTP, email; the persistent
//!   delivery queue behind `settings.export_delivery`
//! - `ai/`       AI video jobs: catalog (data), providers (built-in motion model, HTTP
//!   adapters), job lifecycle, `/api/ai/*` routes
//! - `credits/`  the AI credits ledger (monthly by plan, top-ups), `samvideo credits`
//! - `packs/`    video packs: Stripe Checkout, signed webhook, extra videos past the quota
//! - `retention` `--retention-days`: the sweep that deletes old outputs, posters, sidecars,
//!   previews and scratch files, and what a client is told afterwards
//! - `metrics`   Prometheus counters
//! - `reply`     [`reply::HttpError`]: the documented error payloads
//!
//! Architecture Invariant: all SQL and every SQLite type live in `store/`; the rest of the
//! server calls typed `Store` methods.
//! Architecture Invariant: handlers never block the runtime: `Store`'s async methods run
//! SQLite on a blocking thread (its blocking calls, `Store::blocking`, serve render threads,
//! the task hook and the CLI only), and renders run on blocking threads.
//! Architecture Invariant: the queue is the database; nothing about a task lives only in
//! memory except its cancel token, so a restart loses no task.

pub mod ai;
pub mod auth;
pub mod billing;
pub mod bundled;
pub mod cli;
pub mod config;
pub mod credits;
pub mod exports;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod node;
pub mod objects;
pub mod packs;
pub mod reply;
pub mod responses;
pub mod retention;
pub mod routes;
pub mod server;
pub mod state;
pub mod store;
pub mod store_flags;
pub mod worker;

use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::objects::{OUTPUTS, PREVIEWS};
use crate::reply::HttpError;
use crate::state::AppState;

/// The whole HTTP API as a router (tests may drive it with `tower::ServiceExt::oneshot`).
pub fn app(state: AppState) -> Router {
    let mut router = Router::new();
    for (path, handlers) in routes::routes(&state) {
        // Every path answers with and without a trailing slash: the reference spells some
        // each way, and clients add or drop it.
        if path.len() > 1 {
            let other = match path.strip_suffix('/') {
                Some(bare) => bare.to_string(),
                None => format!("{path}/"),
            };
            router = router.route(&other, handlers.clone());
        }
        router = router.route(path, handlers);
    }
    // A folder's objects are files, served as they always were; a bucket's stream through
    // `objects::serve`, with the same headers.
    // Either way, an output that retention deleted answers 410 (`routes::media`).
    let media = match (state.objects.dir(OUTPUTS), state.objects.dir(PREVIEWS)) {
        (Some(outputs), Some(previews)) => Router::new()
            .nest_service("/media/outputs", ServeDir::new(outputs))
            .nest_service("/media/previews", ServeDir::new(previews)),
        _ => Router::new()
            .route("/media/outputs/{file}", get(objects::serve::output))
            .route("/media/previews/{file}", get(objects::serve::preview)),
    };
    let expired = axum::middleware::from_fn_with_state(state.clone(), routes::media::expired_outputs);
    router
        .merge(media.layer(expired))
        .fallback(|| async { HttpError::new(404, "Not found", Some("NOT_FOUND")) })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every path the router answers (documented spelling), for the OpenAPI test.
pub fn routed_paths(state: &AppState) -> Vec<String> {
    let mut paths: Vec<String> = routes::routes(state).into_iter().map(|(p, _)| p.to_string()).collect();
    paths.push("/media/outputs/{file}".into());
    paths.push("/media/previews/{file}".into());
    paths
}
