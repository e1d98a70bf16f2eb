-- +goose Up
-- Documents belong to projects of the projects service, which owns them: project_id is not a
-- foreign key (each service owns its schema and never reads another's tables).
CREATE TABLE documents (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL,
    -- Creation order; documents of one project are created one transaction at a time.
    seq            BIGINT GENERATED ALWAYS AS IDENTITY,
    gate           INTEGER NOT NULL,
    type           TEXT NOT NULL,
    title          TEXT NOT NULL,
    -- The title folded for uniqueness (the domain's rule); also the listing order.
    title_key      TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    -- 0 until the document's first version is stored, in the same transaction.
    latest_version INTEGER NOT NULL,
    -- Serves the uniqueness rule, the key lookups of a batch and the listing order.
    CONSTRAINT documents_project_type_title_key UNIQUE (project_id, type, title_key)
);

-- The listing of one gate's documents.
CREATE INDEX documents_project_gate_idx ON documents (project_id, gate, type, title_key);

-- Versions are immutable: rows are only ever inserted.
CREATE TABLE versions (
    document_id    TEXT NOT NULL REFERENCES documents (id),
    number         INTEGER NOT NULL,
    project_id     TEXT NOT NULL,
    -- The project's history order; versions of one project are stored one transaction at a time.
    seq            BIGINT GENERATED ALWAYS AS IDENTITY,
    -- Byte for byte as given.
    content        BYTEA NOT NULL,
    content_hash   TEXT NOT NULL,
    size           BIGINT NOT NULL,
    author_user_id TEXT NOT NULL,
    agent_run_id   TEXT NOT NULL,
    agent_role     TEXT NOT NULL,
    change_note    TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (document_id, number)
);

-- A project's history, in order (git export).
CREATE INDEX versions_project_seq_idx ON versions (project_id, seq);

CREATE TABLE idempotency_keys (
    project_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result       BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE versions;
DROP TABLE documents;
