package memory

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
)

// multiOnly lists the methods of [Hooks] that a host writes itself rather
// than taking from hooks.Multi (see the Hooks doc comment); every other
// method must be one of Multi's, with the same signature.
var multiOnly = map[string]bool{"ExecuteCommand": true, "OnConfigurationChange": true}

// TestHooksMatchMulti checks that every hook the Backend calls, except the
// ones a host writes itself, has hooks.Multi's signature, so that
// embedding a *hooks.Multi meets Hooks; the host's build checks the same,
// and this test names the method that breaks it.
func TestHooksMatchMulti(t *testing.T) {
	hooksType := reflect.TypeFor[Hooks]()
	multiType := reflect.TypeFor[*hooks.Multi]()
	for i := range hooksType.NumMethod() {
		m := hooksType.Method(i)
		if multiOnly[m.Name] {
			continue
		}
		mm, ok := multiType.MethodByName(m.Name)
		if !ok {
			t.Errorf("hooks.Multi has no %s: the backend calls a hook the generated dispatch lacks", m.Name)
			continue
		}
		// mm.Type has the receiver first; m.Type, an interface method's, has none.
		if got, want := funcShape(mm.Type, 1), funcShape(m.Type, 0); got != want {
			t.Errorf("%s: hooks.Multi has %s, memory.Hooks has %s", m.Name, got, want)
		}
	}
}

// funcShape renders a function type's parameters after skip and its
// results, to compare a method with an interface method.
func funcShape(ft reflect.Type, skip int) string {
	var b strings.Builder
	b.WriteString("(")
	for i := skip; i < ft.NumIn(); i++ {
		b.WriteString(ft.In(i).String() + ",")
	}
	b.WriteString(")(")
	for i := range ft.NumOut() {
		b.WriteString(ft.Out(i).String() + ",")
	}
	b.WriteString(")")
	return b.String()
}

// TestNoHooksAnswersAsMultiWithoutPlugins checks the default [NoHooks]
// against a hooks.Multi over no plugins, hook by hook: a Backend without
// plugins must decide every change as a host with no plugin loaded does,
// so the two "nothing to run" answers are kept in one place in effect.
func TestNoHooksAnswersAsMultiWithoutPlugins(t *testing.T) {
	multi := hooks.NewMulti(func() []hooks.Plugin { return nil }, nil)
	hooksType := reflect.TypeFor[Hooks]()
	none := reflect.ValueOf(NoHooks{})
	multiValue := reflect.ValueOf(multi)
	ctx := context.Background()
	for i := range hooksType.NumMethod() {
		name := hooksType.Method(i).Name
		if multiOnly[name] {
			continue
		}
		t.Run(name, func(t *testing.T) {
			ft := hooksType.Method(i).Type
			args := []reflect.Value{reflect.ValueOf(ctx)}
			for j := 1; j < ft.NumIn(); j++ {
				args = append(args, sampleArg(t, ft.In(j)))
			}
			got := none.MethodByName(name).Call(args)
			want := multiValue.MethodByName(name).Call(args)
			for k := range got {
				if !sameAnswer(got[k], want[k]) {
					t.Errorf("result %d: NoHooks answers %v, a Multi without plugins %v", k, got[k], want[k])
				}
			}
		})
	}
	multi.Wait()
}

// sampleArg returns a non-zero value of a hook parameter's type, so that
// an answer that keeps its input is told apart from one that drops it.
func sampleArg(t *testing.T, typ reflect.Type) reflect.Value {
	t.Helper()
	switch {
	case typ.Kind() == reflect.String:
		return reflect.ValueOf("sample").Convert(typ)
	case typ.Kind() == reflect.Pointer && typ.Implements(reflect.TypeFor[proto.Message]()):
		return reflect.New(typ.Elem())
	case typ.Kind() == reflect.Slice && typ.Elem().Implements(reflect.TypeFor[proto.Message]()):
		s := reflect.MakeSlice(typ, 1, 1)
		s.Index(0).Set(reflect.New(typ.Elem().Elem()))
		return s
	case typ.String() == "io.Reader":
		return reflect.ValueOf(bytes.NewReader([]byte("data")))
	case typ.String() == "io.Writer":
		return reflect.ValueOf(new(bytes.Buffer))
	}
	t.Fatalf("no sample value for a parameter of type %s: add one", typ)
	return reflect.Value{}
}

// sameAnswer compares two hook results: the same message (by identity or
// content), the same reason, or both nil.
func sameAnswer(a, b reflect.Value) bool {
	if a.Kind() == reflect.Interface || a.Kind() == reflect.Pointer {
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if m, ok := a.Interface().(proto.Message); ok {
			n, ok := b.Interface().(proto.Message)
			return ok && proto.Equal(m, n)
		}
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}
