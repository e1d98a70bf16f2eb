-- Kept in lockstep with ../../sqlite/migrations/00004_task_keys.sql.

-- +goose Up
-- The key a task was created with (unique within its batch only): an agent's handoff names the
-- tasks it completed by their keys. Tasks created before have none.
ALTER TABLE tasks ADD COLUMN task_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tasks DROP COLUMN task_key;
