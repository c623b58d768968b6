package memory

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var quoted = regexp.MustCompile(`"([a-z_]+)"`)

// TestEventKindListsTheRecordedKinds keeps the documentation of
// [Event.Kind] up to date: it lists exactly the kinds that the package's
// calls of record pass, and each call passes its kind as a literal.
func TestEventKindListsTheRecordedKinds(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil || !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == "events.go" }) {
		t.Skip("the package's sources are not beside the test:", err)
	}
	fset := token.NewFileSet()
	var documented, recorded []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.TypeSpec:
				if st, ok := n.Type.(*ast.StructType); ok && n.Name.Name == "Event" {
					for _, field := range st.Fields.List {
						if len(field.Names) == 1 && field.Names[0].Name == "Kind" {
							for _, m := range quoted.FindAllStringSubmatch(field.Doc.Text(), -1) {
								documented = append(documented, m[1])
							}
						}
					}
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "record" || len(n.Args) != 3 {
					return true
				}
				lit, ok := n.Args[1].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Errorf("%s: record's kind is not a string literal", fset.Position(n.Pos()))
					return true
				}
				kind, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				recorded = append(recorded, kind)
			}
			return true
		})
	}
	slices.Sort(documented)
	slices.Sort(recorded)
	recorded = slices.Compact(recorded)
	if len(recorded) == 0 {
		t.Fatal("found no calls of record")
	}
	if !slices.Equal(documented, recorded) {
		t.Errorf("Event.Kind documents the kinds\n%v\nthe package records\n%v", documented, recorded)
	}
}
