// Package postgres is the PostgreSQL implementation of package store:
// the state that the nodes of a cluster share, in one database.
//
// [Open] connects a pgx pool, applies the embedded migrations (see
// migrate.go) and starts a goroutine that deletes expired KV values;
// [Store.Close] stops it and closes the pool. Every KV method is one SQL
// statement, so each is atomic across nodes, with no read-then-write.
//
// A lost connection: a call fails with the 503 AppError of
// [store.Unavailable] (gRPC UNAVAILABLE) and reports nothing done unless
// the database committed it; a statement that failed before anything was
// sent is retried on another connection. The pool checks its connections
// every [HealthCheckPeriod] and opens new ones when the database is back,
// so calls succeed again without a restart of the node.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// HealthCheckPeriod is how often the pool checks its idle connections.
const HealthCheckPeriod = time.Second

// DefaultCleanupInterval is how often expired KV values are deleted.
const DefaultCleanupInterval = time.Minute

// Store is the shared state in PostgreSQL. It implements [store.KV] and
// [store.PluginSettings]; it is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

var (
	_ store.KV             = (*Store)(nil)
	_ store.PluginSettings = (*Store)(nil)
)

// An Option configures [Open].
type Option func(*options)

type options struct {
	now      func() time.Time
	cleanup  time.Duration
	maxConns int32
}

// WithClock sets the clock of expiry times, as Mattermost's store takes
// model.GetMillis of the node. The default is [time.Now]; nil keeps it.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithCleanupInterval sets how often expired values are deleted; 0 or
// less keeps [DefaultCleanupInterval].
func WithCleanupInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.cleanup = d
		}
	}
}

// WithMaxConns bounds the pool's connections; 0 or less keeps pgxpool's
// default (pool_max_conns of the DSN, or at least 4).
func WithMaxConns(n int32) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string that pgx reads), migrates its schema and returns the store. It
// fails if the database cannot be reached, or its schema is newer than
// this package knows.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, cleanup: DefaultCleanupInterval}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: parse the connection string: %w", err)
	}
	cfg.HealthCheckPeriod = HealthCheckPeriod
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: connect to %s: %w", redact(cfg), err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	s := &Store{pool: pool, now: o.now, stop: make(chan struct{})}
	s.wg.Go(func() { s.sweep(o.cleanup) })
	return s, nil
}

// redact names the database of a configuration without its password.
func redact(cfg *pgxpool.Config) string {
	return fmt.Sprintf("database %q on %s:%d as %q", cfg.ConnConfig.Database, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.User)
}

// Close stops the expiry sweep and closes the pool. It is safe to call
// more than once.
func (s *Store) Close() {
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.pool.Close()
	})
}

// sweep deletes expired values every interval until Close, as
// SqlPluginStore.DeleteAllExpired does for Mattermost's job.
func (s *Store) sweep(interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), interval)
		_, _ = s.DeleteExpired(ctx)
		cancel()
	}
}

// DeleteExpired deletes the expired values now, as the background sweep
// does, and returns how many it deleted.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	tag, err := s.exec(ctx, "DeleteExpiredKV",
		`DELETE FROM PluginKeyValueStore WHERE ExpireAt <> 0 AND ExpireAt <= $1`, s.nowMillis())
	return tag.RowsAffected(), err
}

func (s *Store) nowMillis() int64 { return s.now().UnixMilli() }

// maxAttempts bounds the tries of a statement that failed before it was
// sent.
const maxAttempts = 3

// exec runs one statement, retrying one that failed before it reached the
// database, and classifies its error.
func (s *Store) exec(ctx context.Context, op, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := s.retry(ctx, func() error {
		var err error
		tag, err = s.pool.Exec(ctx, sql, args...)
		return err
	})
	return tag, s.fail(op, err)
}

// retry calls f again while it fails in a way that is safe to retry: its
// statement never reached the database.
func (s *Store) retry(ctx context.Context, f func() error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err = f(); err == nil || !pgconn.SafeToRetry(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// fail classifies the error of operation op: nil stays nil; a database
// that cannot be reached is [store.Unavailable]; a canceled or expired
// context is returned wrapped as it is; any other error is wrapped with
// the operation, for the caller to report as Mattermost's app layer
// reports a store error.
func (s *Store) fail(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		if isConnectionError(err) {
			return store.Unavailable(op, err)
		}
		return fmt.Errorf("%s: %w", op, err)
	case isConnectionError(err):
		return store.Unavailable(op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isConnectionError reports whether err says that the database could not
// be reached or went away: a connection exception (SQLSTATE class 08), a
// server shutting down or starting (57P01, 57P02, 57P03), or any error
// that the driver raised without an answer of the server (refused or
// broken connections, timeouts of the connection, a closed pool). A
// server's answer to a statement, such as a constraint violation, is not.
func isConnectionError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) >= 2 && pgErr.Code[:2] == "08",
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03":
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.Timeout(err) {
		return true
	}
	return !errors.Is(err, context.Canceled)
}
