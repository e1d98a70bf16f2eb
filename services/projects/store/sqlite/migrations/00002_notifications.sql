-- Kept in lockstep with ../../postgres/migrations/00002_notifications.sql.

-- +goose Up
-- AUTOINCREMENT: ids are never reused, so a client resuming after an id misses none.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT NOT NULL,
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    project_name TEXT NOT NULL,
    kind         TEXT NOT NULL,
    message      TEXT NOT NULL,
    gate         INTEGER NOT NULL,
    event_id     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    -- NULL while unread.
    read_at      INTEGER
) STRICT;

CREATE INDEX notifications_user_id_id_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE read_at IS NULL;
CREATE INDEX notifications_project_id_idx ON notifications (project_id);

-- +goose Down
DROP TABLE notifications;
