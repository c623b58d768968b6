"""``mattermost-plugin install FILE``: install a bundle through the Plugin API, and enable it.

The bundle is streamed to ``InstallPlugin`` (``Client.install_plugin``),
then the plugin is enabled with ``EnablePlugin``. The server is the one
that ``--target`` and ``--token`` name, by default the one of
``MATTERMOST_PLUGIN_API_TARGET`` and ``MATTERMOST_PLUGIN_API_TOKEN``, which
``mattermost-plugin dev`` prints.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..config import ENV_TARGET, ENV_TOKEN
from ._errors import CommandError, UsageError

__all__ = ["STATES", "run"]

#: The names of a plugin's states (model.PluginStatus.State).
STATES = {
    0: "not running",
    1: "starting",
    2: "running",
    3: "failed to start",
    4: "failed to stay running",
    5: "stopping",
}


def _bundle(name: str) -> Path:
    path = Path(name)
    if not path.exists():
        raise CommandError(f"{name} does not exist")
    if not path.is_file():
        raise CommandError(f"{name} is not a file; give a bundle (.tar.gz)")
    return path


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def run(args: argparse.Namespace) -> int:
    """Run ``install``; see :func:`mattermost_plugin._cli.build_parser`."""
    from .._client import Client
    from ..exceptions import PluginAPIError

    name: str = args.file
    path = _bundle(name)
    target: str = args.target or os.environ.get(ENV_TARGET, "")
    token: str = args.token or os.environ.get(ENV_TOKEN, "")
    if not target:
        raise UsageError(
            f"no Plugin API server: give --target or set {ENV_TARGET} "
            "(mattermost-plugin dev prints both)"
        )
    if not token:
        raise UsageError(
            f"no token: give --token or set {ENV_TOKEN} (mattermost-plugin dev prints both)"
        )
    try:
        client = Client(target, token=token, timeout=args.timeout)
    except (TypeError, ValueError) as error:
        raise UsageError(_one_line(error)) from None
    with client:
        try:
            with open(path, "rb") as file:
                manifest = client.install_plugin(file, bool(args.replace))
        except OSError as error:
            raise CommandError(f"cannot read {name}: {error.strerror or error}") from None
        except PluginAPIError as error:
            raise CommandError(f"the server did not install {name}: {_one_line(error)}") from None
        print(f"Installed {manifest.id} {manifest.version} ({manifest.name}) from {name}")
        try:
            client.enable_plugin(manifest.id)
        except PluginAPIError as error:
            raise CommandError(
                f"{manifest.id} is installed, but the server did not enable it: {_one_line(error)}"
            ) from None
        print(f"Enabled {manifest.id}")
        try:
            status = client.get_plugin_status(manifest.id)
        except PluginAPIError as error:
            print(f"Status: unknown ({_one_line(error)})")
            return 0
    state = STATES.get(status.state, f"state {status.state}")
    cause = " ".join(status.error.split())
    if status.state in (3, 4):
        raise CommandError(f"{manifest.id} is installed and enabled, but it {state}: {cause}")
    print(f"Status: {state}{': ' + cause if cause else ''}")
    return 0
