-- +goose Up
-- News for one user, made from a project's timeline event in the same transaction. One sequence
-- for every user: a client resumes its own list after the last id it saw.
CREATE TABLE notifications (
    id           BIGSERIAL PRIMARY KEY,
    user_id      TEXT NOT NULL,
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    -- As it was when the notification was made.
    project_name TEXT NOT NULL,
    kind         TEXT NOT NULL,
    message      TEXT NOT NULL,
    -- 0 when it is about no gate.
    gate         INTEGER NOT NULL,
    -- The event it was made from. No foreign key: events go only with their project, which
    -- takes its notifications with it.
    event_id     BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    -- NULL while unread.
    read_at      TIMESTAMPTZ
);

-- A user's list, newest first or after an id.
CREATE INDEX notifications_user_id_id_idx ON notifications (user_id, id);
-- The unread count and unread-only list read the unread rows only, however many were read.
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE read_at IS NULL;
-- The cascade when a project is deleted.
CREATE INDEX notifications_project_id_idx ON notifications (project_id);

-- +goose Down
DROP TABLE notifications;
