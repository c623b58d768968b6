package bazelcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// Extensions whose generated repositories the gate evaluates.
const (
	goDepsExtension = "@gazelle//:extensions.bzl%go_deps"
	pipExtension    = "@rules_python//python/extensions:pip.bzl%pip"
	pythonExtension = "@rules_python//python/extensions:python.bzl%python"
)

// providedGoModules is a Bazel module that is also the source of Go
// modules: its own MODULE.bazel hands them to go_deps (from_file of its
// go.mod or go.work), so go_deps resolves those paths to the Bazel module
// and creates no go_repository for them, whatever the root's go.mod says.
type providedGoModules struct {
	// module and version are the bazel_dep the table row was read at.
	module, version string
	// paths are the Go module paths it provides.
	paths []string
	// source says where that was read.
	source string
}

// bazelGoModules returns what the pinned Bazel modules provide. gazelle's
// go_deps registers every module of a bazel_dep's from_file as a
// bazel_go_module (internal/bzlmod/go_deps.bzl:501-535@v0.53.0), lets one
// that came from a go.work win outright (:663-665), and makes no repository
// for a path that a bazel_go_module resolved (:756-763); the root's
// use_repo of it then fails with "does not generate repository ... yet it
// is imported".
func bazelGoModules() []providedGoModules {
	return []providedGoModules{
		{
			module:  "gazelle",
			version: "0.53.0",
			paths:   []string{"github.com/bazelbuild/bazel-gazelle", "github.com/bazel-contrib/bazel-gazelle/v2"},
			source:  `gazelle@v0.53.0 MODULE.bazel:34 go_deps.from_file(go_work = "//:go.work"), go.work: use . and ./v2 (v2/go.mod:1)`,
		},
		{
			module:  "rules_go",
			version: "0.63.0",
			paths:   []string{"github.com/bazelbuild/rules_go"},
			source:  `rules_go@v0.63.0 MODULE.bazel:55 go_deps.from_file(go_mod = "//:go.mod")`,
		},
	}
}

// goDepsRepos is what go_deps does with the root module's go.mod.
type goDepsRepos struct {
	// generated maps each repository go_deps creates to its Go module.
	generated map[string]string
	// direct maps the repositories of direct dependencies, the ones
	// `bazel mod tidy` puts into use_repo, to their Go modules.
	direct map[string]string
	// provided maps a Go module path of go.mod that a bazel_dep provides
	// to a description of the provider.
	provided map[string]string
}

// goRepoName is the repository name go_deps gives a Go module path, as
// _repo_name (internal/bzlmod/go_deps.bzl:190-194@v0.53.0): the host's
// labels reversed, then the path segments, joined by '_', with every
// character that is not a letter or digit as '_', lower case.
func goRepoName(path string) string {
	segments := strings.Split(path, "/")
	host := strings.Split(segments[0], ".")
	slices.Reverse(host)
	name := strings.Join(append(host, segments[1:]...), "_")
	return strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			if r >= 'A' && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}
		return '_'
	}, name)
}

// evalGoDeps evaluates go_deps.from_file(go_mod = "//:go.mod") of the root
// module: a repository per required module that no bazel_dep provides; a
// direct one for each require without "// indirect" and each module that
// holds a `tool` package (go_deps.bzl:565-583@v0.53.0 counts those as
// direct, so that tools build after a tidy).
func (c *checker) evalGoDeps() (*goDepsRepos, error) {
	data, err := os.ReadFile(filepath.Join(c.ws.Root, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("read go.mod: %w", err)
	}
	mf, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil, fmt.Errorf("parse go.mod: %w", err)
	}
	provided := map[string]string{}
	for _, p := range bazelGoModules() {
		if v, ok := c.mod.versions[p.module]; ok {
			for _, path := range p.paths {
				provided[path] = fmt.Sprintf("bazel_dep %s %s (%s)", p.module, v, p.source)
			}
		}
	}
	r := &goDepsRepos{generated: map[string]string{}, direct: map[string]string{}, provided: map[string]string{}}
	isTool := func(path string) bool {
		for _, t := range mf.Tool {
			if t.Path == path || strings.HasPrefix(t.Path, path+"/") {
				return true
			}
		}
		return false
	}
	for _, req := range mf.Require {
		path := req.Mod.Path
		if by, ok := provided[path]; ok {
			r.provided[path] = by
			continue
		}
		name := goRepoName(path)
		r.generated[name] = path
		if !req.Indirect || isTool(path) {
			r.direct[name] = path
		}
	}
	return r, nil
}

// checkBazelGoModuleVersions makes the table of bazelGoModules follow the
// pins: a bazel_dep at another version must be read again.
func (c *checker) checkBazelGoModuleVersions() {
	for _, p := range bazelGoModules() {
		if v, ok := c.mod.versions[p.module]; ok && v != p.version {
			c.report("MODULE.bazel", nil,
				"bazel_dep %s is at %s, but bazelcheck knows the Go modules it provides at %s only; read its MODULE.bazel (and go.work) at %s and update bazelGoModules in tools/bazelcheck/repos.go",
				p.module, v, p.version, v)
		}
	}
}

// checkUseRepos evaluates every use_repo call: each repository it imports
// must be one that its extension generates, and for go_deps the imports
// must be exactly the direct dependencies of go.mod.
func (c *checker) checkUseRepos() {
	const file = "MODULE.bazel"
	c.checkBazelGoModuleVersions()
	goDeps := map[string][]useRepo{}
	for proxy, ext := range c.mod.extensions {
		if ext.String() == goDepsExtension {
			goDeps[proxy] = nil
		}
	}
	for _, u := range c.mod.useRepos {
		ext, ok := c.mod.extensions[u.proxy]
		if !ok {
			c.report(file, u.call, "use_repo(%s, ...): %s is not bound to a use_extension", u.proxy, u.proxy)
			continue
		}
		switch ext.String() {
		case goDepsExtension:
			goDeps[u.proxy] = append(goDeps[u.proxy], u)
		case pipExtension:
			hubs := map[string]bool{}
			for _, tag := range c.mod.tags[u.proxy+".parse"] {
				hubs[tag["hub_name"]] = true
			}
			for _, imp := range u.imports {
				if !hubs[imp.generated] {
					c.report(file, imp.at, "use_repo(%s, %q): no %s.parse has hub_name %q, so pip generates no such repository", u.proxy, imp.generated, u.proxy, imp.generated)
				}
			}
		case pythonExtension:
			// python.toolchain(python_version = "3.11") creates python_3_11
			// and python_3_11_host, and the extension pythons_hub and
			// python_versions (python/private/python.bzl:97,321,435,452@2.3.2).
			repos := map[string]bool{"pythons_hub": true, "python_versions": true}
			for _, tag := range c.mod.tags[u.proxy+".toolchain"] {
				name := "python_" + strings.ReplaceAll(tag["python_version"], ".", "_")
				repos[name], repos[name+"_host"] = true, true
			}
			for _, imp := range u.imports {
				if !repos[imp.generated] {
					c.report(file, imp.at, "use_repo(%s, %q): rules_python's python extension generates no such repository for the python.toolchain tags here", u.proxy, imp.generated)
				}
			}
		case protocExtension:
			repos := protocRepos("")
			for _, tag := range c.mod.tags[u.proxy+".toolchain"] {
				for r := range protocRepos(tag["name"]) {
					repos[r] = true
				}
			}
			for _, imp := range u.imports {
				if !repos[imp.generated] {
					c.report(file, imp.at, "use_repo(%s, %q): toolchains_protoc's extension generates no such repository (it makes the hub and one repository per platform)", u.proxy, imp.generated)
				}
			}
		default:
			c.report(file, u.call, "use_repo(%s, ...): bazelcheck does not know which repositories %s generates; teach checkUseRepos", u.proxy, ext)
		}
	}
	for _, proxy := range sortedKeys(goDeps) {
		c.checkGoDepsImports(proxy, goDeps[proxy])
	}
}

// checkGoDepsImports checks the use_repo calls of one go_deps proxy
// together: each import must be generated and direct, and each direct
// dependency imported.
func (c *checker) checkGoDepsImports(proxy string, calls []useRepo) {
	const file = "MODULE.bazel"
	repos, err := c.evalGoDeps()
	if err != nil {
		c.report("go.mod", nil, "cannot evaluate go_deps: %v", err)
		return
	}
	imported := map[string]bool{}
	providedBy := map[string]string{}
	for path, by := range repos.provided {
		providedBy[goRepoName(path)] = path + " is provided by " + by
	}
	var imports []importedRepo
	for _, u := range calls {
		imports = append(imports, u.imports...)
	}
	for _, imp := range imports {
		imported[imp.generated] = true
		switch {
		case providedBy[imp.generated] != "":
			c.report(file, imp.at, "use_repo(%s, %q): go_deps generates no such repository, because Go module %s; Bazel stops every Go target: the extension does not generate repository %s, yet it is imported; remove it",
				proxy, imp.generated, providedBy[imp.generated], imp.generated)
		case repos.generated[imp.generated] == "":
			c.report(file, imp.at, "use_repo(%s, %q): no Go module of go.mod becomes that repository", proxy, imp.generated)
		case repos.direct[imp.generated] == "":
			c.report(file, imp.at, "use_repo(%s, %q): %s is an indirect dependency in go.mod; `bazel mod tidy` removes it", proxy, imp.generated, repos.generated[imp.generated])
		}
	}
	for _, name := range sortedKeys(repos.direct) {
		if !imported[name] {
			c.report(file, nil, "use_repo(%s, ...) lacks %q: go.mod requires %s directly, so a Go target that imports it fails to resolve @%s", proxy, name, repos.direct[name], name)
		}
	}
}
