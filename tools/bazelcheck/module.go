package bazelcheck

import (
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// moduleInfo is what MODULE.bazel declares.
type moduleInfo struct {
	name     string
	repos    map[string]bool   // apparent repository names in scope
	versions map[string]string // bazel_dep name -> version
	pipLocks []string          // requirements_lock labels of pip.parse
	pipHubs  map[string]bool   // hub_name values of pip.parse
	// extensions maps the name a use_extension result is bound to (such
	// as "go_deps") to the extension it proxies.
	extensions map[string]extensionRef
	// useRepos lists the use_repo calls, in file order.
	useRepos []useRepo
	// tags maps "proxy.tag" (such as "python.toolchain") to the string
	// keyword arguments of each call of that tag.
	tags map[string][]map[string]string
	// compatibility holds module()'s bazel_compatibility entries.
	compatibility []string
}

// extensionRef names a module extension: the .bzl label of use_extension
// and the exported name, such as "@gazelle//:extensions.bzl" and "go_deps".
type extensionRef struct {
	bzl, name string
}

func (e extensionRef) String() string { return e.bzl + "%" + e.name }

// useRepo is one use_repo call: each imported repository under the name
// the main module sees (the keyword of `name = "repo"`, else the repo
// itself) and the name the extension must generate.
type useRepo struct {
	proxy string
	call  *build.CallExpr
	// imports maps the repository the extension generates to the
	// argument that imports it.
	imports []importedRepo
}

type importedRepo struct {
	generated string
	at        build.Expr
}

func parseModule(f *build.File) moduleInfo {
	// bazel_tools is the one repository Bazel provides undeclared.
	m := moduleInfo{
		repos:      map[string]bool{"bazel_tools": true},
		versions:   map[string]string{},
		pipHubs:    map[string]bool{},
		extensions: map[string]extensionRef{},
		tags:       map[string][]map[string]string{},
	}
	for _, stmt := range f.Stmt {
		a, ok := stmt.(*build.AssignExpr)
		if !ok {
			continue
		}
		id, ok := a.LHS.(*build.Ident)
		call, isCall := a.RHS.(*build.CallExpr)
		if !ok || !isCall || callee(call) != "use_extension" {
			continue
		}
		var args []string
		for _, arg := range call.List {
			if _, kw := arg.(*build.AssignExpr); !kw {
				args = append(args, stringsOf(f, arg)...)
			}
		}
		if len(args) == 2 {
			m.extensions[id.Name] = extensionRef{bzl: args[0], name: args[1]}
		}
	}
	build.Walk(f, func(x build.Expr, _ []build.Expr) {
		call, ok := x.(*build.CallExpr)
		if !ok {
			return
		}
		name := callee(call)
		if proxy, tag, ok := strings.Cut(name, "."); ok {
			if _, known := m.extensions[proxy]; known {
				kw := map[string]string{}
				for _, arg := range call.List {
					if a, ok := arg.(*build.AssignExpr); ok {
						if id, ok := a.LHS.(*build.Ident); ok {
							kw[id.Name] = kwargString(f, call, id.Name)
						}
					}
				}
				m.tags[proxy+"."+tag] = append(m.tags[proxy+"."+tag], kw)
			}
		}
		switch name {
		case "module":
			m.name = kwargString(f, call, "name")
			m.compatibility = stringsOf(f, kwarg(call, "bazel_compatibility"))
		case "bazel_dep":
			name := kwargString(f, call, "name")
			m.versions[name] = kwargString(f, call, "version")
			if repo := kwargString(f, call, "repo_name"); repo != "" {
				m.repos[repo] = true
			} else {
				m.repos[name] = true
			}
		case "use_repo":
			u := useRepo{call: call}
			for i, arg := range call.List {
				if i == 0 {
					if id, ok := arg.(*build.Ident); ok {
						u.proxy = id.Name
					}
					continue
				}
				if kv, ok := arg.(*build.AssignExpr); ok {
					if id, ok := kv.LHS.(*build.Ident); ok {
						m.repos[id.Name] = true
					}
					for _, s := range stringsOf(f, kv.RHS) {
						u.imports = append(u.imports, importedRepo{generated: s, at: arg})
					}
					continue
				}
				for _, s := range stringsOf(f, arg) {
					m.repos[s] = true
					u.imports = append(u.imports, importedRepo{generated: s, at: arg})
				}
			}
			m.useRepos = append(m.useRepos, u)
		case "pip.parse":
			if lock := kwargString(f, call, "requirements_lock"); lock != "" {
				m.pipLocks = append(m.pipLocks, lock)
			}
			if hub := kwargString(f, call, "hub_name"); hub != "" {
				m.pipHubs[hub] = true
			}
		}
	})
	if m.name != "" {
		m.repos[m.name] = true
	}
	return m
}

// callee returns the called name, such as "bazel_dep" or "pip.parse".
func callee(call *build.CallExpr) string {
	switch x := call.X.(type) {
	case *build.Ident:
		return x.Name
	case *build.DotExpr:
		if id, ok := x.X.(*build.Ident); ok {
			return id.Name + "." + x.Name
		}
	}
	return ""
}

// kwarg returns the value of the keyword argument key of call.
func kwarg(call *build.CallExpr, key string) build.Expr {
	for _, arg := range call.List {
		if a, ok := arg.(*build.AssignExpr); ok {
			if id, ok := a.LHS.(*build.Ident); ok && id.Name == key {
				return a.RHS
			}
		}
	}
	return nil
}

func kwargString(f *build.File, call *build.CallExpr, key string) string {
	if s := stringsOf(f, kwarg(call, key)); len(s) == 1 {
		return s[0]
	}
	return ""
}
