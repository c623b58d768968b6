package bazelcheck

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// ruleSet is what the repository may use of one external .bzl file: the
// symbols it exports and, for each rule among them, its attributes, read
// from the module's source at the version MODULE.bazel pins.
type ruleSet struct {
	module, version string
	// symbols maps each exported name to where it is defined.
	symbols map[string]string
	// attrs maps a rule to its attributes (Bazel's common attributes
	// aside).
	attrs map[string][]string
	// values maps "rule.attr" to the values the rule accepts in it.
	values map[string][]string
}

// knownRuleSets returns the external .bzl files whose loads the gate checks
// symbol by symbol, keyed by the label that load() names.
func knownRuleSets() map[string]ruleSet {
	return map[string]ruleSet{
		// modules/core at 5.8.0 (41f6b71e), the core module published as
		// rules_proto_grpc.
		"@rules_proto_grpc//:defs.bzl": {
			module:  "rules_proto_grpc",
			version: "5.8.0",
			symbols: map[string]string{
				"ProtoPluginInfo":               "defs.bzl:10",
				"ProtoCompileInfo":              "defs.bzl:11",
				"proto_plugin":                  "defs.bzl:14",
				"proto_compile_attrs":           "defs.bzl:17",
				"proto_compile_impl":            "defs.bzl:18",
				"proto_compile_toolchains":      "defs.bzl:19-23",
				"proto_compile":                 "defs.bzl:28",
				"bazel_build_rule_common_attrs": "defs.bzl:31",
				"filter_files":                  "defs.bzl:32",
			},
			attrs: map[string][]string{
				// internal/plugin.bzl:30-82
				"proto_plugin": {
					"tool", "protoc_plugin_name", "options", "outputs", "out",
					"output_directory", "env", "extra_protoc_args", "exclusions",
					"data", "use_built_in_shell_environment",
					"separate_options_flag", "empty_template", "quirks",
				},
			},
			values: map[string][]string{
				// internal/plugin.bzl:80 and internal/compile.bzl:331,357
				"proto_plugin.quirks": {"QUIRK_OUT_PASS_ROOT", "QUIRK_DIRECT_MODE"},
			},
		},
	}
}

// compileAttrs are the keys of rules_proto_grpc's proto_compile_attrs
// (internal/compile.bzl:15-60@5.8.0), which a rule built on
// proto_compile_impl gets with dict(proto_compile_attrs, ...).
var compileAttrs = []string{
	"protos", "options", "verbose", "prefix_path", "extra_protoc_args",
	"extra_protoc_files", "extra_plugins", "output_mode",
}

// commonAttrs are the attributes Bazel gives every rule.
var commonAttrs = []string{
	"name", "visibility", "tags", "testonly", "deprecation", "features",
	"compatible_with", "target_compatible_with", "exec_compatible_with",
	"exec_group_compatible_with", "restricted_to", "package_metadata",
	"applicable_licenses", "toolchains", "exec_properties", "licenses",
	"aspect_hints", "distribs",
}

// forbiddenModules are bazel_deps that the contract's Python code must not
// pull in: the language modules of rules_proto_grpc build gRPC's C++
// grpc_python_plugin (modules/python's grpc_plugin@5.8.0) and the @grpc
// module is that plugin's source.
var forbiddenModules = map[string]string{
	"grpc":                    "it builds gRPC's C++ grpc_python_plugin; _pb2_grpc.py comes from python-sdk/scripts/protoc_gen_grpc_python.py",
	"rules_proto_grpc_python": "its grpc_plugin is gRPC's C++ grpc_python_plugin (modules/python/BUILD.bazel@5.8.0); use the core module rules_proto_grpc",
}

// checkRuleSetModules reports language modules of rules_proto_grpc and
// the @grpc module.
func (c *checker) checkRuleSetModules() {
	for _, name := range sortedKeys(c.mod.versions) {
		if why, bad := forbiddenModules[name]; bad {
			c.report("MODULE.bazel", nil, "bazel_dep %s: %s", name, why)
		} else if strings.HasPrefix(name, "rules_proto_grpc_") {
			c.report("MODULE.bazel", nil, "bazel_dep %s: only the core module rules_proto_grpc is used here; its language modules bring their own generators", name)
		}
	}
	for label, rs := range knownRuleSets() {
		if v, ok := c.mod.versions[rs.module]; ok && v != rs.version {
			c.report("MODULE.bazel", nil, "bazel_dep %s is %s, but bazelcheck knows %s at %s; read the new version and update knownRuleSets", rs.module, v, label, rs.version)
		}
	}
}

// loadedSymbols returns, for each name a file binds by load() from a known
// rule set, the rule set and the symbol; it reports a symbol the file does
// not export.
func (c *checker) loadedSymbols(file string, f *build.File) map[string]loaded {
	sets := knownRuleSets()
	out := map[string]loaded{}
	for _, stmt := range f.Stmt {
		load, ok := stmt.(*build.LoadStmt)
		if !ok {
			continue
		}
		rs, known := sets[load.Module.Value]
		if !known {
			if repo, ok := externalRepo(load.Module.Value); ok && repo == "rules_proto_grpc" {
				c.report(file, load.Module, "load(%q): rules_proto_grpc's public file is @rules_proto_grpc//:defs.bzl; its other files are internal", load.Module.Value)
			}
			continue
		}
		for i, from := range load.From {
			if _, ok := rs.symbols[from.Name]; !ok {
				c.report(file, from, "load(%q, %q): %s %s does not export %s; it exports %s", load.Module.Value, from.Name, rs.module, rs.version, from.Name, strings.Join(sortedKeys(rs.symbols), ", "))
				continue
			}
			out[load.To[i].Name] = loaded{set: rs, symbol: from.Name}
		}
	}
	return out
}

type loaded struct {
	set    ruleSet
	symbol string
}

// checkRuleSetCalls checks the calls of rules loaded from a known rule set:
// every keyword is an attribute of the rule, and every value of an
// attribute with a closed set of values is one of them.
func (c *checker) checkRuleSetCalls(file string, f *build.File) {
	bound := c.loadedSymbols(file, f)
	build.Walk(f, func(x build.Expr, _ []build.Expr) {
		call, ok := x.(*build.CallExpr)
		if !ok {
			return
		}
		id, ok := call.X.(*build.Ident)
		if !ok {
			return
		}
		l, ok := bound[id.Name]
		if !ok {
			return
		}
		attrs, isRule := l.set.attrs[l.symbol]
		if !isRule {
			return
		}
		for _, arg := range call.List {
			a, ok := arg.(*build.AssignExpr)
			if !ok {
				continue
			}
			key, ok := a.LHS.(*build.Ident)
			if !ok {
				continue
			}
			if !contains(attrs, key.Name) && !contains(commonAttrs, key.Name) {
				c.report(file, a, "%s has no attribute %q (%s %s); its attributes: %s", l.symbol, key.Name, l.set.module, l.set.version, strings.Join(sorted(attrs), ", "))
				continue
			}
			allowed, closed := l.set.values[l.symbol+"."+key.Name]
			if !closed {
				continue
			}
			for _, v := range stringsOf(f, a.RHS) {
				if !contains(allowed, v) {
					c.report(file, a, "%s: %s %q is not one that %s %s knows (%s)", l.symbol, key.Name, v, l.set.module, l.set.version, strings.Join(allowed, ", "))
				}
			}
		}
	})
	c.checkCompileRules(file, f, bound)
}

// checkCompileRules checks each rule() built on proto_compile_impl: the
// implementation reads ctx.attr._plugins (internal/compile.bzl:105-111
// @5.8.0) and the protoc and coreutils toolchains, so the rule must
// declare _plugins and take its toolchains from proto_compile_toolchains.
func (c *checker) checkCompileRules(file string, f *build.File, bound map[string]loaded) {
	isBound := func(e build.Expr, symbol string) bool {
		id, ok := e.(*build.Ident)
		return ok && bound[id.Name].symbol == symbol
	}
	build.Walk(f, func(x build.Expr, _ []build.Expr) {
		call, ok := x.(*build.CallExpr)
		if !ok || callee(call) != "rule" || !isBound(kwarg(call, "implementation"), "proto_compile_impl") {
			return
		}
		attrs, ok := kwarg(call, "attrs").(*build.CallExpr)
		base := false
		var own []string
		if ok && callee(attrs) == "dict" {
			for _, arg := range attrs.List {
				if a, kw := arg.(*build.AssignExpr); kw {
					if id, ok := a.LHS.(*build.Ident); ok {
						own = append(own, id.Name)
					}
				} else if isBound(arg, "proto_compile_attrs") {
					base = true
				}
			}
		}
		if !base {
			c.report(file, call, "a rule on proto_compile_impl needs attrs = dict(proto_compile_attrs, ...) (internal/compile.bzl:15-60@5.8.0)")
		}
		if !contains(own, "_plugins") {
			c.report(file, call, "a rule on proto_compile_impl must declare _plugins, the label_list of proto_plugin targets it reads (internal/compile.bzl:107@5.8.0); it declares %s", strings.Join(sorted(own), ", "))
		}
		for _, name := range own {
			if name != "_plugins" && contains(compileAttrs, name) {
				c.report(file, call, "attribute %s is already in proto_compile_attrs", name)
			}
		}
		if !isBound(kwarg(call, "toolchains"), "proto_compile_toolchains") {
			c.report(file, call, "a rule on proto_compile_impl needs toolchains = proto_compile_toolchains (protoc and coreutils, defs.bzl:19-23@5.8.0)")
		}
	})
}

// protocExtension is toolchains_protoc's extension.
const protocExtension = "@toolchains_protoc//protoc:extensions.bzl%protoc"

// protocRepos returns the repositories that toolchains_protoc's extension
// makes for one toolchain tag name: the hub and one per platform
// (protoc/toolchain.bzl:47-57, protoc/private/versions.bzl:8-53@v0.5.0).
func protocRepos(name string) map[string]bool {
	if name == "" {
		name = "toolchains_protoc_hub" // protoc/extensions.bzl:6
	}
	repos := map[string]bool{name: true}
	for _, p := range []string{"linux_aarch_64", "linux_ppcle_64", "linux_s390_64", "linux_x86_64", "osx_aarch_64", "osx_x86_64", "win64"} {
		repos[name+"."+p] = true
	}
	return repos
}

// stubVersion finds the protobuf Python version that the committed
// _pb2.py files were generated for ("# Protobuf Python Version: 6.31.1").
var stubVersion = regexp.MustCompile(`(?m)^# Protobuf Python Version: (\d+)\.(\d+)\.(\d+)$`)

// stubsDir holds the committed Python code of the contract.
const stubsDir = "python-sdk/src/mattermost_plugin/grpc"

// checkProtoc holds Bazel's protoc to the committed stubs: protoc's
// built-in python generator writes its own version into each _pb2.py, so
// only the protoc of grpcio-tools (31.1 for 6.31.1) writes them
// byte-identical. The root must register that protoc, or protobuf's
// prebuilt protoc (36.0) wins; with a protoc older than 32 proto_library's
// strict deps flag --option_dependencies is unknown, so strict proto deps
// must be off; and the renderers need the comments in descriptor sets.
func (c *checker) checkProtoc() {
	const file = "MODULE.bazel"
	want := c.committedProtoc()
	if want == "" {
		return
	}
	var proxy string
	for p, ext := range c.mod.extensions {
		if ext.String() == protocExtension {
			proxy = p
		}
	}
	if proxy == "" {
		c.report(file, nil, "no toolchains_protoc extension: Bazel's protoc would be protobuf's prebuilt 36.0, whose _pb2.py differ from the committed ones (protoc %s); add protoc.toolchain(version = %q)", want, "v"+want)
		return
	}
	tags := c.mod.tags[proxy+".toolchain"]
	names := map[string]bool{}
	for _, tag := range tags {
		if tag["version"] != "v"+want {
			c.report(file, nil, "%s.toolchain(version = %q): the committed _pb2.py files come from protoc %s (grpcio-tools' libprotoc); use %q", proxy, tag["version"], want, "v"+want)
		}
		name := tag["name"]
		if name == "" {
			name = "toolchains_protoc_hub"
		}
		names[name] = true
	}
	registered := false
	for _, stmt := range c.ws.Module.Stmt {
		call, ok := stmt.(*build.CallExpr)
		if !ok || callee(call) != "register_toolchains" {
			continue
		}
		for _, s := range stringsOf(c.ws.Module, &build.ListExpr{List: call.List}) {
			if repo, ok := externalRepo(s); ok && names[repo] {
				registered = true
			}
		}
	}
	if !registered {
		c.report(file, nil, "the root module registers no toolchains_protoc toolchain; protobuf's prebuilt protoc 36.0 comes first then (its MODULE.bazel:120@v36.0); add register_toolchains(\"@toolchains_protoc_hub//:all\")")
	}
	major, _, _ := strings.Cut(want, ".")
	if n, err := strconv.Atoi(major); err == nil && n < 32 {
		c.requireBazelrc("--@protobuf//bazel/flags:strict_proto_deps=off", "protoc "+want+" has no --option_dependencies, which proto_library passes with strict proto deps (bazel/private/proto_library_rule.bzl:188-227@v36.0)")
	}
	c.requireBazelrc("--@protobuf//bazel/flags:experimental_proto_descriptor_sets_include_source_info", "contract_stubs renders docstrings from the proto_library's descriptor set, which has no comments without it (bazel/private/proto_library_rule.bzl:180-181@v36.0)")
}

// committedProtoc returns the protoc version ("31.1") that the committed
// _pb2.py files name, or "" when there are none (reporting files that
// disagree).
func (c *checker) committedProtoc() string {
	matches, _ := filepath.Glob(filepath.Join(c.ws.Root, filepath.FromSlash(stubsDir), "*_pb2.py"))
	sort.Strings(matches)
	versions := map[string]bool{}
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			c.report(path.Join(stubsDir, filepath.Base(m)), nil, "cannot read: %v", err)
			return ""
		}
		if v := stubVersion.FindSubmatch(data); v != nil {
			versions[string(v[2])+"."+string(v[3])] = true
		}
	}
	if len(versions) == 0 {
		return ""
	}
	if len(versions) > 1 {
		c.report(stubsDir, nil, "the committed _pb2.py files name %d protobuf versions (%s); want one", len(versions), strings.Join(sortedKeys(versions), ", "))
		return ""
	}
	return sortedKeys(versions)[0]
}

// requireBazelrc reports a missing `common <flag>` line of .bazelrc.
func (c *checker) requireBazelrc(flag, why string) {
	data, err := os.ReadFile(filepath.Join(c.ws.Root, ".bazelrc"))
	if err != nil {
		return // checkBazelrc reports it
	}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) >= 2 && (fields[0] == "common" || fields[0] == "build") && fields[1] == flag {
			return
		}
	}
	c.report(".bazelrc", nil, "no `common %s`: %s", flag, why)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sorted(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}
