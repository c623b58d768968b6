package piddir_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/piddir"
)

// deadPid returns the id of a process that has ended.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestReclaim(t *testing.T) {
	const prefix = "test-sock-"
	parent := t.TempDir()
	dead := strconv.Itoa(deadPid(t))
	mine, err := piddir.Make(parent, prefix)
	if err != nil {
		t.Fatal(err)
	}
	entries := []struct {
		name string
		dir  bool
		kept bool
	}{
		{name: prefix + dead + "-123", dir: true, kept: false},
		{name: prefix + dead + "-456", dir: true, kept: false},
		{name: filepath.Base(mine), dir: true, kept: true},           // this process runs
		{name: prefix + dead + "-123x", dir: true, kept: true},       // not Make's name
		{name: "other-sock-" + dead + "-123", dir: true, kept: true}, // another prefix
		{name: prefix + dead + "-789", dir: false, kept: true},       // a file
	}
	for _, e := range entries {
		path := filepath.Join(parent, e.name)
		switch {
		case e.name == filepath.Base(mine):
		case e.dir:
			if err := os.MkdirAll(filepath.Join(path, "inside"), 0o700); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := piddir.Reclaim(parent, prefix); got != 2 {
		t.Errorf("Reclaim() = %d, want 2", got)
	}
	left, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	for _, e := range entries {
		if slices.Contains(names, e.name) != e.kept {
			t.Errorf("%s: kept = %v, want %v (left: %v)", e.name, !e.kept, e.kept, names)
		}
	}
	if got := piddir.Reclaim(filepath.Join(parent, "missing"), prefix); got != 0 {
		t.Errorf("Reclaim(a missing directory) = %d, want 0", got)
	}
}

func TestMake(t *testing.T) {
	dir, err := piddir.Make(t.TempDir(), "p-")
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", info.Mode().Perm())
	}
	if want := "p-" + strconv.Itoa(os.Getpid()) + "-"; filepath.Base(dir)[:len(want)] != want {
		t.Errorf("name %s, want it to start with %s", filepath.Base(dir), want)
	}
}
