"""The contract_stubs rule: the Python code of the contract, made by Bazel."""

load("@protobuf//bazel/common:proto_info.bzl", "ProtoInfo")

def _contract_stubs_impl(ctx):
    proto_info = ctx.attr.proto[ProtoInfo]
    out_dir = "/".join([ctx.bin_dir.path, ctx.label.package, ctx.attr.out_dir])
    args = ctx.actions.args()
    args.add("--out", out_dir)
    args.add("--proto-dir", proto_info.proto_source_root)
    args.add("--lock", ctx.file.lock)
    args.add("--protoc-gen-mypy", ctx.executable.mypy_plugin)
    args.add("--protoc-gen-mypy_grpc", ctx.executable.mypy_grpc_plugin)
    ctx.actions.run(
        executable = ctx.executable.generator,
        arguments = [args],
        inputs = [ctx.file.lock] + proto_info.direct_sources,
        tools = [
            ctx.attr.mypy_plugin[DefaultInfo].files_to_run,
            ctx.attr.mypy_grpc_plugin[DefaultInfo].files_to_run,
        ],
        outputs = ctx.outputs.outs,
        mnemonic = "ContractStubs",
        progress_message = "Generating the Python code of %{label}",
    )
    return [DefaultInfo(files = depset(ctx.outputs.outs))]

contract_stubs = rule(
    implementation = _contract_stubs_impl,
    doc = """Runs the SDK's code generator on the .proto files of one proto_library.

The generator writes the whole package tree it owns under `out_dir`; `outs`
names every file it writes, relative to the package, so that each one can be
compared with its committed twin in a diff_test.
""",
    attrs = {
        "generator": attr.label(
            doc = "The generate_protos py_binary.",
            executable = True,
            cfg = "exec",
            mandatory = True,
        ),
        "lock": attr.label(
            doc = "The lock file whose pins the generator checks.",
            allow_single_file = True,
            mandatory = True,
        ),
        "mypy_grpc_plugin": attr.label(
            doc = "protoc-gen-mypy_grpc from mypy-protobuf.",
            executable = True,
            cfg = "exec",
            mandatory = True,
        ),
        "mypy_plugin": attr.label(
            doc = "protoc-gen-mypy from mypy-protobuf.",
            executable = True,
            cfg = "exec",
            mandatory = True,
        ),
        "out_dir": attr.string(
            doc = "Directory, relative to the package, that the generator writes into.",
            mandatory = True,
        ),
        "outs": attr.output_list(
            doc = "Every file the generator writes, each under out_dir.",
            mandatory = True,
        ),
        "proto": attr.label(
            doc = "The proto_library whose direct sources are generated.",
            providers = [ProtoInfo],
            mandatory = True,
        ),
    },
)
