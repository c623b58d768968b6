"""The benchmark's ServeHTTP: /bytes?n=N streams N bytes; /rss reports memory.

``/rss?reset=1`` answers the current RSS and restarts the peak there (Linux
clear_refs); ``/rss`` answers the peak since, both in bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import mattermost_plugin as mp
from mattermost_plugin.models import Context

#: The size of each chunk the response yields.
CHUNK = 1 << 20


def _status(field: str) -> int:
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field + ":"))


class HTTPStream(mp.Plugin):
    """Serves a large response without holding it."""

    def serve_http(self, context: Context, request: mp.HTTPRequest) -> mp.HTTPResponse:
        """Stream /bytes?n=N, or report memory at /rss."""
        query = parse_qs(request.query)
        if request.path == "/rss":
            if query.get("reset"):
                with open("/proc/self/clear_refs", "w") as refs:
                    refs.write("5")
                value = _status("VmRSS")
            else:
                value = _status("VmHWM")
            return mp.HTTPResponse(200, {"Content-Type": "text/plain"}, str(value).encode())
        size = int(query.get("n", ["0"])[0])
        block = b"x" * CHUNK

        def body() -> Iterator[bytes]:
            left = size
            while left > 0:
                yield block[: min(left, CHUNK)]
                left -= CHUNK

        return mp.HTTPResponse(200, {"Content-Type": "application/octet-stream"}, body())
