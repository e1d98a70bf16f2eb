-- Kept in lockstep with ../../postgres/migrations/00003_gate_evidence.sql. SQLite cannot change
-- a primary key in place: deliverables is rebuilt (nothing references it).

-- +goose Up
ALTER TABLE proofs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
-- '' for proofs recorded before proofs were bound to content.
ALTER TABLE proofs ADD COLUMN deliverables_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE reviews ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

UPDATE proofs SET revision = (SELECT count(*) FROM reviews r
    WHERE r.project_id = proofs.project_id AND r.gate = proofs.gate AND r.decision = 'changes_requested' AND r.created_at < proofs.created_at);
UPDATE reviews SET revision = (SELECT count(*) FROM reviews r
    WHERE r.project_id = reviews.project_id AND r.gate = reviews.gate AND r.decision = 'changes_requested' AND r.rowid < reviews.rowid);

CREATE TABLE deliverables_by_document (
    project_id    TEXT NOT NULL,
    gate          INTEGER NOT NULL,
    document_type TEXT NOT NULL,
    document_id   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    content_hash  TEXT NOT NULL,
    complete      INTEGER NOT NULL CHECK (complete IN (0, 1)),
    recorded_by   TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    PRIMARY KEY (project_id, gate, document_id),
    FOREIGN KEY (project_id, gate) REFERENCES gates (project_id, number) ON DELETE CASCADE
) STRICT;

-- One row per document: where one document id was recorded under two types, the later record
-- stays.
INSERT INTO deliverables_by_document (project_id, gate, document_type, document_id, version, content_hash, complete,
    recorded_by, updated_at, revision)
SELECT d.project_id, d.gate, d.document_type, d.document_id, d.version, d.content_hash, d.complete, d.recorded_by, d.updated_at,
    (SELECT count(*) FROM reviews r
     WHERE r.project_id = d.project_id AND r.gate = d.gate AND r.decision = 'changes_requested' AND r.created_at < d.updated_at)
FROM deliverables d
WHERE NOT EXISTS (SELECT 1 FROM deliverables e
    WHERE e.project_id = d.project_id AND e.gate = d.gate AND e.document_id = d.document_id
      AND (e.updated_at > d.updated_at OR e.updated_at = d.updated_at AND e.document_type > d.document_type));

DROP TABLE deliverables;
ALTER TABLE deliverables_by_document RENAME TO deliverables;

-- A gate that went to review under the rules before this one went with this record: it stays
-- its current revision's, so that the migration strands no gate in review with evidence that
-- no longer counts (it could then only be sent back).
UPDATE deliverables SET revision = (SELECT g.revision FROM gates g WHERE g.project_id = deliverables.project_id AND g.number = deliverables.gate)
    WHERE EXISTS (SELECT 1 FROM gates g WHERE g.project_id = deliverables.project_id AND g.number = deliverables.gate
        AND (g.state = 'in_review' OR g.blocked_from = 'in_review'));
UPDATE proofs SET revision = (SELECT g.revision FROM gates g WHERE g.project_id = proofs.project_id AND g.number = proofs.gate)
    WHERE EXISTS (SELECT 1 FROM gates g WHERE g.project_id = proofs.project_id AND g.number = proofs.gate
        AND (g.state = 'in_review' OR g.blocked_from = 'in_review'));

-- +goose Down
CREATE TABLE deliverables_by_type (
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

INSERT INTO deliverables_by_type (project_id, gate, document_type, document_id, version, content_hash, complete, recorded_by, updated_at)
SELECT d.project_id, d.gate, d.document_type, d.document_id, d.version, d.content_hash, d.complete, d.recorded_by, d.updated_at
FROM deliverables d
WHERE NOT EXISTS (SELECT 1 FROM deliverables e
    WHERE e.project_id = d.project_id AND e.gate = d.gate AND e.document_type = d.document_type
      AND (e.updated_at > d.updated_at OR e.updated_at = d.updated_at AND e.document_id > d.document_id));

DROP TABLE deliverables;
ALTER TABLE deliverables_by_type RENAME TO deliverables;
ALTER TABLE reviews DROP COLUMN revision;
ALTER TABLE proofs DROP COLUMN deliverables_hash;
ALTER TABLE proofs DROP COLUMN revision;
