"""Build the platform wheels of ``mattermost-plugin-devserver``.

Usage: build_devserver_wheels.py [OUTDIR] [--platform NAME ...] [--binary NAME=PATH ...]
                                 [--out-file WHEEL]

The distribution carries the Go binary ``pluginapi-server`` (the reference
Plugin API server and plugin dev server) inside the package
``mattermost_plugin_devserver`` (python-sdk/devserver/src), one wheel per
platform. Each binary is cross-compiled with ``CGO_ENABLED=0``, so that it
is static and runs on any Linux of its architecture (hence the
``manylinux_2_17`` tags) or on macOS 12 and later, Go's own floor.

``--binary NAME=PATH`` takes an already built binary for platform NAME
instead of running ``go build``. ``--out-file`` writes the one platform's
wheel to exactly that path and fails unless its file name is the wheel's
true name: Bazel's devserver_wheel rule passes its ``go_binary`` output and
its declared output this way. The wheels are reproducible: entries are sorted, every
timestamp is ``SOURCE_DATE_EPOCH`` (default: 2020-01-01), and the Go build
is ``-trimpath`` without a build id or VCS stamp. Prints the path of each
wheel.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

SDK_DIR = Path(os.path.abspath(__file__)).parent.parent
ROOT = SDK_DIR.parent
DEVSERVER_DIR = SDK_DIR / "devserver"
PACKAGE_DIR = DEVSERVER_DIR / "src" / "mattermost_plugin_devserver"
DISTRIBUTION = "mattermost-plugin-devserver"
#: The Go package of the binary.
GO_PACKAGE = "./server/cmd/pluginapi-server"
#: 2020-01-01T00:00:00Z, when SOURCE_DATE_EPOCH is not set.
DEFAULT_EPOCH = 1577836800
#: 1980-01-01T00:00:00Z, the earliest time a zip entry can hold.
ZIP_EPOCH = 315532800
SUMMARY = (
    "The Mattermost plugin dev server (pluginapi-server) for mattermost-plugin-sdk: "
    "the reference Plugin API server that the SDK's test kit and CLI run."
)
CLASSIFIERS = [
    "Development Status :: 3 - Alpha",
    "Intended Audience :: Developers",
    "Operating System :: MacOS",
    "Operating System :: POSIX :: Linux",
    "Programming Language :: Go",
    "Programming Language :: Python :: 3",
    "Topic :: Communications :: Chat",
    "Topic :: Software Development :: Testing",
]


@dataclass(frozen=True)
class Platform:
    """One target of the devserver wheels.

    Attributes:
        name: The short name used on the command line.
        goos: Go's GOOS.
        goarch: Go's GOARCH.
        tags: The wheel's platform tags, most specific first.
    """

    name: str
    goos: str
    goarch: str
    tags: tuple[str, ...]


PLATFORMS = {
    p.name: p
    for p in (
        Platform(
            "linux-x86_64",
            "linux",
            "amd64",
            ("manylinux_2_17_x86_64", "manylinux2014_x86_64"),
        ),
        Platform(
            "linux-aarch64",
            "linux",
            "arm64",
            ("manylinux_2_17_aarch64", "manylinux2014_aarch64"),
        ),
        Platform("macos-x86_64", "darwin", "amd64", ("macosx_12_0_x86_64",)),
        Platform("macos-arm64", "darwin", "arm64", ("macosx_12_0_arm64",)),
    )
}


def version() -> str:
    """The distribution's version, from its package."""
    text = (PACKAGE_DIR / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, flags=re.M)
    if not match:
        raise SystemExit(f"{PACKAGE_DIR / '__init__.py'} has no __version__")
    return match.group(1)


def epoch() -> int:
    """The timestamp of every entry, from SOURCE_DATE_EPOCH."""
    return int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))


def go_build(platform: Platform, out: Path) -> None:
    """Cross-compile the server for ``platform`` into ``out``."""
    env = dict(os.environ, CGO_ENABLED="0", GOOS=platform.goos, GOARCH=platform.goarch)
    env.pop("GOFLAGS", None)
    command = [
        "go",
        "build",
        "-trimpath",
        "-buildvcs=false",
        "-ldflags=-s -w -buildid=",
        "-o",
        str(out),
        GO_PACKAGE,
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"go build for {platform.name} failed:\n{result.stderr}")


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def metadata(ver: str) -> str:
    """The core metadata (METADATA) of the distribution."""
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {DISTRIBUTION}",
        f"Version: {ver}",
        f"Summary: {SUMMARY}",
        "License-Expression: Apache-2.0",
        "License-File: LICENSE",
        "Requires-Python: >=3.9",
        *(f"Classifier: {c}" for c in CLASSIFIERS),
        "Project-URL: Homepage, https://github.com/mattermost/mattermost-plugin-grpc",
        "Description-Content-Type: text/markdown",
    ]
    readme = (DEVSERVER_DIR / "README.md").read_text()
    return "\n".join(lines) + "\n\n" + readme


def wheel_name(ver: str, platform: Platform) -> str:
    """The file name of the wheel of ``platform``."""
    name = DISTRIBUTION.replace("-", "_")
    return f"{name}-{ver}-py3-none-{'.'.join(platform.tags)}.whl"


def write_wheel(outdir: Path, platform: Platform, binary: Path) -> Path:
    """Write the wheel of ``platform`` with ``binary`` in it; return its path."""
    ver = version()
    dist_info = f"{DISTRIBUTION.replace('-', '_')}-{ver}.dist-info"
    files: list[tuple[str, bytes, bool]] = []  # (path, data, executable)
    for source in sorted(PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" in source.parts:
            continue
        arcname = "mattermost_plugin_devserver/" + source.relative_to(PACKAGE_DIR).as_posix()
        files.append((arcname, source.read_bytes(), False))
    files.append(("mattermost_plugin_devserver/bin/pluginapi-server", binary.read_bytes(), True))
    wheel_meta = (
        "Wheel-Version: 1.0\nGenerator: build_devserver_wheels.py\nRoot-Is-Purelib: false\n"
    )
    wheel_meta += "".join(f"Tag: py3-none-{tag}\n" for tag in platform.tags)
    files += [
        (f"{dist_info}/METADATA", metadata(ver).encode(), False),
        (f"{dist_info}/WHEEL", wheel_meta.encode(), False),
        (f"{dist_info}/licenses/LICENSE", (SDK_DIR / "LICENSE").read_bytes(), False),
    ]
    files.sort(key=lambda f: f[0])
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data, _ in files)
    record += f"{dist_info}/RECORD,,\n"
    files.append((f"{dist_info}/RECORD", record.encode(), False))

    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / wheel_name(ver, platform)
    stamp = time.gmtime(max(epoch(), ZIP_EPOCH))[:6]
    partial = target.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data, executable in files:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the mode bits count
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            archive.writestr(info, data, compresslevel=9)
    partial.replace(target)
    return target


def build(outdir: Path, names: list[str], binaries: dict[str, Path]) -> list[Path]:
    """Build the wheels of the platforms ``names`` into ``outdir``."""
    wheels = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            platform = PLATFORMS[name]
            binary = binaries.get(name)
            if binary is None:
                binary = Path(tmp) / name / "pluginapi-server"
                go_build(platform, binary)
            wheels.append(write_wheel(outdir, platform, binary))
    return wheels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, nargs="?")
    parser.add_argument("--out-file", type=Path, help="the wheel to write, for one platform")
    parser.add_argument(
        "--platform",
        action="append",
        choices=sorted(PLATFORMS),
        help="a platform to build (repeatable; default: all)",
    )
    parser.add_argument(
        "--binary",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="use this prebuilt binary for platform NAME",
    )
    args = parser.parse_args(argv)
    binaries: dict[str, Path] = {}
    for item in args.binary:
        name, sep, path = item.partition("=")
        if not sep or name not in PLATFORMS:
            parser.error(f"--binary wants NAME=PATH with NAME one of {sorted(PLATFORMS)}")
        binaries[name] = Path(path)
    names = args.platform or sorted(PLATFORMS)
    if (args.outdir is None) == (args.out_file is None):
        parser.error("give OUTDIR or --out-file, not both")
    if args.out_file is not None:
        if len(names) != 1:
            parser.error("--out-file takes exactly one --platform")
        expected = wheel_name(version(), PLATFORMS[names[0]])
        if args.out_file.name != expected:
            parser.error(f"--out-file must be named {expected}, not {args.out_file.name}")
        args.outdir = args.out_file.parent
    try:
        wheels = build(args.outdir, names, binaries)
    except RuntimeError as error:
        raise SystemExit(str(error)) from None
    for wheel in wheels:
        print(wheel)


if __name__ == "__main__":
    main(sys.argv[1:])
