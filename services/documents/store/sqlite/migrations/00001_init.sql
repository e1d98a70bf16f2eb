-- +goose Up
-- The same tables as the PostgreSQL store's (see there); times are INTEGER microseconds and a
-- row's seq is its rowid (SQLite has one writer at a time).
CREATE TABLE documents (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL,
    gate           INTEGER NOT NULL,
    type           TEXT NOT NULL,
    title          TEXT NOT NULL,
    title_key      TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    latest_version INTEGER NOT NULL,
    UNIQUE (project_id, type, title_key)
);

CREATE INDEX documents_project_gate_idx ON documents (project_id, gate, type, title_key);

CREATE TABLE versions (
    document_id    TEXT NOT NULL REFERENCES documents (id),
    number         INTEGER NOT NULL,
    project_id     TEXT NOT NULL,
    content        BLOB NOT NULL,
    content_hash   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    author_user_id TEXT NOT NULL,
    agent_run_id   TEXT NOT NULL,
    agent_role     TEXT NOT NULL,
    change_note    TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (document_id, number)
);

-- Entries of an index end with the rowid, so this one lists a project's versions in seq order.
CREATE INDEX versions_project_seq_idx ON versions (project_id);

CREATE TABLE idempotency_keys (
    project_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result       BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE versions;
DROP TABLE documents;
