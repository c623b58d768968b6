package bazelcheck

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bazelbuild/buildtools/build"
	"github.com/bazelbuild/buildtools/labels"
)

// Problem is one finding, located in a file.
type Problem struct {
	// File is the repository path of the file at fault.
	File string
	// Line is the 1-based line, or 0 for the whole file.
	Line int
	// Message says what is wrong.
	Message string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Message)
}

// isFileAttr reports whether the bare strings of attr name files of the
// package.
func isFileAttr(attr string) bool {
	switch attr {
	case "srcs", "src", "data", "pyi_srcs", "main", "description_file", "lock",
		"file1", "file2", "config", "embedsrcs":
		return true
	}
	return false
}

// ownerAttrs returns the attributes that make a file belong to a target.
func ownerAttrs() []string { return []string{"srcs", "src", "main", "pyi_srcs", "data"} }

// isTestKind reports whether kind runs Python test modules.
func isTestKind(kind string) bool { return kind == "py_test" || kind == "pytest_test" }

var testModule = regexp.MustCompile(`(^|/)(test_[^/]*|[^/]*_test)\.py$`)

// Check runs every static check on ws and returns the problems, sorted.
func Check(ws *Workspace) []Problem {
	mod := parseModule(ws.Module)
	c := &checker{ws: ws, mod: mod, owned: map[string][]string{}}
	c.checkModule()
	for _, pkg := range sortedPackages(ws) {
		c.checkPackage(pkg)
	}
	for _, name := range sortedKeys(ws.Bzl) {
		c.checkBzl(name, ws.Bzl[name])
	}
	c.checkOwnership()
	sort.Slice(c.problems, func(i, j int) bool {
		a, b := c.problems[i], c.problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Message < b.Message
	})
	return c.problems
}

type checker struct {
	ws       *Workspace
	mod      moduleInfo
	problems []Problem
	// owned maps a repository path to the kinds of the rules that list it.
	owned map[string][]string
	// locked holds the hub names of the lock file, read on first use.
	locked map[string]bool
}

func (c *checker) report(file string, e build.Expr, format string, args ...any) {
	line := 0
	if e != nil {
		start, _ := e.Span()
		line = start.Line
	}
	c.problems = append(c.problems, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// reservedPipHub is the hub name that rules_python 2.2.0 and later keep for
// themselves.
const reservedPipHub = "pypi"

func (c *checker) checkModule() {
	const file = "MODULE.bazel"
	for _, stmt := range c.ws.Module.Stmt {
		c.checkStrings(file, "", c.ws.Module, stmt)
	}
	for _, lock := range c.mod.pipLocks {
		if lock != "//python-sdk:requirements.lock" {
			c.report(file, nil, "pip.parse reads %s, not //python-sdk:requirements.lock, the lock `make test` installs", lock)
		}
	}
	if len(c.mod.pipLocks) == 0 {
		c.report(file, nil, "no pip.parse reads //python-sdk:requirements.lock")
	}
	if c.mod.pipHubs[reservedPipHub] {
		c.report(file, nil, "pip.parse uses hub_name %q, which rules_python reserves since 2.2.0; use another name", reservedPipHub)
	}
	c.checkGazelleVersion()
	c.checkUseRepos()
	c.checkBazelCompatibility()
	c.checkBazelrc()
	c.checkRuleSetModules()
	c.checkProtoc()
}

// checkGazelleVersion holds the gazelle module and the gazelle tool of
// go.mod to one version, so that both runs write the same BUILD files.
func (c *checker) checkGazelleVersion() {
	data, err := os.ReadFile(filepath.Join(c.ws.Root, "go.mod"))
	if err != nil {
		c.report("go.mod", nil, "cannot read go.mod: %v", err)
		return
	}
	m := regexp.MustCompile(`(?m)^(?:require\s+|\s+)github\.com/bazelbuild/bazel-gazelle v(\S+)`).FindSubmatch(data)
	want := c.mod.versions["gazelle"]
	switch {
	case m == nil:
		c.report("go.mod", nil, "go.mod does not pin github.com/bazelbuild/bazel-gazelle, the native gazelle")
	case want == "":
		c.report("MODULE.bazel", nil, "MODULE.bazel has no bazel_dep on gazelle")
	case string(m[1]) != want:
		c.report("MODULE.bazel", nil, "gazelle %s differs from github.com/bazelbuild/bazel-gazelle v%s in go.mod", want, m[1])
	}
}

func (c *checker) checkPackage(pkg *Package) {
	file := path.Join(pkg.Path, buildFileName)
	for _, stmt := range pkg.File.Stmt {
		if load, ok := stmt.(*build.LoadStmt); ok {
			c.checkLoad(file, pkg.Path, load)
			continue
		}
		c.checkStrings(file, pkg.Path, pkg.File, stmt)
	}
	c.checkRuleSetCalls(file, pkg.File)
	for _, r := range pkg.File.Rules("") {
		if r.Kind() == "exports_files" {
			for _, name := range stringsOf(pkg.File, firstArg(r.Call)) {
				if !c.ws.fileExists(path.Join(pkg.Path, name)) {
					c.report(file, r.Call, "exports_files names %q, which does not exist", name)
				}
			}
			continue
		}
		for _, attr := range r.AttrKeys() {
			for _, g := range globCalls(r.Attr(attr)) {
				c.checkGlob(file, pkg.Path, g, r.Kind())
			}
			if !isFileAttr(attr) {
				continue
			}
			for _, s := range stringsOf(pkg.File, r.Attr(attr)) {
				if !isLabelish(s) {
					c.checkLabel(file, pkg.Path, s, r.Attr(attr))
				}
			}
		}
		c.checkProtoData(file, pkg, r)
		c.checkPluginPython(file, pkg, r)
		for _, attr := range ownerAttrs() {
			for _, s := range stringsOf(pkg.File, r.Attr(attr)) {
				if p, ok := c.localPath(pkg.Path, s); ok {
					c.owned[p] = append(c.owned[p], r.Kind())
				}
			}
		}
	}
}

// pluginPythonEnv is the variable through which Go tests find the Python
// that runs their test plugins (server/internal/testenv), and
// pluginPythonLabel the hermetic interpreter, with the SDK importable,
// that Bazel gives them.
const (
	pluginPythonEnv   = "MATTERMOST_PLUGIN_PYTHON"
	pluginPythonLabel = "//python-sdk/scripts:plugin_python"
)

// checkPluginPython reports a go_test whose sources ask testenv for the
// plugins' Python without the interpreter in its data and its runfiles
// location in its env: under Bazel no .venv is beside go.mod, and no CI
// variable reaches the test, so testenv.Python skips every plugin test in
// silence.
func (c *checker) checkPluginPython(file string, pkg *Package, r *build.Rule) {
	if r.Kind() != "go_test" {
		return
	}
	needs := false
	for _, src := range stringsOf(pkg.File, r.Attr("srcs")) {
		data, err := os.ReadFile(filepath.Join(c.ws.Root, filepath.FromSlash(pkg.Path), filepath.FromSlash(src)))
		if err == nil && strings.Contains(string(data), `/server/internal/testenv"`) && strings.Contains(string(data), "testenv.Python(") {
			needs = true
			break
		}
	}
	if !needs {
		return
	}
	if !contains(stringsOf(pkg.File, r.Attr("data")), pluginPythonLabel) {
		c.report(file, r.Call, "%s runs Python test plugins (testenv.Python) but has no %s in data", r.Name(), pluginPythonLabel)
	}
	env, _ := r.Attr("env").(*build.DictExpr)
	for _, kv := range envEntries(env) {
		if kv[0] == pluginPythonEnv && strings.Contains(kv[1], "rlocationpath "+pluginPythonLabel) {
			return
		}
	}
	c.report(file, r.Call, "%s runs Python test plugins (testenv.Python) but its env has no %s = \"$(rlocationpath %s)\"", r.Name(), pluginPythonEnv, pluginPythonLabel)
}

// envEntries returns the string keys and values of an env dict.
func envEntries(d *build.DictExpr) [][2]string {
	if d == nil {
		return nil
	}
	var out [][2]string
	for _, kv := range d.List {
		k, kok := kv.Key.(*build.StringExpr)
		v, vok := kv.Value.(*build.StringExpr)
		if kok && vok {
			out = append(out, [2]string{k.Value, v.Value})
		}
	}
	return out
}

// checkProtoData reports a proto_library in data whose sources move: with
// strip_import_prefix or import_prefix, its runfiles hold the
// _virtual_imports symlinks only, not the .proto files at their source
// paths (protobuf's bazel/private/proto_library_rule.bzl:104-107,135-163
// @v36.0), so a test that reads the sources finds none.
func (c *checker) checkProtoData(file string, pkg *Package, r *build.Rule) {
	for _, s := range stringsOf(pkg.File, r.Attr("data")) {
		if _, external := externalRepo(s); external || !isLabelish(s) {
			continue
		}
		l := labels.ParseRelative(s, pkg.Path)
		target, ok := c.ws.Packages[l.Package]
		if !ok {
			continue
		}
		for _, p := range target.File.Rules("proto_library") {
			if p.Name() != l.Target {
				continue
			}
			for _, attr := range []string{"strip_import_prefix", "import_prefix"} {
				if p.Attr(attr) != nil {
					c.report(file, r.Attr("data"), "%s has proto_library %s in data; its %s moves the sources under _virtual_imports in the runfiles, so the .proto files are not at their source paths; put a filegroup of the files in data", r.Name(), s, attr)
				}
			}
		}
	}
}

func (c *checker) checkBzl(file string, f *build.File) {
	pkg := path.Dir(file)
	c.checkRuleSetCalls(file, f)
	for _, stmt := range f.Stmt {
		if load, ok := stmt.(*build.LoadStmt); ok {
			c.checkLoad(file, pkg, load)
			continue
		}
		build.Walk(stmt, func(x build.Expr, _ []build.Expr) {
			if s, ok := x.(*build.StringExpr); ok && (strings.HasPrefix(s.Value, "//") || strings.HasPrefix(s.Value, "@")) {
				c.checkLabel(file, pkg, s.Value, s)
			}
		})
	}
}

// checkStrings checks every label among the strings of stmt.
func (c *checker) checkStrings(file, pkg string, f *build.File, stmt build.Expr) {
	build.Walk(stmt, func(x build.Expr, _ []build.Expr) {
		var values []string
		switch e := x.(type) {
		case *build.StringExpr:
			values = []string{e.Value}
		case *build.BinaryExpr:
			if e.Op == "%" {
				values = stringsOf(f, e)
			}
		default:
			return
		}
		for _, v := range values {
			if isLabelish(v) {
				c.checkLabel(file, pkg, v, x)
			}
		}
	})
}

func (c *checker) checkLoad(file, pkg string, load *build.LoadStmt) {
	label := load.Module.Value
	if repo, ok := externalRepo(label); ok {
		if !c.mod.repos[repo] {
			c.report(file, load.Module, "load(%q) names repository @%s, which MODULE.bazel does not declare", label, repo)
		}
		return
	}
	l := labels.ParseRelative(label, pkg)
	if _, ok := c.ws.Packages[l.Package]; !ok {
		c.report(file, load.Module, "load(%q): there is no package %q", label, l.Package)
		return
	}
	if !c.ws.fileExists(path.Join(l.Package, l.Target)) {
		c.report(file, load.Module, "load(%q): %s does not exist", label, path.Join(l.Package, l.Target))
	}
}

// isLabelish reports whether s is written as a label.
func isLabelish(s string) bool {
	return strings.HasPrefix(s, "//") || strings.HasPrefix(s, "@") || strings.HasPrefix(s, ":")
}

// externalRepo returns the repository of a label of another repository.
func externalRepo(label string) (string, bool) {
	if !strings.HasPrefix(label, "@") {
		return "", false
	}
	repo := strings.TrimLeft(label, "@")
	if i := strings.Index(repo, "//"); i >= 0 {
		repo = repo[:i]
	}
	if repo == "" {
		return "", false // "@//pkg": the main repository
	}
	return repo, true
}

func (c *checker) checkLabel(file, pkg, raw string, at build.Expr) {
	if strings.ContainsAny(raw, "$%{} \t\n") {
		return
	}
	if repo, ok := externalRepo(raw); ok {
		if !c.mod.repos[repo] {
			c.report(file, at, "%q names repository @%s, which MODULE.bazel does not declare", raw, repo)
			return
		}
		if c.mod.pipHubs[repo] {
			c.checkPipLabel(file, repo, raw, at)
		}
		return
	}
	l := labels.ParseRelative(strings.TrimPrefix(raw, "@"), pkg)
	if l.Package == "visibility" {
		return
	}
	if l.Target == "__subpackages__" {
		// A package specification: //a:__subpackages__ names a and every
		// package under it, and a itself need not be a package (gazelle
		// writes //server:__subpackages__ for server/internal/...).
		if !c.ws.hasPackageUnder(l.Package) {
			c.report(file, at, "%q: there is no package at or under //%s", raw, l.Package)
		}
		return
	}
	if _, ok := c.ws.Packages[l.Package]; !ok {
		c.report(file, at, "%q: there is no package //%s", raw, l.Package)
		return
	}
	if l.Target == "__pkg__" {
		return
	}
	if c.ws.Packages[l.Package].Targets[l.Target] {
		return
	}
	p := path.Join(l.Package, l.Target)
	if c.ws.fileExists(p) {
		if owner, ok := c.ws.packageOf(p); ok && owner.Path == l.Package {
			return
		}
		c.report(file, at, "%q: %s belongs to another package", raw, p)
		return
	}
	c.report(file, at, "%q: no target or file %q in package //%s", raw, l.Target, l.Package)
}

// checkPipLabel checks that @hub//name names a package of the lock file.
func (c *checker) checkPipLabel(file, hub, raw string, at build.Expr) {
	name := strings.TrimPrefix(raw, "@"+hub+"//")
	if i := strings.Index(name, ":"); i >= 0 {
		name = name[:i]
	}
	if name == "" {
		return
	}
	locked, err := c.lockedPackages()
	if err != nil {
		c.report(file, at, "cannot read the lock file: %v", err)
		return
	}
	if !locked[name] {
		c.report(file, at, "%q: %s is not in python-sdk/requirements.lock", raw, name)
	}
}

func (c *checker) lockedPackages() (map[string]bool, error) {
	if c.locked != nil {
		return c.locked, nil
	}
	data, err := os.ReadFile(filepath.Join(c.ws.Root, "python-sdk", "requirements.lock"))
	if err != nil {
		return nil, err
	}
	c.locked = map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Za-z0-9][A-Za-z0-9._\-]*)==`).FindAllSubmatch(data, -1) {
		c.locked[normalizePypiName(string(m[1]))] = true
	}
	return c.locked, nil
}

// normalizePypiName turns a distribution name into its hub label form:
// lower case, with runs of '-', '_' and '.' as one '_'.
func normalizePypiName(name string) string {
	return regexp.MustCompile(`[-_.]+`).ReplaceAllString(strings.ToLower(name), "_")
}

// localPath returns the repository path of a file label of the main
// repository, relative to pkg.
func (c *checker) localPath(pkg, s string) (string, bool) {
	if _, external := externalRepo(s); external {
		return "", false
	}
	l := labels.ParseRelative(s, pkg)
	return path.Join(l.Package, l.Target), true
}

func (c *checker) checkOwnership() {
	for _, f := range c.ws.Files {
		switch {
		case strings.HasPrefix(f, "python-sdk/") && strings.HasSuffix(f, ".py"):
			kinds := c.owned[f]
			if len(kinds) == 0 {
				c.report(f, nil, "belongs to no target; add it to the srcs of a py_library, py_binary or py_test")
				continue
			}
			if testModule.MatchString(f) && !slices.ContainsFunc(kinds, isTestKind) {
				c.report(f, nil, "is a test module but belongs to no py_test")
			}
		}
		if (testModule.MatchString(f) || path.Base(f) == "conftest.py") && c.inPackage(f) {
			c.checkFileResolution(f)
		}
		switch {
		case testModule.MatchString(f) && c.inPackage(f) && !strings.HasPrefix(f, "python-sdk/"):
			// A test module elsewhere, in a Bazel package: `bazel test
			// //...` must run it too.
			if !slices.ContainsFunc(c.owned[f], isTestKind) {
				c.report(f, nil, "is a test module but belongs to no py_test")
			}
		case strings.HasSuffix(f, ".proto"):
			if !slices.Contains(c.owned[f], "proto_library") {
				c.report(f, nil, "belongs to no proto_library")
			}
		}
	}
}

// symlinkResolution matches code that follows __file__'s symlinks.
var symlinkResolution = regexp.MustCompile(`__file__\)\.resolve\(|realpath\(__file__`)

// checkFileResolution reports a test module that finds its neighbours through
// __file__ with symlinks resolved: in a Bazel runfiles tree (or sandbox)
// the module is a symlink into the source tree, so the resolved path
// leaves the runfiles, and the files it then reads are not the target's
// inputs.
func (c *checker) checkFileResolution(f string) {
	data, err := os.ReadFile(filepath.Join(c.ws.Root, filepath.FromSlash(f)))
	if err != nil {
		c.report(f, nil, "cannot read: %v", err)
		return
	}
	for i, line := range strings.Split(string(data), "\n") {
		if symlinkResolution.MatchString(line) {
			c.problems = append(c.problems, Problem{File: f, Line: i + 1, Message: "resolves __file__ through symlinks, which leaves Bazel's runfiles tree for the source tree; use os.path.abspath(__file__)"})
		}
	}
}

// inPackage reports whether f belongs to a package other than the root
// one (the repository's loose files have no BUILD file of their own).
func (c *checker) inPackage(f string) bool {
	pkg, ok := c.ws.packageOf(f)
	return ok && pkg.Path != ""
}

func firstArg(call *build.CallExpr) build.Expr {
	for _, arg := range call.List {
		if _, ok := arg.(*build.AssignExpr); !ok {
			return arg
		}
	}
	return kwarg(call, "srcs")
}

func sortedPackages(ws *Workspace) []*Package {
	var out []*Package
	for _, name := range sortedKeys(ws.Packages) {
		out = append(out, ws.Packages[name])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
