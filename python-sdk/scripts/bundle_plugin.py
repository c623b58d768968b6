"""Bundle a plugin from loose files, with ``mattermost-plugin bundle``.

Usage: bundle_plugin.py --out FILE --manifest PATH [--src DEST=PATH ...]
                        [--wheel PATH ...] [--platform P ...] [--python X.Y ...]

Bazel's mattermost_python_plugin_bundle rule runs it: its inputs are files
scattered over the execution root, so it stages them as a plugin directory
(the manifest as plugin.json, each source at DEST) and the wheels as one
wheelhouse, then runs the SDK's own bundler on them offline (--no-index,
--find-links the wheelhouse). The bundle is the one that the command
writes from the same files.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from mattermost_plugin._cli import main as cli


def stage(directory: Path, manifest: Path, sources: Sequence[str]) -> None:
    """Lay out the plugin directory: plugin.json and each DEST=PATH source."""
    directory.mkdir(parents=True)
    shutil.copyfile(manifest, directory / "plugin.json")
    for item in sources:
        dest, sep, path = item.partition("=")
        relative = PurePosixPath(dest)
        if not sep or relative.is_absolute() or ".." in relative.parts or not dest:
            raise SystemExit(f"--src wants DEST=PATH with DEST inside the plugin, not {item!r}")
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        shutil.copymode(path, target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--src", action="append", default=[], metavar="DEST=PATH")
    parser.add_argument("--wheel", action="append", default=[], type=Path)
    parser.add_argument("--platform", action="append", default=[])
    parser.add_argument("--python", action="append", default=[])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bundle-plugin-") as tmp:
        plugin = Path(tmp) / "plugin"
        stage(plugin, args.manifest, args.src)
        wheelhouse = Path(tmp) / "wheels"
        wheelhouse.mkdir()
        for wheel in args.wheel:
            shutil.copyfile(wheel, wheelhouse / wheel.name)
        command = ["bundle", str(plugin), "-o", str(args.out.absolute())]
        command += ["--no-index", "--find-links", str(wheelhouse)]
        for platform in args.platform:
            command += ["--platform", platform]
        for version in args.python:
            command += ["--python", version]
        return cli(command)


if __name__ == "__main__":
    sys.exit(main())
