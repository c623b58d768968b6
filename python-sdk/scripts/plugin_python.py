"""A Python interpreter that can import the SDK, for the Go tests under Bazel.

The plugin host's tests start test plugins with an interpreter
(``$MATTERMOST_PLUGIN_PYTHON``): ``python -m ...``, ``python -c ...``,
``python script.py``. Under Bazel no host Python or virtualenv is in the
runfiles, so //python-sdk/scripts:plugin_python is that interpreter: this
py_binary, started by rules_python's launcher with the hermetic toolchain
and the SDK and its pip dependencies on ``sys.path``, replaces itself with
the same interpreter, every argument passed through, and that ``sys.path``
as ``PYTHONPATH``. The process keeps its id, so signals and the plugin's
parent check see the interpreter itself.
"""

from __future__ import annotations

import os
import sys


def import_path() -> list[str]:
    """``sys.path`` without this script's own directory and empty entries."""
    here = os.path.dirname(os.path.abspath(__file__))
    return [p for p in sys.path if p and os.path.abspath(p) != here]


def main() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(import_path())
    os.execve(sys.executable, [sys.executable, *sys.argv[1:]], env)


if __name__ == "__main__":
    main()
