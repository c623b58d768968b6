"""Run pytest on the test modules of one Bazel py_test.

Usage: pytest_main.py --config=PYPROJECT TEST_FILE...

It passes the target's own files to pytest explicitly, so that a test
target runs exactly its own tests, and it speaks Bazel's test protocol:

- --test_filter arrives as TESTBRIDGE_TEST_ONLY and becomes ``-k``;
- XML_OUTPUT_FILE receives the JUnit XML report;
- with shard_count, TEST_TOTAL_SHARDS and TEST_SHARD_INDEX pick every n-th
  test, and TEST_SHARD_STATUS_FILE is touched to say sharding is supported;
- no test collected is a failure, except on a shard left empty.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

NO_TESTS_COLLECTED = 5


class _Shard:
    """Keeps the tests of one shard: those whose index % total == index."""

    def __init__(self, index: int, total: int) -> None:
        self.index = index
        self.total = total
        self.kept = 0

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        kept = [item for i, item in enumerate(items) if i % self.total == self.index]
        dropped = [item for item in items if item not in kept]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        self.kept = len(kept)


def pytest_args(argv: list[str], environ: dict[str, str]) -> list[str]:
    """Translate this main's arguments and Bazel's environment for pytest."""
    config = ""
    files = []
    for arg in argv:
        if arg.startswith("--config="):
            config = arg.removeprefix("--config=")
        else:
            files.append(arg)
    if not files:
        raise SystemExit("pytest_main: no test files given")
    args = ["-p", "no:cacheprovider", "--verbose"]
    if config:
        args += ["-c", config, "--rootdir", str(Path(config).parent)]
    if environ.get("TESTBRIDGE_TEST_ONLY"):
        args += ["-k", environ["TESTBRIDGE_TEST_ONLY"]]
    if environ.get("XML_OUTPUT_FILE"):
        args += [f"--junitxml={environ['XML_OUTPUT_FILE']}"]
        if environ.get("TEST_TARGET"):
            args += ["-o", f"junit_suite_name={environ['TEST_TARGET']}"]
    return args + files


def main() -> int:
    """Run pytest and return its exit code, as Bazel expects it."""
    environ = dict(os.environ)
    args = pytest_args(sys.argv[1:], environ)
    plugins: list[object] = []
    shard = None
    total = int(environ.get("TEST_TOTAL_SHARDS", "0") or 0)
    if total > 1:
        shard = _Shard(int(environ.get("TEST_SHARD_INDEX", "0")), total)
        plugins.append(shard)
        status_file = environ.get("TEST_SHARD_STATUS_FILE")
        if status_file:
            Path(status_file).touch()
    code = int(pytest.main(args, plugins=plugins))
    if code == NO_TESTS_COLLECTED and shard is not None and shard.kept == 0:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
