-- Adaptive streaming: where a ready video's HLS ladder, poster and storyboard are, and how
-- far its ladder is when the ladder comes after the MP4 (streams_state: processing, ready,
-- failed; NULL before any word of it). A failed ladder leaves the MP4 playing; its reason is
-- in streams_error.
ALTER TABLE videos ADD COLUMN hls_key TEXT;
ALTER TABLE videos ADD COLUMN poster_key TEXT;
ALTER TABLE videos ADD COLUMN storyboard_key TEXT;
ALTER TABLE videos ADD COLUMN streams_state TEXT CHECK (streams_state IN ('processing', 'ready', 'failed'));
ALTER TABLE videos ADD COLUMN streams_progress INTEGER CHECK (streams_progress BETWEEN 0 AND 100);
ALTER TABLE videos ADD COLUMN streams_error TEXT;
