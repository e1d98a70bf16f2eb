-- Kept in lockstep with ../../sqlite/migrations/00005_event_actor_service.sql.

-- +goose Up
-- The FuzzyLlama service that made the change for actor_id with a delegated token ("agents",
-- "documents"); empty when the user acted in person. Events recorded before have none.
ALTER TABLE events ADD COLUMN actor_service TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN actor_service;
