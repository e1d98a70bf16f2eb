package sqlite_test

import (
	"context"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/sqlite"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), dbtest.NewSQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
