-- Kept in lockstep with ../../postgres/migrations: same version numbers, same tables. Times are
-- INTEGER microseconds since the Unix epoch, UTC (the precision of a PostgreSQL TIMESTAMPTZ);
-- booleans are INTEGER 0 or 1; review snapshots and event payloads are JSON TEXT.

-- +goose Up
CREATE TABLE projects (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    type           TEXT NOT NULL,
    repository_url TEXT NOT NULL,
    owner_id       TEXT NOT NULL,
    status         TEXT NOT NULL,
    current_gate   INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX projects_created_at_id_idx ON projects (created_at DESC, id DESC);

CREATE TABLE members (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) STRICT;

CREATE INDEX members_user_id_idx ON members (user_id);

CREATE TABLE gates (
    project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number         INTEGER NOT NULL,
    state          TEXT NOT NULL,
    blocked_reason TEXT NOT NULL,
    blocked_from   TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (project_id, number)
) STRICT;

CREATE TABLE deliverables (
    project_id    TEXT NOT NULL,
    gate          INTEGER NOT NULL,
    document_type TEXT NOT NULL,
    document_id   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    content_hash  TEXT NOT NULL,
    complete      INTEGER NOT NULL CHECK (complete IN (0, 1)),
    recorded_by   TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (project_id, gate, document_type),
    FOREIGN KEY (project_id, gate) REFERENCES gates (project_id, number) ON DELETE CASCADE
) STRICT;

CREATE TABLE proofs (
    id          TEXT PRIMARY KEY NOT NULL,
    project_id  TEXT NOT NULL,
    gate        INTEGER NOT NULL,
    type        TEXT NOT NULL,
    result      TEXT NOT NULL,
    summary     TEXT NOT NULL,
    produced_by TEXT NOT NULL,
    attested    INTEGER NOT NULL CHECK (attested IN (0, 1)),
    created_at  INTEGER NOT NULL,
    FOREIGN KEY (project_id, gate) REFERENCES gates (project_id, number) ON DELETE CASCADE
) STRICT;

-- Listed in insertion order (rowid): "the latest proof of a type" must not depend on clocks.
CREATE INDEX proofs_project_id_gate_idx ON proofs (project_id, gate);

CREATE TABLE reviews (
    id           TEXT PRIMARY KEY NOT NULL,
    project_id   TEXT NOT NULL,
    gate         INTEGER NOT NULL,
    decision     TEXT NOT NULL,
    reviewer_id  TEXT NOT NULL,
    notes        TEXT NOT NULL,
    deliverables TEXT NOT NULL CHECK (json_valid(deliverables)),
    proofs       TEXT NOT NULL CHECK (json_valid(proofs)),
    created_at   INTEGER NOT NULL,
    FOREIGN KEY (project_id, gate) REFERENCES gates (project_id, number) ON DELETE CASCADE
) STRICT;

CREATE INDEX reviews_project_id_gate_idx ON reviews (project_id, gate);

-- The rowid is the insertion order (the seq column of the postgres table).
CREATE TABLE tasks (
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    gate        INTEGER NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_role  TEXT NOT NULL,
    status      TEXT NOT NULL,
    priority    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
) STRICT;

-- Tasks are listed, a page at a time, in insertion order (an index holds the rowid last): of the
-- project, or of one of its gates.
CREATE INDEX tasks_project_id_idx ON tasks (project_id);
CREATE INDEX tasks_project_id_gate_idx ON tasks (project_id, gate);

CREATE TABLE task_dependencies (
    project_id    TEXT NOT NULL,
    task_id       TEXT NOT NULL,
    depends_on_id TEXT NOT NULL,
    PRIMARY KEY (project_id, task_id, depends_on_id),
    FOREIGN KEY (project_id, task_id) REFERENCES tasks (project_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, depends_on_id) REFERENCES tasks (project_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX task_dependencies_depends_on_idx ON task_dependencies (project_id, depends_on_id);

-- AUTOINCREMENT: ids are never reused, even after the newest events are deleted.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    actor_id   TEXT NOT NULL,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL CHECK (json_valid(payload)),
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX events_project_id_id_idx ON events (project_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE task_dependencies;
DROP TABLE tasks;
DROP TABLE reviews;
DROP TABLE proofs;
DROP TABLE deliverables;
DROP TABLE gates;
DROP TABLE members;
DROP TABLE projects;
