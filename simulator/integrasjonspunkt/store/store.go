// Package store is the reference integration point's persistence: conversations and their statuses (each
// status at most once per conversation), the outbox with its files on disk, the durable delivery queue
// and the status queue, in one embedded SQLite database (pure-Go driver, so the binary stays static).
// Every change that belongs together — a message and its OPPRETTET status, SENDT and the removal from
// the queue — happens in one transaction, so a crash never loses an accepted message or sends it twice.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Sentinel errors, wrapped with context by the methods that return them.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure a Store.
type Options struct {
	// Dir is the data directory: the database file and the files of outgoing messages live under it.
	// Empty uses a fresh temporary directory (removed by Close).
	Dir string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Store is the integration point's database.
type Store struct {
	// db is the one writer connection (transactions, writes); rdb the pool for reads outside them.
	db      *sql.DB
	rdb     *sql.DB
	dir     string
	tempDir bool
	now     func() time.Time
}

// readConns is the size of the read pool.
const readConns = 4

// Open opens (creating when needed) the database in opts.Dir and brings its schema up to date.
func Open(ctx context.Context, opts Options) (*Store, error) {
	s := &Store{dir: opts.Dir, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "efm-ip-*")
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		s.dir, s.tempDir = d, true
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "files"), 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	dsn := "file:" + filepath.Join(s.dir, "integrasjonspunkt.db") +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// SQLite has one writer; one connection keeps transactions strictly serial and free of SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	s.db = db
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Reads outside transactions go to a small pool of their own (query_only: it cannot write): in WAL
	// mode they run beside the writer and see what it committed, so lookups no longer queue behind writes (a load profile showed the
	// single connection as the delivery path's bottleneck).
	rdb, err := sql.Open("sqlite", "file:"+filepath.Join(s.dir, "integrasjonspunkt.db")+
		"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	s.rdb = rdb
	if err := s.sweepIncoming(ctx); err != nil {
		db.Close()
		rdb.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database (and removes a temporary data directory).
func (s *Store) Close() error {
	err := s.db.Close()
	if s.rdb != nil {
		_ = s.rdb.Close()
	}
	if s.tempDir {
		_ = os.RemoveAll(s.dir)
	}
	return err
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return fmt.Errorf("migrate %s: %w", version, err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", version, err)
		}
		err = s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, version, ts(s.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", version, err)
		}
	}
	return nil
}

// tx runs f in a transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ts formats a time for storage; times sort correctly as text.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// parseTS reads a stored time.
func parseTS(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
