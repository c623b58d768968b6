package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRunfile resolves a runfiles location in fake runfiles trees, laid out
// as Bazel lays them out for a test.
func TestRunfile(t *testing.T) {
	const location = "_main/python-sdk/scripts/plugin_python"
	dir := t.TempDir()
	inTree := filepath.Join(dir, "runfiles", filepath.FromSlash(location))
	if err := os.MkdirAll(filepath.Dir(inTree), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inTree, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "MANIFEST")
	if err := os.WriteFile(manifest, []byte("_main/other /elsewhere\n"+location+" /real/plugin_python\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		location string
		want     string
		wantOK   bool
	}{
		{"manifest", map[string]string{"RUNFILES_MANIFEST_FILE": manifest}, location, "/real/plugin_python", true},
		{"runfiles directory", map[string]string{"RUNFILES_DIR": filepath.Join(dir, "runfiles")}, location, inTree, true},
		{"test source directory", map[string]string{"TEST_SRCDIR": filepath.Join(dir, "runfiles")}, location, inTree, true},
		{"missing from the tree", map[string]string{"RUNFILES_DIR": filepath.Join(dir, "runfiles")}, "_main/nothing", "", false},
		{"outside Bazel", nil, location, "", false},
		{"an absolute path", map[string]string{"RUNFILES_DIR": filepath.Join(dir, "runfiles")}, inTree, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"RUNFILES_MANIFEST_FILE", "RUNFILES_DIR", "TEST_SRCDIR"} {
				t.Setenv(name, tt.env[name])
			}
			got, ok := Runfile(tt.location)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Runfile(%q) = %q, %v; want %q, %v", tt.location, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
