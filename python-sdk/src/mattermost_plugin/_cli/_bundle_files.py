"""The files of a plugin directory that a bundle ships.

Everything under the directory goes, but for what is not the plugin's:
dot-files and dot-directories (``.git``, ``.venv``, ``.env``, ...),
``__pycache__`` and compiled ``*.pyc`` files, ``node_modules``, every
virtualenv (a directory with ``pyvenv.cfg``), and at the top ``tests/``,
``dist/``, ``wheels/`` (the bundle writes its own), ``*.tar.gz`` (earlier
bundles) and ``plugin.json`` (the bundle writes its own from it). A file
that ``plugin.json`` names (the entry, the icon, the webapp bundle, an
executable) goes even where these rules would leave it out.

Mattermost drops symbolic links when it extracts a bundle, so a link in
what would be shipped is refused, as is any file that is not a regular
file.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ._errors import CommandError

__all__ = ["PluginFiles", "SourceFile", "collect"]

#: Top-level names that the bundle leaves out: its own wheelhouses, the
#: plugin's tests and build outputs.
TOP_LEVEL_EXCLUDED = ("wheels", "tests", "dist")

#: Directory names left out wherever they are.
EXCLUDED_DIRECTORIES = ("__pycache__", "node_modules")

#: File suffixes left out wherever they are: compiled Python.
EXCLUDED_SUFFIXES = (".pyc", ".pyo")

#: Top-level file suffixes left out: earlier bundles.
TOP_LEVEL_ARCHIVES = (".tar.gz", ".tgz")

#: The files that the bundle writes itself, at its top.
RESERVED = ("plugin.json", "SHA256SUMS")


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """A file to ship.

    Attributes:
        path: Its path in the plugin directory, with ``/`` separators.
        source: Where it is on disk.
        executable: Whether anyone may execute it (its mode becomes 0755).
    """

    path: str
    source: Path
    executable: bool


@dataclasses.dataclass
class PluginFiles:
    """What a bundle ships of a plugin directory.

    Attributes:
        files: The regular files.
        directories: Every directory that holds them, and the empty ones,
            with ``/`` separators.
    """

    files: list[SourceFile] = dataclasses.field(default_factory=list)
    directories: set[str] = dataclasses.field(default_factory=set)

    def add_parents(self, path: str) -> None:
        """Record the directories above ``path``."""
        parts = path.split("/")[:-1]
        for end in range(1, len(parts) + 1):
            self.directories.add("/".join(parts[:end]))


def _shown(directory: str, relative: str) -> str:
    return relative if directory in ("", ".") else os.path.join(directory, relative)


def _check_name(shown: str, name: str) -> None:
    """Refuse a name that SHA256SUMS or the archive cannot carry."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise CommandError(f"{shown}: the file name is not UTF-8; rename it") from None
    if "\n" in name or "\r" in name or "\\" in name:
        raise CommandError(
            f"{shown!r}: the file name has a line break or a backslash, which SHA256SUMS "
            "cannot list; rename it"
        )


def _is_virtualenv(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path / "pyvenv.cfg").st_mode)
    except OSError:
        return False


def _excluded(name: str, is_dir: bool, top: bool) -> bool:
    if name.startswith("."):
        return True
    if is_dir:
        return name in EXCLUDED_DIRECTORIES or (top and name in TOP_LEVEL_EXCLUDED)
    if name.endswith(EXCLUDED_SUFFIXES):
        return True
    return top and (name.endswith(TOP_LEVEL_ARCHIVES) or name in RESERVED)


def _refuse(shown: str, mode: int) -> None:
    """Raise for an entry that is neither a regular file nor a directory."""
    if stat.S_ISLNK(mode):
        raise CommandError(
            f"{shown} is a symbolic link, which Mattermost drops when it extracts a bundle; "
            "put the file itself there, or move the link out of the plugin directory"
        )
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISBLK(mode) or stat.S_ISCHR(mode)
        else "not a regular file"
    )
    raise CommandError(f"{shown} is {kind}; a bundle holds regular files only: remove it")


def collect(
    directory: Path,
    *,
    shown: str,
    keep: Iterable[str] = (),
    skip: Iterable[Path] = (),
) -> PluginFiles:
    """The files and directories of ``directory`` that a bundle ships.

    Args:
        directory: The plugin directory.
        shown: The directory as the user named it, for messages.
        keep: Paths relative to the directory that ship even where the
            rules leave them out: the files that plugin.json names. Those
            that do not exist are skipped.
        skip: Files that never ship, such as the bundle being written.

    Raises:
        CommandError: A symbolic link or a special file would be shipped.
    """
    result = PluginFiles()
    skipped = {os.path.normcase(os.path.abspath(path)) for path in skip}
    pending = [""]
    while pending:
        relative_dir = pending.pop()
        here = directory / relative_dir if relative_dir else directory
        try:
            with os.scandir(here) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            where = _shown(shown, relative_dir) if relative_dir else shown
            raise CommandError(f"cannot read {where}: {error.strerror or error}") from None
        for entry in entries:
            relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as error:
                raise CommandError(
                    f"cannot read {_shown(shown, relative)}: {error.strerror or error}"
                ) from None
            is_dir = stat.S_ISDIR(mode)
            if _excluded(entry.name, is_dir, top=not relative_dir):
                continue
            if os.path.normcase(os.path.abspath(entry.path)) in skipped:
                continue
            _check_name(_shown(shown, relative), entry.name)
            if is_dir:
                if _is_virtualenv(Path(entry.path)):
                    continue
                result.directories.add(relative)
                pending.append(relative)
            elif stat.S_ISREG(mode):
                result.files.append(SourceFile(relative, Path(entry.path), bool(mode & 0o111)))
            else:
                _refuse(_shown(shown, relative), mode)
    _keep(result, directory, shown, keep)
    result.files.sort(key=lambda file: file.path)
    return result


def _keep(result: PluginFiles, directory: Path, shown: str, keep: Iterable[str]) -> None:
    """Add the files of ``keep`` that the rules left out."""
    have = {file.path for file in result.files}
    for name in keep:
        if not name or os.path.isabs(name):
            continue
        relative = os.path.normpath(name).replace(os.sep, "/")
        parts = relative.split("/")
        if relative in have or relative in RESERVED or ".." in parts or parts[0] in (".", "wheels"):
            continue
        path = directory
        mode = 0
        for index, part in enumerate(parts):
            path = path / part
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                mode = 0
                break
            _check_name(_shown(shown, "/".join(parts[: index + 1])), part)
            if stat.S_ISLNK(mode):
                _refuse(_shown(shown, "/".join(parts[: index + 1])), mode)
            if index < len(parts) - 1 and not stat.S_ISDIR(mode):
                mode = 0
                break
        if mode == 0 or stat.S_ISDIR(mode):
            continue  # not there, or not a file: check reports it
        if not stat.S_ISREG(mode):
            _refuse(_shown(shown, relative), mode)
        result.files.append(SourceFile(relative, path, bool(mode & 0o111)))
        result.add_parents(relative)
        have.add(relative)
