"""``mattermost-plugin check FILE.tar.gz``: validate a bundle without installing it.

The archive is read entry by entry: its layout (one top-level directory
named after the plugin id, regular files and directories only, no paths
that leave it), ``SHA256SUMS`` (every file listed once, sorted, with its
hash), the bundled ``plugin.json`` (the manifest checks of a plugin
directory, and ``server.python.targets``) and a wheelhouse of wheels that
fit each target, with the SDK among them. The plugin's files, but not its
wheels, are written to a temporary directory for the manifest's path
checks; the entry is not imported.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ._bundle_archive import SUMS
from ._bundle_pip import SDK_DISTRIBUTION, normalize
from ._bundle_targets import Target, parse_target, wheel_fits
from ._manifest import MANIFEST, check_manifest, load_manifest
from ._report import ERROR, WARNING, Problem

__all__ = ["BundleReport", "check_bundle", "is_bundle_name"]

_SUM_LINE = re.compile(r"([0-9a-f]{64})  (.+)")
_CHUNK = 1 << 20


def is_bundle_name(name: str) -> bool:
    """Whether a file name looks like a bundle's."""
    return name.endswith((".tar.gz", ".tgz"))


@dataclasses.dataclass
class BundleReport:
    """What ``check`` found in a bundle.

    Attributes:
        problems: Every problem, errors and warnings, in the order found.
        manifest: The bundled manifest, when it could be read.
        size: The bundle's size in bytes.
        wheel_sizes: The size of each target's wheels, by target name.
    """

    problems: list[Problem] = dataclasses.field(default_factory=list)
    manifest: dict[str, Any] | None = None
    size: int = 0
    wheel_sizes: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """The problems that fail the check."""
        return [p for p in self.problems if p.is_error]

    def add(self, file: str, message: str, fix: str, severity: str = ERROR) -> None:
        """Record a problem of ``file``, a path in the archive."""
        self.problems.append(Problem(file, message, fix, severity=severity))


@dataclasses.dataclass
class _Entry:
    """A file of the archive: its hash and size."""

    digest: str
    size: int


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "a symbolic link"
    if member.islnk():
        return "a hard link"
    if member.isfifo():
        return "a FIFO"
    if member.ischr() or member.isblk():
        return "a device"
    return "neither a file nor a directory"


def _clean(name: str) -> str | None:
    """The member's path without ``./`` and trailing ``/``; None if it is absolute or leaves."""
    path = name.rstrip("/")
    while path.startswith("./"):
        path = path[2:]
    if not path or path.startswith("/") or "\\" in path:
        return None
    parts = PurePosixPath(path).parts
    if any(part in ("..", ".") for part in parts):
        return None
    return "/".join(parts)


def _read_members(
    archive: tarfile.TarFile, report: BundleReport, scratch: Path
) -> tuple[str | None, dict[str, _Entry]]:
    """Walk the archive: its top directory and its files, hashed.

    The files outside ``wheels/`` are written below ``scratch``, at their
    paths in the archive.
    """
    tops: set[str] = set()
    files: dict[str, _Entry] = {}
    directories: set[str] = set()
    for member in archive:
        path = _clean(member.name)
        if path is None:
            report.add(
                member.name,
                "the path is absolute or leaves the bundle",
                "make the bundle with mattermost-plugin bundle",
            )
            continue
        top, _, inner = path.partition("/")
        tops.add(top)
        if path in files or path in directories:
            report.add(path, "is in the archive twice", "keep one entry per path")
            continue
        if member.isdir():
            directories.add(path)
            continue
        if not member.isfile():
            report.add(
                path,
                f"is {_kind(member)}, which Mattermost drops when it extracts a bundle",
                "put the file itself there",
            )
            continue
        if not inner:
            report.add(path, "is a file beside the top-level directory", "move it inside")
            continue
        source = archive.extractfile(member)
        assert source is not None  # a regular file
        keep = not inner.startswith("wheels/")
        with source:
            digest = _copy(source, scratch / path if keep else None)
        files[path] = _Entry(digest, member.size)
    if len(tops) != 1:
        shown = ", ".join(sorted(tops)[:5]) or "nothing"
        report.add(
            "",
            f"the archive holds {shown} at its top, not one directory",
            "put everything in one directory named after the plugin id",
        )
        return None, files
    return next(iter(tops)), files


def _copy(source: IO[bytes], destination: Path | None) -> str:
    """Hash ``source``, and write it to ``destination`` unless that is None."""
    digest = hashlib.sha256()
    sink = None
    if destination is not None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        sink = open(destination, "wb")  # noqa: SIM115 - closed below
    try:
        while True:
            chunk = source.read(_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            if sink is not None:
                sink.write(chunk)
    finally:
        if sink is not None:
            sink.close()
    return digest.hexdigest()


def _check_sums(report: BundleReport, top: str, files: dict[str, _Entry], plugin: Path) -> None:
    name = f"{top}/{SUMS}"
    entry = files.get(name)
    if entry is None:
        report.add(name, "is missing", "make the bundle with mattermost-plugin bundle")
        return
    listed: dict[str, str] = {}
    order: list[str] = []
    text = (plugin / SUMS).read_bytes().decode("utf-8", "replace")
    for number, line in enumerate(text.splitlines(), 1):
        match = _SUM_LINE.fullmatch(line)
        if match is None:
            report.add(name, f'line {number} is not "<sha256>  <path>"', "write it again")
            continue
        digest, path = match.groups()
        if path in listed:
            report.add(name, f"lists {path} twice", "list every file once")
        listed[path] = digest
        order.append(path)
    if order != sorted(order):
        report.add(name, "is not sorted by path", "sort its lines by path")
    inside = {path[len(top) + 1 :]: entry for path, entry in files.items() if path != name}
    for path in sorted(set(inside) | set(listed)):
        if path not in listed:
            report.add(f"{top}/{path}", f"is not in {SUMS}", "list it, with its SHA-256")
        elif path not in inside:
            report.add(name, f"lists {path}, which the bundle does not hold", "remove the line")
        elif inside[path].digest != listed[path]:
            report.add(
                f"{top}/{path}",
                f"does not have the SHA-256 that {SUMS} gives",
                "the bundle was changed or damaged: make it again",
            )


def _targets(report: BundleReport, top: str, manifest: dict[str, Any]) -> list[Target]:
    server = manifest.get("server")
    python = server.get("python") if isinstance(server, dict) else None
    targets = python.get("targets") if isinstance(python, dict) else None
    where = f"{top}/{MANIFEST}"
    if not isinstance(targets, list) or not targets:
        report.add(
            where,
            "server.python.targets is missing or empty: the host cannot tell which wheels "
            "to install",
            "make the bundle with mattermost-plugin bundle",
        )
        return []
    parsed = [parse_target(t) for t in targets if isinstance(t, str)]
    good = [t for t in parsed if t is not None]
    names = [t.name for t in good]
    if names != sorted(names):
        report.add(
            where,
            "server.python.targets is not in the order of the wheels/ directories",
            "sort it",
            WARNING,
        )
    return good


def _wheel_name(path: str) -> str:
    return path.rpartition("/")[2]


def _check_wheels(
    report: BundleReport, top: str, targets: list[Target], files: dict[str, _Entry]
) -> None:
    prefix = f"{top}/wheels/"
    houses: dict[str, list[str]] = {}
    for path in files:
        if not path.startswith(prefix):
            continue
        house, _, rest = path[len(prefix) :].partition("/")
        if not rest:
            report.add(path, "is a file in wheels/, not in a target's wheelhouse", "remove it")
            continue
        houses.setdefault(house, []).append(path)
    for house in sorted(set(houses) - {t.name for t in targets}):
        report.add(
            f"{prefix}{house}",
            "is a wheelhouse of no target in server.python.targets",
            "add the target to the list, or remove the directory",
        )
    for target in targets:
        paths = houses.get(target.name, [])
        where = f"{prefix}{target.name}"
        if not paths:
            report.add(
                where,
                f"is missing or empty, but {target.name} is in server.python.targets",
                "bundle again with this target",
            )
            continue
        report.wheel_sizes[target.name] = sum(files[path].size for path in paths)
        sdk = False
        for path in sorted(paths):
            name = _wheel_name(path)
            if "/" in path[len(where) + 1 :] or not name.endswith(".whl"):
                report.add(path, "is not a wheel", "a wheelhouse holds wheels (.whl) only")
                continue
            if normalize(name.partition("-")[0]) == SDK_DISTRIBUTION:
                sdk = True
            if not wheel_fits(name, target):
                report.add(
                    path,
                    f"does not install on {target.name}",
                    f"bundle again: pip then picks the wheel for {target.platform} and "
                    f"CPython {target.python}",
                )
        if not sdk:
            report.add(
                where,
                f"has no {SDK_DISTRIBUTION} wheel, without which the plugin cannot run",
                "bundle again with the SDK's wheel",
            )


def _check_manifest(report: BundleReport, top: str, scratch: Path) -> dict[str, Any] | None:
    manifest, problems = load_manifest(scratch)
    if manifest is not None:
        problems += check_manifest(manifest, scratch)
        plugin_id = manifest.get("id")
        if isinstance(plugin_id, str) and plugin_id and plugin_id != top:
            report.add(
                f"{top}/{MANIFEST}",
                f'the id is "{plugin_id}", but the top-level directory is "{top}"',
                "name the directory after the plugin id",
            )
    for problem in problems:
        report.problems.append(dataclasses.replace(problem, file=f"{top}/{problem.file}"))
    return manifest


def check_bundle(path: Path) -> BundleReport:
    """Check the bundle at ``path``; see the module's docstring."""
    report = BundleReport(size=path.stat().st_size)
    with tempfile.TemporaryDirectory(prefix="mattermost-plugin-check-") as temporary:
        scratch = Path(temporary)
        try:
            with tarfile.open(path, "r:gz") as archive:
                top, files = _read_members(archive, report, scratch)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
            report.add(
                "",
                f"is not a readable .tar.gz ({' '.join(str(error).split())})",
                "make the bundle with mattermost-plugin bundle",
            )
            return report
        if top is None:
            return report
        plugin = scratch / top
        _check_sums(report, top, files, plugin)
        if f"{top}/{MANIFEST}" not in files:
            report.add(f"{top}/{MANIFEST}", "is missing", "a bundle needs its manifest")
            return report
        manifest = _check_manifest(report, top, plugin)
        report.manifest = manifest
        if manifest is not None:
            _check_wheels(report, top, _targets(report, top, manifest), files)
    return report
