package documents

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// document returns content of about MaxContentBytes, line i being line(i).
func document(line func(i int) string) []byte {
	var sb strings.Builder
	for i := 0; sb.Len() < MaxContentBytes-200; i++ {
		sb.WriteString(line(i))
	}
	return []byte(sb.String())
}

// BenchmarkDiffVersions diffs versions at the content limit: a revision touching every tenth
// line, and a rewrite sharing no line with what it replaces (the diff's worst case).
func BenchmarkDiffVersions(b *testing.B) {
	original := document(func(i int) string { return fmt.Sprintf("line %d of the original document\n", i) })
	for name, to := range map[string][]byte{
		"revision": document(func(i int) string {
			if i%10 == 0 {
				return fmt.Sprintf("line %d, revised\n", i)
			}
			return fmt.Sprintf("line %d of the original document\n", i)
		}),
		"rewrite": document(func(i int) string { return fmt.Sprintf("an unrelated line number %d\n", i) }),
	} {
		b.Run(name, func(b *testing.B) {
			from, to := store.Version{Number: 1, Content: original}, store.Version{Number: 2, Content: to}
			for b.Loop() {
				if d := diffVersions("doc", from, to); d.Added == 0 {
					b.Fatal("no difference found")
				}
			}
		})
	}
}
