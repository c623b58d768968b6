package bazelcheck

import (
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"testdata/**", "testdata/a.py", true},
		{"testdata/**", "testdata/x/y/a.py", true},
		{"testdata/**", "other/a.py", false},
		{"**/*.py", "a.py", true},
		{"**/*.py", "x/y/a.py", true},
		{"**/*.py", "x/y/a.go", false},
		{"*.py", "x/a.py", false},
		{"src/*/init.py", "src/pkg/init.py", true},
	}
	for _, tc := range tests {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

// TestCheckAcceptsMatchingGlob: a glob that matches a file is no problem.
func TestCheckAcceptsMatchingGlob(t *testing.T) {
	files := fixture()
	files["python-sdk/testdata/plugin.json"] = "{}"
	files["python-sdk/BUILD.bazel"] = strings.Replace(files["python-sdk/BUILD.bazel"],
		`data = ["src/pkg/py.typed"],`, `data = ["src/pkg/py.typed"] + glob(["testdata/**"]),`, 1)
	if problems := check(t, files); len(problems) != 0 {
		t.Errorf("problems = %v, want none", problems)
	}
}
