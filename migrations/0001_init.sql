-- The catalog: users, videos, failed sign-ins (throttling) and processed job events (replays).
-- D1 applies this file in the Worker; native tests apply the same file to SQLite.
-- Times are unix milliseconds (INTEGER): they sort, compare and index cheaply; the API
-- renders them as RFC 3339.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at    INTEGER NOT NULL
);

CREATE TABLE videos (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL REFERENCES users (id),
    title       TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    file_size   INTEGER NOT NULL CHECK (file_size > 0),
    file_type   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('uploading', 'processing', 'ready', 'failed')),
    progress    INTEGER CHECK (progress BETWEEN 0 AND 100),
    error       TEXT,
    source_key  TEXT NOT NULL,
    -- Set for multipart uploads only; the part plan is a pure function of file_size.
    upload_id   TEXT,
    output_key  TEXT,
    duration_ms INTEGER,
    width       INTEGER,
    height      INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Listing is newest first with a (created_at, id) cursor, for one owner or for everyone.
CREATE INDEX videos_by_owner ON videos (owner, created_at DESC, id DESC);
CREATE INDEX videos_by_time ON videos (created_at DESC, id DESC);

-- One row per failed sign-in, per scope ('email:<address>' and 'ip:<address>').
CREATE TABLE login_failures (
    scope TEXT NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX login_failures_by_scope ON login_failures (scope, at);

-- Job events already applied: a replayed event id is a no-op. Pruned after a week.
CREATE TABLE job_events (
    event_id    TEXT PRIMARY KEY,
    video_id    TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX job_events_by_time ON job_events (received_at);
