"""The benchmark's cluster-event receiver: how long each event took to arrive.

Each event's data is the publisher's ``time.monotonic_ns()`` as ASCII digits
(CLOCK_MONOTONIC, one clock for every process of the machine), and
OnPluginClusterEvent records its delay. ``GET /delays`` answers them, in
nanoseconds, as a JSON list, and forgets them.
"""

from __future__ import annotations

import json
import threading
import time

import mattermost_plugin as mp
from mattermost_plugin.models import Context, PluginClusterEvent


class ClusterEcho(mp.Plugin):
    """Records the delivery delay of the cluster events that reach it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._delays: list[int] = []

    def on_plugin_cluster_event(self, context: Context, event: PluginClusterEvent) -> None:
        """Record how long the event took from its publisher's call."""
        delay = time.monotonic_ns() - int(event.data)
        with self._lock:
            self._delays.append(delay)

    def serve_http(self, context: Context, request: mp.HTTPRequest) -> mp.HTTPResponse:
        """Answer /delays, and forget them."""
        with self._lock:
            delays, self._delays = self._delays, []
        return mp.HTTPResponse(200, {"Content-Type": "application/json"}, json.dumps(delays))
