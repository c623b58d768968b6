"""The benchmark's ServeHTTP: /bytes?n=N streams N bytes; /rss reports its peak RSS."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from urllib.parse import parse_qs

import mattermost_plugin as mp
from mattermost_plugin.models import Context

#: The size of each chunk the response yields.
CHUNK = 1 << 20


class HTTPStream(mp.Plugin):
    """Serves a large response without holding it."""

    def serve_http(self, context: Context, request: mp.HTTPRequest) -> mp.HTTPResponse:
        """Stream /bytes?n=N, or report the peak RSS at /rss."""
        if request.path == "/rss":
            peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return mp.HTTPResponse(
                200, {"Content-Type": "text/plain"}, str(peak_kib * 1024).encode()
            )
        size = int(parse_qs(request.query).get("n", ["0"])[0])
        block = b"x" * CHUNK

        def body() -> Iterator[bytes]:
            left = size
            while left > 0:
                yield block[: min(left, CHUNK)]
                left -= CHUNK

        return mp.HTTPResponse(200, {"Content-Type": "application/octet-stream"}, body())
