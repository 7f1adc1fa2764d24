//! `POST /api/video-packs/{pack_id}/buy/`, `POST /api/video-packs/webhook/`,
//! `GET /api/video-packs/success/`, `GET /api/video-packs/cancel/`.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Html;
use serde_json::Value;

use super::stripe::{self, checkout_form, verify_signature};
use crate::auth::Caller;
use crate::reply::read_body;
use crate::reply::{typed_reply, HttpError, Reply};
use crate::responses::packs::{CheckoutStarted, WebhookDone};
use crate::state::AppState;
use crate::store::{Checkout, PackCredit, PackPurchase};

/// Largest webhook body accepted (Stripe events are a few KiB).
const MAX_WEBHOOK_BODY: usize = 512 * 1024;

/// `POST /api/video-packs/{pack_id}/buy/`: create a Stripe Checkout Session, answer its URL.
pub async fn buy(State(s): State<AppState>, caller: Caller, headers: HeaderMap, Path(pack_id): Path<String>) -> Reply {
    let cfg = &s.config.packs;
    let pack = cfg
        .pack(&pack_id)
        .cloned()
        .ok_or_else(|| HttpError::new(404, format!("Video pack not found: {pack_id}"), Some("PACK_NOT_FOUND")))?;
    let Some(secret) = cfg.stripe_secret_key.clone() else {
        return Err(HttpError::new(
            503,
            "Video pack checkout is not configured on this server (no Stripe secret key)",
            Some("PAYMENTS_NOT_CONFIGURED"),
        ));
    };
    let base = s.base_url(&headers);
    let success = format!("{base}/api/video-packs/success/?session_id={{CHECKOUT_SESSION_ID}}");
    let cancel = format!("{base}/api/video-packs/cancel/");
    let form = checkout_form(&pack, caller.key.id, &success, &cancel);
    let url = format!("{}/v1/checkout/sessions", cfg.stripe_api_base.trim_end_matches('/'));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(HttpError::internal)?;
    let upstream = |m: String| {
        tracing::error!(error = %m, "Stripe checkout failed");
        HttpError::new(502, format!("Payment provider error: {m}"), Some("PAYMENT_PROVIDER_ERROR"))
    };
    let resp = client
        .post(&url)
        .bearer_auth(&secret)
        .form(&form)
        .send()
        .await
        .map_err(|e| upstream(e.without_url().to_string()))?;
    let status = resp.status();
    let body: Value = resp.json().await.map_err(|e| upstream(format!("unreadable answer: {}", e.without_url())))?;
    if !status.is_success() {
        let msg = body["error"]["message"].as_str().unwrap_or("request refused").to_string();
        return Err(upstream(format!("{status}: {msg}")));
    }
    let (Some(session_id), Some(checkout_url)) = (body["id"].as_str(), body["url"].as_str()) else {
        return Err(upstream("the session has no id or url".into()));
    };
    let key_id = caller.key.id;
    s.store
        .record_checkout(Checkout {
            session_id: session_id.to_string(),
            api_key_id: key_id,
            pack_id: pack.id.clone(),
            videos: pack.videos,
            amount_cents: pack.price_cents,
            currency: pack.currency.clone(),
        })
        .await?;
    tracing::info!(session_id, pack = %pack.id, key_id, "checkout session created");
    typed_reply(
        200,
        CheckoutStarted { success: true, checkout_url: checkout_url.into(), session_id: session_id.into(), pack },
    )
}

fn bad(message: impl Into<String>) -> HttpError {
    HttpError::new(400, message, Some("INVALID_WEBHOOK"))
}

/// `POST /api/video-packs/webhook/`: verify the signature; on a paid checkout add the pack once.
pub async fn webhook(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Reply {
    let Some(secret) = s.config.packs.stripe_webhook_secret.clone() else {
        return Err(HttpError::new(
            503,
            "Stripe webhook is not configured on this server",
            Some("PAYMENTS_NOT_CONFIGURED"),
        ));
    };
    let bytes = read_body(&headers, body, MAX_WEBHOOK_BODY).await?;
    let sig = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad("Missing Stripe-Signature header"))?;
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = verify_signature(sig, &bytes, &secret, now, stripe::TOLERANCE_SECS) {
        tracing::warn!(error = %e, "Stripe webhook refused");
        return Err(HttpError::new(400, format!("Invalid signature: {e}"), Some("INVALID_SIGNATURE")));
    }
    let event: Value = serde_json::from_slice(&bytes).map_err(|_| bad("Invalid JSON data"))?;
    let event_id = event["id"].as_str().ok_or_else(|| bad("event has no id"))?.to_string();
    let kind = event["type"].as_str().unwrap_or_default();
    let object = &event["data"]["object"];
    let paid = matches!(object["payment_status"].as_str(), Some("paid") | Some("no_payment_required"));
    match kind {
        "checkout.session.completed" if !paid => {
            return done("Payment not completed yet; waiting for Stripe".into(), None);
        }
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {}
        other => return done(format!("Ignored event type {other}"), None),
    }
    let session_id = object["id"].as_str().ok_or_else(|| bad("session has no id"))?.to_string();
    let key_id: i64 = object["client_reference_id"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad("session has no client_reference_id"))?;
    let pack_id =
        object["metadata"]["pack_id"].as_str().ok_or_else(|| bad("session has no metadata.pack_id"))?.to_string();
    let configured = s.config.packs.pack(&pack_id).map(|p| p.videos);
    let purchase = PackPurchase { api_key_id: key_id, pack_id: pack_id.clone(), event_id, session_id };
    let credit = s
        .store
        .credit_pack(purchase, move |checkout| super::videos_for(key_id, &pack_id, checkout, configured))
        .await?;
    match credit {
        PackCredit::UnknownAccount => Err(bad(format!("unknown account {key_id}"))),
        PackCredit::Refused(reason) => Err(bad(reason)),
        PackCredit::Applied { videos } => {
            tracing::info!(key_id, videos, "video pack applied");
            done("Video pack applied".into(), Some(videos))
        }
        PackCredit::AlreadyApplied => done("Already applied".into(), Some(0)),
    }
}

fn done(message: String, videos_added: Option<i64>) -> Reply {
    typed_reply(200, WebhookDone { success: true, message, videos_added })
}

fn page(title: &str, text: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}</style>\
         </head><body><h1>{title}</h1><p>{text}</p></body></html>"
    ))
}

/// `GET /api/video-packs/success/`
pub async fn success() -> Html<String> {
    page(
        "Payment received",
        "Thank you. Your extra videos are added to your account as soon as Stripe confirms the payment, \
         usually within seconds. They are used after your plan's monthly videos; \
         <code>/api/function/video-generation/usage-summary</code> shows how many are left.",
    )
}

/// `GET /api/video-packs/cancel/`
pub async fn cancel() -> Html<String> {
    page("Checkout cancelled", "Nothing was charged. You can buy a video pack at any time.")
}
