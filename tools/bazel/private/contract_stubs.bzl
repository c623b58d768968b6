"""contract_stubs: the Python code of the contract, made by Bazel as `make generate` makes it."""

load(":python_stubs.bzl", "python_stubs_compile")

def contract_stubs(name, proto, generator, lock, out_dir, outs, **kwargs):
    """The contract's Python code: python_stubs_compile, then the SDK's generator on its output.

    `<name>_protoc` runs protoc 31.1 with the four plugins (python_stubs.bzl).
    `name` runs generate_protos.py on those files and on the proto_library's
    descriptor set, which carries the .proto comments (.bazelrc): it moves
    the modules into the package with package-relative imports, drops the
    _pb2_grpc files of .proto files without a service, and renders the
    clients, models and hooks, as `make generate` does after its
    grpc_tools.protoc run.

    Args:
      name: the target that writes `outs`.
      proto: the proto_library of the contract; its default output is its
        descriptor set (proto_library_rule.bzl:110-112@v36.0).
      generator: the generate_protos py_binary.
      lock: the lock file whose pins the generator checks.
      out_dir: directory, relative to the package, that the generator writes.
      outs: every file the generator writes, each under out_dir, so that each
        one can be compared with its committed twin.
      **kwargs: passed to the generator's genrule (visibility, tags).
    """
    compiled = name + "_protoc"
    python_stubs_compile(
        name = compiled,
        protos = [proto],
        visibility = ["//visibility:private"],
    )
    native.genrule(
        name = name,
        srcs = [":" + compiled, proto, lock],
        outs = outs,
        cmd = " ".join([
            "$(execpath %s)" % generator,
            "--out $(RULEDIR)/%s" % out_dir,
            # PREFIXED output mode: the files are under <package>/<target>/
            # (compile.bzl:488-492@5.8.0).
            "--protoc-out $(RULEDIR)/%s" % compiled,
            "--descriptor-set $(execpath %s)" % proto,
            "--lock $(execpath %s)" % lock,
        ]),
        tools = [generator],
        message = "Generating the Python code of the contract",
        **kwargs
    )
