package bazelcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureGoMod requires one direct module, an indirect one and the
// gazelle tool, whose module the gazelle bazel_dep provides.
const fixtureGoMod = `module example.com/fixture

go 1.26

tool github.com/bazelbuild/bazel-gazelle/cmd/gazelle

require google.golang.org/grpc v1.85.0

require (
	github.com/bazelbuild/bazel-gazelle v0.53.0 // indirect
	golang.org/x/net v0.61.0 // indirect
)
`

// fixture is a small workspace that passes every check.
func fixture() map[string]string {
	return map[string]string{
		".bazelrc": "common --@rules_python//python/config_settings:bootstrap_impl=script\n",
		"MODULE.bazel": `module(
    name = "fixture",
    bazel_compatibility = [">=8.0.0"],
)

bazel_dep(name = "gazelle", version = "0.53.0")
bazel_dep(name = "protobuf", version = "36.0")
bazel_dep(name = "rules_python", version = "2.3.2")

go_deps = use_extension("@gazelle//:extensions.bzl", "go_deps")
go_deps.from_file(go_mod = "//:go.mod")
use_repo(go_deps, "org_golang_google_grpc")

python = use_extension("@rules_python//python/extensions:python.bzl", "python")
python.toolchain(python_version = "3.11")
use_repo(python, "python_3_11")

pip = use_extension("@rules_python//python/extensions:pip.bzl", "pip")
pip.parse(
    hub_name = "pip",
    python_version = "3.11",
    requirements_lock = "//python-sdk:requirements.lock",
)
use_repo(pip, "pip")
`,
		"go.mod":                       fixtureGoMod,
		"BUILD.bazel":                  "# The root package.\n",
		".bazelignore":                 ".venv\n",
		".venv/lib/stray.py":           "",
		"python-sdk/requirements.lock": "grpcio==1.80.1 \\\n    --hash=sha256:00\n",
		"python-sdk/BUILD.bazel": `load("@rules_python//python:py_library.bzl", "py_library")
load("//tools:defs.bzl", "pytest_test")

_LIB = ":lib"

py_library(
    name = "lib",
    srcs = ["src/pkg/__init__.py"],
    data = ["src/pkg/py.typed"],
    deps = ["@pip//grpcio"],
)

pytest_test(
    name = "test_a",
    src = "tests/test_a.py",
    env = {"X": "$(rlocationpath %s)" % _LIB},
    deps = [_LIB],
)
`,
		"python-sdk/src/pkg/__init__.py": "",
		"python-sdk/src/pkg/py.typed":    "",
		"python-sdk/tests/test_a.py":     "",
		"tools/BUILD.bazel":              "# Macros.\n",
		"tools/defs.bzl":                 "\"\"\"Macros.\"\"\"\n\nload(\"@rules_python//python:py_test.bzl\", \"py_test\")\n\ndef pytest_test(name, src, deps = [], **kwargs):\n    py_test(name = name, srcs = [src, Label(\"//tools:main.py\")], deps = deps, **kwargs)\n",
		"tools/main.py":                  "",
		"proto/BUILD.bazel": `load("@protobuf//bazel:proto_library.bzl", "proto_library")

proto_library(
    name = "p_proto",
    srcs = ["p.proto"],
    visibility = ["//visibility:public"],
)
`,
		"proto/p.proto": "syntax = \"proto3\";\n",
	}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func check(t *testing.T, files map[string]string) []Problem {
	t.Helper()
	ws, err := Load(writeTree(t, files))
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	return Check(ws)
}

func TestFixturePasses(t *testing.T) {
	if problems := check(t, fixture()); len(problems) != 0 {
		t.Fatalf("Check(fixture) = %v; want no problems", problems)
	}
}

// TestSubpackagesOfADirectoryThatIsNoPackage: //server:__subpackages__,
// which gazelle writes for server/internal/..., needs no //server package.
func TestSubpackagesOfADirectoryThatIsNoPackage(t *testing.T) {
	files := fixture()
	files["server/internal/x/BUILD.bazel"] = `filegroup(
    name = "x",
    srcs = [],
    visibility = ["//server:__subpackages__"],
)
`
	if problems := check(t, files); len(problems) != 0 {
		t.Fatalf("Check() = %v; want no problems", problems)
	}
}

// TestCheckFindsBrokenInput breaks the fixture one way at a time; each
// break must be reported.
func TestCheckFindsBrokenInput(t *testing.T) {
	tests := []struct {
		name   string
		change func(files map[string]string)
		want   string
	}{
		{"label to a missing target", func(f map[string]string) {
			f["python-sdk/BUILD.bazel"] = strings.Replace(f["python-sdk/BUILD.bazel"], `_LIB = ":lib"`, `_LIB = ":nope"`, 1)
		}, `":nope": no target or file "nope" in package //python-sdk`},
		{"label to a missing package", func(f map[string]string) {
			f["python-sdk/BUILD.bazel"] += "\nalias(\n    name = \"a\",\n    actual = \"//nowhere:x\",\n)\n"
		}, "there is no package //nowhere"},
		{"visibility of subpackages of no package", func(f map[string]string) {
			f["python-sdk/BUILD.bazel"] += "\nalias(\n    name = \"a\",\n    actual = \":lib\",\n    visibility = [\"//nowhere:__subpackages__\"],\n)\n"
		}, "there is no package at or under //nowhere"},
		{"glob that matches no file", func(f map[string]string) {
			f["python-sdk/BUILD.bazel"] = strings.Replace(f["python-sdk/BUILD.bazel"], `data = ["src/pkg/py.typed"],`, `data = glob(["testdata/**"]),`, 1)
		}, `glob pattern "testdata/**" matches no file of package //python-sdk`},
		{"missing source file", func(f map[string]string) {
			delete(f, "python-sdk/src/pkg/py.typed")
		}, `no target or file "src/pkg/py.typed"`},
		{"label to an undeclared repository", func(f map[string]string) {
			f["proto/BUILD.bazel"] = strings.Replace(f["proto/BUILD.bazel"], `srcs = ["p.proto"],`, `srcs = ["p.proto"],
    deps = ["@googleapis//google/rpc:status_proto"],`, 1)
		}, "@googleapis, which MODULE.bazel does not declare"},
		{"load of an undeclared repository", func(f map[string]string) {
			f["proto/BUILD.bazel"] = strings.Replace(f["proto/BUILD.bazel"], "@protobuf//", "@com_google_protobuf//", 1)
		}, `load("@com_google_protobuf//bazel:proto_library.bzl") names repository @com_google_protobuf`},
		{"load of a missing .bzl", func(f map[string]string) {
			f["python-sdk/BUILD.bazel"] = strings.Replace(f["python-sdk/BUILD.bazel"], "//tools:defs.bzl", "//tools:macros.bzl", 1)
		}, "tools/macros.bzl does not exist"},
		{"label in a .bzl file", func(f map[string]string) {
			f["tools/defs.bzl"] = strings.Replace(f["tools/defs.bzl"], "//tools:main.py", "//tools:gone.py", 1)
		}, `"//tools:gone.py": no target or file`},
		{"pip package not in the lock", func(f map[string]string) {
			f["python-sdk/BUILD.bazel"] = strings.Replace(f["python-sdk/BUILD.bazel"], "@pip//grpcio", "@pip//requests", 1)
		}, "requests is not in python-sdk/requirements.lock"},
		{".py without a target", func(f map[string]string) {
			f["python-sdk/src/pkg/extra.py"] = ""
		}, "python-sdk/src/pkg/extra.py: belongs to no target"},
		{"test module outside a py_test", func(f map[string]string) {
			f["python-sdk/BUILD.bazel"] = strings.Replace(f["python-sdk/BUILD.bazel"], `srcs = ["src/pkg/__init__.py"],`,
				`srcs = [
        "src/pkg/__init__.py",
        "tests/test_b.py",
    ],`, 1)
			f["python-sdk/tests/test_b.py"] = ""
		}, "python-sdk/tests/test_b.py: is a test module but belongs to no py_test"},
		{"test module of another package outside a py_test", func(f map[string]string) {
			f["tools/main_test.py"] = ""
		}, "tools/main_test.py: is a test module but belongs to no py_test"},
		{"__file__ resolved through symlinks", func(f map[string]string) {
			f["python-sdk/tests/test_a.py"] = "from pathlib import Path\n\nROOT = Path(__file__).resolve().parents[1]\n"
		}, "python-sdk/tests/test_a.py:3: resolves __file__ through symlinks"},
		{".proto without a proto_library", func(f map[string]string) {
			f["proto/q.proto"] = "syntax = \"proto3\";\n"
		}, "proto/q.proto: belongs to no proto_library"},
		{"gazelle versions differ", func(f map[string]string) {
			f["go.mod"] = strings.Replace(f["go.mod"], "v0.53.0", "v0.54.0", 1)
		}, "gazelle 0.53.0 differs from github.com/bazelbuild/bazel-gazelle v0.54.0"},
		{"pip.parse reads another lock", func(f map[string]string) {
			f["MODULE.bazel"] = strings.Replace(f["MODULE.bazel"], `requirements_lock = "//python-sdk:requirements.lock"`, `requirements_lock = "//:requirements.txt"`, 1)
			f["requirements.txt"] = ""
			f["BUILD.bazel"] = ""
		}, "pip.parse reads //:requirements.txt"},
		{"reserved pip hub name", func(f map[string]string) {
			f["MODULE.bazel"] = strings.ReplaceAll(f["MODULE.bazel"], `"pip"`, `"pypi"`)
			f["python-sdk/BUILD.bazel"] = strings.ReplaceAll(f["python-sdk/BUILD.bazel"], "@pip//", "@pypi//")
		}, `hub_name "pypi", which rules_python reserves`},
		{"exports_files of a missing file", func(f map[string]string) {
			f["tools/BUILD.bazel"] += "exports_files([\"main.py\", \"absent.py\"])\n"
		}, `exports_files names "absent.py"`},
		{"a moved proto_library as a test's data", func(f map[string]string) {
			f["proto/BUILD.bazel"] = strings.Replace(f["proto/BUILD.bazel"], `srcs = ["p.proto"],`, `srcs = ["p.proto"],
    strip_import_prefix = "/proto",`, 1)
			f["python-sdk/BUILD.bazel"] = strings.Replace(f["python-sdk/BUILD.bazel"], `src = "tests/test_a.py",`, `src = "tests/test_a.py",
    data = ["//proto:p_proto"],`, 1)
		}, "test_a has proto_library //proto:p_proto in data; its strip_import_prefix moves the sources under _virtual_imports"},
		{"no bazel_compatibility", func(f map[string]string) {
			f["MODULE.bazel"] = strings.Replace(f["MODULE.bazel"], `    bazel_compatibility = [">=8.0.0"],
`, "", 1)
		}, `module() must declare bazel_compatibility = [">=8.0.0"] or higher: protobuf@v36.0 MODULE.bazel:7`},
		{"a bazel_compatibility below a module's", func(f map[string]string) {
			f["MODULE.bazel"] = strings.Replace(f["MODULE.bazel"], `">=8.0.0"`, `">=7.4.1"`, 1)
		}, `must declare bazel_compatibility = [">=8.0.0"] or higher`},
		{"the system_python bootstrap", func(f map[string]string) {
			f[".bazelrc"] = "# nothing\n"
		}, "no `common --@rules_python//python/config_settings:bootstrap_impl=script`"},
		{"a Go test of Python plugins without the interpreter", func(f map[string]string) {
			f["server/x/BUILD.bazel"] = "load(\"@rules_go//go:def.bzl\", \"go_test\")\n\ngo_test(\n    name = \"x_test\",\n    srcs = [\"x_test.go\"],\n)\n"
			f["server/x/x_test.go"] = "package x\n\nimport \"example.com/fixture/server/internal/testenv\"\n\nfunc TestX(t *testing.T) { _ = testenv.Python(t) }\n"
		}, "x_test runs Python test plugins (testenv.Python) but has no //python-sdk/scripts:plugin_python in data"},
		{"a Go test of Python plugins without the env", func(f map[string]string) {
			f["server/x/BUILD.bazel"] = "load(\"@rules_go//go:def.bzl\", \"go_test\")\n\ngo_test(\n    name = \"x_test\",\n    srcs = [\"x_test.go\"],\n    data = [\"//python-sdk/scripts:plugin_python\"],\n)\n"
			f["server/x/x_test.go"] = "package x\n\nimport \"example.com/fixture/server/internal/testenv\"\n\nfunc TestX(t *testing.T) { _ = testenv.Python(t) }\n"
			f["python-sdk/scripts/BUILD.bazel"] = "filegroup(\n    name = \"plugin_python\",\n    srcs = [],\n)\n"
		}, `x_test runs Python test plugins (testenv.Python) but its env has no MATTERMOST_PLUGIN_PYTHON`},
		{"file of a subpackage", func(f map[string]string) {
			f["python-sdk/src/BUILD.bazel"] = "# A subpackage.\n"
		}, "belongs to another package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := fixture()
			tt.change(files)
			wantProblem(t, "Check()", check(t, files), tt.want)
		})
	}
}

// wantProblem fails unless one of problems contains want.
func wantProblem(t *testing.T, call string, problems []Problem, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p.String(), want) {
			return
		}
	}
	t.Errorf("%s = %v; want a problem containing %q", call, problems, want)
}

func TestIgnoredDirectoriesAreSkipped(t *testing.T) {
	ws, err := Load(writeTree(t, fixture()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ws.Files {
		if strings.HasPrefix(f, ".venv/") {
			t.Errorf("Load() read %s, under an ignored directory", f)
		}
	}
}

func TestStringsOf(t *testing.T) {
	ws, err := Load(writeTree(t, fixture()))
	if err != nil {
		t.Fatal(err)
	}
	f := ws.Packages["python-sdk"].File
	rules := f.Rules("pytest_test")
	if len(rules) != 1 {
		t.Fatalf("pytest_test rules = %d; want 1", len(rules))
	}
	if got := stringsOf(f, rules[0].Attr("deps")); len(got) != 1 || got[0] != ":lib" {
		t.Errorf("stringsOf(deps = [_LIB]) = %q; want [\":lib\"]", got)
	}
	if got := stringsOf(f, rules[0].Attr("env")); len(got) != 2 || got[1] != "$(rlocationpath :lib)" {
		t.Errorf("stringsOf(env) = %q; want the formatted value", got)
	}
}
