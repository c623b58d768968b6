"""The ``mattermost-plugin`` command: create, check, run, bundle and install plugins.

``mattermost-plugin new NAME`` writes a new plugin directory,
``mattermost-plugin check DIR`` validates one without running it (or a
bundle), ``mattermost-plugin dev DIR`` runs plugins under the dev server,
``mattermost-plugin bundle DIR`` writes a plugin and its wheels into one
``.tar.gz``, and ``mattermost-plugin install FILE`` installs such a bundle
through the Plugin API. ``python -m mattermost_plugin`` is the same command.

Each command lives in a module of its own, imported only when it runs, so
that ``--help`` stays quick.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Callable

from .._version import __version__
from ..config import ENV_TARGET, ENV_TOKEN
from ._bundle_targets import MIN_PYTHON_MINOR, PLATFORMS, parse_python
from ._errors import CommandError, UsageError

__all__ = ["main"]

#: The command's name, in usage lines and error messages.
PROG = "mattermost-plugin"

#: The plugin's requirements file that ``bundle`` reads by default.
_REQUIREMENTS = "requirements.txt"

#: The levels that ``dev --log-level`` accepts, as the dev server spells them.
LOG_LEVELS = ("debug", "info", "warn", "error")


def _run_new(args: argparse.Namespace) -> int:
    from . import _new

    return _new.run(args)


def _run_check(args: argparse.Namespace) -> int:
    from . import _check

    return _check.run(args)


def _run_dev(args: argparse.Namespace) -> int:
    from . import _dev

    return _dev.run(args)


def _run_bundle(args: argparse.Namespace) -> int:
    from . import _bundle

    return _bundle.run(args)


def _run_install(args: argparse.Namespace) -> int:
    from . import _install

    return _install.run(args)


def _python_version(text: str) -> int:
    """An argparse type: a CPython ``3.X`` that bundles target; the minor version."""
    minor = parse_python(text)
    if minor is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Python version that bundles target: write 3.X, "
            f"3.{MIN_PYTHON_MINOR} or newer (such as 3.11)"
        )
    return minor


def _port(text: str) -> int:
    """An argparse type: a TCP port number, 0 for any free one."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 0 and 65535")
    return port


def _store_url(text: str) -> str:
    """An argparse type: a PostgreSQL connection URL for the server's shared store."""
    if not text.startswith(("postgres://", "postgresql://")):
        raise argparse.ArgumentTypeError(
            f"not a PostgreSQL URL: {text!r} (expected postgres://USER@HOST/DB?...)"
        )
    return text


def _node_id(text: str) -> str:
    """An argparse type: a node id, one word."""
    if not text or text.split() != [text]:
        raise argparse.ArgumentTypeError(f"not a node id: {text!r} (one word, no spaces)")
    return text


def _positive(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``mattermost-plugin`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Create, check and run Mattermost server plugins written in Python.",
        epilog=f"Run '{PROG} COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {__version__} (mattermost-plugin-sdk)"
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True

    new = commands.add_parser(
        "new",
        help="create a new plugin directory",
        description=(
            "Write a new plugin directory NAME/ with plugin.json, plugin.py, tests, "
            "requirements.txt and a README; its tests pass at once."
        ),
    )
    new.add_argument(
        "name",
        metavar="NAME",
        help="the plugin's directory name: a letter, then letters, digits, '-' or '_'",
    )
    new.add_argument(
        "--async",
        dest="use_async",
        action="store_true",
        help="subclass AsyncPlugin (an asyncio API client) instead of Plugin",
    )
    new.add_argument(
        "--id",
        dest="plugin_id",
        metavar="ID",
        help="the plugin id (default: com.example.NAME, in lower case)",
    )
    new.add_argument(
        "--dir",
        dest="parent",
        metavar="PARENT",
        default=".",
        help="where to create NAME/ (default: the current directory)",
    )
    new.set_defaults(handler=_run_new)

    check = commands.add_parser(
        "check",
        help="validate a plugin without running it",
        description=(
            "Check a plugin directory: plugin.json against Mattermost's manifest rules, "
            "then its Python entry, imported in a child process (the plugin is not "
            "started). Given a bundle (.tar.gz), check its layout, SHA256SUMS, manifest "
            "and wheelhouses instead. Prints one line per problem, 'FILE: problem; fix', "
            "and exits 1 if any is an error."
        ),
    )
    check.add_argument(
        "directory",
        metavar="DIR",
        help="the plugin directory, or a bundle (.tar.gz) to validate without installing it",
    )
    check.add_argument(
        "--timeout",
        type=_positive,
        default=30.0,
        metavar="SECONDS",
        help="how long importing the entry may take (default: 30)",
    )
    check.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print the traceback of an exception raised while importing the entry",
    )
    check.set_defaults(handler=_run_check)

    dev = commands.add_parser(
        "dev",
        help="run plugins under the local dev server",
        description=(
            "Run the dev server (pluginapi-server) with the plugins in DIR...: an "
            "in-memory Mattermost Plugin API that starts each plugin and fires its "
            "hooks. Prints where to reach it, then the server's log; Ctrl-C stops it."
        ),
    )
    dev.add_argument(
        "directories",
        nargs="+",
        metavar="DIR",
        help="a plugin directory, or a bundle (.tar.gz), which the server unpacks and runs "
        "in a virtualenv of its own",
    )
    dev.add_argument(
        "--watch",
        action="store_true",
        help="restart a plugin when a .py file or plugin.json in its directory changes",
    )
    dev.add_argument(
        "--state",
        metavar="FILE",
        help="load the server's data from FILE at start, if it exists, and save it there at exit",
    )
    dev.add_argument(
        "--store",
        type=_store_url,
        metavar="URL",
        help="keep the plugins' KV store, plugin settings and cluster events in the PostgreSQL "
        "database at URL (postgres://...), which other dev servers may share as the nodes of "
        "one cluster (default: in memory)",
    )
    dev.add_argument(
        "--node-id",
        type=_node_id,
        metavar="ID",
        help="this server's node id in a cluster (default: a generated one)",
    )
    dev.add_argument(
        "--port",
        type=_port,
        metavar="N",
        help="the HTTP port on 127.0.0.1 where /plugins/ID/... reaches the plugins "
        "(default: a free one)",
    )
    dev.add_argument(
        "--python",
        metavar="PATH",
        help="the interpreter of plugins whose plugin.json names none (default: this one, "
        f"{sys.executable})",
    )
    dev.add_argument(
        "--server",
        metavar="PATH",
        help="the pluginapi-server binary (default: $MATTERMOST_PLUGINAPI_SERVER, "
        "else the installed mattermost-plugin-devserver)",
    )
    dev.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="the lowest level of the server log shown (default: info)",
    )
    dev.add_argument(
        "--timeout",
        type=_positive,
        default=60.0,
        metavar="SECONDS",
        help="how long the plugins may take to start and activate (default: 60)",
    )
    dev.set_defaults(handler=_run_dev)

    bundle = commands.add_parser(
        "bundle",
        help="write the plugin and its wheels into one .tar.gz",
        description=(
            "Write ID-VERSION.tar.gz: the plugin's files and, for each target (a platform "
            "and a CPython version), the wheels of the SDK and of the plugin's "
            "requirements, downloaded by pip, so that the server installs the plugin "
            "offline. The targets are every --platform with every --python, by default "
            "this machine's and this Python's. The layout is docs/bundles.md's."
        ),
    )
    bundle.add_argument("directory", metavar="DIR", help="the plugin directory")
    bundle.add_argument(
        "--platform",
        dest="platforms",
        action="append",
        choices=PLATFORMS,
        metavar="P",
        help=f"a platform to target (repeatable): {', '.join(PLATFORMS)} (default: this machine's)",
    )
    bundle.add_argument(
        "--python",
        dest="pythons",
        action="append",
        type=_python_version,
        metavar="X.Y",
        help=f"a CPython version to target, 3.{MIN_PYTHON_MINOR} or newer (repeatable; "
        f"default: this one's, {sys.version_info[0]}.{sys.version_info[1]})",
    )
    bundle.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the bundle to write (default: ID-VERSION.tar.gz in the current directory; "
        "in FILE if it is a directory)",
    )
    bundle.add_argument(
        "--find-links",
        dest="find_links",
        action="append",
        metavar="DIR",
        help="a directory (or URL) of wheels for pip to look in (repeatable); the SDK is "
        "not on PyPI yet, so one with its wheel is needed",
    )
    bundle.add_argument(
        "--no-index",
        action="store_true",
        help="take wheels from --find-links only, not from the package index",
    )
    bundle.add_argument(
        "--requirements",
        metavar="FILE",
        help=f"the plugin's requirements (default: DIR/{_REQUIREMENTS}, if it exists)",
    )
    bundle.set_defaults(handler=_run_bundle)

    install = commands.add_parser(
        "install",
        help="install a bundle on a server through the Plugin API, and enable it",
        description=(
            "Send FILE, a bundle, to the Plugin API's InstallPlugin, then enable the "
            "plugin. The server is --target with --token, by default "
            f"${ENV_TARGET} and ${ENV_TOKEN}, which 'mattermost-plugin dev' prints."
        ),
    )
    install.add_argument("file", metavar="FILE", help="the bundle (.tar.gz)")
    install.add_argument(
        "--target",
        metavar="T",
        help=f"the gRPC target of the Plugin API server (default: ${ENV_TARGET})",
    )
    install.add_argument(
        "--token", metavar="TOKEN", help=f"the token of its calls (default: ${ENV_TOKEN})"
    )
    install.add_argument(
        "--replace",
        action="store_true",
        help="replace an installed plugin with the same id",
    )
    install.add_argument(
        "--timeout",
        type=_positive,
        default=300.0,
        metavar="SECONDS",
        help="how long each call may take (default: 300)",
    )
    install.set_defaults(handler=_run_install)
    return parser


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The parser of the subcommand ``name``, for its usage line."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found = action.choices.get(name)
            if isinstance(found, argparse.ArgumentParser):
                return found
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mattermost-plugin`` with ``argv`` (``sys.argv[1:]`` by default).

    Returns the exit status: 0 on success, 1 when the command failed, 2 for
    a usage error. Expected failures are reported as one line on stderr,
    without a traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exit_:  # --help, --version, or a usage error
        code = exit_.code
        return 0 if code is None else code if isinstance(code, int) else 2
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as error:
        command = _subparser(parser, args.command)
        command.print_usage(sys.stderr)
        print(f"{command.prog}: error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"{PROG} {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away, as `| head` does
        # Python would complain again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1
