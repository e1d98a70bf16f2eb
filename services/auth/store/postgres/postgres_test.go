package postgres_test

import (
	"context"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), dbtest.NewPostgres(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
