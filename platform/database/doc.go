// Package database opens the databases FuzzyLlama services keep their state in and applies their
// migrations: PostgreSQL (pgx/v5), where every service owns one schema of a shared database, and
// SQLite (modernc.org/sqlite, pure Go), the embedded default. Migrations are plain goose SQL files
// run through goose's Provider API.
package database
