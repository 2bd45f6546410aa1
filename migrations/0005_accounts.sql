-- Accounts that can be revoked and limited.
--
-- A disabled user cannot sign in or renew a session. Quotas are per-user overrides of the
-- configured defaults (NULL: the default).
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN quota_bytes INTEGER CHECK (quota_bytes > 0);
ALTER TABLE users ADD COLUMN quota_videos INTEGER CHECK (quota_videos > 0);
ALTER TABLE users ADD COLUMN quota_uploads INTEGER CHECK (quota_uploads > 0);

-- Refresh tokens, stored only as their SHA-256. A sign-in starts a family; each renewal
-- marks its token used and adds the next one to the family. A used token presented again
-- is a stolen copy or a replay: its whole family is revoked.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    family     TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
);
CREATE INDEX sessions_by_family ON sessions (family);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Quota checks sum a user's videos; uploads in flight are those still uploading.
CREATE INDEX videos_by_owner_status ON videos (owner, status);
