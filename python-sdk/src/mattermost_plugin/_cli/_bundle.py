"""``mattermost-plugin bundle DIR``: the plugin and its wheels, in one ``.tar.gz``.

The bundle is laid out as docs/bundles.md says: one top-level directory
named after the plugin id, with the plugin's files, the bundled
``plugin.json`` (``server.python.targets`` filled in), ``wheels/<target>/``
for each target and ``SHA256SUMS``. It is reproducible: the same plugin
and the same wheels give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._version import __version__
from ._bundle_archive import (
    SUMS,
    Member,
    file_digest,
    source_date_epoch,
    sums_text,
    write_archive,
)
from ._bundle_files import PluginFiles, collect
from ._bundle_pip import SDK_DISTRIBUTION, WheelSource, download
from ._bundle_targets import PLATFORMS, Target, local_platform, sorted_targets
from ._errors import CommandError, UsageError
from ._manifest import MANIFEST, check_manifest, load_manifest, parse_entry

__all__ = ["BUNDLE_SIZE_LIMIT", "format_size", "run"]

#: The largest bundle that Mattermost takes by default: 50 MiB, its
#: ``MaximumPluginFileSize`` (mattermost/mattermost
#: ``server/channels/api4/plugin.go`` at
#: 0a29d83483cde174fa02274a04538625236219da), the limit of an upload in the
#: System Console. A larger bundle is written, with a warning.
BUNDLE_SIZE_LIMIT = 50 * 1024 * 1024

#: The plugin's requirements file, by default.
REQUIREMENTS = "requirements.txt"


def format_size(size: int) -> str:
    """A size in bytes for people: ``812.4 KiB``, ``12.3 MiB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _plugin_dir(name: str) -> Path:
    path = Path(name)
    if not path.exists():
        raise CommandError(f"{name} does not exist")
    if not path.is_dir():
        raise CommandError(f"{name} is not a directory; give the plugin directory")
    if not (path / MANIFEST).is_file():
        raise CommandError(f"{name} has no {MANIFEST}; is it a plugin directory?")
    return Path(os.path.abspath(path))


def targets_of(platforms: Sequence[str] | None, pythons: Sequence[int] | None) -> list[Target]:
    """The targets: every platform with every Python, by default this machine's and this one's."""
    if not platforms:
        here = local_platform()
        if here is None:
            raise UsageError(
                f"this machine ({sys.platform}, {platform.machine()}) is not a platform that "
                f"bundles target; name one with --platform: {', '.join(PLATFORMS)}"
            )
        platforms = [here]
    minors = list(pythons) if pythons else [sys.version_info[1]]
    return sorted_targets(Target(name, minor) for name in platforms for minor in minors)


def _named_paths(manifest: dict[str, Any]) -> list[str]:
    """The files that plugin.json names, which the bundle must carry."""
    names: list[str] = []
    server = manifest.get("server")
    server = server if isinstance(server, dict) else {}
    python = server.get("python")
    python = python if isinstance(python, dict) else {}
    entry = python.get("entry")
    if isinstance(entry, str) and parse_entry(entry).is_file:
        names.append(parse_entry(entry).module)
    for value in (server.get("executable"), manifest.get("icon_path")):
        if isinstance(value, str):
            names.append(value)
    executables = server.get("executables")
    if isinstance(executables, dict):
        names += [value for value in executables.values() if isinstance(value, str)]
    webapp = manifest.get("webapp")
    if isinstance(webapp, dict) and isinstance(webapp.get("bundle_path"), str):
        names.append(webapp["bundle_path"])
    return names


def _load(directory: Path, shown: str) -> dict[str, Any]:
    """The plugin's manifest, refused when check finds an error in it."""
    manifest, problems = load_manifest(directory)
    if manifest is not None:
        problems += check_manifest(manifest, directory)
    for problem in problems:
        print(problem.render(shown), file=sys.stderr)
    errors = [problem for problem in problems if problem.is_error]
    if manifest is None or errors:
        count = len(errors) or 1
        raise CommandError(
            f"{os.path.join(shown, MANIFEST)} has {count} error{'s' * (count != 1)} (above); "
            f"fix {'them' if count != 1 else 'it'} first: mattermost-plugin check {shown}"
        )
    server = manifest.get("server")
    python = server.get("python") if isinstance(server, dict) else None
    if not isinstance(python, dict):
        raise CommandError(
            f"{os.path.join(shown, MANIFEST)} has no server.python: bundle makes bundles of "
            "Python plugins"
        )
    if not manifest.get("version"):
        raise CommandError(
            f"{os.path.join(shown, MANIFEST)} has no version, which a bundle needs (the server "
            'tells installed versions apart by it): add one, such as "version": "0.1.0"'
        )
    return manifest


def bundled_manifest(manifest: dict[str, Any], targets: Sequence[Target]) -> bytes:
    """The bundled plugin.json: the source's, with ``server.python.targets`` set."""
    python = manifest["server"]["python"]
    python["targets"] = [target.name for target in targets]
    text = json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    return text.encode("utf-8")


def _output(name: str | None, plugin_id: str, version: str) -> Path:
    default = f"{plugin_id}-{version}.tar.gz"
    if name is None:
        return Path(os.path.abspath(default))
    path = Path(os.path.abspath(name))
    if path.is_dir():
        return path / default
    if not path.parent.is_dir():
        raise CommandError(f"-o {name}: the directory {path.parent} does not exist")
    return path


def _requirements(name: str | None, directory: Path) -> list[Path]:
    if name is None:
        default = directory / REQUIREMENTS
        return [default] if default.is_file() else []
    path = Path(os.path.abspath(name))
    if not path.is_file():
        raise CommandError(f"--requirements {name}: no such file")
    return [path]


def _source(find_links: Sequence[str] | None, no_index: bool) -> WheelSource:
    links: list[str] = []
    for link in find_links or []:
        if "://" in link:
            links.append(link)
            continue
        if not os.path.exists(link):
            raise CommandError(f"--find-links {link}: no such directory")
        links.append(os.path.abspath(link))
    if no_index and not links:
        raise UsageError("--no-index needs --find-links DIR: pip would have nowhere to look")
    return WheelSource(tuple(links), no_index)


def _digests(files: PluginFiles) -> tuple[dict[str, str], int]:
    """The SHA-256 of every plugin file by path, and their total size."""
    digests = {}
    total = 0
    for file in files.files:
        try:
            digests[file.path], size = file_digest(file.source)
        except OSError as error:
            raise CommandError(f"cannot read {file.source}: {error.strerror or error}") from None
        total += size
    return digests, total


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(args: argparse.Namespace) -> int:
    """Run ``bundle``; see :func:`mattermost_plugin._cli.build_parser`."""
    shown: str = args.directory
    directory = _plugin_dir(shown)
    targets = targets_of(args.platforms, args.pythons)
    source = _source(args.find_links, args.no_index)
    requirement_files = _requirements(args.requirements, directory)
    mtime = source_date_epoch(os.environ)
    manifest = _load(directory, shown)
    plugin_id = str(manifest["id"])
    version = str(manifest["version"])
    output = _output(args.output, plugin_id, version)
    files = collect(directory, shown=shown, keep=_named_paths(manifest), skip=[output])
    venv = manifest["server"]["python"].get("venv")
    if isinstance(venv, str) and venv:
        print(
            f'mattermost-plugin bundle: warning: server.python.venv "{venv}" is not in the '
            "bundle: the host makes the plugin's virtualenv from the bundle's wheels",
            file=sys.stderr,
        )
    digests, plugin_size = _digests(files)
    names = ", ".join(target.name for target in targets)
    print(f"Bundling {plugin_id} {version} for {names}", flush=True)
    requirement = f"{SDK_DISTRIBUTION}>={__version__}"
    members = [Member(path, is_dir=True) for path in sorted(files.directories)]
    members += [
        Member(file.path, executable=file.executable, source=file.source) for file in files.files
    ]
    wheel_sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="mattermost-plugin-bundle-") as scratch:
        root = Path(scratch)
        workdir = root / "pip"
        workdir.mkdir()
        members += [Member("wheels", is_dir=True)]
        for target in targets:
            where = f"wheels/{target.name}"
            wheels, warnings = download(
                target,
                root / where,
                [requirement],
                requirement_files,
                source,
                workdir=workdir,
            )
            for warning in warnings:
                print(f"mattermost-plugin bundle: warning: {warning}", file=sys.stderr)
            members.append(Member(where, is_dir=True))
            total = 0
            for wheel in wheels:
                digest, size = file_digest(wheel)
                digests[f"{where}/{wheel.name}"] = digest
                members.append(Member(f"{where}/{wheel.name}", source=wheel))
                total += size
            wheel_sizes[target.name] = total
            print(f"  {target.name}: {len(wheels)} wheels, {format_size(total)}", flush=True)
        plugin_json = bundled_manifest(manifest, targets)
        digests[MANIFEST] = _sha256(plugin_json)
        members.append(Member(MANIFEST, data=plugin_json))
        sums = sums_text(digests)
        members.append(Member(SUMS, data=sums))
        digests[SUMS] = _sha256(sums)
        size = write_archive(output, plugin_id, members, digests, mtime)
    _report(output, size, (len(files.files), plugin_size), wheel_sizes)
    return 0


def _report(output: Path, size: int, plugin: tuple[int, int], wheel_sizes: dict[str, int]) -> None:
    """Print what was written and its sizes; warn when Mattermost would refuse it."""
    relative = os.path.relpath(output)
    shown = str(output) if relative.startswith("..") else relative
    count, plugin_size = plugin
    print(f"Wrote {shown}: {format_size(size)}")
    print(f"  plugin files: {count} file{'s' * (count != 1)}, {format_size(plugin_size)}")
    targets = len(wheel_sizes)
    wheels = format_size(sum(wheel_sizes.values()))
    print(f"  wheels: {wheels} for {targets} target{'s' * (targets != 1)}")
    if size > BUNDLE_SIZE_LIMIT:
        print(
            f"mattermost-plugin bundle: warning: {shown} is {format_size(size)}, over the "
            f"{format_size(BUNDLE_SIZE_LIMIT)} that Mattermost takes by default; ship fewer "
            "targets per bundle: one --platform and one --python each",
            file=sys.stderr,
        )
