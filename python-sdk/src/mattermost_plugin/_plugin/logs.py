"""Plugin logging: records go to the server log through the Plugin API.

A :class:`APILogHandler` queues records and one thread sends them with its
own blocking client, so that logging never blocks a hook or the event loop
and never re-enters the caller's client. When the queue is full, or the API
cannot be reached, records go to stderr as hclog JSON lines, which the host
re-logs under the plugin's id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import sys
import threading
import time
from typing import Any, Callable, TextIO

__all__ = ["APILogHandler", "LogWriter", "hclog_line"]

#: Records waiting to be sent, at most; more go to stderr.
QUEUE_SIZE = 10_000
#: The longest message sent; longer ones are cut.
MAX_MESSAGE = 64 * 1024

_STOP = object()


def hclog_line(record: logging.LogRecord, message: str) -> str:
    """A JSON log line that hashicorp/go-plugin hosts parse and re-log."""
    level = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn"}.get(
        record.levelno, "error" if record.levelno >= logging.ERROR else "trace"
    )
    entry = {
        "@level": level,
        "@message": message,
        "@timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        + f".{int(record.msecs):03d}Z",
        "logger": record.name,
    }
    return json.dumps(entry, ensure_ascii=False)


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
        self._thread = threading.Thread(target=self._send_all, name="plugin-log", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._fallback(record)

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
        text = self.format(record)
        return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."

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
                send(self._text(record), {"logger": record.name}, timeout=5)
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
