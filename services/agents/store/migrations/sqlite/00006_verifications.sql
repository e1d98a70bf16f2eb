-- +goose Up
-- A verification is one sandboxed build and test of a gate's source tree (issue 16): what it
-- ran on (the gate revision, its deliverables hash and the tree's hash), where it stands, and
-- what each step gave (steps, JSON). repair counts the repairs of the gate revision before it;
-- repair_started is set once its failure was sent back to the developers, so that it is sent
-- once. One verification of a gate is active (queued or running) at a time.
CREATE TABLE verifications (
    id                TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL,
    gate              INTEGER NOT NULL,
    revision          INTEGER NOT NULL,
    user_id           TEXT NOT NULL,
    state             TEXT NOT NULL,
    deliverables_hash TEXT NOT NULL DEFAULT '',
    tree_hash         TEXT NOT NULL DEFAULT '',
    steps             TEXT NOT NULL DEFAULT '[]',
    error             TEXT NOT NULL DEFAULT '',
    repair            INTEGER NOT NULL DEFAULT 0,
    repair_started    BOOLEAN NOT NULL DEFAULT FALSE,
    runner            TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    ended_at          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX verifications_gate ON verifications (project_id, gate, created_at);
CREATE UNIQUE INDEX verifications_one_active ON verifications (project_id, gate) WHERE state IN ('queued', 'running');

-- What a verification left to look at: its steps' logs and a preview's screenshot.
CREATE TABLE artifacts (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL,
    verification_id TEXT NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    content         BLOB NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX artifacts_verification ON artifacts (verification_id);

-- +goose Down
DROP TABLE artifacts;
DROP TABLE verifications;
