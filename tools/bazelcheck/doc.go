// Package bazelcheck checks the Bazel files of the repository without
// running Bazel.
//
// Bazel cannot run on the project's machines, so the BUILD, .bzl and
// MODULE.bazel files are held correct statically. Parsing them with
// buildtools' BUILD parser, [Check] reports:
//   - a label that resolves to no package, target or file of the
//     repository, or to a repository that MODULE.bazel does not declare;
//   - a load() of an undeclared repository or of a missing .bzl file;
//   - a .py file under python-sdk/ that belongs to no target, and a test
//     module that belongs to no py_test;
//   - a .proto file that belongs to no proto_library;
//   - versions that the native build and Bazel must share but do not;
//   - a use_repo that imports a repository its extension does not
//     generate (go_deps evaluated on go.mod, minus the Go modules that
//     bazel_deps provide themselves; pip hubs; Python toolchains), or
//     that misses a direct Go dependency;
//   - a use of rules_proto_grpc that Bazel would refuse or that would not
//     write the committed stubs: a load of a symbol its defs.bzl does not
//     export or of an internal file, a proto_plugin attribute or quirk it
//     does not have, a rule on proto_compile_impl without _plugins,
//     proto_compile_attrs or proto_compile_toolchains, a language module
//     or @grpc (the C++ grpc_python_plugin), and a protoc whose version is
//     not the committed _pb2.py files' one (with the .bazelrc flags that
//     such a protoc needs).
//
// [CompareWheel] checks that the files and metadata of the wheel that
// //python-sdk:wheel would build, derived from the BUILD attributes, equal
// those of the wheel that `python -m build` made.
package bazelcheck
