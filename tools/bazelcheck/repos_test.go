package bazelcheck

import (
	"os"
	"strings"
	"testing"
)

func TestGoRepoName(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"github.com/jackc/pgx/v5", "com_github_jackc_pgx_v5"},
		{"google.golang.org/grpc/cmd/protoc-gen-go-grpc", "org_golang_google_grpc_cmd_protoc_gen_go_grpc"},
		{"github.com/Microsoft/go-winio", "com_github_microsoft_go_winio"},
		{"github.com/bazelbuild/bazel-gazelle", "com_github_bazelbuild_bazel_gazelle"},
		{"cel.dev/expr", "dev_cel_expr"},
	}
	for _, tt := range tests {
		if got := goRepoName(tt.path); got != tt.want {
			t.Errorf("goRepoName(%q) = %q; want %q", tt.path, got, tt.want)
		}
	}
}

// TestUseRepoFindsBrokenInput breaks the use_repo calls of the fixture one
// way at a time: each break must be reported.
func TestUseRepoFindsBrokenInput(t *testing.T) {
	addGoRepo := func(repo string) func(map[string]string) {
		return func(f map[string]string) {
			f["MODULE.bazel"] = strings.Replace(f["MODULE.bazel"], `use_repo(go_deps, "org_golang_google_grpc")`,
				`use_repo(go_deps, "org_golang_google_grpc", "`+repo+`")`, 1)
		}
	}
	tests := []struct {
		name   string
		change func(files map[string]string)
		want   string
	}{
		// The mistake that took down every Go target: the gazelle tool's
		// module imported from go_deps, which never generates it.
		{"the gazelle module from go_deps", addGoRepo("com_github_bazelbuild_bazel_gazelle"),
			`use_repo(go_deps, "com_github_bazelbuild_bazel_gazelle"): go_deps generates no such repository, because Go module github.com/bazelbuild/bazel-gazelle is provided by bazel_dep gazelle 0.53.0`},
		{"a repository of no module", addGoRepo("com_example_nothing"),
			`use_repo(go_deps, "com_example_nothing"): no Go module of go.mod becomes that repository`},
		{"an indirect dependency", addGoRepo("org_golang_x_net"),
			"golang.org/x/net is an indirect dependency in go.mod"},
		{"a direct dependency not imported", func(f map[string]string) {
			f["go.mod"] = strings.Replace(f["go.mod"], "require google.golang.org/grpc v1.85.0", "require (\n\tgithub.com/jackc/pgx/v5 v5.13.0\n\tgoogle.golang.org/grpc v1.85.0\n)", 1)
		}, `use_repo(go_deps, ...) lacks "com_github_jackc_pgx_v5": go.mod requires github.com/jackc/pgx/v5 directly`},
		{"a tool's module not imported", func(f map[string]string) {
			f["go.mod"] = strings.Replace(f["go.mod"], "tool github.com/bazelbuild/bazel-gazelle/cmd/gazelle", "tool (\n\tgithub.com/bazelbuild/bazel-gazelle/cmd/gazelle\n\tgithub.com/bufbuild/buf/cmd/buf\n)", 1)
			f["go.mod"] += "\nrequire github.com/bufbuild/buf v1.75.0 // indirect\n"
		}, `lacks "com_github_bufbuild_buf"`},
		{"a pip hub nobody parses", func(f map[string]string) {
			f["MODULE.bazel"] = strings.Replace(f["MODULE.bazel"], `use_repo(pip, "pip")`, `use_repo(pip, "pip", "pip_dev")`, 1)
		}, `use_repo(pip, "pip_dev"): no pip.parse has hub_name "pip_dev"`},
		{"a Python toolchain nobody asks for", func(f map[string]string) {
			f["MODULE.bazel"] = strings.Replace(f["MODULE.bazel"], `use_repo(python, "python_3_11")`, `use_repo(python, "python_3_12")`, 1)
		}, `use_repo(python, "python_3_12"): rules_python's python extension generates no such repository`},
		{"an extension the gate does not know", func(f map[string]string) {
			f["MODULE.bazel"] += "\nbazel_dep(name = \"rules_foo\", version = \"1.0\")\n\nfoo = use_extension(\"@rules_foo//:ext.bzl\", \"foo\")\nuse_repo(foo, \"bar\")\n"
		}, "bazelcheck does not know which repositories @rules_foo//:ext.bzl%foo generates"},
		{"a provider read at another version", func(f map[string]string) {
			f["MODULE.bazel"] = strings.Replace(f["MODULE.bazel"], `name = "gazelle", version = "0.53.0"`, `name = "gazelle", version = "0.54.0"`, 1)
			f["go.mod"] = strings.ReplaceAll(f["go.mod"], "v0.53.0", "v0.54.0")
		}, "bazelcheck knows the Go modules it provides at 0.53.0 only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := fixture()
			tt.change(files)
			wantProblem(t, "Check()", check(t, files), tt.want)
		})
	}
}

// TestRepositoryModule evaluates the repository's own MODULE.bazel and
// go.mod: no use_repo problem. It reads the source tree, which a Bazel
// test's runfiles do not hold; the gate (tools/bazel/gate.sh) runs the same
// check on the tree itself.
func TestRepositoryModule(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("reads the source tree, not the runfiles; make bazel-gate checks it")
	}
	ws, err := Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Check(ws) {
		if p.File == "MODULE.bazel" || p.File == "go.mod" {
			t.Errorf("Check(repository) = %v", p)
		}
	}
}
