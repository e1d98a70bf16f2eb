-- Kept in lockstep with ../../sqlite/migrations/00006_proof_runs.sql.

-- +goose Up
-- How a FuzzyLlama service obtained a proof by running the project's code: a store.ProofRun as
-- JSON (tree hash, command, exit code, duration, artifacts, runner). NULL for a person's
-- attestation and for every proof recorded before.
ALTER TABLE proofs ADD COLUMN run JSONB;

-- +goose Down
ALTER TABLE proofs DROP COLUMN run;
