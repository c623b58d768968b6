"""MessageWillBePosted on bare grpcio: the floor under the SDK's hook runtime.

The same answer as the hook_sync and hook_async plugins (the post, marked),
served by a PluginHooks handler written directly on grpcio, with none of the
SDK's runtime: no Plugin class, no dispatcher, no argument conversion and
no timeout. BENCH_BARE_SERVER picks the server:

* ``aio``: a grpc.aio server, its handler a coroutine on the event loop, as
  the SDK's runtime serves every hook;
* ``threads``: grpcio's thread-pool server, its handler a plain function on
  a pool thread;
* ``stream``: the grpc.aio server, whose Implemented announces a hook
  stream; the plugin opens it (PluginStreams.HookStream) to the Plugin API
  server with its token, as the SDK's runtime does, and answers each frame
  of calls with one frame, read, handled and written in one coroutine.

Only go-plugin's handshake, health, controller, stdio and broker services
come from the SDK (``mattermost_plugin._plugin.goplugin``): the host needs
them, but no hook call passes through them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import tempfile
import threading
from typing import Any

import grpc

from mattermost_plugin._plugin import goplugin
from mattermost_plugin.config import AUTH_SCHEME, ENV_TARGET, ENV_TOKEN, METADATA_KEY
from mattermost_plugin.grpc import hooks_pb2, streams_pb2

SERVICE = "mattermost.plugin.PluginHooks"
#: The hook stream's id that Implemented announces, in stream mode.
STREAM_ID = "bench-bare-stream"


def implemented(request: object, context: object) -> hooks_pb2.ImplementedResponse:
    """The one hook this plugin serves, and the hook stream in stream mode."""
    stream_id = STREAM_ID if os.environ.get("BENCH_BARE_SERVER") == "stream" else ""
    return hooks_pb2.ImplementedResponse(hooks=["MessageWillBePosted"], hook_stream_id=stream_id)


def on_activate(request: object, context: object) -> hooks_pb2.OnActivateResponse:
    """Nothing to activate."""
    return hooks_pb2.OnActivateResponse()


def message_will_be_posted(
    request: hooks_pb2.MessageWillBePostedRequest, context: object
) -> hooks_pb2.MessageWillBePostedResponse:
    """Mark the post and allow it."""
    post = request.post
    post.message += "!"
    return hooks_pb2.MessageWillBePostedResponse(post=post)


def hook_handlers(wrap: Any) -> grpc.GenericRpcHandler:  # noqa: ANN401 - a sync or async wrapper
    """PluginHooks' three methods, each handler passed through wrap first."""
    methods = {
        "Implemented": (implemented, hooks_pb2.ImplementedRequest),
        "OnActivate": (on_activate, hooks_pb2.OnActivateRequest),
        "MessageWillBePosted": (message_will_be_posted, hooks_pb2.MessageWillBePostedRequest),
    }
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            name: grpc.unary_unary_rpc_method_handler(
                wrap(function),
                request_deserializer=request.FromString,
                response_serializer=lambda response: response.SerializeToString(),
            )
            for name, (function, request) in methods.items()
        },
    )


def as_coroutine(function: Any) -> Any:  # noqa: ANN401 - a handler
    """The handler, wrapped as a coroutine for grpc.aio."""

    async def handler(request: object, context: object) -> object:
        return function(request, context)

    return handler


async def serve_hook_stream() -> None:
    """Open the hook stream to the Plugin API server and answer its calls, until it ends."""
    async with grpc.aio.insecure_channel(os.environ[ENV_TARGET]) as channel:
        call: Any = channel.stream_stream(
            "/mattermost.plugin.PluginStreams/HookStream",
            request_serializer=streams_pb2.HookStreamRequest.SerializeToString,
            response_deserializer=streams_pb2.HookStreamResponse.FromString,
        )(metadata=((METADATA_KEY, f"{AUTH_SCHEME} {os.environ[ENV_TOKEN]}"),))
        hello = streams_pb2.HookStreamRequest.Hello(stream_id=STREAM_ID)
        await call.write(streams_pb2.HookStreamRequest(hello=hello))
        while True:
            frame = await call.read()
            if frame is grpc.aio.EOF:
                return
            answers = []
            for hook in frame.calls:
                request = hooks_pb2.MessageWillBePostedRequest.FromString(hook.payload)
                response = message_will_be_posted(request, None)
                answers.append(
                    streams_pb2.HookStreamRequest.Answer(
                        id=hook.id, payload=response.SerializeToString()
                    )
                )
            if answers:
                await call.write(streams_pb2.HookStreamRequest(answers=answers))


async def serve_aio(socket_path: str, stream: bool) -> None:
    """Serve on a grpc.aio server until the host says Shutdown."""
    stopping = asyncio.Event()
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([hook_handlers(as_coroutine)])
    server.add_generic_rpc_handlers(goplugin.ProtocolServices(stopping).generic_handlers())
    server.add_insecure_port(f"unix:{socket_path}")
    await server.start()
    print(goplugin.handshake_line("unix", socket_path), flush=True)
    hook_stream = asyncio.ensure_future(serve_hook_stream()) if stream else None
    await stopping.wait()
    if hook_stream is not None:
        hook_stream.cancel()
    await server.stop(1)


def serve_threads(socket_path: str) -> None:
    """Serve on grpcio's thread-pool server until the host says Shutdown.

    go-plugin's services are written for grpc.aio in the SDK, so this server
    answers health and Shutdown itself and leaves stdio and the broker
    unimplemented; go-plugin's host logs that and goes on.
    """
    stopping = threading.Event()

    def check(request: bytes, context: object) -> bytes:
        return b"\x08\x01"  # HealthCheckResponse{status: SERVING}

    def shutdown(request: bytes, context: object) -> bytes:
        stopping.set()
        return b""

    server = grpc.server(concurrent.futures.ThreadPoolExecutor(16))
    server.add_generic_rpc_handlers(
        [
            hook_handlers(lambda function: function),
            grpc.method_handlers_generic_handler(
                "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)}
            ),
            grpc.method_handlers_generic_handler(
                "plugin.GRPCController", {"Shutdown": grpc.unary_unary_rpc_method_handler(shutdown)}
            ),
        ]
    )
    server.add_insecure_port(f"unix:{socket_path}")
    server.start()
    print(goplugin.handshake_line("unix", socket_path), flush=True)
    stopping.wait()
    server.stop(1)


def main() -> None:
    """Handshake and serve, as go-plugin's host expects."""
    goplugin.check_environment(os.environ)
    kind = os.environ.get("BENCH_BARE_SERVER", "aio")
    with tempfile.TemporaryDirectory(prefix="mmbench-") as directory:
        socket_path = os.path.join(directory, "plugin.sock")
        if kind in ("aio", "stream"):
            asyncio.run(serve_aio(socket_path, kind == "stream"))
        elif kind == "threads":
            serve_threads(socket_path)
        else:
            sys.exit(f"BENCH_BARE_SERVER must be aio, threads or stream, not {kind!r}")


if __name__ == "__main__":
    main()
