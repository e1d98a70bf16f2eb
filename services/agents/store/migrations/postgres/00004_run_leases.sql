-- +goose Up
-- A running run's lease: the worker running it holds a token and renews the lease every few
-- seconds; a run whose lease expired belongs to a worker that stopped, and any worker's rescuer
-- hands it on (see RescueExpired). Writes of the run's work check the token, so a worker that
-- lost its lease cannot write over the one that took it.
ALTER TABLE runs ADD COLUMN lease_token TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN lease_renewed_at BIGINT NOT NULL DEFAULT 0;
-- How often, and when last, the run was resumed after its worker stopped.
ALTER TABLE runs ADD COLUMN rescues INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN rescued_at BIGINT NOT NULL DEFAULT 0;
-- Since when the run has been waiting for one of FuzzyLlama's own services to come back (0: it
-- is not waiting); reset whenever the run makes progress.
ALTER TABLE runs ADD COLUMN waiting_since BIGINT NOT NULL DEFAULT 0;
CREATE INDEX runs_running_lease ON runs (lease_expires_at) WHERE state = 'running';

-- +goose Down
DROP INDEX runs_running_lease;
ALTER TABLE runs DROP COLUMN waiting_since;
ALTER TABLE runs DROP COLUMN rescued_at;
ALTER TABLE runs DROP COLUMN rescues;
ALTER TABLE runs DROP COLUMN lease_renewed_at;
ALTER TABLE runs DROP COLUMN lease_expires_at;
ALTER TABLE runs DROP COLUMN lease_token;
