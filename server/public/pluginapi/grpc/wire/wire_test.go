package wire

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// pythonConfig is the Python SDK's copy of these values, relative to this
// package's directory (the same path in Bazel's runfiles tree).
const pythonConfig = "../../../../../python-sdk/src/mattermost_plugin/config.py"

func pythonConstant(t *testing.T, src, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` = (.+)$`).FindStringSubmatch(src)
	if m == nil {
		t.Fatalf("config.py does not define %s", name)
	}
	return m[1]
}

func TestPythonAgrees(t *testing.T) {
	b, err := os.ReadFile(filepath.FromSlash(pythonConfig))
	if err != nil {
		t.Fatalf("reading the Python constants: %v", err)
	}
	src := string(b)
	for name, want := range map[string]string{
		"ENV_TARGET":   EnvTarget,
		"ENV_TOKEN":    EnvToken,
		"METADATA_KEY": MetadataKey,
		"AUTH_SCHEME":  AuthScheme,
	} {
		if got := pythonConstant(t, src, name); got != `"`+want+`"` {
			t.Errorf("config.py %s = %s; want %q", name, got, want)
		}
	}
	// Fields with omitempty are optional: READY_OPTIONAL_FIELDS lists them.
	var required, optional []string
	typ := reflect.TypeFor[Ready]()
	for i := range typ.NumField() {
		name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if opts == "omitempty" {
			optional = append(optional, `"`+name+`"`)
		} else {
			required = append(required, `"`+name+`"`)
		}
	}
	if got, want := pythonConstant(t, src, "READY_FIELDS"), "("+strings.Join(required, ", ")+")"; got != want {
		t.Errorf("config.py READY_FIELDS = %s; want %s", got, want)
	}
	if got, want := pythonConstant(t, src, "READY_OPTIONAL_FIELDS"), "("+strings.Join(optional, ", ")+",)"; got != want {
		t.Errorf("config.py READY_OPTIONAL_FIELDS = %s; want %s", got, want)
	}
}
