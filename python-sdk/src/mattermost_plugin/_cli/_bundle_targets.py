"""Bundle targets: a platform and a CPython version, and the wheels that fit one.

A target is written ``<platform>-cp<major><minor>``, such as
``linux-x86_64-cp311`` (docs/bundles.md). Its wheels come from pip, told the
target's platform tags, Python version, ABIs and marker environment; the
same rules decide, in ``mattermost-plugin check``, whether a bundle's wheel
fits the target it sits under.
"""

from __future__ import annotations

import dataclasses
import platform
import re
import sys
from collections.abc import Iterable, Sequence

__all__ = [
    "EXECUTABLE_PLATFORMS",
    "GLIBC",
    "MACOS",
    "MIN_PYTHON_MINOR",
    "PATCH",
    "PLATFORMS",
    "Target",
    "executable_key_problem",
    "local_platform",
    "parse_python",
    "parse_target",
    "sorted_targets",
    "target_problem",
    "wheel_fits",
]

#: The platforms a bundle can target, as targets spell them.
PLATFORMS = ("linux-x86_64", "linux-aarch64", "macos-x86_64", "macos-arm64")

#: The oldest CPython 3 minor version that the SDK supports.
MIN_PYTHON_MINOR = 9

#: The newest glibc that a Linux target's wheels may need: manylinux_2_28
#: (RHEL 8, Debian 10, Ubuntu 20.04 and later have it).
GLIBC = (2, 28)

#: The newest macOS that a macOS target's wheels may need: 12 (Monterey).
MACOS = (12, 0)

#: The patch release that pip is told a target's Python has. pip reads
#: ``--python-version 3.9`` as 3.9.0, which some packages exclude
#: (cryptography requires ``!=3.9.0,!=3.9.1``); a bundle is meant for an
#: up-to-date interpreter of its minor version.
PATCH = 99

#: The keys of Mattermost's ``server.executables``: the GOOS-GOARCH pairs
#: that its releases run on (``Manifest.GetExecutableForRuntime`` looks up
#: ``runtime.GOOS + "-" + runtime.GOARCH``).
EXECUTABLE_PLATFORMS = (
    "linux-amd64",
    "linux-arm64",
    "darwin-amd64",
    "darwin-arm64",
    "windows-amd64",
)

#: Other spellings of a target platform, with the one meant.
_PLATFORM_ALIASES = {
    "linux-amd64": "linux-x86_64",
    "linux-x64": "linux-x86_64",
    "linux-x86-64": "linux-x86_64",
    "linux-arm64": "linux-aarch64",
    "darwin-amd64": "macos-x86_64",
    "darwin-x86_64": "macos-x86_64",
    "darwin-arm64": "macos-arm64",
    "darwin-aarch64": "macos-arm64",
    "macos-amd64": "macos-x86_64",
    "macos-aarch64": "macos-arm64",
    "macosx-x86_64": "macos-x86_64",
    "macosx-arm64": "macos-arm64",
    "osx-x86_64": "macos-x86_64",
    "osx-arm64": "macos-arm64",
}

#: Other spellings of an executables key (Go's GOOS-GOARCH), with the one meant.
_EXECUTABLE_ALIASES = {
    "linux-x86_64": "linux-amd64",
    "linux-x64": "linux-amd64",
    "linux-aarch64": "linux-arm64",
    "darwin-x86_64": "darwin-amd64",
    "darwin-aarch64": "darwin-arm64",
    "macos-x86_64": "darwin-amd64",
    "macos-amd64": "darwin-amd64",
    "macos-arm64": "darwin-arm64",
    "macos-aarch64": "darwin-arm64",
    "windows-x86_64": "windows-amd64",
    "windows-x64": "windows-amd64",
}

_TARGET = re.compile(r"(?P<platform>[a-z0-9_]+-[a-z0-9_]+)-cp3(?P<minor>[1-9][0-9]*|0)", re.ASCII)
_PYTHON = re.compile(r"3\.(?P<minor>[1-9][0-9]*|0)", re.ASCII)
# What a target's Python part may look like when it is misspelt.
_LOOSE_PYTHON = re.compile(
    r"(?:cp|py|python|cpython)?-?3\.?(?P<minor>[0-9]+)", re.ASCII | re.IGNORECASE
)
_GO_PLATFORM = re.compile(r"[a-z0-9]+-[a-z0-9]+", re.ASCII)

#: The machine names of each platform, as ``platform.machine()`` gives them.
_MACHINES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "arm64",
}


@dataclasses.dataclass(frozen=True, order=True)
class Target:
    """A platform and a CPython 3 minor version.

    Attributes:
        platform: One of :data:`PLATFORMS`.
        minor: The minor version of CPython 3 (11 for 3.11).
    """

    platform: str
    minor: int

    @property
    def name(self) -> str:
        """The target as bundles write it, ``linux-x86_64-cp311``."""
        return f"{self.platform}-cp3{self.minor}"

    @property
    def python(self) -> str:
        """The Python version, ``3.11``."""
        return f"3.{self.minor}"

    @property
    def system(self) -> str:
        """``linux`` or ``macos``."""
        return self.platform.partition("-")[0]

    @property
    def machine(self) -> str:
        """``x86_64``, ``aarch64`` or ``arm64``."""
        return self.platform.partition("-")[2]

    def __str__(self) -> str:
        return self.name

    def pip_platforms(self) -> list[str]:
        """The ``--platform`` values that make pip take every wheel that fits."""
        machine = self.machine
        if self.system == "linux":
            tags = [f"manylinux2014_{machine}"]
            if machine == "x86_64":  # the PEP 600 names of manylinux1 and manylinux2010
                tags += [f"manylinux_2_5_{machine}", f"manylinux_2_12_{machine}"]
            tags += [f"manylinux_2_{minor}_{machine}" for minor in range(17, GLIBC[1] + 1)]
            return tags
        if machine == "arm64":
            return [f"macosx_{major}_0_arm64" for major in range(11, MACOS[0] + 1)]
        versions = [(10, minor) for minor in range(9, 16)]
        versions += [(major, 0) for major in range(11, MACOS[0] + 1)]
        return [f"macosx_{major}_{minor}_x86_64" for major, minor in versions]

    def pip_arguments(self) -> list[str]:
        """The options of ``pip download`` that choose the wheels of this target."""
        arguments = ["--only-binary=:all:"]
        for tag in self.pip_platforms():
            arguments += ["--platform", tag]
        arguments += ["--python-version", f"3.{self.minor}.{PATCH}", "--implementation", "cp"]
        for abi in (f"cp3{self.minor}", "abi3", "none"):
            arguments += ["--abi", abi]
        return arguments

    def marker_environment(self) -> dict[str, str]:
        """The PEP 508 marker values of a CPython of this target.

        pip evaluates the markers of requirements (``; sys_platform ==
        "darwin"``, ``; python_version < "3.11"``) against the Python that
        runs it, even when told another platform and version; these values
        stand in for that Python's. The platform's release and version are
        not known, and left empty.
        """
        linux = self.system == "linux"
        full = f"3.{self.minor}.{PATCH}"
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux" if linux else "Darwin",
            "platform_version": "",
            "python_full_version": full,
            "python_version": f"3.{self.minor}",
            "sys_platform": "linux" if linux else "darwin",
        }


def parse_target(text: str) -> Target | None:
    """The target that ``text`` names, or None unless it is a valid one."""
    match = _TARGET.fullmatch(text)
    if match is None or match["platform"] not in PLATFORMS:
        return None
    minor = int(match["minor"])
    if minor < MIN_PYTHON_MINOR:
        return None
    return Target(match["platform"], minor)


def parse_python(text: str) -> int | None:
    """The minor version of a ``3.X`` that a target may have (3.9 or newer), else None."""
    match = _PYTHON.fullmatch(text.strip())
    if match is None or int(match["minor"]) < MIN_PYTHON_MINOR:
        return None
    return int(match["minor"])


def local_platform() -> str | None:
    """This machine's platform as targets spell it; None when it is not one of them."""
    system = {"linux": "linux", "darwin": "macos"}.get(sys.platform)
    machine = _MACHINES.get(platform.machine().lower())
    if system is None or machine is None:
        return None
    if system == "macos" and machine == "aarch64":
        machine = "arm64"
    if system == "linux" and machine == "arm64":
        machine = "aarch64"
    name = f"{system}-{machine}"
    return name if name in PLATFORMS else None


_EXAMPLE = "linux-x86_64-cp311"


def _guess_platform(text: str) -> str | None:
    lowered = text.lower()
    if lowered in PLATFORMS:
        return lowered
    return _PLATFORM_ALIASES.get(lowered)


def target_problem(text: str) -> tuple[str, str] | None:
    """What is wrong with a target, and how to fix it; None for a valid one.

    Returns:
        The problem (``is not a target``) and the fix (``write
        "linux-x86_64-cp311"``), to follow the quoted target.
    """
    if parse_target(text) is not None:
        return None
    platforms = ", ".join(PLATFORMS)
    generic = (
        f'write <platform>-cp3<minor>, such as "{_EXAMPLE}", with a platform of {platforms} '
        f"and CPython 3.{MIN_PYTHON_MINOR} or newer"
    )
    platform_part, python_part = _split_target(text)
    platform_name = _guess_platform(platform_part) if platform_part else None
    loose = _LOOSE_PYTHON.fullmatch(python_part) if python_part else None
    minor = int(loose["minor"]) if loose else None
    if minor is not None and minor < MIN_PYTHON_MINOR:
        return (
            f"targets Python 3.{minor}, older than the SDK supports",
            f"target CPython 3.{MIN_PYTHON_MINOR} or newer, such as "
            f'"{platform_name or _EXAMPLE.rpartition("-")[0]}-cp311"',
        )
    if platform_name is not None and minor is not None:
        return "is not a target", f'write "{platform_name}-cp3{minor}"'
    if platform_part and platform_name is None and minor is not None:
        return f'has the platform "{platform_part}", which bundles do not target', generic
    return "is not a target", generic


def _split_target(text: str) -> tuple[str, str]:
    """``text`` cut where its Python version seems to start: platform part, Python part."""
    match = re.search(r"-(?=(?:cp|py|python|cpython)?-?3\.?[0-9]+$)", text, re.IGNORECASE)
    if match is None:
        return text, ""
    return text[: match.start()], text[match.end() :]


def executable_key_problem(key: str) -> tuple[str, str, bool] | None:
    """What is wrong with a ``server.executables`` key; None for one Mattermost ships on.

    Returns:
        The problem, the fix, and whether it is an error (rather than a
        warning).
    """
    if key in EXECUTABLE_PLATFORMS:
        return None
    known = ", ".join(EXECUTABLE_PLATFORMS)
    meant = _EXECUTABLE_ALIASES.get(key.lower()) or (
        key.lower() if key.lower() in EXECUTABLE_PLATFORMS else None
    )
    if meant is not None:
        return (
            f'has the key "{key}", which Mattermost never looks up (it uses Go\'s GOOS-GOARCH)',
            f'write "{meant}"',
            True,
        )
    if _GO_PLATFORM.fullmatch(key):
        return (
            f'has the key "{key}", a platform that Mattermost is not released for',
            f"Mattermost runs the executable of its own platform: {known}",
            False,
        )
    return f'has the key "{key}", which is not a GOOS-GOARCH pair', f"use one of {known}", True


def _wheel_tags(filename: str) -> tuple[list[str], list[str], list[str]] | None:
    """The Python, ABI and platform tags of a wheel's file name; None if it is not one."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[: -len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return None
    python, abi, platforms = parts[-3:]
    return python.split("."), abi.split("."), platforms.split(".")


def _python_fits(pythons: Sequence[str], abis: Sequence[str], minor: int) -> bool:
    for abi in abis:
        for python in pythons:
            if abi == "none":
                # py3-none-any, py311-none-any, cp311-none-any
                match = re.fullmatch(r"py3([0-9]*)", python)
                if match and (not match[1] or int(match[1]) <= minor):
                    return True
                if python == f"cp3{minor}":
                    return True
            elif abi == "abi3":
                match = re.fullmatch(r"cp3([0-9]+)", python)
                if match and 2 <= int(match[1]) <= minor:
                    return True
            elif abi == f"cp3{minor}" and python == f"cp3{minor}":
                return True
    return False


_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}

#: The macOS architectures whose wheels run on each machine.
_MAC_ARCHES = {
    "x86_64": ("x86_64", "intel", "fat64", "fat3", "universal", "universal2"),
    "arm64": ("arm64", "universal2"),
}


def _platform_fits(tag: str, target: Target) -> bool:
    if tag == "any":
        return True
    if target.system == "linux":
        legacy = re.fullmatch(r"(manylinux1|manylinux2010|manylinux2014)_(.+)", tag)
        if legacy:
            return legacy[2] == target.machine and _LEGACY_MANYLINUX[legacy[1]] <= GLIBC
        modern = re.fullmatch(r"manylinux_([0-9]+)_([0-9]+)_(.+)", tag)
        return bool(
            modern and modern[3] == target.machine and (int(modern[1]), int(modern[2])) <= GLIBC
        )
    mac = re.fullmatch(r"macosx_([0-9]+)_([0-9]+)_(.+)", tag)
    if mac is None or mac[3] not in _MAC_ARCHES[target.machine]:
        return False
    version = (int(mac[1]), int(mac[2]))
    if version[0] >= 11:
        version = (version[0], 0)
    return version <= MACOS


def wheel_fits(filename: str, target: Target) -> bool:
    """Whether the wheel of this file name installs on ``target``."""
    tags = _wheel_tags(filename)
    if tags is None:
        return False
    pythons, abis, platforms = tags
    return _python_fits(pythons, abis, target.minor) and any(
        _platform_fits(tag, target) for tag in platforms
    )


def sorted_targets(targets: Iterable[Target]) -> list[Target]:
    """The targets without repeats, in the order of their names."""
    return sorted(set(targets), key=lambda target: target.name)
