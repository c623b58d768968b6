package pgtest_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/pgtest"
)

func query(t *testing.T, dsn, sql string, args ...any) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int
	err = conn.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// TestServer starts a server, keeps data in a database of its own across
// a restart, and finds the server stopped and its directory gone after the
// test's cleanup.
func TestServer(t *testing.T) {
	var dir string
	var pid int
	t.Run("lifecycle", func(t *testing.T) {
		s := pgtest.Start(t)
		dir, pid = s.Dir(), s.PID()
		if pid <= 0 {
			t.Fatalf("PID() = %d", pid)
		}
		a, b := s.NewDatabase(t), s.NewDatabase(t)
		if a == b {
			t.Fatalf("NewDatabase gave %q twice", a)
		}
		if _, err := query(t, a, "CREATE TABLE t AS SELECT 7 AS n"); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		if _, err := query(t, b, "SELECT n FROM t"); err == nil {
			t.Fatal("the second database sees the first one's table")
		}

		s.Stop(t)
		if s.PID() != 0 {
			t.Fatalf("PID() = %d after Stop", s.PID())
		}
		if _, err := query(t, a, "SELECT 1"); err == nil {
			t.Fatal("a stopped server answered")
		}

		s.Restart(t)
		if n, err := query(t, a, "SELECT n FROM t"); err != nil || n != 7 {
			t.Fatalf("after a restart: n = %d, %v; want 7", n, err)
		}
		if n, err := query(t, s.DSN(), "SELECT count(*) FROM pg_database WHERE datname LIKE 'test_%'"); err != nil || n != 2 {
			t.Fatalf("databases: %d, %v; want 2", n, err)
		}
		pid = s.PID()
	})
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postgres (pid %d) still runs after the cleanup: %v", pid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after the cleanup: %v", dir, err)
	}
}

func TestBinDirFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		pgBin   string
		wantErr bool
	}{
		{name: "no initdb there", pgBin: t.TempDir(), wantErr: true},
		{name: "found", pgBin: "", wantErr: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.pgBin != "" {
				t.Setenv("PG_BIN", tt.pgBin)
			}
			dir, err := pgtest.BinDir()
			if (err != nil) != tt.wantErr {
				t.Fatalf("BinDir() = %q, %v; want error %v", dir, err, tt.wantErr)
			}
		})
	}
}
