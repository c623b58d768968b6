// Package testenv holds what the tests of the plugin host share: the
// Python that runs their test plugins, and a log sink that goroutines may
// write to while a test reads it.
package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// PythonEnv names the variable that sets the test plugins' interpreter,
// the same variable that the dev server reads for its default.
const PythonEnv = "MATTERMOST_PLUGIN_PYTHON"

// Python returns the interpreter for the test plugins: $MATTERMOST_PLUGIN_PYTHON,
// or the .venv beside the repository's go.mod. Without one, the test fails
// under CI and is skipped elsewhere, with the reason.
//
// Under Bazel the variable is a runfiles location ($(rlocationpath) of
// //python-sdk/scripts:plugin_python, the hermetic interpreter with the SDK
// importable); [Runfile] resolves it.
func Python(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(PythonEnv); p != "" {
		if located, ok := Runfile(p); ok {
			return located
		}
		return p
	}
	dir, _ := os.Getwd()
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			candidate := filepath.Join(dir, ".venv", "bin", "python")
			if _, err := os.Stat(candidate); err == nil {
				return candidate
			}
			break
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no Python for the plugin tests: set %s or run `make venv`", PythonEnv)
	}
	t.Skipf("no Python for the plugin tests: set %s or run `make venv`", PythonEnv)
	return ""
}

// SyncBuffer is a bytes.Buffer that is safe for concurrent use: a log
// sink for the code under test.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Runfile returns the file that the runfiles location rlocation (such as
// "_main/python-sdk/scripts/plugin_python") names, under Bazel: through
// $RUNFILES_MANIFEST_FILE's lines ("location path"), else under
// $RUNFILES_DIR or $TEST_SRCDIR, the runfiles tree of a test. It reports
// false outside Bazel, for an absolute path, and when nothing is there.
func Runfile(rlocation string) (string, bool) {
	if filepath.IsAbs(rlocation) {
		return "", false
	}
	if manifest := os.Getenv("RUNFILES_MANIFEST_FILE"); manifest != "" {
		if data, err := os.ReadFile(manifest); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if location, path, ok := strings.Cut(line, " "); ok && location == rlocation {
					return path, true
				}
			}
		}
	}
	for _, env := range []string{"RUNFILES_DIR", "TEST_SRCDIR"} {
		if dir := os.Getenv(env); dir != "" {
			path := filepath.Join(dir, filepath.FromSlash(rlocation))
			if _, err := os.Stat(path); err == nil {
				return path, true
			}
		}
	}
	return "", false
}
