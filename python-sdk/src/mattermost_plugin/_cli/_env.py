"""The environment of the Python processes that the commands start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: The directories where installers put packages; the interpreter finds
#: those by itself.
_INSTALL_DIRS = ("site-packages", "dist-packages")


def sdk_root() -> Path:
    """The directory that holds this ``mattermost_plugin`` package."""
    return Path(__file__).resolve().parent.parent.parent


def child_environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (this process's environment) for a child run by this same interpreter.

    The child starts in the plugin directory, where the SDK that runs this
    command must still import: when it comes from a source tree rather than
    an installation, that tree is put first on ``PYTHONPATH``.
    """
    environ = dict(os.environ if base is None else base)
    root = sdk_root()
    if root.name not in _INSTALL_DIRS:
        rest = environ.get("PYTHONPATH", "")
        environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), rest) if p)
    return environ
