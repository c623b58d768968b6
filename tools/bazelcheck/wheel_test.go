package bazelcheck

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const wheelBuild = `load("@rules_python//python:packaging.bzl", "py_package", "py_wheel")
load("@rules_python//python:py_library.bzl", "py_library")

py_library(
    name = "lib",
    srcs = ["src/pkg/__init__.py"],
    data = ["src/pkg/py.typed"],
    pyi_srcs = ["src/pkg/m.pyi"],
    deps = [
        ":extra",
        "@pip//grpcio",
    ],
)

py_library(
    name = "extra",
    srcs = ["src/pkg/extra.py"],
)

py_package(
    name = "files",
    packages = ["python-sdk.src.pkg"],
    deps = [":lib"],
)

py_wheel(
    name = "wheel",
    distribution = "my-dist",
    python_requires = ">=3.9",
    requires = [
        "grpcio>=1.80.1",
        "protobuf<8,>=6.31.1",
    ],
    entry_points = {
        "console_scripts": ["my-tool = pkg.cli:main"],
        "pytest11": ["pkg.fixtures = pkg.fixtures"],
    },
    extra_distinfo_files = {"LICENSE": "licenses/LICENSE"},
    extra_requires = {"dev": ["pytest"]},
    license = "Apache-2.0",
    strip_path_prefixes = ["python-sdk/src"],
    summary = "A package.",
    version = "0.1.0",
    deps = [":files"],
)
`

var nativeMetadata = []string{
	"Metadata-Version: 2.4",
	"Name: my-dist",
	"Version: 0.1.0",
	"Summary: A package.",
	"License-Expression: Apache-2.0",
	"License-File: LICENSE",
	"Requires-Python: >=3.9",
	"Requires-Dist: grpcio>=1.80.1",
	"Requires-Dist: protobuf<8,>=6.31.1",
	"Requires-Dist: pytest; extra == \"dev\"",
	"Provides-Extra: dev",
	"",
	"The description.",
}

const nativeEntryPoints = "[console_scripts]\nmy-tool = pkg.cli:main\n\n[pytest11]\npkg.fixtures = pkg.fixtures\n"

func writeWheel(t *testing.T, files []string, metadata []string) string {
	t.Helper()
	return writeWheelWith(t, files, metadata, nativeEntryPoints)
}

func writeWheelWith(t *testing.T, files []string, metadata []string, entryPoints string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "my_dist-0.1.0-py3-none-any.whl")
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(out)
	for _, f := range append(files, "my_dist-0.1.0.dist-info/METADATA", "my_dist-0.1.0.dist-info/RECORD",
		"my_dist-0.1.0.dist-info/WHEEL", "my_dist-0.1.0.dist-info/top_level.txt",
		"my_dist-0.1.0.dist-info/entry_points.txt") {
		w, err := z.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(f, "/METADATA"):
			w.Write([]byte(strings.Join(metadata, "\n")))
		case strings.HasSuffix(f, "/entry_points.txt"):
			w.Write([]byte(entryPoints))
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	return name
}

func TestCompareWheel(t *testing.T) {
	native := []string{"pkg/__init__.py", "pkg/extra.py", "pkg/m.pyi", "pkg/py.typed", "my_dist-0.1.0.dist-info/licenses/LICENSE"}
	tests := []struct {
		name     string
		build    string
		files    []string
		metadata []string
		want     string // "" for no problem
	}{
		{"same", wheelBuild, native, nativeMetadata, ""},
		{"file only in the native wheel", wheelBuild, append(native, "pkg/new.py"), nativeMetadata, "the native wheel has pkg/new.py"},
		{"file only in the Bazel wheel", wheelBuild, native[1:], nativeMetadata, "puts pkg/__init__.py into the wheel"},
		{"pyi left out of the BUILD file", strings.Replace(wheelBuild, `pyi_srcs = ["src/pkg/m.pyi"],`, "", 1), native, nativeMetadata, "the native wheel has pkg/m.pyi"},
		{"other requirements", strings.Replace(wheelBuild, `"grpcio>=1.80.1"`, `"grpcio>=1.70"`, 1), native, nativeMetadata, "Requires-Dist"},
		{"other version", wheelBuild, native, replaceLine(nativeMetadata, "Version: 0.1.0", "Version: 0.2.0"), "Version"},
		{"other name", strings.Replace(wheelBuild, `"my-dist"`, `"other-dist"`, 1), native, nativeMetadata, "Name"},
		{"an extra's marker quoted otherwise", wheelBuild, native, replaceLine(nativeMetadata, `Requires-Dist: pytest; extra == "dev"`, `Requires-Dist: pytest ; extra=='dev'`), ""},
		{"other extra requirement", strings.Replace(wheelBuild, `{"dev": ["pytest"]}`, `{"dev": ["pytest>=8"]}`, 1), native, nativeMetadata, "Requires-Dist"},
		{"extra only in the native wheel", strings.Replace(wheelBuild, `extra_requires = {"dev": ["pytest"]},`, "", 1), native, nativeMetadata, "Provides-Extra"},
		{"entry point only in the native wheel", strings.Replace(wheelBuild, `"pytest11": ["pkg.fixtures = pkg.fixtures"],`, "", 1), native, nativeMetadata, "Entry-Points"},
		{"the license file left out", strings.Replace(wheelBuild, `extra_distinfo_files = {"LICENSE": "licenses/LICENSE"},`, "", 1), native, nativeMetadata,
			"the native wheel has {dist-info}/licenses/LICENSE"},
		{"the license file elsewhere", strings.Replace(wheelBuild, `"licenses/LICENSE"`, `"LICENSE"`, 1), native, nativeMetadata,
			"puts {dist-info}/LICENSE into the wheel"},
		{"other license", strings.Replace(wheelBuild, `license = "Apache-2.0",`, `license = "MIT",`, 1), native, nativeMetadata, "License"},
		{"no entry points at all", strings.Replace(strings.Replace(wheelBuild, `"pytest11": ["pkg.fixtures = pkg.fixtures"],`, "", 1), `"console_scripts": ["my-tool = pkg.cli:main"],`, "", 1), native, nativeMetadata,
			"the native wheel has {dist-info}/entry_points.txt"},
		{"other console script", strings.Replace(wheelBuild, "pkg.cli:main", "pkg.cli:run", 1), native, nativeMetadata, "Entry-Points"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := fixture()
			files["python-sdk/BUILD.bazel"] = tt.build
			files["python-sdk/src/pkg/extra.py"] = ""
			files["python-sdk/src/pkg/m.pyi"] = ""
			files["python-sdk/LICENSE"] = ""
			ws, err := Load(writeTree(t, files))
			if err != nil {
				t.Fatal(err)
			}
			problems, err := CompareWheel(ws, "python-sdk", "wheel", writeWheel(t, tt.files, tt.metadata))
			if err != nil {
				t.Fatalf("CompareWheel() error = %v", err)
			}
			if tt.want == "" {
				if len(problems) != 0 {
					t.Fatalf("CompareWheel() = %v; want no problems", problems)
				}
				return
			}
			wantProblem(t, "CompareWheel()", problems, tt.want)
		})
	}
}

func TestCompareWheelErrors(t *testing.T) {
	ws, err := Load(writeTree(t, fixture()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CompareWheel(ws, "python-sdk", "wheel", "/nonexistent.whl"); err == nil {
		t.Error("CompareWheel(no py_wheel) = nil error; want one")
	}
}

func replaceLine(lines []string, old, new string) []string {
	out := append([]string(nil), lines...)
	for i, l := range out {
		if l == old {
			out[i] = new
		}
	}
	return out
}
