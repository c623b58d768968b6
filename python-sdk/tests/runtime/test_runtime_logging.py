"""A plugin's logging reaches the server log with its level and fields.

The plugin's own loggers, its libraries' loggers, the root logger and
``warnings`` all go to the server log through the Plugin API; ``extra``
fields travel as the record's fields; a record that cannot be sent goes to
stderr as an hclog line that go-plugin parses (its timestamp has the six
fractional digits that go-plugin's layout requires) and keeps its level,
its fields in the plugin's group. Every record carries the plugin's id. A
blocking client call from an async handler of a sync plugin warns, once.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import logging
import re
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin._internal.core import BLOCKING_CALL_WARNING
from mattermost_plugin._plugin import runner
from mattermost_plugin._plugin.logs import (
    MAX_FIELD,
    MAX_FIELDS,
    APILogHandler,
    hclog_line,
    hclog_timestamp,
    record_fields,
)
from mattermost_plugin.models import Channel, Context, Post, Team, User
from mattermost_plugin.testing import ReferenceServer, start_plugin_server

from conftest import GoServer, server_binary

#: go-plugin parses "@timestamp" with the layout 2006-01-02T15:04:05.000000Z07:00.
GO_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$")

# ---- hclog lines -----------------------------------------------------------------


def make_record(level: int = logging.INFO, created: float = 0.0, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("some.logger", level, __file__, 1, "hello %s", ("you",), None)
    record.created = created
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize(
    ("created", "text"),
    [
        (0.0, "1970-01-01T00:00:00.000000Z"),
        (1.5, "1970-01-01T00:00:01.500000Z"),
        (1_700_000_000.123456, "2023-11-14T22:13:20.123456Z"),
        (1_700_000_000.999_999_9, "2023-11-14T22:13:21.000000Z"),
    ],
)
def test_hclog_timestamps_have_go_plugins_layout(created: float, text: str) -> None:
    assert hclog_timestamp(created) == text
    assert GO_TIMESTAMP.match(text)


def test_every_hclog_timestamp_has_six_fractional_digits() -> None:
    # Whole seconds, whole milliseconds and values that round up to the
    # next second: the layout keeps all six digits, which go-plugin needs
    # to parse the line itself.
    base = 1_700_000_000
    micros = (0, 1, 999, 1000, 500_000, 999_000, 999_999)
    for created in [base + m / 1e6 for m in micros] + [base + 0.999_999_6, base + 0.000_000_4]:
        text = hclog_timestamp(created)
        assert GO_TIMESTAMP.match(text), (created, text)
        parsed = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
        moment = parsed.replace(tzinfo=datetime.timezone.utc).timestamp()
        assert abs(moment - created) < 1e-6, (created, text)


@pytest.mark.parametrize(
    ("level", "name"),
    [
        (5, "trace"),
        (logging.DEBUG, "debug"),
        (logging.INFO, "info"),
        (logging.WARNING, "warn"),
        (logging.ERROR, "error"),
        (logging.CRITICAL, "error"),
    ],
)
def test_an_hclog_line_has_the_level_the_time_and_the_fields(level: int, name: str) -> None:
    record = make_record(level, 1_700_000_000.5, request="r1", **{"@level": "forged"})
    line = json.loads(hclog_line(record, "hello you"))
    assert line == {
        "@level": name,
        "@message": "hello you",
        "@timestamp": "2023-11-14T22:13:20.500000Z",
        "logger": "some.logger",
        "request": "r1",
    }


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_extra_fields_are_json_safe_text_and_bounded() -> None:
    record = make_record(
        count=3,
        ratio=0.5,
        flag=True,
        nothing=None,
        tags=["a", 1],
        nested={"k": [1, 2]},
        text="plain",
        when=object(),
        nan=float("nan"),
        broken=Unprintable(),
        long="x" * 5000,
        _private="hidden",
    )
    fields = record_fields(record)
    assert fields.pop("when").startswith("<object object at ")
    assert fields == {
        "count": "3",
        "ratio": "0.5",
        "flag": "true",
        "nothing": "null",
        "tags": '["a", 1]',
        "nested": '{"k": [1, 2]}',
        "text": "plain",
        "nan": "nan",
        "broken": "<unprintable Unprintable>",
        "long": "x" * (MAX_FIELD - 3) + "...",
    }
    many = record_fields(make_record(**{f"f{i:03d}": i for i in range(100)}))
    assert len(many) == MAX_FIELDS


class FakeClient:
    """Records log calls; while sending, logs a record itself, as grpc may."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def _send(self, level: str, message: str, fields: dict[str, str], timeout: float) -> None:
        logging.getLogger("grpc._fake").warning("logged while sending")
        self.sent.append((level, message, dict(fields)))

    def log_debug(self, message: str, fields: dict[str, str], *, timeout: float) -> None:
        self._send("debug", message, fields, timeout)

    def log_info(self, message: str, fields: dict[str, str], *, timeout: float) -> None:
        self._send("info", message, fields, timeout)

    def log_warn(self, message: str, fields: dict[str, str], *, timeout: float) -> None:
        self._send("warn", message, fields, timeout)

    def log_error(self, message: str, fields: dict[str, str], *, timeout: float) -> None:
        self._send("error", message, fields, timeout)

    def close(self) -> None:
        pass


@pytest.fixture
def root_handler() -> Iterator[tuple[APILogHandler, FakeClient, io.StringIO]]:
    """An APILogHandler on the root logger, with a fake client and a fallback stream."""
    client, stream = FakeClient(), io.StringIO()
    handler = APILogHandler(lambda: client, stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler, client, stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def test_a_record_logged_while_sending_goes_to_stderr_not_around_again(
    root_handler: tuple[APILogHandler, FakeClient, io.StringIO],
) -> None:
    handler, client, stream = root_handler
    logging.getLogger("plugin.code").info("one", extra={"user": "u1", "logger": "forged"})
    handler.close()  # sends what is queued
    assert client.sent == [("info", "one", {"user": "u1", "logger": "plugin.code"})]
    (line,) = stream.getvalue().splitlines()
    fallback = json.loads(line)
    assert fallback["@message"] == "logged while sending"
    assert fallback["@level"] == "warn"
    assert fallback["logger"] == "grpc._fake"
    assert GO_TIMESTAMP.match(fallback["@timestamp"])


def test_the_root_logger_keeps_a_plugins_own_configuration() -> None:
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    handler = logging.NullHandler()
    try:
        root.handlers.clear()
        root.setLevel(logging.WARNING)
        with runner._RootLogging(handler):
            assert root.level == runner.ROOT_LOG_LEVEL == logging.INFO
            assert len(root.handlers) == 1
        assert root.level == logging.WARNING and not root.handlers
        root.setLevel(logging.DEBUG)  # the plugin chose a level
        with runner._RootLogging(handler):
            assert root.level == logging.DEBUG
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        logging.captureWarnings(False)


def test_resetting_the_root_logger_leaves_the_api_handler_open() -> None:
    client, stream = FakeClient(), io.StringIO()
    handler = APILogHandler(lambda: client, stream)
    plugin_logger = logging.getLogger("mattermost_plugin.plugin.test.reset")
    plugin_logger.propagate = False
    plugin_logger.addHandler(handler)
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        with runner._RootLogging(handler):
            # A plugin that sets up logging anew closes the root's handlers, as
            # logging.basicConfig(force=True) does (not done here: it would close
            # pytest's handlers too).
            for installed in [h for h in root.handlers if h not in saved[1]]:
                root.removeHandler(installed)
                installed.close()
            plugin_logger.warning("still sent")
            handler.close()
        assert [(level, message) for level, message, _ in client.sent] == [("warn", "still sent")]
    finally:
        plugin_logger.removeHandler(handler)
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        handler.close()


# ---- The blocking-call warning, in process ---------------------------------------


def test_a_blocking_call_in_an_event_loop_warns_once_for_the_plugins_client(
    go_server: GoServer,
) -> None:
    with go_server.client() as plugin_api, go_server.client() as other:
        plugin_api._warn_in_event_loop = True  # as the runtime sets it

        async def handler() -> None:
            other.kv_set("other", b"1")  # another client: no warning
            plugin_api.kv_set("a", b"1")
            plugin_api.kv_set("a", b"2")
            assert plugin_api.kv_get("a") == b"2"

        plugin_api.kv_set("before", b"1")  # outside a loop: no warning
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            asyncio.run(handler())
        assert [str(w.message) for w in caught] == [BLOCKING_CALL_WARNING]
        assert caught[0].category is RuntimeWarning
        assert caught[0].filename == __file__  # the caller's line, not the SDK's
        assert "AsyncPlugin" in BLOCKING_CALL_WARNING


# ---- Through the dev server ------------------------------------------------------

thirdparty = logging.getLogger("thirdparty.lib")
own = logging.getLogger(__name__)


class Loud(mp.Plugin):
    """Logs every way a plugin may; a sync plugin with an async handler."""

    def on_activate(self) -> None:
        own.info("own logger", extra={"user_count": 3, "tags": ["a", "b"], "level": "forged"})
        own.debug("own debug")  # below the root logger's INFO
        thirdparty.warning("third party %s", "warning")
        thirdparty.info("third party info")
        thirdparty.debug("third party debug")
        logging.getLogger().error("root error")
        warnings.warn("careful now", UserWarning, stacklevel=1)
        self.logger.debug("self debug")
        try:
            raise KeyError("k")
        except KeyError:
            logging.getLogger("thirdparty.lib").exception("with a traceback")
        fallback = logging.getLogger("fallback")
        fallback.propagate = False
        # A handler that cannot send: its records go to stderr as hclog lines.
        fallback.addHandler(APILogHandler(lambda: 1 / 0))
        fallback.error("fell back", extra={"k": "v"})

    async def message_will_be_posted(self, context: Context, post: Post) -> Post:
        self.api.kv_set("posted", post.message.encode())  # blocking, in the event loop
        return post


def wait_for(server: ReferenceServer, message: str, count: int = 1) -> list[dict[str, Any]]:
    """The server's records whose message starts with ``message``, once there are ``count``."""
    deadline = time.monotonic() + 15
    while True:
        found = [r for r in server.log_records() if str(r.get("msg", "")).startswith(message)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.fixture(scope="module")
def loud() -> Iterator[ReferenceServer]:
    server = start_plugin_server(Loud, binary=server_binary(), timeout=60)
    try:
        with server.client() as api:
            user = api.create_user(User(username="u", email="u@example.com", password="pw-s3cret"))
            team = api.create_team(Team(name="team", display_name="Team", type="O"))
            channel = api.create_channel(
                Channel(team_id=team.id, name="town", display_name="Town", type="O")
            )
            for message in ("one", "two"):
                api.create_post(Post(user_id=user.id, channel_id=channel.id, message=message))
        wait_for(server, "fell back")
        yield server
    finally:
        server.stop()


def only(server: ReferenceServer, message: str) -> dict[str, Any]:
    found = wait_for(server, message)
    assert len(found) == 1, found
    return found[0]


def plugin_id(server: ReferenceServer) -> str:
    with server.client() as api:  # acts as the plugin
        return api.get_plugin_id()


def test_the_plugins_own_logger_and_its_fields(loud: ReferenceServer) -> None:
    record = only(loud, "own logger")
    assert record["level"] == "INFO"
    assert record["source"] == "plugin"
    assert record["plugin_id"] == plugin_id(loud) == "test.loud"  # the caller's, as upstream
    assert record["plugin"] == {
        "logger": __name__,
        "user_count": "3",
        "tags": '["a", "b"]',
        "level": "forged",  # in the plugin's group, not the record's level
    }


def test_a_third_party_logger_and_the_root_logger(loud: ReferenceServer) -> None:
    warning = only(loud, "third party warning")
    assert (warning["level"], warning["plugin"]) == ("WARN", {"logger": "thirdparty.lib"})
    assert only(loud, "third party info")["level"] == "INFO"
    root = only(loud, "root error")
    assert (root["level"], root["plugin"]) == ("ERROR", {"logger": "root"})
    failed = only(loud, "with a traceback")
    assert failed["level"] == "ERROR"
    assert "KeyError: 'k'" in failed["msg"]
    # The root logger is at INFO: debug records of the plugin's loggers stay
    # out. (They were logged before the records above, which came in order.)
    messages = [str(r.get("msg")) for r in loud.log_records()]
    assert "third party debug" not in messages and "own debug" not in messages


def test_warnings(loud: ReferenceServer) -> None:
    records = [r for r in loud.log_records() if "UserWarning: careful now" in str(r.get("msg"))]
    assert len(records) == 1
    assert (records[0]["level"], records[0]["plugin"]) == ("WARN", {"logger": "py.warnings"})


def test_self_logger_is_logged_once_at_debug(loud: ReferenceServer) -> None:
    record = only(loud, "self debug")
    assert record["level"] == "DEBUG"
    assert record["plugin"]["logger"] == "mattermost_plugin.plugin.test.loud"


def test_a_record_that_falls_back_to_stderr_keeps_its_level(loud: ReferenceServer) -> None:
    record = only(loud, "fell back")
    assert record["level"] == "ERROR"  # go-plugin parsed the line: not a raw DEBUG line
    assert record["plugin_id"] == plugin_id(loud)
    assert record["source"] == "plugin_stderr"
    # The line's fields stay in the plugin's group, where they cannot
    # replace the record's own.
    assert record["plugin"] == {"k": "v", "logger": "fallback"}


def test_a_blocking_call_from_an_async_handler_warns_once(loud: ReferenceServer) -> None:
    with loud.client() as api:  # acts as the plugin: its KV store
        assert api.kv_get("posted") == b"two"  # both calls went through
    records = [r for r in loud.log_records() if BLOCKING_CALL_WARNING in str(r.get("msg"))]
    assert len(records) == 1, records
    assert records[0]["level"] == "WARN"
    assert records[0]["plugin"] == {"logger": "py.warnings"}
    assert "RuntimeWarning" in records[0]["msg"]
    assert f"{__file__}:" in records[0]["msg"]  # the handler's line
