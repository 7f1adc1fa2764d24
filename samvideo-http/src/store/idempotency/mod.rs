//! `Idempotency-Key`s of creates: the `idempotency_keys` table, one row per (key, idempotency
//! key) naming the task its first create stored, so a retried create returns that task
//! instead of storing (and charging) another, on whichever node it lands.
//!
//! Enter: the key a create presents, with the oldest time it still counts from
//! ([`IdempotencyKey`], given to `Store::create_task_once`). Leave: the task to replay, if any.
//! An older row is replaced by the next create that presents the same key.
//!
//! This file holds the types; the statements are `sqlite.rs` and `postgres.rs`, which the
//! create's transaction in `usage` calls (there is no `Store` method of its own).

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;

use crate::store::{QuotaDecision, TaskRow};

/// The `Idempotency-Key` of a create and how far back a first use counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The header's value.
    pub key: String,
    /// RFC 3339: an earlier use of the key is forgotten.
    pub since: String,
}

/// What [`super::Store::create_task_once`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// A first use (or no key): the quota decided, as [`super::Store::create_task`] does.
    New(QuotaDecision),
    /// The key was used within its window: the task its first create stored; nothing new.
    Replayed(Box<TaskRow>),
}
