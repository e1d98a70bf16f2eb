package documents_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/documents"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/postgres"
)

// openTraced returns a service on PostgreSQL whose pool has one connection, traced.
func openTraced(tb testing.TB) (*documents.Service, *dbtest.Tracer) {
	tb.Helper()
	pool, tr := dbtest.TracedPool(tb, postgres.Schema)
	st, err := postgres.New(context.Background(), pool)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return &documents.Service{Store: st, Projects: newProjects(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, tr
}

// batch returns n documents of about size bytes each, titled prefix-i.
func batch(prefix string, n, size int) []documents.NewDocument {
	docs := make([]documents.NewDocument, n)
	for i := range docs {
		line := fmt.Sprintf("// line of %s %d\n", prefix, i)
		docs[i] = documents.NewDocument{Gate: 5, Type: "code", Title: fmt.Sprintf("%s-%d.go", prefix, i),
			Content: []byte(strings.Repeat(line, size/len(line)+1)[:size])}
	}
	return docs
}

// TestCreateDocumentsCostsTheSameStatementsWhateverN: a batch of 100 runs exactly the
// statements a batch of 1 does, new documents and new versions alike.
func TestCreateDocumentsCostsTheSameStatementsWhateverN(t *testing.T) {
	svc, tr := openTraced(t)
	ctx, who := as("ann"), identity("ann")
	warm := false
	count := func(docs []documents.NewDocument, addVersions bool, key string) int {
		statements, prepares := tr.Record(func() {
			if _, err := svc.CreateDocuments(ctx, who, "p1", docs, documents.Agent{}, addVersions, key); err != nil {
				t.Fatal(err)
			}
		})
		if warm && prepares != 0 {
			t.Errorf("%d preparations: the statement cache should be warm", prepares)
		}
		return len(statements)
	}
	count(batch("warm", 2, 100), false, "warm") // pgx prepares a statement the first time it runs it
	count(batch("warm", 2, 200), true, "warm-2")
	warm = true

	one, hundred := count(batch("one", 1, 4096), false, "k1"), count(batch("hundred", 100, 4096), false, "k100")
	if one != hundred || one > 8 {
		t.Errorf("creating 1 document ran %d statements, 100 documents %d; want the same few", one, hundred)
	}
	oneV, hundredV := count(batch("one", 1, 2048), true, "k1v"), count(batch("hundred", 100, 2048), true, "k100v")
	if oneV != hundredV || oneV > hundred {
		t.Errorf("a version of 1 document ran %d statements, of 100 documents %d", oneV, hundredV)
	}
	t.Logf("statements per batch: %d/%d to create 1/100, %d/%d to add versions", one, hundred, oneV, hundredV)
}

func BenchmarkCreateDocuments(b *testing.B) {
	for name, open := range stores {
		for _, n := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				st, err := open(b)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = st.Close() })
				svc := &documents.Service{Store: st, Projects: newProjects(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
				ctx, who := as("ann"), identity("ann")
				i := 0
				b.SetBytes(int64(n * 4096))
				for b.Loop() {
					i++
					if _, err := svc.CreateDocuments(ctx, who, "p1", batch(fmt.Sprint("b", i), n, 4096), documents.Agent{}, false, ""); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkExportArchive writes the zip of a project of 100 documents of 16 KiB each; the
// memory it reports is what one export holds while streaming, not the archive's size.
func BenchmarkExportArchive(b *testing.B) {
	fx := newFixture(b, stores["sqlite"])
	ctx, who := as("ann"), identity("ann")
	if _, err := fx.svc.CreateDocuments(ctx, who, "p1", batch("export", 100, 16<<10), documents.Agent{}, false, ""); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(100 * 16 << 10)
	for b.Loop() {
		_, write, err := fx.svc.ExportArchive(ctx, "p1", "zip")
		if err != nil {
			b.Fatal(err)
		}
		if err := write(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
