package bazelcheck

import (
	"path"
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// globCalls returns the glob(...) calls in e.
func globCalls(e build.Expr) []*build.CallExpr {
	var calls []*build.CallExpr
	build.Walk(e, func(x build.Expr, _ []build.Expr) {
		if c, ok := x.(*build.CallExpr); ok {
			if id, ok := c.X.(*build.Ident); ok && id.Name == "glob" {
				calls = append(calls, c)
			}
		}
	})
	return calls
}

// isGlob reports whether e is a glob(...) call.
func isGlob(e build.Expr) bool {
	c, ok := e.(*build.CallExpr)
	if !ok {
		return false
	}
	id, ok := c.X.(*build.Ident)
	return ok && id.Name == "glob"
}

// checkGlob checks that every include pattern of a glob matches a file of
// the package, as Bazel requires by default (an empty glob is an error),
// and records the matched files as owned by the rule.
func (c *checker) checkGlob(file, pkg string, call *build.CallExpr, kind string) {
	if len(call.List) == 0 {
		return
	}
	include := call.List[0]
	if a, ok := include.(*build.AssignExpr); ok {
		include = a.RHS
	}
	for _, pattern := range stringsOf(nil, include) {
		matched := false
		for _, f := range c.ws.Files {
			rel, ok := strings.CutPrefix(f, pkg+"/")
			if pkg == "" {
				rel, ok = f, true
			}
			if !ok || !globMatch(pattern, rel) {
				continue
			}
			if owner, ok := c.ws.packageOf(f); !ok || owner.Path != pkg {
				continue // files of subpackages are not in the glob
			}
			matched = true
			c.owned[f] = append(c.owned[f], kind)
		}
		if !matched {
			c.report(file, call, "glob pattern %q matches no file of package //%s", pattern, pkg)
		}
	}
}

// globMatch matches a package-relative path against a Bazel glob pattern,
// in which "**" stands for any number of directories.
func globMatch(pattern, name string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegments(pattern, name []string) bool {
	for len(pattern) > 0 {
		if pattern[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pattern[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pattern[0], name[0]); err != nil || !ok {
			return false
		}
		pattern, name = pattern[1:], name[1:]
	}
	return len(name) == 0
}
