//! The SQLite schema: migrations applied in order on open; `PRAGMA user_version` records how
//! many ran. Append only: a released migration is never edited.

use rusqlite::Connection;

use crate::store::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: keys, tasks, templates.
    "CREATE TABLE api_keys (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        plan        TEXT NOT NULL,
        key_hash    TEXT NOT NULL UNIQUE,
        masked      TEXT NOT NULL,
        active      INTEGER NOT NULL DEFAULT 1,
        usage_count INTEGER NOT NULL DEFAULT 0,
        last_used   TEXT,
        created_at  TEXT NOT NULL,
        revoked_at  TEXT
    );
    CREATE TABLE tasks (
        seq             INTEGER PRIMARY KEY,
        id              TEXT NOT NULL UNIQUE,
        celery_task_id  TEXT NOT NULL UNIQUE,
        api_key_id      INTEGER NOT NULL REFERENCES api_keys(id),
        endpoint        TEXT NOT NULL,
        request_json    TEXT NOT NULL,
        exports_json    TEXT,
        request_id      TEXT,
        status          TEXT NOT NULL,
        progress        REAL NOT NULL DEFAULT 0,
        error           TEXT,
        aspect_ratio    TEXT NOT NULL,
        duration        REAL NOT NULL DEFAULT 0,
        size_bytes      INTEGER NOT NULL DEFAULT 0,
        output_file     TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        render_seconds  REAL,
        export_delivery TEXT,
        created_at      TEXT NOT NULL,
        started_at      TEXT,
        updated_at      TEXT NOT NULL,
        completed_at    TEXT
    );
    CREATE INDEX tasks_by_key ON tasks(api_key_id, seq);
    CREATE INDEX tasks_by_status ON tasks(status, seq);
    CREATE TABLE templates (
        id            TEXT PRIMARY KEY,
        owner_key_id  INTEGER NOT NULL REFERENCES api_keys(id),
        name          TEXT NOT NULL,
        description   TEXT,
        category      TEXT,
        is_public     INTEGER NOT NULL DEFAULT 0,
        settings_json TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX templates_by_owner ON templates(owner_key_id);",
    // 2: export deliveries (one row per task and target: attempts, state; no secrets) and
    // SFTP host keys pinned on first use. See `exports::queue`.
    "CREATE TABLE export_deliveries (
        id              TEXT PRIMARY KEY,
        task_id         TEXT NOT NULL REFERENCES tasks(id),
        position        INTEGER NOT NULL,
        kind            TEXT NOT NULL,
        target          TEXT NOT NULL,
        event           TEXT NOT NULL,
        payload         TEXT NOT NULL,
        status          TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER,
        last_error      TEXT,
        response_status INTEGER,
        remote_path     TEXT,
        last_attempt_at TEXT,
        delivered_at    TEXT,
        created_at      TEXT NOT NULL,
        UNIQUE (task_id, position)
    );
    CREATE INDEX export_deliveries_due ON export_deliveries(status, next_attempt_ms);
    CREATE TABLE sftp_host_keys (
        host       TEXT NOT NULL,
        port       INTEGER NOT NULL,
        public_key TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (host, port)
    );",
    // 3: AI jobs, the AI credits ledger, video packs (ledger + Stripe checkouts). Every credit
    // or extra-video change is a ledger row; see `credits` and `packs`.
    "CREATE TABLE ai_jobs (
        id                   INTEGER PRIMARY KEY,
        api_key_id           INTEGER NOT NULL REFERENCES api_keys(id),
        model_id             TEXT NOT NULL,
        provider             TEXT NOT NULL,
        request_json         TEXT NOT NULL,
        status               TEXT NOT NULL,
        credits_charged      INTEGER NOT NULL,
        charged_subscription INTEGER NOT NULL DEFAULT 0,
        charged_topup        INTEGER NOT NULL DEFAULT 0,
        result_json          TEXT,
        external_id          TEXT,
        error_code           TEXT,
        error_message        TEXT,
        created_at           TEXT NOT NULL,
        completed_at         TEXT
    );
    CREATE INDEX ai_jobs_by_status ON ai_jobs(status, id);
    CREATE TABLE credit_ledger (
        id          INTEGER PRIMARY KEY,
        api_key_id  INTEGER NOT NULL REFERENCES api_keys(id),
        bucket      TEXT NOT NULL,
        amount      INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        period      TEXT,
        ai_job_id   INTEGER REFERENCES ai_jobs(id),
        reason      TEXT,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX credit_ledger_by_key ON credit_ledger(api_key_id, bucket, period);
    CREATE TABLE video_pack_ledger (
        id                INTEGER PRIMARY KEY,
        api_key_id        INTEGER NOT NULL REFERENCES api_keys(id),
        amount            INTEGER NOT NULL,
        kind              TEXT NOT NULL,
        pack_id           TEXT,
        stripe_event_id   TEXT UNIQUE,
        stripe_session_id TEXT UNIQUE,
        created_at        TEXT NOT NULL
    );
    CREATE INDEX video_pack_ledger_by_key ON video_pack_ledger(api_key_id);
    CREATE TABLE stripe_checkouts (
        session_id   TEXT PRIMARY KEY,
        api_key_id   INTEGER NOT NULL REFERENCES api_keys(id),
        pack_id      TEXT NOT NULL,
        videos       INTEGER NOT NULL,
        amount_cents INTEGER NOT NULL,
        currency     TEXT NOT NULL,
        created_at   TEXT NOT NULL
    );",
    // The poster frame (JPEG) written beside each output.
    "ALTER TABLE tasks ADD COLUMN thumbnail_file TEXT;",
    // 5: the rate limiters' hits (see `rates`).
    "CREATE TABLE rate_hits (
        limiter TEXT NOT NULL,
        who     TEXT NOT NULL,
        at_ms   INTEGER NOT NULL
    );
    CREATE INDEX rate_hits_by_caller ON rate_hits(limiter, who, at_ms);",
    // 6: the Idempotency-Key of creates (see `idempotency`).
    "CREATE TABLE idempotency_keys (
        api_key_id INTEGER NOT NULL REFERENCES api_keys(id),
        key        TEXT NOT NULL,
        task_id    TEXT NOT NULL REFERENCES tasks(id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (api_key_id, key)
    );",
    // 7: the node that took a task, an AI job or a delivery attempt (`Store::for_node`): its
    // start-up recovery touches only its own.
    "ALTER TABLE tasks ADD COLUMN node_id TEXT;
    ALTER TABLE ai_jobs ADD COLUMN node_id TEXT;
    ALTER TABLE export_deliveries ADD COLUMN node_id TEXT;",
    // 8: the caption sidecar (WebVTT; the SubRip file has the same stem) beside a captioned output.
    "ALTER TABLE tasks ADD COLUMN subtitles_file TEXT;",
    // 9: the lease of a processing task (unix ms; see `store::leases`): until then its worker
    // holds it, after that any worker may claim it again.
    "ALTER TABLE tasks ADD COLUMN lease_until_ms INTEGER;",
    // 10: what a task is for (`store::tasks::TaskKind`): a user's video, or a preview or an AI
    // job's render that an API node without workers queued for the workers.
    "ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'video';",
    // 11: retention (`--retention-days`): when a task's objects were deleted, and until when a
    // node's sweep holds the task while it deletes them (unix ms; see `store::tasks`); the
    // index finds the completed tasks that still have objects by their end time, so a sweep
    // does not read every task ever swept.
    "ALTER TABLE tasks ADD COLUMN output_expired_at TEXT;
    ALTER TABLE tasks ADD COLUMN purge_until_ms INTEGER;
    CREATE INDEX tasks_to_expire ON tasks(completed_at)
        WHERE status = 'completed' AND output_file IS NOT NULL AND output_expired_at IS NULL;",
    // 12: split renders (`--split-renders`, `store::parts`): a part task (kind 'part') names
    // the video task it is a part of, which part (`segment:K`, `audio`) and the frames it
    // weighs in the video's progress; one row per part of a video.
    "ALTER TABLE tasks ADD COLUMN parent_id TEXT;
    ALTER TABLE tasks ADD COLUMN part TEXT;
    ALTER TABLE tasks ADD COLUMN part_frames INTEGER NOT NULL DEFAULT 0;
    CREATE UNIQUE INDEX tasks_parts ON tasks(parent_id, part) WHERE parent_id IS NOT NULL;",
    // 13: retention of AI outputs (`--retention-days`, `store::ai_jobs`): when a job's files
    // were deleted, and until when a node's sweep holds the job while it deletes them (unix
    // ms), as migration 11 for tasks; the index finds the successful jobs not yet swept by
    // their end time.
    "ALTER TABLE ai_jobs ADD COLUMN output_expired_at TEXT;
    ALTER TABLE ai_jobs ADD COLUMN purge_until_ms INTEGER;
    CREATE INDEX ai_jobs_to_expire ON ai_jobs(completed_at) WHERE status = 'success' AND output_expired_at IS NULL;",
];

/// Bring the schema up to date.
pub fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew { found: version, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
