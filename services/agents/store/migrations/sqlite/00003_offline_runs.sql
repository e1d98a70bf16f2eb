-- +goose Up
-- Whether the run was answered by the offline provider: no language model ran, so it used no
-- tokens and cost nothing. Runs of the offline model stored before recorded an estimate (a
-- quarter of the bytes) as if a model had used it, which budgets then counted: they are marked
-- and their usage cleared.
ALTER TABLE runs ADD COLUMN offline INTEGER NOT NULL DEFAULT 0;
UPDATE runs SET offline = 1, input_tokens = 0, output_tokens = 0, cost_micros = 0, unpriced = 0 WHERE model = 'offline';

-- +goose Down
ALTER TABLE runs DROP COLUMN offline;
