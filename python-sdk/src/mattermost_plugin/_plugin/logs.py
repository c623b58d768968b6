"""Plugin logging: records go to the server log through the Plugin API.

A :class:`APILogHandler` queues records and one thread sends them with its
own blocking client, so that logging never blocks a hook or the event loop
and never re-enters the caller's client. When the queue is full, or the API
cannot be reached, records go to stderr as hclog JSON lines, which the host
re-logs under the plugin's id. A record's ``extra`` fields travel as the
log call's key/value pairs.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable, TextIO

__all__ = [
    "APILogHandler",
    "LogWriter",
    "hclog_line",
    "hclog_timestamp",
    "record_fields",
    "startup_error_line",
]

#: Records waiting to be sent, at most; more go to stderr.
QUEUE_SIZE = 10_000
#: The longest message sent; longer ones are cut.
MAX_MESSAGE = 64 * 1024
#: The most ``extra`` fields a record sends, and the longest key or value;
#: the server keeps as many (64 fields of 1 KiB).
MAX_FIELDS = 64
MAX_FIELD = 1024
#: The hclog module of the lines that the runtime itself writes to stderr.
HCLOG_MODULE = "mattermost_plugin"
#: The longest traceback in a start failure line; longer ones lose their middle.
MAX_TRACEBACK = 16 * 1024

_STOP = object()

#: The attributes of every LogRecord; the others came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", logging.INFO, "", 0, "", (), None).__dict__
) | {"message", "asctime", "taskName"}


def hclog_timestamp(created: float) -> str:
    """The time as go-plugin parses hclog's "@timestamp": 2006-01-02T15:04:05.000000Z07:00."""
    moment = datetime.datetime.fromtimestamp(created, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hclog_level(levelno: int) -> str:
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    if levelno >= logging.INFO:
        return "info"
    return "debug" if levelno >= logging.DEBUG else "trace"


def hclog_line(record: logging.LogRecord, message: str) -> str:
    """A JSON log line that hashicorp/go-plugin hosts parse and re-log with its level."""
    entry = {
        **record_fields(record),  # first, so that they cannot replace the line's own keys
        "@level": _hclog_level(record.levelno),
        "@message": message,
        "@timestamp": hclog_timestamp(record.created),
        "logger": record.name,
    }
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def startup_error_line(cause: str, traceback: str = "", created: float | None = None) -> str:
    """The hclog JSON line with which a plugin that cannot start says why.

    The host (the supervisor) takes ``startup_error`` as the error of the
    start; ``traceback`` is the formatted traceback, its middle cut to
    :data:`MAX_TRACEBACK` characters.
    """
    if len(traceback) > MAX_TRACEBACK:
        head = MAX_TRACEBACK // 4
        tail = MAX_TRACEBACK - head
        traceback = f"{traceback[:head]}\n[... cut ...]\n{traceback[-tail:]}"
    entry = {
        "@level": "error",
        "@message": cause,
        "@timestamp": hclog_timestamp(time.time() if created is None else created),
        "@module": HCLOG_MODULE,
        "startup_error": cause,
        "traceback": traceback,
    }
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _field_value(value: object) -> str:
    """A field's value as text: strings as they are, JSON values as JSON, others with str()."""
    if isinstance(value, str):
        return _cut(value, MAX_FIELD)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        try:
            text = str(value)
        except Exception:
            text = f"<unprintable {type(value).__name__}>"
    return _cut(text, MAX_FIELD)


def record_fields(record: logging.LogRecord) -> dict[str, str]:
    """The fields that ``extra`` gave the record, as text; at most :data:`MAX_FIELDS`."""
    fields: dict[str, str] = {}
    for key, value in record.__dict__.items():
        if key in _RECORD_ATTRIBUTES or key.startswith("_"):
            continue
        if len(fields) == MAX_FIELDS:
            break
        fields[_cut(str(key), MAX_FIELD)] = _field_value(value)
    return fields


class APILogHandler(logging.Handler):
    """Sends log records to the server log through ``LogDebug`` .. ``LogError``.

    Args:
        connect: Makes the blocking client that the sending thread uses;
            called once, on that thread.
        stream: Where records go when they cannot be sent; stderr by default.
    """

    def __init__(self, connect: Callable[[], Any], stream: TextIO | None = None) -> None:
        super().__init__()
        self._connect = connect
        self._stream = stream
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_SIZE)
        self._emitting = threading.local()
        self._thread = threading.Thread(target=self._send_all, name="plugin-log", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        # A record logged while a record is sent (by grpc, say, on the
        # sending thread) or while one is emitted goes to stderr: sending
        # it would send another, without end.
        if threading.current_thread() is self._thread or getattr(self._emitting, "busy", False):
            self._fallback(record)
            return
        self._emitting.busy = True
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._fallback(record)
        finally:
            self._emitting.busy = False

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (waiting at most ``timeout`` seconds), then stop."""
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(_STOP, timeout=timeout)
            self._thread.join(timeout)
        super().close()

    def _fallback(self, record: logging.LogRecord) -> None:
        stream = self._stream or sys.stderr
        try:
            stream.write(hclog_line(record, self._text(record)) + "\n")
            stream.flush()
        except Exception:  # the last resort has nowhere to report to
            pass

    def _text(self, record: logging.LogRecord) -> str:
        return _cut(self.format(record), MAX_MESSAGE)

    @staticmethod
    def _fields(record: logging.LogRecord) -> Mapping[str, str]:
        # The logger's name wins over an extra field of that name.
        return {**record_fields(record), "logger": record.name}

    def _send_all(self) -> None:
        client: Any = None
        while True:
            record = self._queue.get()
            if record is _STOP:
                break
            try:
                if client is None:
                    client = self._connect()
                level = record.levelno
                send = (
                    client.log_error
                    if level >= logging.ERROR
                    else client.log_warn
                    if level >= logging.WARNING
                    else client.log_info
                    if level >= logging.INFO
                    else client.log_debug
                )
                send(self._text(record), self._fields(record), timeout=5)
            except Exception:
                self._fallback(record)
        if client is not None:
            client.close()


class LogWriter:
    """A text stream that logs each line written to it: the plugin's stdout."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, logger: logging.Logger, level: int = logging.INFO) -> None:
        self._logger = logger
        self._level = level
        self._buffer = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
            if len(self._buffer) > MAX_MESSAGE:
                lines.append(self._buffer)
                self._buffer = ""
        for line in lines:
            if line:
                self._logger.log(self._level, "%s", line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            line, self._buffer = self._buffer, ""
        if line:
            self._logger.log(self._level, "%s", line)

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True
