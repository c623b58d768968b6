package bazelcheck

import (
	"strings"
	"testing"
)

// protoFixture is the fixture with rules_proto_grpc in use as the
// repository uses it: protoc pinned to the committed stubs' version,
// plugins in a BUILD file, a compile rule in a .bzl file.
func protoFixture() map[string]string {
	files := fixture()
	files["MODULE.bazel"] += `
bazel_dep(name = "rules_proto_grpc", version = "5.8.0")
bazel_dep(name = "toolchains_protoc", version = "0.5.0")

protoc = use_extension("@toolchains_protoc//protoc:extensions.bzl", "protoc")
protoc.toolchain(version = "v31.1")
use_repo(protoc, "toolchains_protoc_hub")

register_toolchains("@toolchains_protoc_hub//:all")
`
	files[".bazelrc"] += "common --@protobuf//bazel/flags:strict_proto_deps=off\n" +
		"common --@protobuf//bazel/flags:experimental_proto_descriptor_sets_include_source_info\n"
	files[stubsDir+"/p_pb2.py"] = "# source: p.proto\n# Protobuf Python Version: 6.31.1\n"
	files["python-sdk/BUILD.bazel"] = strings.Replace(files["python-sdk/BUILD.bazel"],
		`srcs = ["src/pkg/__init__.py"],`, `srcs = ["src/mattermost_plugin/grpc/p_pb2.py", "src/pkg/__init__.py"],`, 1)
	files["plugins/BUILD.bazel"] = `load("@rules_proto_grpc//:defs.bzl", "proto_plugin")

proto_plugin(
    name = "python_plugin",
    outputs = ["{protopath}_pb2.py"],
    protoc_plugin_name = "python",
    quirks = ["QUIRK_DIRECT_MODE"],
    visibility = ["//visibility:public"],
)
`
	files["plugins/compile.bzl"] = `"""A compile rule."""

load(
    "@rules_proto_grpc//:defs.bzl",
    "ProtoPluginInfo",
    "proto_compile_attrs",
    "proto_compile_impl",
    "proto_compile_toolchains",
)

python_compile = rule(
    implementation = proto_compile_impl,
    attrs = dict(
        proto_compile_attrs,
        _plugins = attr.label_list(
            providers = [ProtoPluginInfo],
            cfg = "exec",
            default = [Label("//plugins:python_plugin")],
        ),
    ),
    toolchains = proto_compile_toolchains,
)
`
	return files
}

func TestProtoFixturePasses(t *testing.T) {
	if problems := check(t, protoFixture()); len(problems) != 0 {
		t.Fatalf("Check(protoFixture) = %v; want no problems", problems)
	}
}

// TestRuleSetFindsBrokenInput: the gate fails on what Bazel would refuse
// in a use of rules_proto_grpc, or on what would make its output differ
// from the committed stubs.
func TestRuleSetFindsBrokenInput(t *testing.T) {
	replace := func(file, old, new string) func(map[string]string) {
		return func(f map[string]string) {
			if !strings.Contains(f[file], old) {
				t.Fatalf("%s has no %q", file, old)
			}
			f[file] = strings.Replace(f[file], old, new, 1)
		}
	}
	tests := []struct {
		name   string
		change func(files map[string]string)
		want   string
	}{
		{"misspelled proto_plugin attribute",
			replace("plugins/BUILD.bazel", "outputs = ", "output = "),
			`proto_plugin has no attribute "output" (rules_proto_grpc 5.8.0)`},
		{"unknown quirk",
			replace("plugins/BUILD.bazel", "QUIRK_DIRECT_MODE", "QUIRK_DIRECT"),
			`proto_plugin: quirks "QUIRK_DIRECT" is not one that rules_proto_grpc 5.8.0 knows`},
		{"load of a symbol rules_proto_grpc does not export",
			replace("plugins/BUILD.bazel", `"proto_plugin")`, `"proto_plugin", "python_grpc_library")`),
			`load("@rules_proto_grpc//:defs.bzl", "python_grpc_library"): rules_proto_grpc 5.8.0 does not export python_grpc_library`},
		{"load of an internal file",
			replace("plugins/compile.bzl", `"@rules_proto_grpc//:defs.bzl",`, `"@rules_proto_grpc//internal:compile.bzl",`),
			`rules_proto_grpc's public file is @rules_proto_grpc//:defs.bzl`},
		{"compile rule without _plugins",
			replace("plugins/compile.bzl", "_plugins = ", "_plugin = "),
			"a rule on proto_compile_impl must declare _plugins"},
		{"compile rule without the toolchains",
			replace("plugins/compile.bzl", "toolchains = proto_compile_toolchains,", ""),
			"needs toolchains = proto_compile_toolchains"},
		{"compile rule without proto_compile_attrs",
			replace("plugins/compile.bzl", "        proto_compile_attrs,\n", ""),
			"needs attrs = dict(proto_compile_attrs, ...)"},
		{"language module",
			replace("MODULE.bazel", `bazel_dep(name = "toolchains_protoc"`, "bazel_dep(name = \"rules_proto_grpc_python\", version = \"5.8.0\")\nbazel_dep(name = \"toolchains_protoc\""),
			"bazel_dep rules_proto_grpc_python: its grpc_plugin is gRPC's C++ grpc_python_plugin"},
		{"the grpc module",
			replace("MODULE.bazel", `bazel_dep(name = "toolchains_protoc"`, "bazel_dep(name = \"grpc\", version = \"1.74.1\")\nbazel_dep(name = \"toolchains_protoc\""),
			"bazel_dep grpc: it builds gRPC's C++ grpc_python_plugin"},
		{"another rules_proto_grpc version",
			replace("MODULE.bazel", `"rules_proto_grpc", version = "5.8.0"`, `"rules_proto_grpc", version = "5.9.0"`),
			"bazel_dep rules_proto_grpc is 5.9.0, but bazelcheck knows @rules_proto_grpc//:defs.bzl at 5.8.0"},
		{"protoc of another version than the stubs'",
			replace("MODULE.bazel", `version = "v31.1"`, `version = "v33.0"`),
			`protoc.toolchain(version = "v33.0"): the committed _pb2.py files come from protoc 31.1`},
		{"protoc not registered by the root",
			replace("MODULE.bazel", `register_toolchains("@toolchains_protoc_hub//:all")`, ""),
			"the root module registers no toolchains_protoc toolchain"},
		{"no protoc pin",
			func(f map[string]string) {
				replace("MODULE.bazel", `protoc = use_extension("@toolchains_protoc//protoc:extensions.bzl", "protoc")`, "")(f)
				replace("MODULE.bazel", `protoc.toolchain(version = "v31.1")`, "")(f)
				replace("MODULE.bazel", `use_repo(protoc, "toolchains_protoc_hub")`, "")(f)
			},
			"no toolchains_protoc extension"},
		{"use_repo of a repository toolchains_protoc does not make",
			replace("MODULE.bazel", `use_repo(protoc, "toolchains_protoc_hub")`, `use_repo(protoc, "toolchains_protoc")`),
			`use_repo(protoc, "toolchains_protoc"): toolchains_protoc's extension generates no such repository`},
		{"strict proto deps on with protoc 31",
			replace(".bazelrc", "common --@protobuf//bazel/flags:strict_proto_deps=off\n", ""),
			"no `common --@protobuf//bazel/flags:strict_proto_deps=off`"},
		{"descriptor sets without comments",
			replace(".bazelrc", "common --@protobuf//bazel/flags:experimental_proto_descriptor_sets_include_source_info\n", ""),
			"experimental_proto_descriptor_sets_include_source_info`: contract_stubs renders docstrings"},
		{"stubs of two protobuf versions",
			func(f map[string]string) { f[stubsDir+"/q_pb2.py"] = "# Protobuf Python Version: 6.33.0\n" },
			"the committed _pb2.py files name 2 protobuf versions (31.1, 33.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := protoFixture()
			tt.change(files)
			wantProblem(t, "Check()", check(t, files), tt.want)
		})
	}
}
