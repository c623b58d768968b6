package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/pgtest"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store/postgres"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store/storetest"
)

// open opens a store on dsn, closed when t ends.
func open(t testing.TB, dsn string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func sql(t testing.TB, dsn, query string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int64
	if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return n
}

func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	t.Run("KV", func(t *testing.T) {
		storetest.TestKV(t, func(t *testing.T, now func() time.Time) store.KV {
			return open(t, srv.NewDatabase(t), postgres.WithClock(now))
		})
	})
	t.Run("PluginSettings", func(t *testing.T) {
		storetest.TestPluginSettings(t, func(t *testing.T) store.PluginSettings { return open(t, srv.NewDatabase(t)) })
	})
	t.Run("a key too long for the column is a plain error", func(t *testing.T) {
		s := open(t, srv.NewDatabase(t))
		_, err := s.Set(context.Background(), "p", strings.Repeat("k", 151), []byte("v"), store.SetOptions{})
		if err == nil || store.IsUnavailable(err) {
			t.Fatalf("Set of a 151-character key: %v; want a plain error", err)
		}
	})
}

func TestMigrations(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		nodes  int  // stores opened at once
		before bool // a store opened and closed before
		bump   bool // the schema version set past the newest
	}{
		{name: "one node", nodes: 1},
		{name: "again on a migrated database", nodes: 1, before: true},
		{name: "eight nodes starting together", nodes: 8},
		{name: "a newer schema is refused", nodes: 1, before: true, bump: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := srv.NewDatabase(t)
			if tt.before {
				open(t, dsn).Close()
			}
			if tt.bump {
				sql(t, dsn, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future') RETURNING version",
					postgres.SchemaVersion()+1)
			}
			errs := make([]error, tt.nodes)
			var wg sync.WaitGroup
			for i := range tt.nodes {
				wg.Go(func() {
					s, err := postgres.Open(ctx, dsn)
					if err == nil {
						s.Close()
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for _, err := range errs {
				if tt.bump {
					if !errors.Is(err, postgres.ErrSchemaTooNew) {
						t.Fatalf("Open on a newer schema: %v; want ErrSchemaTooNew", err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			want := postgres.SchemaVersion()
			if tt.bump {
				want++
			}
			if n := sql(t, dsn, "SELECT count(*) FROM schema_migrations"); n != want {
				t.Fatalf("schema_migrations has %d rows, want %d", n, want)
			}
		})
	}
}

// TestTwoNodes has two stores on one database, as two nodes: each sees the
// other's writes and expiries, and their compare-and-set increments of one
// key end exact.
func TestTwoNodes(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	clock := storetest.NewClock()
	a, b := open(t, dsn, postgres.WithClock(clock.Now)), open(t, dsn, postgres.WithClock(clock.Now))
	ctx := context.Background()

	if _, err := a.Set(ctx, "p", "k", []byte("from a"), store.SetOptions{ExpireInSeconds: 2}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, "p", "k"); err != nil || string(got) != "from a" {
		t.Fatalf("b reads %q, %v", got, err)
	}
	if ok, err := b.Set(ctx, "p", "k", []byte("from b"), store.SetOptions{Atomic: true}); err != nil || ok {
		t.Fatalf("b's atomic insert over a live key: %v, %v", ok, err)
	}
	clock.Advance(2 * time.Second)
	if got, err := b.Get(ctx, "p", "k"); err != nil || got != nil {
		t.Fatalf("b reads %q, %v after the expiry", got, err)
	}
	if ok, err := b.Set(ctx, "p", "k", []byte("from b"), store.SetOptions{Atomic: true}); err != nil || !ok {
		t.Fatalf("b's atomic insert over an expired key: %v, %v", ok, err)
	}
	if got, _ := a.Get(ctx, "p", "k"); string(got) != "from b" {
		t.Fatalf("a reads %q", got)
	}

	storetest.CASIncrements(t, []store.KV{a, b}, 8, 40)
}

// TestSweep deletes expired rows, which were already invisible.
func TestSweep(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	clock := storetest.NewClock()
	s := open(t, dsn, postgres.WithClock(clock.Now))
	ctx := context.Background()
	for i, ttl := range []int64{1, 1, 0, 100} {
		if _, err := s.Set(ctx, "p", fmt.Sprint(i), []byte("v"), store.SetOptions{ExpireInSeconds: ttl}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Second)
	if keys, _ := s.ListKeys(ctx, "p", 0, 10); len(keys) != 2 {
		t.Fatalf("live keys %v, want 2", keys)
	}
	if n := sql(t, dsn, "SELECT count(*) FROM PluginKeyValueStore"); n != 4 {
		t.Fatalf("%d rows before the sweep, want 4", n)
	}
	if n, err := s.DeleteExpired(ctx); err != nil || n != 2 {
		t.Fatalf("DeleteExpired = %d, %v; want 2", n, err)
	}
	if n := sql(t, dsn, "SELECT count(*) FROM PluginKeyValueStore"); n != 2 {
		t.Fatalf("%d rows after the sweep, want 2", n)
	}
}

// TestBackgroundSweep runs the sweep on its own.
func TestBackgroundSweep(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	s := open(t, dsn, postgres.WithCleanupInterval(50*time.Millisecond))
	if _, err := s.Set(context.Background(), "p", "k", []byte("v"), store.SetOptions{ExpireInSeconds: 1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sql(t, dsn, "SELECT count(*) FROM PluginKeyValueStore") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the expired row is still there after 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDatabaseRestart writes while the database stops and starts again:
// calls fail with the 503 AppError (gRPC UNAVAILABLE) during the outage,
// succeed after it, and every write that was acknowledged is there.
func TestDatabaseRestart(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	s := open(t, dsn)
	ctx := context.Background()

	var (
		mu          sync.Mutex
		acked       []string
		unavailable int
		other       []error
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := s.Set(callCtx, "p", key, []byte(key), store.SetOptions{})
				cancel()
				mu.Lock()
				switch {
				case err == nil:
					acked = append(acked, key)
				case store.IsUnavailable(err):
					unavailable++
				default:
					other = append(other, err)
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	srv.Stop(t)

	_, err := s.Get(ctx, "p", "w0-0")
	if !store.IsUnavailable(err) {
		t.Fatalf("Get during the outage: %v; want the unavailable AppError", err)
	}
	if code := status.Code(apperror.ToStatus(err, "KVGet").Err()); code != codes.Unavailable {
		t.Fatalf("gRPC code %v, want UNAVAILABLE", code)
	}
	time.Sleep(300 * time.Millisecond)
	srv.Restart(t)

	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := s.Set(ctx, "p", "after", []byte("x"), store.SetOptions{}); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no write succeeded 15 s after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	if len(other) > 0 {
		t.Fatalf("errors that are not UNAVAILABLE: %v", other)
	}
	if unavailable == 0 {
		t.Fatal("no write failed during the outage")
	}
	for _, key := range acked {
		got, err := s.Get(ctx, "p", key)
		if err != nil || string(got) != key {
			t.Fatalf("acknowledged write %s reads %q, %v", key, got, err)
		}
	}
	t.Logf("%d acknowledged writes kept, %d refused during the outage", len(acked), unavailable)
}
