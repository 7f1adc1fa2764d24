//! Bodies of the video-pack endpoints.

use schemars::JsonSchema;
use serde::Serialize;

use crate::packs::Pack;

/// `POST /api/video-packs/{pack_id}/buy/`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckoutStarted {
    /// Always `true`.
    pub success: bool,
    /// Stripe Checkout's page: send the buyer there.
    pub checkout_url: String,
    /// Stripe's session id.
    pub session_id: String,
    /// The pack on sale.
    pub pack: Pack,
}

/// `POST /api/video-packs/webhook/`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookDone {
    /// Always `true`.
    pub success: bool,
    /// What was done with the event.
    pub message: String,
    /// Videos this event added (0 for an event seen before); absent when the event was not a
    /// paid checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub videos_added: Option<i64>,
}
