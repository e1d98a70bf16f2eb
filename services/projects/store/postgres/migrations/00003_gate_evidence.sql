-- +goose Up
-- Evidence is bound to the gate revision it was recorded in (a request for changes starts the
-- next revision), proofs also to the content of the deliverables they saw, and a gate keeps one
-- deliverable per producing document (two developers' code documents at G5 are two).
ALTER TABLE deliverables ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE proofs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
-- The digest of the gate's deliverables of that revision when the proof was recorded; '' for
-- proofs recorded before proofs were bound to content.
ALTER TABLE proofs ADD COLUMN deliverables_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE reviews ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- What was recorded before belongs to the revision of its time: the requests for changes of its
-- gate made before it.
UPDATE deliverables d SET revision = (SELECT count(*) FROM reviews r
    WHERE r.project_id = d.project_id AND r.gate = d.gate AND r.decision = 'changes_requested' AND r.created_at < d.updated_at);
UPDATE proofs p SET revision = (SELECT count(*) FROM reviews r
    WHERE r.project_id = p.project_id AND r.gate = p.gate AND r.decision = 'changes_requested' AND r.created_at < p.created_at);
UPDATE reviews v SET revision = (SELECT count(*) FROM reviews r
    WHERE r.project_id = v.project_id AND r.gate = v.gate AND r.decision = 'changes_requested' AND r.seq < v.seq);

-- One row per document: where one document id was recorded under two types, the later record
-- stays.
DELETE FROM deliverables d USING deliverables e
    WHERE d.project_id = e.project_id AND d.gate = e.gate AND d.document_id = e.document_id
      AND (d.updated_at, d.document_type) < (e.updated_at, e.document_type);
ALTER TABLE deliverables DROP CONSTRAINT deliverables_pkey;
ALTER TABLE deliverables ADD PRIMARY KEY (project_id, gate, document_id);

-- A gate that went to review under the rules before this one went with this record: it stays
-- its current revision's, so that the migration strands no gate in review with evidence that
-- no longer counts (it could then only be sent back).
UPDATE deliverables d SET revision = g.revision FROM gates g
    WHERE g.project_id = d.project_id AND g.number = d.gate AND (g.state = 'in_review' OR g.blocked_from = 'in_review');
UPDATE proofs p SET revision = g.revision FROM gates g
    WHERE g.project_id = p.project_id AND g.number = p.gate AND (g.state = 'in_review' OR g.blocked_from = 'in_review');

-- +goose Down
DELETE FROM deliverables d USING deliverables e
    WHERE d.project_id = e.project_id AND d.gate = e.gate AND d.document_type = e.document_type
      AND (d.updated_at, d.document_id) < (e.updated_at, e.document_id);
ALTER TABLE deliverables DROP CONSTRAINT deliverables_pkey;
ALTER TABLE deliverables ADD PRIMARY KEY (project_id, gate, document_type);
ALTER TABLE reviews DROP COLUMN revision;
ALTER TABLE proofs DROP COLUMN deliverables_hash;
ALTER TABLE proofs DROP COLUMN revision;
ALTER TABLE deliverables DROP COLUMN revision;
