package bazelcheck

import (
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// stringsOf returns the string values an expression denotes, evaluating
// the little Starlark that BUILD files use around labels: literals, lists,
// dicts (keys and values), names bound at the top level of f, "+" and
// "%" with a string on the left. Anything else denotes no string.
func stringsOf(f *build.File, e build.Expr) []string {
	return evalStrings(f, e, 0)
}

// maxDepth bounds the resolution of names bound to names.
const maxDepth = 8

func evalStrings(f *build.File, e build.Expr, depth int) []string {
	if e == nil || depth > maxDepth {
		return nil
	}
	switch x := e.(type) {
	case *build.StringExpr:
		return []string{x.Value}
	case *build.ListExpr:
		return evalAll(f, x.List, depth)
	case *build.TupleExpr:
		return evalAll(f, x.List, depth)
	case *build.DictExpr:
		var out []string
		for _, kv := range x.List {
			out = append(out, evalStrings(f, kv.Key, depth)...)
			out = append(out, evalStrings(f, kv.Value, depth)...)
		}
		return out
	case *build.Ident:
		if v := topLevelValue(f, x.Name); v != nil {
			return evalStrings(f, v, depth+1)
		}
	case *build.BinaryExpr:
		left := evalStrings(f, x.X, depth)
		right := evalStrings(f, x.Y, depth)
		switch x.Op {
		case "+":
			return append(left, right...)
		case "%":
			if len(left) == 1 && len(right) == 1 {
				return []string{strings.Replace(left[0], "%s", right[0], 1)}
			}
		}
	case *build.CallExpr:
		if isGlob(x) { // patterns, not labels: see checkGlob
			return nil
		}
		return evalAll(f, x.List, depth)
	case *build.AssignExpr:
		return evalStrings(f, x.RHS, depth)
	}
	return nil
}

func evalAll(f *build.File, exprs []build.Expr, depth int) []string {
	var out []string
	for _, e := range exprs {
		out = append(out, evalStrings(f, e, depth)...)
	}
	return out
}

// topLevelValue returns the expression bound to name at the top level of
// f, if any.
func topLevelValue(f *build.File, name string) build.Expr {
	if f == nil {
		return nil
	}
	for _, stmt := range f.Stmt {
		if a, ok := stmt.(*build.AssignExpr); ok {
			if id, ok := a.LHS.(*build.Ident); ok && id.Name == name {
				return a.RHS
			}
		}
	}
	return nil
}
