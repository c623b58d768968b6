package bazelcheck

import (
	"github.com/bazelbuild/buildtools/build"
)

// moduleInfo is what MODULE.bazel declares.
type moduleInfo struct {
	name     string
	repos    map[string]bool   // apparent repository names in scope
	versions map[string]string // bazel_dep name -> version
	pipLocks []string          // requirements_lock labels of pip.parse
	pipHubs  map[string]bool   // hub_name values of pip.parse
}

func parseModule(f *build.File) moduleInfo {
	// bazel_tools is the one repository Bazel provides undeclared.
	m := moduleInfo{repos: map[string]bool{"bazel_tools": true}, versions: map[string]string{}, pipHubs: map[string]bool{}}
	build.Walk(f, func(x build.Expr, _ []build.Expr) {
		call, ok := x.(*build.CallExpr)
		if !ok {
			return
		}
		switch callee(call) {
		case "module":
			m.name = kwargString(f, call, "name")
		case "bazel_dep":
			name := kwargString(f, call, "name")
			m.versions[name] = kwargString(f, call, "version")
			if repo := kwargString(f, call, "repo_name"); repo != "" {
				m.repos[repo] = true
			} else {
				m.repos[name] = true
			}
		case "use_repo":
			for i, arg := range call.List {
				if i == 0 {
					continue // the extension proxy
				}
				if kv, ok := arg.(*build.AssignExpr); ok {
					if id, ok := kv.LHS.(*build.Ident); ok {
						m.repos[id.Name] = true
					}
					continue
				}
				for _, s := range stringsOf(f, arg) {
					m.repos[s] = true
				}
			}
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
