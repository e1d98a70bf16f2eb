-- +goose Up
-- Whether the run was published queued (to its project's live clients): by whoever created it,
-- after the commit, or by the worker before it starts it, whichever comes first (see
-- AnnounceQueued).
ALTER TABLE runs ADD COLUMN queued_published INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE runs DROP COLUMN queued_published;
