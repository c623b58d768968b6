"""Public Starlark of the repository: load these, never private/.

- `contract_stubs`: the contract's Python code from a proto_library:
  `python_stubs_compile`, then python-sdk/scripts/generate_protos.py on its
  output, as `make generate` does, so that Bazel's output can be compared
  with the committed Python code.
- `python_stubs_compile`: protoc with the SDK's four Python plugins, a
  rules_proto_grpc compile rule (core module only; no C++ gRPC plugin).
- `devserver_wheel`: packs a pluginapi-server binary into its platform
  wheel of mattermost-plugin-devserver, with the script of `make wheels`.
- `mattermost_python_plugin_bundle`: a Python plugin's bundle, written by
  the SDK's `mattermost-plugin bundle` from wheel targets, offline.
- `files_equal_test`: a diff_test per pair of files, for generated code
  that is also committed.
- `pytest_test`: a py_test that runs pytest on its own test module through
  the shared main in pytest_main.py.
"""

load("//tools/bazel/private:contract_stubs.bzl", _contract_stubs = "contract_stubs")
load("//tools/bazel/private:devserver_wheel.bzl", _devserver_wheel = "devserver_wheel")
load("//tools/bazel/private:files_equal_test.bzl", _files_equal_test = "files_equal_test")
load("//tools/bazel/private:plugin_bundle.bzl", _mattermost_python_plugin_bundle = "mattermost_python_plugin_bundle")
load("//tools/bazel/private:pytest_test.bzl", _pytest_test = "pytest_test")
load("//tools/bazel/private:python_stubs.bzl", _python_stubs_compile = "python_stubs_compile")

contract_stubs = _contract_stubs
devserver_wheel = _devserver_wheel
files_equal_test = _files_equal_test
mattermost_python_plugin_bundle = _mattermost_python_plugin_bundle
pytest_test = _pytest_test
python_stubs_compile = _python_stubs_compile
