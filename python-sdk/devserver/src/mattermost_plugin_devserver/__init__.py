"""The Mattermost plugin dev server, ``pluginapi-server``, as a wheel.

This distribution holds one file that matters: the Go binary of the
reference Plugin API server and plugin dev server, built for the wheel's
platform. It has no Python dependencies; the SDK's test kit, its pytest
plugin and its ``mattermost-plugin`` command find the binary through
:func:`binary_path`. Install it with the SDK::

    pip install "mattermost-plugin-sdk[devserver]"

``python -m mattermost_plugin_devserver ARGS...`` runs the binary with
ARGS.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["BINARY_NAME", "DevServerMissingError", "__version__", "binary_path"]

#: The version of this distribution; it is released with the SDK's own.
__version__ = "0.1.0"

#: The file name of the binary inside the package.
BINARY_NAME = "pluginapi-server"


class DevServerMissingError(FileNotFoundError):
    """The package is installed without its binary (a broken or source install)."""


def binary_path() -> Path:
    """Return the path of the ``pluginapi-server`` binary of this wheel.

    The binary is made executable if an installer dropped its mode bits.

    Raises:
        DevServerMissingError: The binary is not there; the wheels of this
            distribution are platform wheels, and only they carry it.
    """
    path = Path(__file__).resolve().parent / "bin" / BINARY_NAME
    if not path.is_file():
        raise DevServerMissingError(
            f"{path} is missing: mattermost-plugin-devserver ships the binary only in its "
            "platform wheels; reinstall it with `pip install --force-reinstall "
            '--only-binary=:all: "mattermost-plugin-sdk[devserver]"`'
        )
    mode = path.stat().st_mode
    wanted = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
    if mode & wanted != wanted and os.access(path, os.W_OK):
        path.chmod(mode | wanted)
    return path
