//! Billing plans: the tier an API key belongs to (`free`, `basic`, `pro`, `ultimate`), which
//! decides its monthly videos, AI credits and model access.
//!
//! A leaf: imports nothing of the crate, so configuration, the store, quotas, credits and
//! the AI catalog can all name a plan without importing each other. (Named `BillingPlan`, not
//! `BillingPlan`: a render plan is `samvideo_core::plan::RenderPlan`.)

/// The billing plan a key belongs to. Quotas are per plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BillingPlan {
    /// The free tier: a few videos a month.
    Free,
    /// Paid plan.
    Basic,
    /// Paid plan.
    Pro,
    /// Paid plan.
    Ultimate,
}

impl BillingPlan {
    /// All plans.
    pub const ALL: [BillingPlan; 4] = [BillingPlan::Free, BillingPlan::Basic, BillingPlan::Pro, BillingPlan::Ultimate];

    /// Name as stored and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            BillingPlan::Free => "free",
            BillingPlan::Basic => "basic",
            BillingPlan::Pro => "pro",
            BillingPlan::Ultimate => "ultimate",
        }
    }
}

impl std::str::FromStr for BillingPlan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BillingPlan::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown plan {s:?} (expected free, basic, pro or ultimate)"))
    }
}

impl std::fmt::Display for BillingPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
