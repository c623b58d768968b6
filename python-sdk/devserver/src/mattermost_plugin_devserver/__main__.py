"""``python -m mattermost_plugin_devserver ARGS...``: run ``pluginapi-server ARGS...``."""

from __future__ import annotations

import os
import sys

from . import DevServerMissingError, binary_path


def main() -> None:
    """Replace this process with the binary, passing the arguments on."""
    try:
        path = str(binary_path())
    except DevServerMissingError as error:
        print(f"mattermost_plugin_devserver: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    os.execv(path, [path, *sys.argv[1:]])


if __name__ == "__main__":
    main()
