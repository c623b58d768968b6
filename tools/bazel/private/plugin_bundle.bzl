"""The mattermost_python_plugin_bundle rule: a Python plugin's bundle."""

def _package_relative(file, package):
    """The path of a source file inside its package, as the plugin sees it."""
    path = file.short_path
    prefix = package + "/" if package else ""
    if not path.startswith(prefix):
        fail("%s is not in package %s; a plugin's files live in its package" % (path, package))
    return path[len(prefix):]

def _bundle_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".tar.gz")
    args = ctx.actions.args()
    args.add("--out", out)
    args.add("--manifest", ctx.file.manifest)
    for src in ctx.files.srcs:
        args.add("--src", "%s=%s" % (_package_relative(src, ctx.label.package), src.path))
    args.add_all(ctx.files.deps, before_each = "--wheel")
    args.add_all(ctx.attr.platforms, before_each = "--platform")
    args.add_all(ctx.attr.python_versions, before_each = "--python")
    ctx.actions.run(
        executable = ctx.executable._bundler,
        arguments = [args],
        inputs = [ctx.file.manifest] + ctx.files.srcs + ctx.files.deps,
        outputs = [out],
        mnemonic = "PythonPluginBundle",
        progress_message = "Bundling the Python plugin %{label}",
        # The bundle's mtimes, as make and the CLI default to: the same
        # inputs give the same bytes.
        env = {"SOURCE_DATE_EPOCH": "1577836800"},
    )
    return [DefaultInfo(files = depset([out]))]

mattermost_python_plugin_bundle = rule(
    implementation = _bundle_impl,
    doc = """Bundles a Python plugin, with `mattermost-plugin bundle`.

The plugin's files (`manifest` as plugin.json, and `srcs` at their paths in
the package) are staged in a directory, and the SDK's own bundler writes
`<name>.tar.gz` from it, offline: the wheelhouse of each target comes from
the wheel files of `deps` alone (pip's --no-index), typically the SDK's
py_wheel and the `:whl` targets of the pip hub. docs/bundles.md has the
layout.
""",
    attrs = {
        "deps": attr.label_list(
            allow_files = [".whl"],
            doc = "Wheel files: the SDK, its runtime dependencies and the plugin's requirements.",
        ),
        "manifest": attr.label(
            allow_single_file = [".json"],
            mandatory = True,
            doc = "The plugin's plugin.json.",
        ),
        "platforms": attr.string_list(
            doc = "Target platforms, such as linux-x86_64; empty for the host's.",
        ),
        "python_versions": attr.string_list(
            doc = "Target CPython versions, such as 3.11; empty for the toolchain's.",
        ),
        "srcs": attr.label_list(
            allow_files = True,
            doc = "The plugin's code and data files, at their paths in the package.",
        ),
        "_bundler": attr.label(
            default = Label("//python-sdk/scripts:bundle_plugin"),
            executable = True,
            cfg = "exec",
        ),
    },
)
