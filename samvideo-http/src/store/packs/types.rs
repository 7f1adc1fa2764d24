//! Video packs as held: an account's [`ExtraVideos`], a [`Checkout`], a paid [`PackPurchase`]
//! and what crediting it did ([`PackCredit`]). Nothing here touches a database.

use serde::Serialize;

/// An account's extra videos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ExtraVideos {
    /// Bought or granted, ever.
    pub purchased: i64,
    /// Spent past the monthly limit, ever.
    pub used: i64,
    /// Left.
    pub remaining: i64,
}

/// A Checkout Session created here: what was offered to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// Stripe's session id.
    pub session_id: String,
    /// The buying account.
    pub api_key_id: i64,
    /// The pack.
    pub pack_id: String,
    /// Extra videos it adds.
    pub videos: i64,
    /// Price in the currency's smallest unit.
    pub amount_cents: i64,
    /// ISO currency, lower case.
    pub currency: String,
}

/// A paid Checkout Session, as Stripe's webhook names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackPurchase {
    /// The account (`client_reference_id`).
    pub api_key_id: i64,
    /// `metadata.pack_id`.
    pub pack_id: String,
    /// The event's id.
    pub event_id: String,
    /// The session's id.
    pub session_id: String,
}

/// What [`Store::credit_pack`](crate::store::Store::credit_pack) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackCredit {
    /// The purchase's account does not exist.
    UnknownAccount,
    /// The caller's rule refused it (why).
    Refused(String),
    /// The videos were added.
    Applied {
        /// Extra videos added.
        videos: i64,
    },
    /// This event or session was credited before: nothing added.
    AlreadyApplied,
}
