"""The SDK's test matrix, run by nox (pinned in requirements.lock).

Every supported minor version runs the SDK's tests, the end-to-end tests
against the Go server included, against the built wheel, never the source
tree, so that packaging mistakes surface:

* ``tests-3.9`` to ``tests-3.12``: the runtime packages pinned in the lock;
* ``tests-floors``: the latest minor at the declared dependency floors;
* ``tests-newest``: the latest minor at the newest releases that the
  declared ranges allow.

tools/ci/matrix.sh runs these sessions (`make test-matrix`): it builds the
wheel, finds the interpreters, reports missing ones as skipped by name, and
runs the sessions in parallel. A session needs three environment variables:
SDK_WHEEL (the wheel), SDK_RUNTIME_REQUIREMENTS (the lock's runtime entries,
from tools/demo/runtime_requirements.py) and MATTERMOST_PLUGINAPI_SERVER
(the Go server binary).

test_packaging, test_codegen and test_grpc_plugin test the development
tooling (the wheel build, the code generators) and need its pinned
versions; they run in the main `make test` run, not here. test_wheels is a
matrix of its own (`make test-wheels`): fresh virtualenvs from the built
wheels alone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox

#: Supported minor versions below the latest, at the lock's pins.
LOCKED = ["3.9", "3.10", "3.11", "3.12"]
#: The latest supported minor, at the floors and at the newest releases.
LATEST = "3.13"

HERE = Path(__file__).parent
PYPROJECT = HERE / "pyproject.toml"
TEST_REQUIREMENTS = HERE / "tests" / "requirements-matrix.txt"
#: Tests that run in the main run only: those of the development tooling,
#: of what needs this checkout or the package index, and the end-to-end
#: fault table, which tests the Go host (the runtime's side of the faults,
#: test_runtime_faults, runs on every Python).
DEV_ONLY_TESTS = [
    "tests/tooling/test_packaging.py",
    "tests/tooling/test_codegen.py",
    "tests/tooling/test_grpc_plugin.py",
    "tests/tooling/test_bundle.py",
    "tests/tooling/test_bundle_e2e.py",
    "tests/tooling/test_cli_install.py",
    "tests/tooling/test_docs.py",
    "tests/runtime/test_faults_e2e.py",
    "tests/tooling/test_wheels.py",
]

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "tests-floors", "tests-newest"]


def declared_floors() -> list[str]:
    """The runtime dependencies of pyproject.toml, pinned at their floors."""
    block = re.search(r"^dependencies = \[(.*?)\]", PYPROJECT.read_text(), flags=re.M | re.S)
    assert block, "pyproject.toml has no dependencies"
    floors = re.findall(r'"([A-Za-z0-9_.\-]+)>=([^,"]+)', block.group(1))
    return [f"{name}=={version}" for name, version in floors]


def run_suite(session: nox.Session, dependencies: str) -> None:
    """Install the wheel with one dependency set, then run the SDK's tests."""
    wheel = os.environ["SDK_WHEEL"]
    if dependencies == "locked":
        session.install("--require-hashes", "-r", os.environ["SDK_RUNTIME_REQUIREMENTS"])
        session.install("--no-deps", wheel)
    elif dependencies == "floors":
        session.install(wheel, *declared_floors())
    else:
        session.install("--upgrade", wheel)
    session.install("-r", str(TEST_REQUIREMENTS))
    session.run(
        "python",
        "-c",
        "import sys, grpc, google.protobuf, mattermost_plugin as m; "
        "assert 'site-packages' in m.__file__, m.__file__; "
        "print('python', sys.version.split()[0], 'grpcio', grpc.__version__, "
        "'protobuf', google.protobuf.__version__, 'sdk', m.__file__)",
    )
    ignores = [f"--ignore={path}" for path in DEV_ONLY_TESTS]
    # pyproject's default selection: the megabyte sweeps (marker megabytes,
    # nearly half the tests, the Go server's bounds more than the SDK's)
    # run once, in `make test-py`, not on every interpreter, so that the
    # six sessions fit in the CI's 20 minutes on two cores.
    # GRPC_ENABLE_FORK_SUPPORT=0: the tests start processes (fork, then
    # exec) while grpc's threads run; with grpc's fork handlers on, a child
    # was aborted between the two once on Python 3.9 (Epoll1Poller:
    # epoll_wait error: Bad file descriptor). Nothing here forks without exec.
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        *ignores,
        *session.posargs,
        env={"GRPC_ENABLE_FORK_SUPPORT": "0"},
    )


@nox.session(python=LOCKED)
def tests(session: nox.Session) -> None:
    """The SDK's tests at the lock's runtime pins."""
    run_suite(session, "locked")


@nox.session(python=LATEST, name="tests-floors")
def tests_floors(session: nox.Session) -> None:
    """The SDK's tests at the declared dependency floors."""
    run_suite(session, "floors")


@nox.session(python=LATEST, name="tests-newest")
def tests_newest(session: nox.Session) -> None:
    """The SDK's tests at the newest releases that the declared ranges allow."""
    run_suite(session, "newest")
