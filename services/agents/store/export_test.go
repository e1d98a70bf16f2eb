package store

import "context"

// ExecForTest runs a statement on the store's database, for tests that stage what the job queue
// would do.
func (d *DB) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := d.db.ExecContext(ctx, query, args...)
	return err
}
