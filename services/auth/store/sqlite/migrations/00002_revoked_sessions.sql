-- Kept in lockstep with ../../postgres/migrations. Times are INTEGER microseconds since the
-- Unix epoch, UTC.

-- +goose Up
CREATE TABLE revoked_sessions (
    user_id       TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    ended_at      INTEGER NOT NULL,
    access_until  INTEGER NOT NULL,
    refresh_until INTEGER NOT NULL,
    PRIMARY KEY (user_id, session_id)
) STRICT;

CREATE INDEX revoked_sessions_access_until_idx ON revoked_sessions (access_until);
CREATE INDEX revoked_sessions_refresh_until_idx ON revoked_sessions (refresh_until);

-- +goose Down
DROP TABLE revoked_sessions;
