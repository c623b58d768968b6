"""End to end: the emoji area, through both clients against the Go server.

The Plugin API reads custom emojis but cannot create them, so the server
starts with two, from its -emoji flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.testing import ServerStartError

from conftest import open_client, png, start_server

UNKNOWN_ID = "a" * 26


@pytest.fixture
def emoji_api(flavour: str, tmp_path: Path) -> Iterator[Any]:
    """A client of a server that has the custom emojis "zebra" and "apple"."""
    image = tmp_path / "emoji.png"
    image.write_bytes(png(8, 8))
    server = start_server("-emoji", f"zebra={image}", "-emoji", f"apple={image}")
    client = open_client(flavour, server.target, server.token)
    try:
        yield client
    finally:
        client.close()
        server.stop()


def test_emoji_list_and_lookups(emoji_api: Any) -> None:
    assert [e.name for e in emoji_api.get_emoji_list("", 0, 10)] == ["zebra", "apple"]
    assert [e.name for e in emoji_api.get_emoji_list("name", 0, 10)] == ["apple", "zebra"]
    assert [e.name for e in emoji_api.get_emoji_list("name", 1, 1)] == ["zebra"]
    zebra = emoji_api.get_emoji_by_name("zebra")
    assert len(zebra.id) == 26 and emoji_api.get_emoji(zebra.id) == zebra
    image = emoji_api.get_emoji_image(zebra.id)
    assert image.image_type == "png" and image.image == png(8, 8)


def test_emoji_failures(emoji_api: Any) -> None:
    # SqlEmojiStore.GetList orders by name for "name" only; any other sort
    # is the store's order, and a negative limit is the database's error.
    assert [e.name for e in emoji_api.get_emoji_list("size", 0, 10)] == ["zebra", "apple"]
    with pytest.raises(mp.InternalError) as negative:
        emoji_api.get_emoji_list("", 0, -1)
    assert negative.value.error_id == "app.emoji.get_list.internal_error"
    with pytest.raises(mp.NotFoundError):
        emoji_api.get_emoji_by_name("nope")
    # Any id is looked up: a malformed one is not found.
    for emoji_id in (UNKNOWN_ID, "bad"):
        with pytest.raises(mp.NotFoundError) as missing:
            emoji_api.get_emoji(emoji_id)
        assert missing.value.error_id == "app.emoji.get.no_result"
        with pytest.raises(mp.NotFoundError) as no_image:
            emoji_api.get_emoji_image(emoji_id)
        assert no_image.value.error_id == "app.emoji.get.no_result"


def test_custom_emoji_can_be_turned_off(emoji_api: Any) -> None:
    zebra = emoji_api.get_emoji_by_name("zebra")
    cfg = mp.ServerConfig(emoji_api.get_config())
    cfg.data["ServiceSettings"]["EnableCustomEmoji"] = False
    emoji_api.save_config(cfg.to_model())
    # App.GetEmoji and App.GetEmojiByName refuse with 403; App.GetEmojiList
    # and App.GetEmojiImage do not check the setting.
    with pytest.raises(mp.PermissionDeniedError) as off:
        emoji_api.get_emoji_by_name("zebra")
    assert off.value.error_id == "api.emoji.disabled.app_error"
    with pytest.raises(mp.PermissionDeniedError):
        emoji_api.get_emoji(zebra.id)
    assert len(emoji_api.get_emoji_list("", 0, 10)) == 2
    assert emoji_api.get_emoji_image(zebra.id).image_type == "png"


def test_a_bad_emoji_flag_stops_the_server(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ServerStartError):
        start_server("-emoji", f"bad={bad}")
