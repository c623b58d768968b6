"""The bundle's archive: a reproducible ``.tar.gz`` under one top-level directory.

The rules are docs/bundles.md's: entries sorted by path, every mtime the
same (``SOURCE_DATE_EPOCH``, else 2020-01-01T00:00:00Z), uid and gid 0 with
empty owner names, modes 0755 (directories and executable files) and 0644,
the PAX tar format, and a gzip header with no file name and a time of 0.
The same inputs therefore give the same bytes.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from ._errors import CommandError

__all__ = [
    "DEFAULT_EPOCH",
    "SUMS",
    "Member",
    "file_digest",
    "source_date_epoch",
    "sums_text",
    "write_archive",
]

#: The mtime of every entry without ``SOURCE_DATE_EPOCH``: 2020-01-01T00:00:00Z.
DEFAULT_EPOCH = 1577836800

#: The checksum file at the top of the bundle.
SUMS = "SHA256SUMS"

#: The bytes read at a time.
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class Member:
    """One entry of the bundle, under its top-level directory.

    Attributes:
        path: The path below the top-level directory, with ``/``
            separators; empty for the top-level directory itself.
        is_dir: Whether it is a directory.
        executable: Whether its mode is 0755 rather than 0644.
        source: The file on disk that holds a file's content.
        data: A file's content, when it is not on disk.
    """

    path: str
    is_dir: bool = False
    executable: bool = False
    source: Path | None = None
    data: bytes | None = None


def source_date_epoch(environ: Mapping[str, str]) -> int:
    """The entries' mtime: ``SOURCE_DATE_EPOCH`` when set, else :data:`DEFAULT_EPOCH`.

    Raises:
        CommandError: ``SOURCE_DATE_EPOCH`` is not a number of seconds.
    """
    text = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return DEFAULT_EPOCH
    if not text.isdigit():
        raise CommandError(
            f"SOURCE_DATE_EPOCH={text!r} is not a number of seconds since 1970; fix it or unset it"
        )
    return int(text)


def file_digest(path: Path) -> tuple[str, int]:
    """The SHA-256 (hex) and the size of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as file:
        while True:
            chunk = file.read(_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def sums_text(digests: Mapping[str, str]) -> bytes:
    """SHA256SUMS: ``<hex>  <path>`` lines, sorted by path."""
    lines = [f"{digests[path]}  {path}\n" for path in sorted(digests)]
    return "".join(lines).encode("utf-8")


class _Hashing:
    """Reads a file and hashes what was read."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self.digest.update(data)
        return data


def _info(name: str, member: Member, mtime: int, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if member.is_dir:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        info.size = 0
    else:
        info.type = tarfile.REGTYPE
        info.mode = 0o755 if member.executable else 0o644
        info.size = size
    return info


def _add(archive: tarfile.TarFile, name: str, member: Member, digest: str, mtime: int) -> None:
    if member.is_dir:
        archive.addfile(_info(name, member, mtime, 0))
        return
    if member.data is not None:
        archive.addfile(_info(name, member, mtime, len(member.data)), io.BytesIO(member.data))
        return
    assert member.source is not None
    try:
        with open(member.source, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            reader = _Hashing(file)
            archive.addfile(_info(name, member, mtime, size), reader)
    except OSError as error:
        raise CommandError(
            f"cannot read {member.source}: {error.strerror or error}; if it changed while it "
            "was bundled, bundle again"
        ) from None
    if reader.digest.hexdigest() != digest:
        raise CommandError(f"{member.source} changed while it was bundled; bundle again")


def write_archive(
    output: Path,
    top: str,
    members: Sequence[Member],
    digests: Mapping[str, str],
    mtime: int,
) -> int:
    """Write the bundle to ``output``, atomically, and return its size in bytes.

    Args:
        output: The file to write; a file there is replaced.
        top: The top-level directory's name.
        members: The entries below it (the top directory is added).
        digests: The SHA-256 of every file member by path, which its
            content must still have.
        mtime: Every entry's mtime.

    Raises:
        CommandError: The output cannot be written, or a file changed.
    """
    everything = [Member("", is_dir=True), *members]
    named = sorted(
        ((f"{top}/{member.path}" if member.path else top, member) for member in everything),
        key=lambda pair: pair[0],
    )
    directory = output.parent
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, or removed
            dir=directory, prefix=f".{output.name}.", suffix=".tmp", delete=False
        )
    except OSError as error:
        raise CommandError(f"cannot write in {directory}: {error.strerror or error}") from None
    temporary = Path(handle.name)
    try:
        with handle:
            compressed = gzip.GzipFile(fileobj=handle, mode="wb", mtime=0, filename="")
            with (
                compressed,
                tarfile.open(
                    fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8"
                ) as archive,
            ):
                for name, member in named:
                    _add(archive, name, member, digests.get(member.path, ""), mtime)
            handle.flush()
            size = handle.tell()
        os.chmod(temporary, 0o644)
        os.replace(temporary, output)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise CommandError(f"cannot write {output}: {error.strerror or error}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return size
