-- The origin claims an upload before converting it (POST /api/internal/claims): the claim
-- names the uploaded object version, so a retried or replayed S3 event starts no second
-- conversion, and records the job the origin started for it.
ALTER TABLE videos ADD COLUMN claim_token TEXT;
ALTER TABLE videos ADD COLUMN claimed_at INTEGER;
ALTER TABLE videos ADD COLUMN job_id TEXT;
