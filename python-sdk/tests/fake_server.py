"""An in-process fake of the Plugin API server, for unit tests.

It is a real gRPC server on a unix socket, served by Python; each test
decides what its handlers answer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from mattermost_plugin.grpc import api_pb2_grpc, config_pb2, kv_pb2, plugin_pb2


@dataclass
class Failure:
    """How a handler fails: a code, a message and optional rich details."""

    code: grpc.StatusCode
    message: str
    app_error: plugin_pb2.AppError | None = None
    raw_details: bytes | None = None


if TYPE_CHECKING:
    # The stubs declare every servicer method abstract; at run time the base
    # class answers the methods a fake leaves out with UNIMPLEMENTED, which
    # is what these fakes rely on.
    _Servicer = object
else:
    _Servicer = api_pb2_grpc.PluginAPIServicer


@dataclass
class FakePluginAPI(_Servicer):
    """Answers GetServerVersion and KVGet as configured; records metadata."""

    version: str = "fake-1.0"
    failure: Failure | None = None
    metadata: list[dict[str, str]] = field(default_factory=list)
    timeouts: list[float | None] = field(default_factory=list)

    def _serve(self, context: grpc.ServicerContext) -> None:
        self.metadata.append({k: v for k, v in context.invocation_metadata() if isinstance(v, str)})
        self.timeouts.append(context.time_remaining())
        failure = self.failure
        if failure is None:
            return
        trailer: bytes | None = failure.raw_details
        if failure.app_error is not None:
            status = plugin_pb2.ErrorStatus(
                code=failure.code.value[0],
                message=failure.message,
                details=[
                    plugin_pb2.ErrorDetail(
                        type_url="type.googleapis.com/mattermost.plugin.AppError",
                        value=failure.app_error.SerializeToString(),
                    )
                ],
            )
            trailer = status.SerializeToString()
        if trailer is not None:
            context.set_trailing_metadata((("grpc-status-details-bin", trailer),))
        context.abort(failure.code, failure.message)

    def GetServerVersion(
        self, request: config_pb2.GetServerVersionRequest, context: grpc.ServicerContext
    ) -> config_pb2.GetServerVersionResponse:
        self._serve(context)
        return config_pb2.GetServerVersionResponse(version=self.version)

    def KVGet(
        self, request: kv_pb2.KVGetRequest, context: grpc.ServicerContext
    ) -> kv_pb2.KVGetResponse:
        self._serve(context)
        if request.key == "missing":
            return kv_pb2.KVGetResponse()
        return kv_pb2.KVGetResponse(value=request.key.encode())


# The longest unix socket path every supported platform accepts.
MAX_SOCKET_PATH = 103


@contextmanager
def serve(servicer: Any, directory: Path) -> Iterator[str]:
    """Serve servicer on a unix socket in directory; yield the target.

    When directory's path is too long for a socket address (as under
    Bazel's test sandbox), the socket goes into a short-lived directory
    under /tmp instead.
    """
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="fake-") as short:
        socket = directory / "fake.sock"
        if len(str(socket)) > MAX_SOCKET_PATH:
            socket = Path(short) / "fake.sock"
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        api_pb2_grpc.add_PluginAPIServicer_to_server(servicer, server)
        target = f"unix://{socket}"
        if server.add_insecure_port(target) == 0:
            raise RuntimeError(f"the fake server cannot listen on {target}")
        server.start()
        try:
            yield target
        finally:
            server.stop(grace=None).wait()
