-- +goose Up
CREATE TABLE projects (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    type           TEXT NOT NULL,
    repository_url TEXT NOT NULL,
    owner_id       TEXT NOT NULL,
    status         TEXT NOT NULL,
    current_gate   INTEGER NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- ProjectsForMember: a user with many projects is served by walking projects newest first
-- (probing members_pkey), one with few by members_user_id_idx and a sort.
CREATE INDEX projects_created_at_id_idx ON projects (created_at DESC, id DESC);

CREATE TABLE members (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, user_id)
);

CREATE INDEX members_user_id_idx ON members (user_id);

CREATE TABLE gates (
    project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number         INTEGER NOT NULL,
    state          TEXT NOT NULL,
    blocked_reason TEXT NOT NULL,
    blocked_from   TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, number)
);

-- Deliverables, proofs and reviews belong to a gate; the primary key of deliverables and the
-- (project_id, gate, created_at) indexes serve both the listings and the cascades.
CREATE TABLE deliverables (
    project_id    TEXT NOT NULL,
    gate          INTEGER NOT NULL,
    document_type TEXT NOT NULL,
    document_id   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    content_hash  TEXT NOT NULL,
    complete      BOOLEAN NOT NULL,
    recorded_by   TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, gate, document_type),
    FOREIGN KEY (project_id, gate) REFERENCES gates (project_id, number) ON DELETE CASCADE
);

CREATE TABLE proofs (
    id          TEXT PRIMARY KEY,
    -- Insertion order: "the latest proof of a type" must not depend on clocks.
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    project_id  TEXT NOT NULL,
    gate        INTEGER NOT NULL,
    type        TEXT NOT NULL,
    result      TEXT NOT NULL,
    summary     TEXT NOT NULL,
    produced_by TEXT NOT NULL,
    attested    BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (project_id, gate) REFERENCES gates (project_id, number) ON DELETE CASCADE
);

CREATE INDEX proofs_project_id_gate_idx ON proofs (project_id, gate, seq);

CREATE TABLE reviews (
    id           TEXT PRIMARY KEY,
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    project_id   TEXT NOT NULL,
    gate         INTEGER NOT NULL,
    decision     TEXT NOT NULL,
    reviewer_id  TEXT NOT NULL,
    notes        TEXT NOT NULL,
    -- The snapshot: JSON arrays of store.Deliverable and store.Proof.
    deliverables JSONB NOT NULL,
    proofs       JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (project_id, gate) REFERENCES gates (project_id, number) ON DELETE CASCADE
);

CREATE INDEX reviews_project_id_gate_idx ON reviews (project_id, gate, seq);

-- Tasks may belong to a gate not created yet, so gate is not a foreign key.
CREATE TABLE tasks (
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    -- Insertion order: lists tasks created at the same time (one batch) in the order given.
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    gate        INTEGER NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_role  TEXT NOT NULL,
    status      TEXT NOT NULL,
    priority    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, id)
);

-- Tasks are listed, a page at a time, in insertion order: of the project, or of one of its gates.
CREATE INDEX tasks_project_id_seq_idx ON tasks (project_id, seq);
CREATE INDEX tasks_project_id_gate_idx ON tasks (project_id, gate, seq);

-- A dependency names a task of the same project: the composite foreign keys enforce it.
CREATE TABLE task_dependencies (
    project_id    TEXT NOT NULL,
    task_id       TEXT NOT NULL,
    depends_on_id TEXT NOT NULL,
    PRIMARY KEY (project_id, task_id, depends_on_id),
    FOREIGN KEY (project_id, task_id) REFERENCES tasks (project_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, depends_on_id) REFERENCES tasks (project_id, id) ON DELETE CASCADE
);

-- The tasks depending on one (and the cascade when it is deleted).
CREATE INDEX task_dependencies_depends_on_idx ON task_dependencies (project_id, depends_on_id);

CREATE TABLE events (
    id         BIGSERIAL PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    actor_id   TEXT NOT NULL,
    type       TEXT NOT NULL,
    -- JSON, not JSONB: the payload is kept byte for byte as given.
    payload    JSON NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

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
