-- +goose Up
-- The durable list of ended sessions (see store.Revocation): one row per ended session, or per
-- user (session_id '') for "every session of the user that started at or before ended_at".
CREATE TABLE revoked_sessions (
    user_id       TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    ended_at      TIMESTAMPTZ NOT NULL,
    access_until  TIMESTAMPTZ NOT NULL,
    refresh_until TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, session_id)
);

-- Verifiers list the entries still within access_until (minutes); rows are deleted once past
-- refresh_until (days): both bounds are range scans.
CREATE INDEX revoked_sessions_access_until_idx ON revoked_sessions (access_until);
CREATE INDEX revoked_sessions_refresh_until_idx ON revoked_sessions (refresh_until);

-- +goose Down
DROP TABLE revoked_sessions;
