//! Usage as held: what the quota rule sees ([`QuotaUsage`]), its answer ([`QuotaDecision`])
//! and an account's [`KeyUsage`]. Nothing here touches a database.

use crate::store::{ExtraVideos, KeyRow, StatusCounts};

/// What the quota rule sees of an account, read in the transaction that stores the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUsage {
    /// Tasks the key created since the start of the quota period.
    pub used: i64,
    /// Extra videos from video packs left.
    pub extra_videos_left: i64,
}

/// The quota rule's answer for one more task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaDecision {
    /// Store the task.
    Admit,
    /// Store the task and spend one extra video.
    SpendExtraVideo,
    /// Store nothing.
    Refuse,
}

/// An account's usage, for the usage summary.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyUsage {
    /// Its tasks per state in the window.
    pub counts: StatusCounts,
    /// The key as stored now.
    pub key: Option<KeyRow>,
    /// Its extra videos.
    pub extra_videos: ExtraVideos,
    /// Tasks it created this month.
    pub month_used: i64,
}
