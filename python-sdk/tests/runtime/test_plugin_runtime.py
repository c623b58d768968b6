"""The plugin runtime: hook dispatch over real gRPC, and the go-plugin protocol in a real process.

The first half serves a plugin's hooks with the runtime's dispatcher on a
grpc.aio server and calls them as a host would. The second half starts
plugins as processes, the way hashicorp/go-plugin does, against the real Go
reference server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

import mattermost_plugin as mp
from mattermost_plugin._internal.errors import from_rpc_error
from mattermost_plugin._plugin.dispatch import DISMISS_POST_ERROR, MAX_ERROR_TEXT, HookDispatcher
from mattermost_plugin._plugin.threads import HandlerThreads
from mattermost_plugin.grpc import hooks_pb2, hooks_pb2_grpc, plugins_pb2
from mattermost_plugin.models import (
    AppError,
    CommandArgs,
    CommandResponse,
    Context,
    FileInfo,
    Post,
    User,
)

from conftest import GoServer

# ---- Dispatch, in process ------------------------------------------------


class Filters(mp.Plugin):
    """Answers MessageWillBePosted by the post's message."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.cancelled = threading.Event()
        self.release = threading.Event()
        self.entered = threading.Event()

    def on_configuration_change(self) -> None:
        self.calls.append("OnConfigurationChange")

    def on_activate(self) -> None:
        self.calls.append("OnActivate")

    def on_deactivate(self) -> str:
        return "ignored"

    def message_will_be_posted(self, context: Context, post: Post) -> Any:
        answers: dict[str, Any] = {
            "none": None,
            "post": Post(message="replaced"),
            "pair": (Post(message="paired"), ""),
            "reject": (None, "no thanks"),
            "dismiss": mp.DISMISS,
            "dismiss-pair": (None, mp.DISMISS),
            "int": 42,
            "triple": (None, "a", "b"),
            "bad-reason": (None, 5),
            "wrong-model": User(username="x"),
            "context": Post(message=f"{context.request_id}/{context.user_agent}"),
        }
        if post.message == "block":
            self.entered.set()
            self.release.wait(10)
            return None
        if post.message == "raise":
            raise RuntimeError("x" * (1 << 20))
        if post.message == "stop-iteration":
            return next(iter(()))
        if post.message == "own-timeout":
            raise asyncio.TimeoutError("its own wait")
        return answers[post.message]

    async def message_will_be_updated(
        self, context: Context, new_post: Post, old_post: Post
    ) -> Post:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return new_post  # pragma: no cover - always cancelled

    def execute_command(self, context: Context, args: Any) -> CommandResponse | None:
        if args.command == "/fail":
            raise mp.ValidationError(
                "bad", app_error=AppError(id="plugin.bad", message="bad command", status_code=400)
            )
        if args.command == "/pass":
            return None
        return CommandResponse(text=f"ran {args.command}")


@contextlib.asynccontextmanager
async def serving(plugin: Any, tmp_path: Path) -> AsyncIterator[hooks_pb2_grpc.PluginHooksStub]:
    """Serve ``plugin``'s hooks with the runtime's dispatcher; yield a stub of them."""
    threads = HandlerThreads(4)
    server = grpc.aio.server()
    logger = logging.getLogger("test_plugin_runtime")
    server.add_generic_rpc_handlers([HookDispatcher(plugin, threads, logger).generic_handler()])
    address = f"unix:{tmp_path}/hooks.sock"
    server.add_insecure_port(address)
    await server.start()
    channel = grpc.aio.insecure_channel(address)
    try:
        yield hooks_pb2_grpc.PluginHooksStub(channel)
    finally:
        await channel.close()
        await server.stop(0)
        threads.shutdown()


@pytest.fixture
async def hooks(tmp_path: Path) -> AsyncIterator[tuple[Filters, hooks_pb2_grpc.PluginHooksStub]]:
    plugin = Filters()
    try:
        async with serving(plugin, tmp_path) as stub:
            yield plugin, stub
    finally:
        plugin.release.set()


async def post_hook(stub: Any, message: str) -> Any:
    request = hooks_pb2.MessageWillBePostedRequest(
        context=Context(request_id="r1", user_agent="ua"), post=Post(message=message)
    )
    return await stub.MessageWillBePosted(request, timeout=10)


@pytest.mark.parametrize(
    ("message", "post", "reason"),
    [
        ("none", None, ""),
        ("post", "replaced", ""),
        ("pair", "paired", ""),
        ("reject", None, "no thanks"),
        ("dismiss", None, DISMISS_POST_ERROR),
        ("dismiss-pair", None, DISMISS_POST_ERROR),
        ("context", "r1/ua", ""),
    ],
)
async def test_answers_become_responses(
    hooks: Any, message: str, post: str | None, reason: str
) -> None:
    _, stub = hooks
    response = await post_hook(stub, message)
    assert response.HasField("post") == (post is not None)
    if post is not None:
        assert response.post.message == post
    assert response.rejection_reason == reason


class Quiet(mp.Plugin):
    """Answers NotificationsWillBeSent, which takes no Context, by the post's message."""

    def notifications_will_be_sent(self, post: Post) -> str | None:
        return {"quiet": "no notifications", "empty": ""}.get(post.message)


@pytest.mark.parametrize(
    ("message", "reason"), [("quiet", "no notifications"), ("empty", ""), ("loud", "")]
)
async def test_notifications_will_be_sent_answers_a_reason_or_nothing(
    tmp_path: Path, message: str, reason: str
) -> None:
    async with serving(Quiet(), tmp_path) as served:
        stub: Any = served  # the aio stub, which the sync stub's types do not describe
        implemented = await stub.Implemented(hooks_pb2.ImplementedRequest(), timeout=10)
        assert "NotificationsWillBeSent" in implemented.hooks
        request = hooks_pb2.NotificationsWillBeSentRequest(post=Post(message=message))
        response = await stub.NotificationsWillBeSent(request, timeout=10)
        assert response.rejection_reason == reason


@pytest.mark.parametrize("message", ["int", "triple", "bad-reason", "wrong-model"])
async def test_a_wrong_answer_is_an_internal_error_that_names_the_signature(
    hooks: Any, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    _, stub = hooks
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await post_hook(stub, message)
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert "which is not what message_will_be_posted(self, context: Context" in str(
        info.value.details()
    )
    assert "MessageWillBePosted answered" in caplog.text


async def test_an_exception_is_bounded_logged_with_its_traceback_and_survived(
    hooks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, stub = hooks
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await post_hook(stub, "raise")
    assert info.value.code() == grpc.StatusCode.UNKNOWN
    details = str(info.value.details())
    assert details.startswith("MessageWillBePosted raised RuntimeError: xxx")
    assert len(details) <= MAX_ERROR_TEXT
    assert "Traceback" in caplog.text
    assert (await post_hook(stub, "none")).rejection_reason == ""


async def test_a_plain_handler_raising_stop_iteration_fails_at_once(hooks: Any) -> None:
    # An asyncio future cannot hold StopIteration: through run_in_executor
    # the call hung until its deadline.
    _, stub = hooks
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.MessageWillBePosted(
            hooks_pb2.MessageWillBePostedRequest(post=Post(message="stop-iteration")), timeout=20
        )
    assert info.value.code() == grpc.StatusCode.UNKNOWN
    assert "raised RuntimeError: the handler raised StopIteration" in str(info.value.details())
    assert time.monotonic() - started < 15


async def test_an_app_error_reaches_the_host_with_its_fields(hooks: Any) -> None:
    _, stub = hooks
    args = hooks_pb2.ExecuteCommandRequest(args=CommandArgs(command="/fail"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ExecuteCommand(args, timeout=10)
    error = from_rpc_error(info.value)
    assert isinstance(error, mp.ValidationError)
    assert error.app_error is not None and error.app_error.id == "plugin.bad"
    assert error.app_error.status_code == 400
    ran = await stub.ExecuteCommand(hooks_pb2.ExecuteCommandRequest(args=CommandArgs(command="/x")))
    assert ran.response.text == "ran /x"
    passed = await stub.ExecuteCommand(
        hooks_pb2.ExecuteCommandRequest(args=CommandArgs(command="/pass"))
    )
    assert not passed.HasField("response")


async def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    """Whether text is logged within 10 s."""
    for _ in range(200):
        if text in caplog.text:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_an_async_handler_past_its_deadline_is_cancelled_and_the_miss_logged(
    hooks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plugin, stub = hooks
    request = hooks_pb2.MessageWillBeUpdatedRequest(new_post=Post(message="a"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.MessageWillBeUpdated(request, timeout=0.3)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await asyncio.get_running_loop().run_in_executor(None, plugin.cancelled.wait, 10)
    assert await _logged(caplog, "hook MessageWillBeUpdated did not finish within its deadline")


async def test_a_plain_handler_past_its_deadline_finishes_in_its_thread_and_is_dropped(
    hooks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plugin, stub = hooks
    request = hooks_pb2.MessageWillBePostedRequest(post=Post(message="block"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.MessageWillBePosted(request, timeout=0.3)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await _logged(caplog, "hook MessageWillBePosted did not finish within its deadline")
    caplog.clear()
    plugin.release.set()  # the handler returns now, to nobody
    assert (await post_hook(stub, "reject")).rejection_reason == "no thanks"
    await asyncio.sleep(0.1)
    assert "Traceback" not in caplog.text and "Exception" not in caplog.text


async def test_a_handlers_own_timeout_is_its_failure_not_a_deadline_miss(
    hooks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, stub = hooks
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await post_hook(stub, "own-timeout")
    assert info.value.code() == grpc.StatusCode.UNKNOWN
    assert "MessageWillBePosted raised TimeoutError: its own wait" in str(info.value.details())
    assert "did not finish within its deadline" not in caplog.text


async def test_a_cancelled_call_is_not_logged_as_a_deadline_miss(
    hooks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plugin, stub = hooks
    request = hooks_pb2.MessageWillBeUpdatedRequest(new_post=Post(message="a"))
    call = stub.MessageWillBeUpdated(request, timeout=20)
    await asyncio.sleep(0.3)
    call.cancel()
    assert await asyncio.get_running_loop().run_in_executor(None, plugin.cancelled.wait, 10)
    await asyncio.sleep(0.1)
    assert "did not finish within its deadline" not in caplog.text


async def test_a_blocked_sync_handler_blocks_no_other_hook(hooks: Any) -> None:
    plugin, stub = hooks
    blocked = asyncio.ensure_future(post_hook(stub, "block"))
    assert await asyncio.get_running_loop().run_in_executor(None, plugin.entered.wait, 10)
    # While the first call is held in its thread, others are served.
    assert (await post_hook(stub, "reject")).rejection_reason == "no thanks"
    implemented = await stub.Implemented(hooks_pb2.ImplementedRequest())
    assert "MessageWillBePosted" in implemented.hooks
    plugin.release.set()
    assert not (await blocked).HasField("post")


async def test_implemented_lists_the_handlers_and_others_are_unimplemented(hooks: Any) -> None:
    _, stub = hooks
    implemented = await stub.Implemented(hooks_pb2.ImplementedRequest())
    assert list(implemented.hooks) == [
        "ExecuteCommand",
        "MessageWillBePosted",
        "MessageWillBeUpdated",
        "OnActivate",
        "OnConfigurationChange",
        "OnDeactivate",
    ]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.MessageHasBeenPosted(hooks_pb2.MessageHasBeenPostedRequest())
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_on_activate_reads_the_configuration_first(
    hooks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plugin, stub = hooks
    await stub.OnActivate(hooks_pb2.OnActivateRequest())
    assert plugin.calls == ["OnConfigurationChange", "OnActivate"]
    await stub.OnDeactivate(hooks_pb2.OnDeactivateRequest())
    assert "OnDeactivate returned str, which is ignored" in caplog.text


# ---- The go-plugin protocol, in a real process ---------------------------

PLUGIN_SOURCE = """
import mattermost_plugin as mp

print("printed at import")


class Echo(mp.Plugin):
    def on_activate(self):
        self.api.kv_set("activated", b"yes")
        self.logger.warning("activated by the test")
        print("printed after the handshake")

    def message_will_be_posted(self, context, post):
        post.message = post.message.upper()
        return post
"""

COOKIE = {"MATTERMOST_PLUGIN": "Securely message teams, anywhere."}


def plugin_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATTERMOST_PLUGIN")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(extra)
    return env


def start_plugin(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    source = tmp_path / "echo_plugin.py"
    source.write_text(textwrap.dedent(PLUGIN_SOURCE))
    return subprocess.Popen(
        [sys.executable, "-m", "mattermost_plugin.serve", f"{source}:Echo"],
        env=plugin_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # posix_spawn, not fork: a fork runs gRPC's fork handlers in the
        # child of a process with live channels (see testing.py).
        close_fds=False,
    )


class Running:
    def __init__(self, process: subprocess.Popen[str], line: str) -> None:
        self.process = process
        self.line = line
        self.fields = line.rstrip("\n").split("|")
        self.channel = grpc.insecure_channel(f"unix:{self.fields[3]}")
        self.hooks = hooks_pb2_grpc.PluginHooksStub(self.channel)

    def health(self, service: str) -> bytes:
        check: Any = self.channel.unary_unary("/grpc.health.v1.Health/Check")
        request = b"\n" + bytes([len(service)]) + service.encode() if service else b""
        response: bytes = check(request, timeout=5)
        return response

    def finish(self, timeout: float = 10) -> tuple[int, str, str]:
        self.channel.close()
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


@pytest.fixture
def running(tmp_path: Path, go_server: GoServer) -> Iterator[Running]:
    process = start_plugin(tmp_path, {**COOKIE, **go_server.environ()})
    assert process.stdout is not None
    line = process.stdout.readline()
    plugin = Running(process, line)
    try:
        yield plugin
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_the_handshake_line_and_nothing_else_on_stdout(
    running: Running, go_server: GoServer
) -> None:
    assert running.fields[:3] == ["1", "1", "unix"]
    assert running.fields[4:] == ["grpc", ""]
    socket = Path(running.fields[3])
    assert socket.is_socket()
    running.hooks.OnActivate(hooks_pb2.OnActivateRequest(), timeout=10)
    with go_server.client() as api:
        assert api.kv_get("activated") == b"yes"
    post = running.hooks.MessageWillBePosted(
        hooks_pb2.MessageWillBePostedRequest(post=Post(message="hi")), timeout=10
    )
    assert post.post.message == "HI"
    running.process.send_signal(signal.SIGTERM)
    code, out, err = running.finish()
    assert code == 0
    assert out == ""  # the handshake line was read already; nothing followed
    assert "printed at import" in err
    assert not socket.exists() and not socket.parent.exists()
    # The logger's record and the print after the handshake went through the API.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        logs = "\n".join(go_server.log_lines)
        if "activated by the test" in logs and "printed after the handshake" in logs:
            break
        time.sleep(0.05)
    assert "activated by the test" in logs and "printed after the handshake" in logs


def test_health_controller_and_stdio(running: Running) -> None:
    assert running.health("plugin") == b"\x08\x01"  # SERVING
    assert running.health("") == b"\x08\x01"
    with pytest.raises(grpc.RpcError) as info:
        running.health("something-else")
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    open_stdio: Any = running.channel.unary_stream("/plugin.GRPCStdio/StreamStdio")
    stdio = open_stdio(b"", timeout=30)
    shutdown: Any = running.channel.unary_unary("/plugin.GRPCController/Shutdown")
    assert shutdown(b"", timeout=5) == b""
    assert list(stdio) == []  # the stream ends when the plugin stops
    code, _, _ = running.finish()
    assert code == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "not meant to be run directly"),
        ({"MATTERMOST_PLUGIN": "wrong"}, "not meant to be run directly"),
        (
            {**COOKIE, "PLUGIN_PROTOCOL_VERSIONS": "2,3"},
            "the host speaks plugin protocol versions '2,3'",
        ),
    ],
)
def test_a_process_not_started_by_a_host_explains_itself(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    process = start_plugin(tmp_path, env)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert out == ""
    assert message in err


#: A host that starts the plugin, prints its pid and handshake, and waits.
HOST_SOURCE = """
import subprocess, sys, time
plugin = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True, close_fds=False)
print(plugin.pid, plugin.stdout.readline().strip(), flush=True)
time.sleep(600)
"""


def test_a_plugin_whose_host_is_killed_stops(tmp_path: Path, go_server: GoServer) -> None:
    """A host killed with SIGKILL cannot say Shutdown: the plugin notices and exits."""
    source = tmp_path / "echo_plugin.py"
    source.write_text(textwrap.dedent(PLUGIN_SOURCE))
    host = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOST_SOURCE,
            sys.executable,
            "-m",
            "mattermost_plugin.serve",
            f"{source}:Echo",
        ],
        env=plugin_env({**COOKIE, **go_server.environ()}),
        stdout=subprocess.PIPE,
        text=True,
        close_fds=False,
    )
    try:
        assert host.stdout is not None
        pid_text, handshake = host.stdout.readline().split(" ", 1)
        assert handshake.startswith("1|1|unix|")
        plugin_pid = int(pid_text)
        os.kill(host.pid, signal.SIGKILL)
        host.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(plugin_pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(plugin_pid, signal.SIGKILL)
        pytest.fail("the plugin outlived its killed host by 15 s")
    finally:
        host.kill()
        host.wait(10)
        if host.stdout is not None:
            host.stdout.close()


def test_a_missing_plugin_class_is_reported(tmp_path: Path) -> None:
    (tmp_path / "empty_plugin.py").write_text("x = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "mattermost_plugin.serve", str(tmp_path / "empty_plugin.py")],
        env=plugin_env(COOKIE),
        capture_output=True,
        text=True,
        timeout=30,
        close_fds=False,
    )
    assert result.returncode == 1
    assert "empty_plugin.py defines no plugin class" in result.stderr


# ---- AutoMTLS --------------------------------------------------------------


def host_certificate() -> tuple[bytes, bytes]:
    """A one-time client certificate and key, PEM, as a go-plugin host makes."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def test_auto_mtls_serves_tls_and_requires_the_hosts_certificate(
    tmp_path: Path, go_server: GoServer
) -> None:
    import base64
    import ssl

    cert_pem, key_pem = host_certificate()
    env = {**COOKIE, **go_server.environ(), "PLUGIN_CLIENT_CERT": cert_pem.decode()}
    process = start_plugin(tmp_path, env)
    assert process.stdout is not None
    try:
        fields = process.stdout.readline().rstrip("\n").split("|")
        assert fields[:3] == ["1", "1", "unix"] and fields[4] == "grpc"
        der = base64.b64decode(fields[5] + "=" * (-len(fields[5]) % 4))
        server_pem = ssl.DER_cert_to_PEM_cert(der).encode()
        target = f"unix:{fields[3]}"
        options = [("grpc.ssl_target_name_override", "localhost")]

        with_cert = grpc.ssl_channel_credentials(server_pem, key_pem, cert_pem)
        with grpc.secure_channel(target, with_cert, options) as channel:
            implemented = hooks_pb2_grpc.PluginHooksStub(channel).Implemented(
                hooks_pb2.ImplementedRequest(), timeout=10
            )
            assert "MessageWillBePosted" in implemented.hooks

        without_cert = grpc.ssl_channel_credentials(server_pem)
        with grpc.secure_channel(target, without_cert, options) as channel:
            with pytest.raises(grpc.RpcError) as info:
                hooks_pb2_grpc.PluginHooksStub(channel).Implemented(
                    hooks_pb2.ImplementedRequest(), timeout=10
                )
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE

        with grpc.insecure_channel(target) as channel, pytest.raises(grpc.RpcError):
            hooks_pb2_grpc.PluginHooksStub(channel).Implemented(
                hooks_pb2.ImplementedRequest(), timeout=10
            )
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_a_bad_host_certificate_stops_the_plugin_before_the_handshake(
    tmp_path: Path, go_server: GoServer
) -> None:
    env = {**COOKIE, **go_server.environ(), "PLUGIN_CLIENT_CERT": "not a certificate"}
    process = start_plugin(tmp_path, env)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert out == ""
    assert "AutoMTLS: PLUGIN_CLIENT_CERT is not a PEM certificate" in err


# ---- ServeHTTP, in process -------------------------------------------------


class Web(mp.AsyncPlugin):
    """Serves a few HTTP paths."""

    async def serve_http(self, context: Context, request: mp.HTTPRequest) -> Any:
        if request.path == "/echo":
            return mp.HTTPResponse(
                201, {"X-Seen": request.header("x-in") or ""}, request.aiter_body()
            )
        if request.path == "/wrong":
            return "not a response"
        if request.path == "/bad-header":
            return mp.HTTPResponse(200, {"X-Bad": "a\r\nSet-Cookie: x=1"})
        if request.path == "/body-fails":

            async def chunks() -> AsyncIterator[bytes]:
                yield b"first"
                raise ValueError("the body broke")

            return mp.HTTPResponse(body=chunks())
        return mp.HTTPResponse(404, body="no")


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Any]:
    async with serving(Web(), tmp_path) as stub:
        yield stub


def http_messages(path: str, *chunks: bytes) -> list[hooks_pb2.ServeHTTPRequest]:
    head = plugins_pb2.HTTPRequestHead(method="POST", url=path)
    head.header["X-In"].values.append("hi")
    first = hooks_pb2.ServeHTTPRequest(context=Context(request_id="r"), head=head)
    return [first, *(hooks_pb2.ServeHTTPRequest(chunk=c) for c in chunks)]


async def test_serve_http_streams_both_ways(web: Any) -> None:
    replies = [
        r async for r in web.ServeHTTP(iter(http_messages("/echo", b"ab", b"cd")), timeout=10)
    ]
    assert replies[0].head.status_code == 201
    assert list(replies[0].head.header["X-Seen"].values) == ["hi"]
    assert b"".join(r.chunk for r in replies[1:]) == b"abcd"
    assert all(r.flush for r in replies[1:])


@pytest.mark.parametrize(
    ("messages", "code", "text"),
    [
        (
            [hooks_pb2.ServeHTTPRequest(chunk=b"x")],
            grpc.StatusCode.INVALID_ARGUMENT,
            "request head",
        ),
        (http_messages("/wrong"), grpc.StatusCode.INTERNAL, "answered 'not a response'"),
        (http_messages("/bad-header"), grpc.StatusCode.INTERNAL, "line break"),
    ],
)
async def test_serve_http_refuses_bad_exchanges(
    web: Any, messages: list[Any], code: grpc.StatusCode, text: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        _ = [r async for r in web.ServeHTTP(iter(messages), timeout=10)]
    assert info.value.code() == code
    assert text in str(info.value.details())


async def test_a_body_that_fails_ends_the_stream_with_the_error(web: Any) -> None:
    replies = []
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for reply in web.ServeHTTP(iter(http_messages("/body-fails")), timeout=10):
            replies.append(reply)
    assert replies[0].head.status_code == 200 and replies[1].chunk == b"first"
    assert "the body broke" in str(info.value.details())


async def test_http_types_print_and_refuse_to_pickle() -> None:
    import pickle

    loop = asyncio.get_running_loop()
    request = mp.HTTPRequest(plugins_pb2.HTTPRequestHead(method="GET", url="/x?y=1"), loop)
    assert repr(request) == "HTTPRequest(method='GET', url='/x?y=1')"
    assert (request.path, request.query) == ("/x", "y=1")
    for unpicklable in (request, mp.FileReader(loop), mp.FileWriter(loop)):
        with pytest.raises(TypeError, match="does not pickle"):
            pickle.dumps(unpicklable)
    response = mp.HTTPResponse(201, {"A": "b"}, b"body")
    assert pickle.loads(pickle.dumps(response)) == response
    assert "\n" not in repr(response)


# ---- FileWillBeUploaded, in process ------------------------------------------


class Scanner(mp.Plugin):
    """Upper-cases .txt uploads, rejects .exe ones, answers garbage for .bad."""

    def file_will_be_uploaded(
        self, context: Context, info: Any, file: mp.FileReader, output: mp.FileWriter
    ) -> Any:
        if info.name.endswith(".exe"):
            return None, "no executables"
        if info.name.endswith(".bad"):
            return "garbage"
        for chunk in file.iter_body():
            output.write(chunk.upper())
        info.size = output.written
        return info


@pytest.fixture
async def scanner(tmp_path: Path) -> AsyncIterator[Any]:
    async with serving(Scanner(), tmp_path) as stub:
        yield stub


def upload(name: str, *chunks: bytes) -> list[hooks_pb2.FileWillBeUploadedRequest]:
    first = hooks_pb2.FileWillBeUploadedRequest(info=FileInfo(name=name))
    return [first, *(hooks_pb2.FileWillBeUploadedRequest(chunk=c) for c in chunks)]


async def test_an_upload_streams_in_and_its_replacement_out(scanner: Any) -> None:
    big = b"ab" * (3 << 20)  # 6 MiB in 512 KiB chunks
    pieces = [big[i : i + (1 << 19)] for i in range(0, len(big), 1 << 19)]
    messages = upload("a.txt", *pieces, b"!")

    async def requests() -> AsyncIterator[Any]:
        for message in messages:
            yield message

    replies = [r async for r in scanner.FileWillBeUploaded(requests(), timeout=30)]
    chunks, last = replies[:-1], replies[-1]
    assert b"".join(r.chunk for r in chunks) == big.upper() + b"!"
    assert max(len(r.chunk) for r in chunks) <= 1 << 20
    assert last.result.info.size == len(big) + 1 and last.result.rejection_reason == ""


@pytest.mark.parametrize(
    ("messages", "code", "text"),
    [
        (
            [hooks_pb2.FileWillBeUploadedRequest(chunk=b"x")],
            grpc.StatusCode.INVALID_ARGUMENT,
            "file's info",
        ),
        (upload("x.bad", b"x"), grpc.StatusCode.INTERNAL, "answered 'garbage'"),
    ],
)
async def test_a_bad_upload_exchange_fails(
    scanner: Any, messages: list[Any], code: grpc.StatusCode, text: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        _ = [r async for r in scanner.FileWillBeUploaded(iter(messages), timeout=10)]
    assert info.value.code() == code
    assert text in str(info.value.details())


async def test_an_upload_is_rejected_with_no_content_out(scanner: Any) -> None:
    replies = [
        r async for r in scanner.FileWillBeUploaded(iter(upload("a.exe", b"MZ")), timeout=10)
    ]
    assert len(replies) == 1 and replies[0].result.rejection_reason == "no executables"
