-- +goose Up
-- Runs of agents. Times are microseconds since the Unix epoch (as in the PostgreSQL schema: the agents
-- store is one SQL implementation over both databases).
CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL,
    gate          INTEGER NOT NULL,
    role          TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    state         TEXT NOT NULL,
    priority      INTEGER NOT NULL,
    instructions  TEXT NOT NULL,
    feedback      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    automatic     INTEGER NOT NULL,
    model         TEXT NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_micros   INTEGER NOT NULL DEFAULT 0,
    unpriced      INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    output        TEXT NOT NULL DEFAULT '',
    result        TEXT NOT NULL DEFAULT '{}',
    job_id        INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER NOT NULL DEFAULT 0,
    ended_at      INTEGER NOT NULL DEFAULT 0
);
-- One active run per (project, gate, role): a second start finds the first.
CREATE UNIQUE INDEX runs_one_active ON runs (project_id, gate, role) WHERE state IN ('queued', 'running');
CREATE INDEX runs_by_project ON runs (project_id, created_at DESC, id DESC);
CREATE INDEX runs_by_user ON runs (user_id, created_at);

-- Output of a running attempt, kept so that a watcher joining late sees what came before.
CREATE TABLE run_chunks (
    run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    text    TEXT NOT NULL,
    PRIMARY KEY (run_id, attempt, seq)
);

-- Projects whose gates the orchestration moves, and for whom.
CREATE TABLE project_work (
    project_id   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    completed_at INTEGER NOT NULL DEFAULT 0,
    -- Until when one reconcile holds the project: reconciles of a project run one at a time.
    lease_until  INTEGER NOT NULL DEFAULT 0
);

-- What a gate had spent, and how many runs each role had, when it was last seen blocked (for
-- its budget, its re-run cap, a failed run, or by a person): once the owner unblocks it, the
-- gate gets a fresh allowance counted from there, and failures before acknowledged_at are taken
-- as seen by the owner.
CREATE TABLE gate_allowances (
    project_id     TEXT NOT NULL,
    gate           INTEGER NOT NULL,
    tokens_spent   INTEGER NOT NULL,
    cost_spent     INTEGER NOT NULL,
    role_runs      TEXT NOT NULL,
    acknowledged_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, gate)
);

-- +goose Down
DROP TABLE gate_allowances;
DROP TABLE project_work;
DROP TABLE run_chunks;
DROP TABLE runs;
