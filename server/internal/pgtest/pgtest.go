// Package pgtest runs a real PostgreSQL server for a test.
//
// [Start] makes a fresh directory with os.MkdirTemp("", "pg") (short, as a
// unix socket path may have at most 107 bytes), runs initdb into its
// "data" subdirectory (--auth=trust, superuser "postgres", UTF8, locale
// C), then runs the postgres server itself (not pg_ctl, so that the
// process it holds is the postmaster) with an empty listen_addresses and the
// directory as its only unix socket directory, port 5432: nothing listens
// on TCP, so tests running in parallel never collide. fsync is off, as
// nothing here must survive a crash of the machine; a stop or a restart of
// the server loses nothing that was committed. Start waits until a
// connection succeeds, and the test's cleanup stops the server and removes
// the directory.
//
// Stopping is by process id: SIGINT, PostgreSQL's "fast" shutdown, which
// ends the open sessions (SIGTERM, its "smart" shutdown, would wait for
// clients such as a connection pool to leave), then SIGKILL to the whole
// process group after [StopTimeout]. The server gets SIGQUIT (immediate
// shutdown) if the test process dies first.
//
// The binaries come from $PG_BIN, else `pg_config --bindir`, else the
// highest version under /usr/lib/postgresql/*/bin (Debian's layout), else
// PATH. Without them the test fails and says that `make postgres`
// installs them; it is not skipped, since `make test` always has them.
//
// initdb and postgres refuse to run as root. When the test runs as root,
// both run as the "postgres" system user (which Debian's package makes),
// the directory is chowned to that user and left readable by others so
// that the root test process, which may do anything, and the server share
// the socket.
//
// The connection strings are URLs that pgx, libpq and psycopg accept:
// postgres://postgres@/DB?host=DIR&port=5432&sslmode=disable.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// StopTimeout is how long [Server.Stop] waits for a fast shutdown before
// it kills the server.
const StopTimeout = 20 * time.Second

// ReadyTimeout is how long [Start] and [Server.Restart] wait for the
// server to accept connections.
const ReadyTimeout = 60 * time.Second

// port names the socket file (.s.PGSQL.5432); no TCP port is opened.
const port = "5432"

// Server is a PostgreSQL server that a test started. Its methods may be
// called from several goroutines.
type Server struct {
	bin  string
	dir  string
	cred *syscall.Credential

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}

	databases atomic.Int64
}

// Start runs a new PostgreSQL server for t, as the package comment says,
// and stops it when t ends. It fails t if the server cannot start.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cred, err := credential()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	dir, err := os.MkdirTemp("", "pg")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s := &Server{bin: bin, dir: dir, cred: cred}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	if len(filepath.Join(dir, ".s.PGSQL."+port)) > 107 {
		t.Fatalf("pgtest: the socket path under %s is longer than 107 bytes: set TMPDIR to a shorter directory", dir)
	}
	if err := s.initdb(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := s.start(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s
}

// BinDir returns the directory of the PostgreSQL server binaries (the
// one holding initdb), looked up as the package comment says.
func BinDir() (string, error) {
	has := func(dir string) bool {
		info, err := os.Stat(filepath.Join(dir, "initdb"))
		return err == nil && !info.IsDir()
	}
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("PG_BIN=%s holds no initdb", dir)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); has(dir) {
			return dir, nil
		}
	}
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		version := func(dir string) float64 {
			v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
			return v
		}
		slices.SortFunc(dirs, func(a, b string) int {
			va, vb := version(a), version(b)
			switch {
			case va > vb:
				return -1
			case va < vb:
				return 1
			}
			return 0
		})
		for _, dir := range dirs {
			if has(dir) {
				return dir, nil
			}
		}
	}
	if path, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(path), nil
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, postgres) in $PG_BIN, `pg_config --bindir`, " +
		"/usr/lib/postgresql/*/bin or PATH: `make postgres` installs them")
}

// credential returns whom initdb and postgres run as: nil for this
// process's user, or the postgres user when this process is root.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, which initdb and postgres refuse, and no postgres user to run them as "+
			"(Debian's postgresql package makes one; `make postgres` installs it): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user's uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user's gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// command returns a command of the server's binaries, run as the server's
// user with an environment free of PG* variables, which would change what
// the binaries do.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	env := []string{"LC_ALL=C"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HOME="+s.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

func (s *Server) logPath() string { return filepath.Join(s.dir, "postgres.log") }

// initdb makes the server's data directory.
func (s *Server) initdb() error {
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("chown %s to the postgres user: %w", s.dir, err)
		}
	}
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", s.dir, err)
	}
	cmd := s.command("initdb", "--pgdata", s.dataDir(), "--auth=trust", "--username=postgres",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// start runs the postmaster and waits until it accepts connections.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("the server already runs")
	}
	log, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open the server log: %w", err)
	}
	defer log.Close()
	cmd := s.command("postgres", "-D", s.dataDir(), "-k", s.dir, "-p", port,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	if err := s.waitReady(exited); err != nil {
		_ = s.stopLocked()
		return err
	}
	return nil
}

// waitReady waits until a connection succeeds, the server exits or
// ReadyTimeout passes.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(ReadyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("postgres exited while starting:\n%s", s.logTail())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.DSN())
		if err == nil {
			err = conn.Ping(ctx)
			_ = conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("postgres did not accept connections within %s (%v):\n%s", ReadyTimeout, last, s.logTail())
}

// logTail returns the end of the server's log.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// stop stops the server if it runs.
func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	if s.cmd == nil {
		return nil
	}
	pid := s.cmd.Process.Pid
	defer func() { s.cmd, s.exited = nil, nil }()
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal postgres (pid %d): %w", pid, err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(StopTimeout):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-s.exited
	return fmt.Errorf("postgres (pid %d) ignored a fast shutdown for %s and was killed:\n%s", pid, StopTimeout, s.logTail())
}

// Stop stops the server (see the package comment), failing t if it had
// to be killed. Connections fail until [Server.Restart].
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

// Restart starts the server again on the same data, after stopping it if
// it runs, and waits until it accepts connections.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := s.start(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

// PID returns the process id of the postmaster, or 0 when it is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Dir returns the server's directory: its unix socket, its data (in
// "data") and its log (postgres.log).
func (s *Server) Dir() string { return s.dir }

// DSN returns the connection string of the database "postgres".
func (s *Server) DSN() string { return s.dsnOf("postgres") }

func (s *Server) dsnOf(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/" + database,
		RawQuery: url.Values{"host": {s.dir}, "port": {port}, "sslmode": {"disable"}}.Encode(),
	}
	return u.String()
}

// NewDatabase creates an empty database on the server and returns its
// connection string, so that the tests sharing one server share no
// state.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := "test_" + strconv.FormatInt(s.databases.Add(1), 10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return s.dsnOf(name)
}
