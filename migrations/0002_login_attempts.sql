-- A sign-in reserves its row in every scope before the password is checked, in one
-- statement that inserts nothing once a scope is at the limit: concurrent attempts cannot
-- all pass a check made before any of them is recorded. A good sign-in removes its rows.
ALTER TABLE login_failures ADD COLUMN attempt TEXT;
CREATE INDEX login_failures_by_attempt ON login_failures (attempt);
