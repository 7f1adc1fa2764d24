//! Rate-limit hits as held: the [`RateWindow`] a limiter's rule sees. Nothing here touches a
//! database.

/// A caller's hits still inside the window, as a limiter's rule sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    /// Requests let through in the window.
    pub hits: i64,
    /// When the oldest of them came (unix ms).
    pub oldest_ms: Option<i64>,
}
