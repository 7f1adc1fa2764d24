//! Every operation the server answers, as data: method, path, summary, key, tag, query
//! parameters, request body and the answers by status. `mod.rs` turns the table into the
//! document's `paths`; a test checks every routed path is in it.
//!
//! Request bodies are named by [`RequestBody`] (their schemas come from the validation rules
//! table, `requests.rs`); answers name the struct the handler serializes (`crate::responses`),
//! whose schema schemars derives (`responses.rs`).

use samvideo_core::request::Endpoint;
use samvideo_core::validate::RequestBody;
use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::responses::{advanced_started, any_object, of};
use crate::responses::ai::{Balance, InsufficientCredits, Job, JobCreated, Models};
use crate::responses::packs::{CheckoutStarted, WebhookDone};
use crate::responses::tasks::{
    AdvancedProgress, AsyncStatus, Cancelled, Health, Progress, QueueNumbers, TaskCreated, TaskList, UsageSummary,
};
use crate::responses::templates::{Applied, Template, TemplateList};
use crate::responses::{Data, Done, Said};

/// One documented operation.
pub struct Operation {
    /// Lower-case HTTP method.
    pub method: &'static str,
    /// Path with `{param}` segments, as routed.
    pub path: &'static str,
    /// A unique name (generated clients name their functions after it).
    pub operation_id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Requires `X-API-Key` (or `api_key`).
    pub auth: bool,
    /// Group.
    pub tag: &'static str,
    /// Query parameters.
    pub query: &'static [Param],
    /// What the body is.
    pub body: Body,
    /// The answers besides the ones every operation of its kind has (`mod.rs` adds 401/403
    /// with a key, 400/413 with a body, 404 with a path parameter).
    pub answers: &'static [Answer],
}

/// A query parameter: name, JSON Schema type, meaning.
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// `string`, `integer` or `boolean`.
    pub kind: &'static str,
    /// One line.
    pub description: &'static str,
}

/// A request body.
pub enum Body {
    /// None read.
    None,
    /// Checked with the validation rules table: the schema is generated from it.
    Rules(RequestBody),
    /// Any JSON object, described in words (not checked by the rules table).
    AnyObject(&'static str),
}

/// One answer: status, description and what its body is.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// One line.
    pub description: &'static str,
    /// The body.
    pub content: Content,
}

/// What an answer's body is.
pub enum Content {
    /// JSON of this schema (a struct of `crate::responses`).
    Json(fn(&mut SchemaGenerator) -> Schema),
    /// The error body (`ErrorBody`).
    Error,
    /// An HTML page.
    Html,
    /// Prometheus text.
    Metrics,
    /// A stored file (MP4, poster JPEG, captions), with Range support.
    File,
}

const fn json(status: u16, description: &'static str, schema: fn(&mut SchemaGenerator) -> Schema) -> Answer {
    Answer { status, description, content: Content::Json(schema) }
}

const fn error(status: u16, description: &'static str) -> Answer {
    Answer { status, description, content: Content::Error }
}

const fn p(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    Param { name, kind, description }
}

fn t<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    of::<T>(g)
}

const RATE: Answer = error(429, "Rate limited (`RATE_LIMITED`, `Retry-After` header)");
const CREATE: &[Answer] = &[
    json(200, "Task stored and queued", t::<Said<TaskCreated>>),
    error(403, "Key not active, or the monthly quota is used up"),
    RATE,
];
const NO_QUERY: &[Param] = &[];

const fn op(
    method: &'static str,
    path: &'static str,
    operation_id: &'static str,
    summary: &'static str,
    tag: &'static str,
    body: Body,
    answers: &'static [Answer],
) -> Operation {
    Operation { method, path, operation_id, summary, auth: true, tag, query: NO_QUERY, body, answers }
}

const fn open(mut o: Operation) -> Operation {
    o.auth = false;
    o
}

const fn with_query(mut o: Operation, query: &'static [Param]) -> Operation {
    o.query = query;
    o
}

/// Every operation the server answers.
pub const OPERATIONS: &[Operation] = &[
    op(
        "post",
        "/api/function/video-generation/mix-video",
        "create_mix_video",
        "Create a mix video (media, voice, music, transcripts)",
        "core",
        Body::Rules(RequestBody::Create(Endpoint::MixVideo)),
        CREATE,
    ),
    op(
        "post",
        "/api/function/video-generation/simple-video",
        "create_simple_video",
        "Create a simple video (media and settings)",
        "core",
        Body::Rules(RequestBody::Create(Endpoint::SimpleVideo)),
        CREATE,
    ),
    op(
        "post",
        "/api/function/video-generation/loop-video",
        "create_loop_video",
        "Create a looping video (type LoopVideo)",
        "core",
        Body::Rules(RequestBody::Create(Endpoint::LoopVideo)),
        CREATE,
    ),
    op(
        "get",
        "/api/function/video-generation/progress/{id}",
        "get_progress",
        "Status, progress, output URL and error of a task",
        "tasks",
        Body::None,
        &[json(200, "The progress object", t::<Data<Progress>>)],
    ),
    with_query(
        op(
            "get",
            "/api/function/video-generation/tasks",
            "list_tasks",
            "Recent tasks (limit 1-100, default 10; status filter)",
            "tasks",
            Body::None,
            &[
                json(200, "Newest first", t::<Data<TaskList>>),
                error(400, "`limit` not an integer, or unknown `status`"),
            ],
        ),
        &[
            p("limit", "integer", "1 to 100 (clamped), default 10"),
            p("status", "string", "pending, processing, completed, failed, cancelled or timeout"),
        ],
    ),
    with_query(
        op(
            "get",
            "/api/function/video-generation/usage-summary",
            "get_usage_summary",
            "Usage totals and status breakdown (days, default 30)",
            "tasks",
            Body::None,
            &[json(200, "The key's usage", t::<Data<UsageSummary>>), error(400, "`days` not in 1..3650")],
        ),
        &[p("days", "integer", "1 to 3650, default 30")],
    ),
    op(
        "post",
        "/api/render/advanced-video",
        "create_advanced_video",
        "Advanced render: preview (sync) or full (async); template_id merge",
        "advanced",
        Body::Rules(RequestBody::Create(Endpoint::AdvancedVideo)),
        &[
            json(200, "Full: task queued; preview: rendered", advanced_started),
            error(403, "Key not active, or the monthly quota is used up"),
            error(404, "`template_id` names no template the key may read (`TEMPLATE_NOT_FOUND`)"),
            RATE,
            error(500, "The preview failed (`PREVIEW_FAILED`)"),
            error(504, "The preview took longer than the server's limit (`PREVIEW_FAILED`)"),
        ],
    ),
    op(
        "get",
        "/api/render/advanced-video/progress/{task_id}",
        "get_advanced_progress",
        "Progress of an advanced render",
        "advanced",
        Body::None,
        &[json(200, "The progress object, with mode and request_id", t::<Data<AdvancedProgress>>)],
    ),
    op(
        "get",
        "/api/async/status/{task_id}",
        "get_async_status",
        "Raw worker-layer state of a task (id or celery_task_id)",
        "async",
        Body::None,
        &[json(200, "The worker-layer state", t::<Data<AsyncStatus>>), error(400, "Not a UUID (`INVALID_TASK_ID`)")],
    ),
    op(
        "post",
        "/api/async/cancel/{task_id}",
        "cancel_task",
        "Cancel a pending or running task",
        "async",
        Body::None,
        &[
            json(200, "Cancelled", t::<Said<Cancelled>>),
            error(400, "Not a UUID (`INVALID_TASK_ID`), or already ended (`TASK_NOT_CANCELLABLE`)"),
        ],
    ),
    op(
        "get",
        "/api/async/queue/status",
        "get_queue_status",
        "Workers, active renders, queued tasks",
        "async",
        Body::None,
        &[json(200, "The queue", t::<Data<QueueNumbers>>)],
    ),
    open(op(
        "get",
        "/api/async/health",
        "get_health",
        "Health of the async processing layer",
        "async",
        Body::None,
        &[json(200, "Healthy", t::<Health>), error(503, "The store does not answer (`ASYNC_UNHEALTHY`)")],
    )),
    op(
        "post",
        "/api/templates/",
        "create_template",
        "Create a template",
        "templates",
        Body::Rules(RequestBody::TemplateCreate),
        &[json(201, "Created", t::<Said<Template>>), RATE],
    ),
    with_query(
        op(
            "get",
            "/api/templates/list/",
            "list_templates",
            "List own templates (+ public with include_public=true; category filter)",
            "templates",
            Body::None,
            &[json(200, "The templates", t::<Data<TemplateList>>), error(400, "`include_public` not a boolean"), RATE],
        ),
        &[
            p("include_public", "boolean", "also list other keys' public templates"),
            p("category", "string", "only this category"),
        ],
    ),
    op(
        "get",
        "/api/templates/{template_id}/",
        "get_template",
        "Read a template",
        "templates",
        Body::None,
        &[json(200, "The template", t::<Data<Template>>), RATE],
    ),
    op(
        "put",
        "/api/templates/{template_id}/",
        "update_template",
        "Update name/description/category/settings/is_public",
        "templates",
        Body::Rules(RequestBody::TemplateUpdate),
        &[json(200, "Updated", t::<Said<Template>>), error(403, "Not the template's owner (`FORBIDDEN`)"), RATE],
    ),
    op(
        "delete",
        "/api/templates/{template_id}/",
        "delete_template",
        "Delete a template",
        "templates",
        Body::None,
        &[json(200, "Deleted", t::<Done>), error(403, "Not the template's owner (`FORBIDDEN`)"), RATE],
    ),
    op(
        "post",
        "/api/templates/{template_id}/apply/",
        "apply_template",
        "Template settings merged with optional overrides",
        "templates",
        Body::AnyObject("Optional overrides: `{\"settings\": {...}}` or the settings keys directly"),
        &[json(200, "The merged settings", t::<Data<Applied>>), RATE],
    ),
    with_query(
        op(
            "get",
            "/api/ai/models",
            "list_ai_models",
            "AI models with credits, capabilities, plans and option constraints (type=video|image)",
            "ai",
            Body::None,
            &[json(200, "The catalog", t::<Models>), error(400, "`type` is not video or image")],
        ),
        &[p("type", "string", "video or image")],
    ),
    op(
        "post",
        "/api/ai/jobs",
        "create_ai_job",
        "Create an AI job: 202 with job_id and credits charged; 402/403/404/503",
        "ai",
        Body::Rules(RequestBody::AiJob),
        AI_CREATE,
    ),
    op(
        "post",
        "/api/ai/generate",
        "generate_ai",
        "Alias of POST /api/ai/jobs",
        "ai",
        Body::Rules(RequestBody::AiJob),
        AI_CREATE,
    ),
    op(
        "get",
        "/api/ai/jobs/{job_id}",
        "get_ai_job",
        "AI job status: result_urls, error_code, error_message, timestamps",
        "ai",
        Body::None,
        &[json(200, "The job", t::<Job>), error(400, "Not a job id (`INVALID_JOB_ID`)")],
    ),
    op(
        "get",
        "/api/ai/credits/balance",
        "get_ai_credits",
        "Subscription and top-up AI credits left",
        "ai",
        Body::None,
        &[json(200, "The balance", t::<Balance>)],
    ),
    op(
        "post",
        "/api/video-packs/{pack_id}/buy/",
        "buy_video_pack",
        "Create a Stripe Checkout Session for a video pack; answers its URL",
        "billing",
        Body::None,
        &[json(200, "The checkout", t::<CheckoutStarted>), error(503, "Stripe is not configured on this server")],
    ),
    open(op(
        "post",
        "/api/video-packs/webhook/",
        "video_pack_webhook",
        "Stripe webhook (Stripe-Signature): adds a paid pack's videos once",
        "billing",
        Body::AnyObject("A Stripe event, signed in the `Stripe-Signature` header"),
        &[json(200, "Handled", t::<WebhookDone>), error(503, "Stripe is not configured on this server")],
    )),
    open(op(
        "get",
        "/api/video-packs/success/",
        "video_pack_success",
        "Checkout success page",
        "billing",
        Body::None,
        &[Answer { status: 200, description: "A page", content: Content::Html }],
    )),
    open(op(
        "get",
        "/api/video-packs/cancel/",
        "video_pack_cancel",
        "Checkout cancel page",
        "billing",
        Body::None,
        &[Answer { status: 200, description: "A page", content: Content::Html }],
    )),
    open(op(
        "get",
        "/api/openapi.json",
        "get_openapi",
        "This document",
        "meta",
        Body::None,
        &[json(200, "OpenAPI 3.1", any_object)],
    )),
    open(op(
        "get",
        "/docs",
        "get_docs",
        "Human-readable API docs",
        "meta",
        Body::None,
        &[Answer { status: 200, description: "A page", content: Content::Html }],
    )),
    open(op(
        "get",
        "/playground",
        "get_playground",
        "The playground: edit a spec with live validation, render it with a key, play the result",
        "playground",
        Body::None,
        &[Answer { status: 200, description: "A page", content: Content::Html }],
    )),
    open(op(
        "post",
        "/api/playground/validate/{endpoint}",
        "validate_spec",
        "Check a create body for mix-video, simple-video, loop-video or advanced-video: no key, renders nothing",
        "playground",
        Body::AnyObject(
            "A create body of the endpoint named in the path (its schema is that create's); \
             at most `--max-validate-body` bytes",
        ),
        &[
            json(200, "Valid: the create would accept it", t::<Done>),
            error(400, "The create's own 400 body: the validator's message (advanced: `VALIDATION_ERROR`)"),
            error(404, "Unknown endpoint (`ENDPOINT_NOT_FOUND`)"),
            error(429, "Rate limited per client IP (`RATE_LIMITED`, `Retry-After` header)"),
        ],
    )),
    open(op(
        "get",
        "/metrics",
        "get_metrics",
        "Prometheus metrics",
        "meta",
        Body::None,
        &[Answer { status: 200, description: "Prometheus text format", content: Content::Metrics }],
    )),
    open(op(
        "get",
        "/media/outputs/{file}",
        "download_output",
        "Download a finished video, its poster or its captions (Range supported)",
        "media",
        Body::None,
        &[
            Answer { status: 200, description: "The file", content: Content::File },
            Answer { status: 206, description: "The requested range", content: Content::File },
            error(410, "Deleted by the server's retention (`OUTPUT_EXPIRED`; the task's progress or the AI job's status says when, in `output_expired`)"),
        ],
    )),
    open(op(
        "get",
        "/media/previews/{file}",
        "download_preview",
        "Download a preview video (Range supported)",
        "media",
        Body::None,
        &[
            Answer { status: 200, description: "The file", content: Content::File },
            Answer { status: 206, description: "The requested range", content: Content::File },
        ],
    )),
];

const AI_CREATE: &[Answer] = &[
    json(202, "Job created, credits reserved", t::<JobCreated>),
    json(402, "Insufficient credits", t::<InsufficientCredits>),
    error(403, "Key not active, or the model is not on the key's plan (`MODEL_NOT_AVAILABLE_ON_PLAN`, `upgrade_url`)"),
    error(404, "Unknown model (`MODEL_NOT_FOUND`)"),
    RATE,
    error(503, "The model's provider is not configured on this server (nothing charged)"),
];
