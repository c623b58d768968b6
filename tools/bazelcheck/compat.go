package bazelcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// bazelFloor is the oldest Bazel that a pinned module accepts, as its own
// module() declares it.
type bazelFloor struct {
	module, version, floor, source string
}

// bazelFloors returns the floors of the pinned modules that declare one.
func bazelFloors() []bazelFloor {
	return []bazelFloor{
		{module: "protobuf", version: "36.0", floor: "8.0.0", source: `protobuf@v36.0 MODULE.bazel:7 bazel_compatibility = [">=8.0.0"]`},
	}
}

// parseVersion reads "8.5.0" as comparable numbers; missing parts are 0.
func parseVersion(v string) ([3]int, error) {
	var out [3]int
	parts := strings.Split(v, ".")
	if len(parts) > 3 {
		return out, fmt.Errorf("version %q has more than three parts", v)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, fmt.Errorf("version %q: %w", v, err)
		}
		out[i] = n
	}
	return out, nil
}

func versionLess(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// checkBazelCompatibility makes module() state the highest floor of the
// pinned modules, so that an older Bazel stops with Bazel's own clear
// message instead of a failure deep in a rule.
func (c *checker) checkBazelCompatibility() {
	const file = "MODULE.bazel"
	var declared *[3]int
	for _, entry := range c.mod.compatibility {
		v, ok := strings.CutPrefix(entry, ">=")
		if !ok {
			continue
		}
		parsed, err := parseVersion(v)
		if err != nil {
			c.report(file, nil, "bazel_compatibility %q: %v", entry, err)
			return
		}
		declared = &parsed
	}
	for _, f := range bazelFloors() {
		if c.mod.versions[f.module] != f.version {
			continue
		}
		floor, err := parseVersion(f.floor)
		if err != nil {
			c.report(file, nil, "bazelcheck's floor of %s: %v", f.module, err)
			continue
		}
		if declared == nil || versionLess(*declared, floor) {
			c.report(file, nil, "module() must declare bazel_compatibility = [\">=%s\"] or higher: %s", f.floor, f.source)
		}
	}
}

// scriptBootstrap is the .bazelrc line that starts Python programs without
// a host python3.
const scriptBootstrap = "--@rules_python//python/config_settings:bootstrap_impl=script"

// checkBazelrc requires the script bootstrap: rules_python's default
// bootstrap, system_python, runs the launcher with a python3 from PATH,
// which a machine without one (or the restricted action PATH) lacks.
func (c *checker) checkBazelrc() {
	data, err := os.ReadFile(filepath.Join(c.ws.Root, ".bazelrc"))
	if err != nil {
		c.report(".bazelrc", nil, "cannot read .bazelrc: %v", err)
		return
	}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) >= 2 && (fields[0] == "common" || fields[0] == "build") && fields[1] == scriptBootstrap {
			return
		}
	}
	c.report(".bazelrc", nil, "no `common %s`: py_binary and py_test launchers would need a host python3 (rules_python 2.3.2 defaults to system_python, python/config_settings/BUILD.bazel:98-100)", scriptBootstrap)
}
