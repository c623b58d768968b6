"""What a plugin that cannot start tells its host, before the go-plugin handshake.

A start can fail before the handshake: the plugin's module does not import
(a syntax error, an exception, a missing package), its entry names no
usable class, its class is refused when it is defined, its ``__init__``
raises, or the process was not started by a go-plugin host. The plugin then
writes one hclog JSON line to stderr, whose ``startup_error`` field is one
sentence that names the cause (``plugin.py:3: SyntaxError: invalid syntax``)
and whose ``traceback`` field holds the traceback, and exits with status 1.
The host (the supervisor) takes that sentence as the error of the start.
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig
import traceback
from types import TracebackType
from typing import NoReturn

from .logs import startup_error_line

__all__ = ["StartupError", "describe", "fail", "format_traceback"]

#: The longest message of an exception quoted in a cause.
MAX_ERROR_TEXT = 2000
#: The SDK's package directory, whose frames are never the plugin's.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
#: Directories of installed and standard modules, whose frames are not the plugin's.
_NOT_PLUGIN = tuple(
    {
        os.path.join(os.path.abspath(path), "")
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        for path in [sysconfig.get_paths().get(key, "")]
        if path
    }
)


class StartupError(Exception):
    """The plugin cannot start; the message is the sentence that says why.

    Its ``__cause__``, when set, is the exception whose traceback is sent.
    """


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 3] + "..."


def shown_path(filename: str) -> str:
    """``filename`` relative to the working directory (the plugin's) when inside it."""
    try:
        path = os.path.abspath(filename)
        relative = os.path.relpath(path, os.getcwd())
    except ValueError:
        return filename
    return filename if relative.startswith(os.pardir) else relative


def _is_plugin_file(filename: str) -> bool:
    """Whether ``filename`` is the plugin's: not the SDK's, installed or standard."""
    if filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    parts = path.split(os.sep)
    if path.startswith(_PACKAGE_DIR) or "site-packages" in parts or "dist-packages" in parts:
        return False
    return not any(path.startswith(prefix) for prefix in _NOT_PLUGIN)


def plugin_location(tb: TracebackType | None) -> str:
    """``file:line`` of the innermost frame of ``tb`` in the plugin's own files, or ``""``."""
    found = ""
    for frame, line in traceback.walk_tb(tb):
        if _is_plugin_file(frame.f_code.co_filename):
            found = f"{shown_path(frame.f_code.co_filename)}:{line}"
    return found


def describe(error: BaseException) -> str:
    """One sentence that names the cause of ``error``, where the plugin's code raised it.

    The place is the innermost frame of the traceback in the plugin's own
    files: outside the SDK, the standard library and installed packages.
    """
    kind = type(error).__name__
    if isinstance(error, SyntaxError):
        where = shown_path(error.filename) if error.filename else "<unknown>"
        line = f":{error.lineno}" if error.lineno else ""
        return _one_line(f"{where}{line}: {kind}: {error.msg}")
    try:
        text = str(error)
    except Exception:  # a __str__ that fails
        text = ""
    where = plugin_location(error.__traceback__)
    return _one_line(f"{where + ': ' if where else ''}{kind}{': ' + text if text.strip() else ''}")


def format_traceback(error: BaseException | None) -> str:
    """The traceback of ``error``, from its first frame outside the SDK and the import system."""
    if error is None:
        return ""
    exception = traceback.TracebackException.from_exception(error)
    frames = [f for f in exception.stack if not f.filename.startswith("<frozen importlib")]
    first = next(
        (
            i
            for i, f in enumerate(frames)
            if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)
        ),
        0,
    )
    exception.stack = traceback.StackSummary.from_list(frames[first:])
    return "".join(exception.format())


def fail(cause: str, error: BaseException | None = None) -> NoReturn:
    """Tell the host why the plugin cannot start, and end the process with status 1.

    Writes the line straight to file descriptor 2, so that it is whole
    whatever the plugin did to ``sys.stderr``.
    """
    line = startup_error_line(cause, format_traceback(error)) + "\n"
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a stream that the plugin broke
            stream.flush()
    data = line.encode("utf-8", "replace")
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(2, data) :]
    os._exit(1)
