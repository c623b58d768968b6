"""The pytest_test macro: one py_test per test module, run by pytest."""

load("@rules_python//python:py_test.bzl", "py_test")

_MAIN = Label("//tools/bazel:pytest_main.py")

def pytest_test(name, src, config, deps = [], data = [], **kwargs):
    """A py_test that runs pytest on exactly one test module.

    The shared main (//tools/bazel:pytest_main.py) passes the module to
    pytest by path, honours --test_filter, test sharding and the JUnit XML
    output, and fails when no test ran.

    Args:
        name: Name of the test.
        src: The test module, such as "test_client.py".
        config: The pytest configuration file (a pyproject.toml).
        deps: Libraries the test imports; pytest and pytest-timeout (the
            configuration sets a per-test timeout) are always added.
        data: Files the test reads at run time.
        **kwargs: Other py_test attributes, such as env, size or shard_count.
    """
    py_test(
        name = name,
        srcs = [src, _MAIN],
        main = _MAIN,
        args = [
            "--config=$(rootpath %s)" % config,
            "$(rootpath %s)" % src,
        ],
        data = data + [config],
        deps = deps + ["@pip//pytest", "@pip//pytest_timeout"],
        **kwargs
    )
