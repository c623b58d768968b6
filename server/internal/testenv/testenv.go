// Package testenv holds what the tests of the plugin host share: the
// Python that runs their test plugins, and a log sink that goroutines may
// write to while a test reads it.
package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// PythonEnv names the variable that sets the test plugins' interpreter,
// the same variable that the dev server reads for its default.
const PythonEnv = "MATTERMOST_PLUGIN_PYTHON"

// Python returns the interpreter for the test plugins: $MATTERMOST_PLUGIN_PYTHON,
// or the .venv beside the repository's go.mod. Without one, the test fails
// under CI and is skipped elsewhere, with the reason.
func Python(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(PythonEnv); p != "" {
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
