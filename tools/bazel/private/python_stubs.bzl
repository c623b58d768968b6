"""python_stubs_compile: protoc's Python output of proto_library targets, through rules_proto_grpc.

The rule is rules_proto_grpc's documented extension point
(docs/custom_plugins.rst:52-75@5.8.0): its compile implementation, attributes
and toolchains, with the four plugins of `make generate` as `_plugins`
(python-sdk/scripts/BUILD.bazel):

- protoc's built-in `python`: `<proto>_pb2.py`;
- mypy-protobuf's protoc-gen-mypy and protoc-gen-mypy_grpc: `<proto>_pb2.pyi`
  and `<proto>_pb2_grpc.pyi`;
- the SDK's grpcio-tools plugin (protoc_gen_grpc_python.py): `<proto>_pb2_grpc.py`,
  what `grpc_tools.protoc --grpc_python_out` writes, without building gRPC's
  C++ grpc_python_plugin.

Every plugin writes one file of each kind for every .proto file, with or
without a service, so the outputs are known from the proto_library's srcs.
The files keep protoc's layout under the target's directory
(`<name>/mattermost/plugin/kv_pb2.py`); contract_stubs moves them into the
SDK's package.
"""

load(
    "@rules_proto_grpc//:defs.bzl",
    "ProtoPluginInfo",
    "proto_compile_attrs",
    "proto_compile_impl",
    "proto_compile_toolchains",
)

python_stubs_compile = rule(
    implementation = proto_compile_impl,
    doc = "Runs protoc with the SDK's four Python plugins on the direct sources of `protos`.",
    attrs = dict(
        proto_compile_attrs,
        _plugins = attr.label_list(
            doc = "The plugins, each run in its own protoc action (compile.bzl:180-181@5.8.0).",
            providers = [ProtoPluginInfo],
            cfg = "exec",
            default = [
                Label("//python-sdk/scripts:python_plugin"),
                Label("//python-sdk/scripts:mypy_plugin"),
                Label("//python-sdk/scripts:mypy_grpc_plugin"),
                Label("//python-sdk/scripts:grpc_python_plugin"),
            ],
        ),
    ),
    toolchains = proto_compile_toolchains,
)
