package agents

// Temporary: holds the service's dependencies in go.mod while its packages are written.
import (
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/riverqueue/river"
	_ "github.com/riverqueue/river/riverdriver/riverpgxv5"
	_ "github.com/riverqueue/river/riverdriver/riversqlite"
	_ "github.com/riverqueue/river/rivermigrate"

	_ "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	_ "github.com/fuzzyllama/fuzzyllama/platform/apperr"
	_ "github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"
)
