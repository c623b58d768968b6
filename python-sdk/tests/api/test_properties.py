"""End to end: the properties area, through both clients against the Go server.

Property values are typed JSON: the SDK reads and writes them as any JSON
value, and the server checks them against the type of their field.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf.struct_pb2 import Struct

import mattermost_plugin as mp
from mattermost_plugin.models import (
    PropertyField,
    PropertyFieldSearchCursor,
    PropertyFieldSearchOpts,
    PropertyRequestOptions,
    PropertyValue,
    PropertyValueSearchCursor,
    PropertyValueSearchOpts,
)

UNKNOWN_ID = "a" * 26
TARGET = "u" * 26


@dataclass
class Schema:
    group_id: str
    text: PropertyField
    color: PropertyField


def make_schema(api: Any) -> Schema:
    group = api.register_property_group("acme_profile")
    text = api.create_property_field(
        PropertyField(group_id=group.id, name="Nickname", type="text", object_type="user")
    )
    color = api.create_property_field(
        PropertyField(
            group_id=group.id,
            name="Colors",
            type="multiselect",
            object_type="user",
            attrs=struct({"options": [{"name": "red"}, {"name": "blue"}]}),
        )
    )
    return Schema(group.id, text, color)


def struct(data: dict[str, Any]) -> Struct:
    out = Struct()
    out.update(data)
    return out


def option_ids(field: PropertyField) -> list[str]:
    options: Any = field.attrs["options"]
    return [option["id"] for option in options]


def value(schema: Schema, field: PropertyField, v: Any, target: str = TARGET) -> PropertyValue:
    return PropertyValue(
        group_id=schema.group_id, field_id=field.id, target_id=target, target_type="user", value=v
    )


def test_groups(api: Any) -> None:
    group = api.register_property_group("acme_profile")
    assert len(group.id) == 26 and group.version == 1
    assert api.register_property_group("acme_profile") == group
    assert api.get_property_group("acme_profile") == group
    with pytest.raises(mp.NotFoundError):
        api.get_property_group("nothing_here")
    with pytest.raises(mp.ValidationError):
        api.register_property_group("Bad Name")


def test_fields(api: Any) -> None:
    schema = make_schema(api)
    assert len(schema.text.id) == 26 and schema.text.create_at > 0
    assert all(len(i) == 26 for i in option_ids(schema.color)), "options get ids"
    g = schema.group_id
    assert api.get_property_field(g, schema.text.id) == schema.text
    assert [f.id for f in api.get_property_fields(g, [schema.color.id, schema.text.id])] == [
        schema.color.id,
        schema.text.id,
    ]
    assert api.get_property_field_by_name(g, "", "Nickname") == schema.text
    schema.text.name = "Handle"
    updated = api.update_property_field(g, schema.text)
    assert updated.name == "Handle" and updated.update_at >= updated.create_at
    options: Any = schema.color.attrs["options"]
    options.append({"name": "green"})
    [both_text, both_color] = api.update_property_fields(g, [updated, schema.color])
    assert both_text.name == "Handle" and len(both_color.attrs["options"]) == 3
    assert api.count_property_fields(g, False) == 2
    assert api.count_property_fields_for_target(g, "", "", False) == 2
    api.delete_property_field(g, schema.text.id)
    assert api.count_property_fields(g, False) == 1 and api.count_property_fields(g, True) == 2
    assert api.get_property_field(g, schema.text.id).delete_at > 0


def test_field_failures(api: Any) -> None:
    schema = make_schema(api)
    g = schema.group_id
    with pytest.raises(mp.ValidationError) as bad_type:
        api.create_property_field(PropertyField(group_id=g, name="x", type="color"))
    assert bad_type.value.where == "PropertyField.IsValid"
    with pytest.raises(mp.AlreadyExistsError):
        api.create_property_field(PropertyField(group_id=g, name="Nickname", type="text"))
    with pytest.raises(mp.NotFoundError):
        api.get_property_field(g, UNKNOWN_ID)
    with pytest.raises(mp.NotFoundError):
        api.get_property_fields(g, [schema.text.id, UNKNOWN_ID])
    with pytest.raises(mp.NotFoundError):
        api.get_property_field_by_name(g, "", "Nobody")
    with pytest.raises(mp.NotFoundError):
        api.update_property_field(UNKNOWN_ID, schema.text)
    schema.color.name = "Nickname"
    with pytest.raises(mp.AlreadyExistsError):
        api.update_property_fields(g, [schema.color])
    # PropertyService.deletePropertyField looks the field up in the group, but
    # the store deletes it again: a deleted field is no error.
    api.delete_property_field(g, schema.text.id)
    api.delete_property_field(g, schema.text.id)
    with pytest.raises(mp.NotFoundError):
        api.delete_property_field(g, UNKNOWN_ID)
    # Upstream's store counts any group id: a malformed one has no fields.
    assert api.count_property_fields("not-an-id", False) == 0
    assert api.count_property_fields_for_target("not-an-id", "", "", False) == 0
    with pytest.raises(mp.ValidationError):
        api.search_property_fields(g, PropertyFieldSearchOpts(per_page=0))


def test_search_fields_with_cursor(api: Any) -> None:
    group = api.register_property_group("acme")
    made = [
        api.create_property_field(PropertyField(group_id=group.id, name=f"f{i}", type="text"))
        for i in range(5)
    ]
    first = api.search_property_fields(group.id, PropertyFieldSearchOpts(per_page=3))
    assert len(first) == 3
    last = first[-1]
    cursor = PropertyFieldSearchCursor(property_field_id=last.id, create_at=last.create_at)
    rest = api.search_property_fields(group.id, PropertyFieldSearchOpts(per_page=3, cursor=cursor))
    assert {f.id for f in first} | {f.id for f in rest} == {f.id for f in made}
    assert len(rest) == 2
    # The group argument replaces opts.group_id, as upstream's service does.
    other = api.register_property_group("acme_other")
    ignored = PropertyFieldSearchOpts(group_id=other.id, per_page=10)
    assert len(api.search_property_fields(group.id, ignored)) == 5


def test_values_are_typed_json(api: Any) -> None:
    schema = make_schema(api)
    g = schema.group_id
    red, blue = option_ids(schema.color)
    nick = api.create_property_value(value(schema, schema.text, "Zed"))
    assert nick.value == "Zed" and len(nick.id) == 26
    colors = api.create_property_value(value(schema, schema.color, [red, blue]))
    assert colors.value == [red, blue]
    assert api.get_property_value(g, nick.id) == nick
    assert [v.value for v in api.get_property_values(g, [colors.id, nick.id])] == [
        [red, blue],
        "Zed",
    ]
    nick.value = "Zee"
    assert api.update_property_value(g, nick).value == "Zee"
    colors.value = [blue]
    nick.value = "Zoo"
    assert [v.value for v in api.update_property_values(g, [colors, nick])] == [[blue], "Zoo"]
    upserted = api.upsert_property_value(value(schema, schema.text, "Again"))
    assert upserted.id == nick.id and upserted.value == "Again"
    other = api.upsert_property_values([value(schema, schema.text, "Other", target="v" * 26)])
    assert other[0].id != nick.id
    found = api.search_property_values(
        g, PropertyValueSearchOpts(field_id=schema.text.id, value="Other", per_page=10)
    )
    assert [v.target_id for v in found] == ["v" * 26]
    # The models pickle and print on one line.
    assert pickle.loads(pickle.dumps(upserted)) == upserted
    assert "\n" not in repr(upserted) and "Again" in repr(upserted)


def test_value_failures(api: Any) -> None:
    schema = make_schema(api)
    g = schema.group_id
    with pytest.raises(mp.ValidationError):
        api.create_property_value(value(schema, schema.text, 42))
    with pytest.raises(mp.ValidationError):
        api.create_property_value(value(schema, schema.color, ["not an option"]))
    with pytest.raises(mp.NotFoundError):
        api.create_property_value(
            PropertyValue(group_id=g, field_id=UNKNOWN_ID, target_id=TARGET, target_type="user")
        )
    with pytest.raises(TypeError, match="not a JSON value"):
        api.create_property_value(value(schema, schema.text, {1, 2}))
    with pytest.raises(ValueError, match="not a JSON number"):
        api.create_property_value(value(schema, schema.text, float("nan")))
    nick = api.create_property_value(value(schema, schema.text, "Zed"))
    with pytest.raises(mp.AlreadyExistsError):
        api.create_property_value(value(schema, schema.text, "Twice"))
    with pytest.raises(mp.NotFoundError):
        api.get_property_value(g, UNKNOWN_ID)
    with pytest.raises(mp.NotFoundError):
        api.get_property_values(g, [nick.id, UNKNOWN_ID])
    nick.value = 7
    with pytest.raises(mp.ValidationError):
        api.update_property_value(g, nick)
    with pytest.raises(mp.ValidationError):
        api.update_property_values(g, [nick])
    with pytest.raises(mp.ValidationError):
        api.upsert_property_value(value(schema, schema.text, ["a"]))
    with pytest.raises(mp.ValidationError):
        api.upsert_property_values([value(schema, schema.text, True)])
    assert api.get_property_value(g, nick.id).value == "Zed", "failed updates change nothing"
    with pytest.raises(mp.ValidationError):
        api.search_property_values(g, PropertyValueSearchOpts(per_page=-1))
    api.delete_property_value(g, nick.id)
    assert api.get_property_value(g, nick.id).delete_at > 0
    # As SqlPropertyValueStore.Delete, which has no DeleteAt filter, a deleted
    # value is deleted again; an unknown one is not found.
    api.delete_property_value(g, nick.id)
    with pytest.raises(mp.NotFoundError):
        api.delete_property_value(g, UNKNOWN_ID)


def test_bulk_deletes_and_options(api: Any) -> None:
    schema = make_schema(api)
    g = schema.group_id
    scope = PropertyRequestOptions(acting_as_scope="system")
    red, _ = option_ids(schema.color)
    a = api.upsert_property_value_with_options(value(schema, schema.text, "A"), scope)
    [b, c] = api.upsert_property_values_with_options(
        [value(schema, schema.color, [red]), value(schema, schema.text, "C", target="v" * 26)],
        scope,
    )
    # SqlPropertyValueStore.DeleteForTarget removes the rows for good.
    api.delete_property_values_for_target(g, "user", "v" * 26)
    with pytest.raises(mp.NotFoundError):
        api.get_property_value(g, c.id)
    api.delete_property_values_for_field(g, schema.color.id)
    assert api.get_property_value(g, b.id).delete_at > 0
    api.delete_property_value_with_options(g, a.id, scope)
    assert api.get_property_value(g, a.id).delete_at > 0
    d = api.upsert_property_value(value(schema, schema.text, "D"))
    api.delete_property_values_for_target_with_options(g, "user", TARGET, scope)
    with pytest.raises(mp.NotFoundError):
        api.get_property_value(g, d.id)
    e = api.upsert_property_value(value(schema, schema.text, "E"))
    api.delete_property_values_for_field_with_options(g, schema.text.id, scope)
    assert api.get_property_value(g, e.id).delete_at > 0
    live = api.search_property_values(g, PropertyValueSearchOpts(per_page=10))
    assert live == []
    everything = api.search_property_values(
        g, PropertyValueSearchOpts(per_page=2, include_deleted=True)
    )
    last = everything[-1]
    after = api.search_property_values(
        g,
        PropertyValueSearchOpts(
            per_page=10,
            include_deleted=True,
            cursor=PropertyValueSearchCursor(property_value_id=last.id, create_at=last.create_at),
        ),
    )
    # The target deletes removed a, b, c and d, the deleted ones too; e is
    # soft-deleted.
    assert [v.id for v in everything + after] == [e.id]

    # The stores check no group id and look no field up: nothing to delete
    # is no error, and a deleted value is deleted again.
    api.delete_property_values_for_target("not-an-id", "user", TARGET)
    api.delete_property_values_for_field(g, UNKNOWN_ID)
    api.delete_property_values_for_field_with_options(g, UNKNOWN_ID, scope)
    api.delete_property_value_with_options(g, e.id, scope)
    with pytest.raises(mp.ValidationError):
        api.delete_property_values_for_target(g, "user", "")
    with pytest.raises(mp.ValidationError):
        api.delete_property_values_for_target_with_options(g, "", "", scope)
    with pytest.raises(mp.NotFoundError):
        api.delete_property_value_with_options(g, UNKNOWN_ID, scope)
    long_scope = PropertyRequestOptions(acting_as_scope="x" * 300)
    with pytest.raises(mp.ValidationError):
        api.upsert_property_value_with_options(value(schema, schema.text, "F"), long_scope)
    with pytest.raises(mp.ValidationError):
        api.upsert_property_values_with_options([value(schema, schema.text, "F")], long_scope)
    with pytest.raises(mp.ValidationError):
        api.delete_property_values_for_field_with_options(g, schema.text.id, long_scope)
