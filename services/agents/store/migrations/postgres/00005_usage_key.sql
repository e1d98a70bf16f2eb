-- +goose Up
-- The key of the last usage added to the run (an attempt's: its lease token and number), so that
-- a worker writing its usage again, after the answer to a write that did commit was lost with
-- its connection, adds it once.
ALTER TABLE runs ADD COLUMN usage_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE runs DROP COLUMN usage_key;
