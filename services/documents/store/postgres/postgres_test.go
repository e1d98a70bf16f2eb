package postgres_test

import (
	"context"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/storetest"
)

func open(tb testing.TB) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dbtest.NewPostgres(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}
