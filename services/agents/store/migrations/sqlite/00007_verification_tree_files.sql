-- +goose Up
-- The files a verification ran on (JSON: path, document, version, content hash, size, gate), so
-- that the tree of a proof's hash can be listed as it was, even after its files changed.
ALTER TABLE verifications ADD COLUMN tree_files TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE verifications DROP COLUMN tree_files;
