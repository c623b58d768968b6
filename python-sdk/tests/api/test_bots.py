"""End to end: the bots area, through both clients against the Go server."""

from __future__ import annotations

import time
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Bot, BotGetOptions, BotPatch

from conftest import new_user

UNKNOWN_ID = "a" * 26


def test_bot_lifecycle(api: Any) -> None:
    bot = api.create_bot(Bot(username="helper", display_name="Helper", description="Helps"))
    assert bot.owner_id == "com.example.plugin" and len(bot.user_id) == 26
    user = api.get_user(bot.user_id)
    assert user.is_bot and user.username == "helper"
    assert api.get_bot(bot.user_id, False) == bot
    patched = api.patch_bot(bot.user_id, BotPatch(display_name="Assistant"))
    assert patched.display_name == "Assistant" and patched.description == "Helps"
    api.update_bot_active(bot.user_id, False)
    with pytest.raises(mp.NotFoundError):
        api.get_bot(bot.user_id, False)
    assert api.get_bot(bot.user_id, True).delete_at > 0
    assert api.update_bot_active(bot.user_id, True).delete_at == 0
    api.permanent_delete_bot(bot.user_id)
    with pytest.raises(mp.NotFoundError):
        api.get_user(bot.user_id)


def test_bot_failures(api: Any) -> None:
    api.create_bot(Bot(username="helper"))
    with pytest.raises(mp.ValidationError):
        api.create_bot(Bot(username="helper"))
    with pytest.raises(mp.ValidationError) as name:
        api.create_bot(Bot(username="Not Valid"))
    assert name.value.where == "Bot.IsValid"
    with pytest.raises(mp.NotFoundError):
        api.patch_bot(UNKNOWN_ID, BotPatch(description="x"))
    with pytest.raises(mp.NotFoundError) as missing:
        api.update_bot_active(UNKNOWN_ID, True)
    assert missing.value.error_id == "app.user.missing_account.const"
    # App.PermanentDeleteBot's store deletes by id: an unknown one is no error.
    api.permanent_delete_bot(UNKNOWN_ID)


def test_get_bots(api: Any) -> None:
    owner = api.create_user(new_user("owner"))
    api.create_bot(Bot(username="zeta", owner_id=owner.id))
    # Two bots made in one millisecond are listed by username; wait for the
    # next one so that the order shown is the age's.
    time.sleep(0.005)
    api.create_bot(Bot(username="alpha"))
    # SqlBotStore.GetAll lists the oldest first.
    assert [b.username for b in api.get_bots(BotGetOptions(per_page=10))] == ["zeta", "alpha"]
    mine = api.get_bots(BotGetOptions(owner_id=owner.id, per_page=10))
    assert [b.username for b in mine] == ["zeta"]
    assert api.get_bots(BotGetOptions(only_orphaned=True, per_page=10)) == []
    api.update_user_active(owner.id, False)
    # App.UpdateActive deactivates the owner's bots too
    # (ServiceSettings.DisableBotsWhenOwnerIsDeactivated is on by default).
    assert api.get_bots(BotGetOptions(only_orphaned=True, per_page=10)) == []
    orphans = api.get_bots(BotGetOptions(only_orphaned=True, include_deleted=True, per_page=10))
    assert [b.username for b in orphans] == ["zeta"]
    assert orphans[0].delete_at > 0
    with pytest.raises(mp.ValidationError):
        api.get_bots(BotGetOptions(page=-1, per_page=10))


def test_ensure_bot_user(api: Any) -> None:
    first = api.ensure_bot_user(Bot(username="helper", display_name="Helper"))
    again = api.ensure_bot_user(Bot(username="helper", display_name="Helper v2"))
    assert again == first
    assert api.get_bot(first, False).display_name == "Helper v2"
    assert api.kv_get("mmi_botid") == first.encode()
    api.kv_delete("mmi_botid")
    person = api.create_user(new_user("person"))
    # App.EnsureBot returns the account with that name, a person's too.
    assert api.ensure_bot_user(Bot(username="person")) == person.id
    with pytest.raises(mp.ValidationError):
        api.ensure_bot_user(Bot(display_name="no name"))


def test_update_bot_active_deactivates_a_person_first(api: Any) -> None:
    person = api.create_user(new_user("person"))
    # App.UpdateBotActive runs App.UpdateActive on the user before the bot
    # store answers (bot.go@0bc448c3): the person is deactivated, then 404.
    with pytest.raises(mp.NotFoundError) as miss:
        api.update_bot_active(person.id, False)
    assert miss.value.error_id == "store.sql_bot.get.missing.app_error"
    assert api.get_user(person.id).delete_at > 0
