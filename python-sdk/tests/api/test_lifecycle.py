"""The clients' lifecycle, argument checks and settings, as httpx users expect them."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import grpc
import pytest

import mattermost_plugin as mp
from mattermost_plugin import config, models
from mattermost_plugin.config import ChannelOptions
from mattermost_plugin.exceptions import _EXCEPTIONS

from conftest import GoServer

TARGET = "unix:///tmp/mattermost-plugin-sdk-test-no-server.sock"


# -- lifecycle --------------------------------------------------------------


def test_sync_with_block_rules() -> None:
    client = mp.Client(TARGET, token="t")
    assert not client.is_closed
    assert repr(client) == f"<Client target={TARGET!r} unopened>"
    with client as entered:
        assert entered is client
        assert "opened" in repr(client)
        with pytest.raises(RuntimeError, match="already open"), client:
            pass
    assert client.is_closed and repr(client).endswith("closed>")
    with pytest.raises(mp.ClientClosedError, match="cannot be reopened"), client:
        pass
    with pytest.raises(mp.ClientClosedError, match="KVGet"):
        client.kv_get("k")
    client.close()  # idempotent


async def test_async_with_block_rules() -> None:
    client = mp.AsyncClient(TARGET, token="t")
    async with client:
        with pytest.raises(RuntimeError, match="already open"):
            async with client:
                pass
    assert client.is_closed
    with pytest.raises(mp.ClientClosedError):
        async with client:
            pass
    with pytest.raises(mp.ClientClosedError):
        await client.kv_get("k")
    await client.close()


def test_client_closed_error_is_cancelled_and_runtime() -> None:
    assert issubclass(mp.ClientClosedError, mp.RequestCancelledError)
    assert issubclass(mp.ClientClosedError, RuntimeError)
    assert mp.ClientClosedError("x").code is grpc.StatusCode.CANCELLED


def test_async_client_built_outside_a_loop_and_reused_across_runs(go_server: GoServer) -> None:
    client = mp.AsyncClient(go_server.target, token=go_server.token)

    async def version() -> str:
        return await client.get_server_version()

    assert asyncio.run(version()) == "11.1.0"
    # A second asyncio.run has a new loop; the client follows it.
    assert asyncio.run(version()) == "11.1.0"

    async def close() -> None:
        await client.close()

    asyncio.run(close())
    assert client.is_closed


def test_async_client_refuses_a_second_live_loop(go_server: GoServer) -> None:
    client = mp.AsyncClient(go_server.target, token=go_server.token)
    first = asyncio.new_event_loop()
    second = asyncio.new_event_loop()
    try:
        assert first.run_until_complete(client.get_server_version()) == "11.1.0"
        with pytest.raises(RuntimeError, match="another running event loop"):
            second.run_until_complete(client.get_server_version())
        first.run_until_complete(client.close())
    finally:
        first.close()
        second.close()


def test_async_close_from_another_loop(go_server: GoServer) -> None:
    """close() from another thread's loop closes the channel in the client's loop."""
    client = go_server.async_client()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        ready = asyncio.run_coroutine_threadsafe(client.get_server_version(), loop)
        assert ready.result(timeout=10) == "11.1.0"
        channel = client._channel
        assert channel is not None
        asyncio.run(client.close())
        assert client.is_closed
        state = asyncio.run_coroutine_threadsafe(_channel_state(channel), loop).result(10)
        assert state is grpc.ChannelConnectivity.SHUTDOWN
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


async def _channel_state(channel: Any) -> grpc.ChannelConnectivity:
    return channel.get_state()  # type: ignore[no-any-return]


def test_sync_close_during_calls(go_server: GoServer) -> None:
    """close() from another thread cuts calls short with ClientClosedError only."""
    client = go_server.client()
    client.kv_set("k", b"v")
    value = b"x" * (8 << 20)
    outcomes: list[BaseException | None] = []

    def call() -> None:
        try:
            for _ in range(50):
                client.kv_set("big", value)
            outcomes.append(None)
        except BaseException as error:
            outcomes.append(error)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    client.close()
    for thread in threads:
        thread.join(timeout=30)
    errors = [o for o in outcomes if o is not None]
    assert errors, "close() did not cut any call short"
    for error in errors:
        assert type(error) is mp.ClientClosedError, repr(error)
        assert not isinstance(error, grpc.RpcError)


async def test_async_close_during_calls(go_server: GoServer) -> None:
    client = go_server.async_client()
    await client.kv_set("k", b"v")
    value = b"x" * (8 << 20)

    async def call() -> None:
        for _ in range(50):
            await client.kv_set("big", value)

    tasks = [asyncio.create_task(call()) for _ in range(8)]
    await asyncio.sleep(0.2)
    await client.close()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(type(r) is mp.ClientClosedError for r in results), results


async def test_a_kept_error_does_not_hold_the_connection(go_server: GoServer) -> None:
    """An error the caller keeps holds no grpc call, so close() frees the connection.

    grpc's frames in a traceback hold the call, and the call holds the
    connection open past close() until a GC pass; a server stopping then
    waits for it. The chained grpc error keeps its code without them.
    """
    async with mp.AsyncClient(go_server.target, token=go_server.token) as client:
        with pytest.raises(mp.NotFoundError) as caught:
            await client.get_user("a" * 26)
    cause = caught.value.__cause__
    assert isinstance(cause, grpc.aio.AioRpcError)
    assert cause.code() is grpc.StatusCode.NOT_FOUND
    assert cause.__traceback__ is None


async def test_async_user_cancel_is_still_cancelled_error(go_server: GoServer) -> None:
    client = go_server.async_client()

    async def call() -> None:
        while True:
            await client.kv_set("big", b"x" * (4 << 20))

    task = asyncio.create_task(call())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.close()


# -- arguments --------------------------------------------------------------

WB = models.WebsocketBroadcast()


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda c: c.kv_get(123), TypeError, "kv_get(key) must be a str, not int"),
        (lambda c: c.get_user(None), TypeError, "get_user(user_id) must be a str, not NoneType"),
        (lambda c: c.kv_list(0, 2**40), ValueError, "kv_list(per_page) is out of range"),
        (lambda c: c.kv_list(True, 1), TypeError, "kv_list(page) must be an int, not bool"),
        (lambda c: c.kv_set("k", "text"), TypeError, "kv_set(value) must be bytes, not str"),
        (
            lambda c: c.create_user({"username": "a"}),
            TypeError,
            "create_user(user) must be a User, not dict; build one with User(**value)",
        ),
        (lambda c: c.get_users_by_ids("abc"), TypeError, "get_users_by_ids(user_ids) must be a"),
        (lambda c: c.get_users_by_ids([1]), TypeError, "get_users_by_ids(user_ids) element"),
        (lambda c: c.log_info("m", {"k": 1}), TypeError, "log_info(key_value_pairs) value"),
        (lambda c: c.kv_get("\ud800"), ValueError, "kv_get(key) is not valid text"),
        (
            lambda c: c.log_info("m", {"\udc80": "v"}),
            ValueError,
            "log_info(key_value_pairs) key is not valid text",
        ),
        (
            lambda c: c.publish_websocket_event("e", {"x": object()}, WB),
            TypeError,
            "publish_websocket_event(payload) is not a mapping of JSON values",
        ),
        (
            lambda c: c.publish_websocket_event("e", {"x": float("nan")}, WB),
            ValueError,
            "holds NaN",
        ),
        (
            lambda c: c.publish_websocket_event("e", {1: "v"}, WB),
            TypeError,
            "key must be a str, not int",
        ),
        (
            lambda c: c.publish_websocket_event("e", ["not", "a", "mapping"], WB),
            TypeError,
            "publish_websocket_event(payload) must be a mapping of JSON values, not list",
        ),
        (lambda c: c.kv_get("k", timeout=-1), ValueError, "timeout must be more than 0"),
        (lambda c: c.kv_get("k", timeout=1e10), ValueError, "at most"),
        (lambda c: c.kv_get("k", timeout="5"), TypeError, "timeout must be seconds"),
    ],
)
def test_bad_arguments_name_method_and_parameter(call: Any, error: type, words: str) -> None:
    with mp.Client(TARGET, token="t") as client:
        with pytest.raises(error) as caught:
            call(client)
    assert words in str(caught.value)


def test_accepted_argument_forms() -> None:
    """bytes-likes become bytes; None is accepted where the contract allows it."""
    from mattermost_plugin._internal import args

    assert args.check_bytes("w", bytearray(b"ab")) == b"ab"
    assert args.check_bytes("w", memoryview(b"ab")) == b"ab"
    assert args.optional(args.check_bytes)("w", None) is None
    assert args.check_repeated(args.check_str)("w", ("a", "b")) == ["a", "b"]
    nested: dict[str, object] = {"a": [1, 2.5, None, True, "s", {"b": []}], "t": (1, 2)}
    assert args.struct_dict(args.check_struct("w", nested)) == {
        "a": [1.0, 2.5, None, True, "s", {"b": []}],
        "t": [1.0, 2.0],
    }
    assert args.optional(args.check_struct)("w", None) is None
    assert args.check_json_value("w", "s").string_value == "s"


# -- settings at extremes ---------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"max_message_size": 2**31}, ValueError, "max_message_size must be 1 to"),
        ({"max_message_size": 0}, ValueError, "max_message_size"),
        ({"max_message_size": 1.5}, TypeError, "max_message_size must be an int"),
        ({"keepalive_time": 5}, ValueError, "keepalive_time must be at least 10"),
        ({"keepalive_time": 1e9}, ValueError, "keepalive_time"),
        ({"keepalive_timeout": 0}, ValueError, "keepalive_timeout must be more than 0"),
        ({"keepalive_timeout": float("nan")}, ValueError, "keepalive_timeout"),
        ({"keepalive_time": "30"}, TypeError, "keepalive_time must be seconds"),
    ],
)
def test_channel_options_are_validated(kwargs: dict[str, Any], error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        ChannelOptions(**kwargs)


def test_extreme_valid_settings_construct() -> None:
    options = ChannelOptions(
        max_message_size=config.MAX_MESSAGE_SIZE, keepalive_time=config.MIN_KEEPALIVE_TIME
    )
    mp.Client(TARGET, token="t", timeout=config.MAX_TIMEOUT, channel_options=options).close()
    with pytest.raises(ValueError, match="timeout"):
        mp.Client(TARGET, token="t", timeout=7.5e9)
    with pytest.raises(TypeError, match="channel_options"):
        mp.Client(TARGET, token="t", channel_options={"max_message_size": 1})  # type: ignore[arg-type]


def test_huge_timeout_is_not_an_instant_deadline(go_server: GoServer) -> None:
    with go_server.client(timeout=config.MAX_TIMEOUT) as client:
        assert client.get_server_version() == "11.1.0"


# -- models and exceptions behave like Python objects ------------------------


def every_model() -> list[Any]:
    return [
        models.User(username="alice", props={"k": "v"}, auth_data="x"),
        models.UserGetOptions(page=1, per_page=2, roles=["system_user"]),
        models.ViewUsersRestrictions(teams=["t"]),
        models.PluginKVSetOptions(atomic=True, old_value=b"o"),
        models.AppError(id="i", message="m", params={"a": "b"}),
    ]


def every_error() -> list[mp.PluginAPIError]:
    app_error = models.AppError(id="app.x", message="boom", status_code=404, where="GetUser")
    errors: list[mp.PluginAPIError] = [
        cls("failed", code=code, app_error=app_error, details=(app_error,))
        for code, cls in _EXCEPTIONS.items()
    ]
    errors.append(mp.ClientClosedError("closed"))
    errors.append(mp.PluginAPIError("plain"))
    return errors


def test_model_classes_live_in_importable_modules() -> None:
    for model in every_model():
        module = type(model).__module__
        assert module.startswith("mattermost_plugin.grpc."), module
        assert model.DESCRIPTOR.file.name.startswith("mattermost/plugin/")


@pytest.mark.parametrize("value", every_model() + every_error(), ids=repr)
def test_pickle_round_trip(value: Any) -> None:
    back = pickle.loads(pickle.dumps(value))
    assert type(back) is type(value)
    if isinstance(value, mp.PluginAPIError):
        assert (back.code, back.message, back.app_error, back.details) == (
            value.code,
            value.message,
            value.app_error,
            value.details,
        )
        assert str(back) == str(value)
    else:
        assert back == value


def _echo(value: Any) -> Any:
    return value


def _raise(error: BaseException) -> None:
    raise error


def test_models_and_errors_cross_a_process_pool() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        for model in every_model():
            assert pool.submit(_echo, model).result() == model
        for error in every_error():
            with pytest.raises(type(error)) as caught:
                pool.submit(_raise, error).result()
            assert caught.value.app_error == error.app_error


def test_models_print_on_one_line() -> None:
    user = models.User(username="alice", props={"k": "v"}, email="a" * 500)
    for text in (repr(user), str(user)):
        assert "\n" not in text
        assert text.startswith("User(username='alice'")
        assert "props={'k': 'v'}" in text
        assert "...<500 chars>" in text
    assert repr(models.User()) == "User()"
    assert "\n" not in str(every_error()[0])


def test_help_lists_the_fields() -> None:
    doc = models.User.__doc__ or ""
    assert "Mattermost user account" in doc
    assert "username (str):" in doc and "auth_data (str | None):" in doc
    assert "props (dict[str, str]):" in doc


def test_clients_refuse_to_pickle() -> None:
    client = mp.Client(TARGET, token="t")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client)
    client.close()
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(mp.AsyncClient(TARGET, token="t"))
