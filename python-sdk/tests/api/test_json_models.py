"""The JSON models of mattermost_plugin.models, without a server.

Property values and their search options are dataclasses whose ``value``
holds any JSON value; these tests pin their conversion to and from the wire.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from mattermost_plugin.models import (
    PropertyValue,
    PropertyValueSearchCursor,
    PropertyValueSearchOpts,
)


@pytest.mark.parametrize(
    "value",
    [None, True, 0, 7, -1.5, "", "text", [], [1, "two", None], {"a": {"b": [1, 2.5]}}, "é ☃"],
)
def test_values_round_trip_exactly(value: Any) -> None:
    model = PropertyValue(field_id="f" * 26, value=value)
    back = PropertyValue._from_message(model._to_message())
    assert back == model and type(back.value) is type(value)


def test_none_is_no_value_on_the_wire() -> None:
    assert PropertyValue()._to_message().value == ""
    assert PropertyValue(value="x")._to_message().value == '"x"'
    assert PropertyValue._from_message(PropertyValue(value=None)._to_message()).value is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({1, 2}, TypeError),
        (b"bytes", TypeError),
        ({1: "x"}, TypeError),
        ([{2: 1}], TypeError),
        (float("inf"), ValueError),
        ({"n": float("nan")}, ValueError),
        (object(), TypeError),
    ],
)
def test_values_that_are_not_json_are_refused(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"PropertyValue\.value"):
        PropertyValue(value=value)._to_message()


def test_search_options_keep_their_cursor_and_lists() -> None:
    opts = PropertyValueSearchOpts(
        target_ids=["t"],
        value={"k": 1},
        per_page=5,
        cursor=PropertyValueSearchCursor(property_value_id="c" * 26, create_at=3),
    )
    message = opts._to_message()
    assert message.value == '{"k":1}' and message.cursor.create_at == 3
    assert PropertyValueSearchOpts._from_message(message) == opts
    assert (
        PropertyValueSearchOpts._from_message(PropertyValueSearchOpts()._to_message()).cursor
        is None
    )


def test_models_pickle_and_print_on_one_line() -> None:
    model = PropertyValue(id="i" * 26, value={"text": "x" * 10_000})
    assert pickle.loads(pickle.dumps(model)) == model
    text = repr(model)
    assert "\n" not in text and len(text) < 300 and text.startswith("PropertyValue(id=")
    assert repr(PropertyValue()) == "PropertyValue()"
    assert "value (Any)" in (PropertyValue.__doc__ or "")
