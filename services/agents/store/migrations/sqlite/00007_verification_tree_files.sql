-- +goose Up
-- The files a verification ran on (JSON: path, document, version, content hash, size, gate), so
-- that the tree of a proof's hash can be listed as it was, even after its files changed; and the
-- lease of the worker running it (a token and an expiry it pushes forward), so that a
-- verification whose worker died is queued again within about its lease, not when the job
-- queue's rescuer takes the job back.
ALTER TABLE verifications ADD COLUMN tree_files TEXT NOT NULL DEFAULT '[]';
ALTER TABLE verifications ADD COLUMN lease_token TEXT NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN lease_expires_at BIGINT NOT NULL DEFAULT 0;
-- Every agents process looks for expired leases every third of the lease TTL.
CREATE INDEX verifications_lease ON verifications (lease_expires_at) WHERE state = 'running';

-- +goose Down
DROP INDEX verifications_lease;
ALTER TABLE verifications DROP COLUMN lease_expires_at;
ALTER TABLE verifications DROP COLUMN lease_token;
ALTER TABLE verifications DROP COLUMN tree_files;
