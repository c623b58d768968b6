"""The Plugin base classes: hooks declared by name or decorator, checked at definition."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin._plugin.hookspec import HOOKS
from mattermost_plugin._plugin.spec import Answer
from mattermost_plugin.grpc import hooks_pb2


def test_hook_names_come_from_the_contract() -> None:
    service = hooks_pb2.DESCRIPTOR.services_by_name["PluginHooks"]
    rpcs = [m.name for m in service.methods if m.name != "Implemented"]
    assert [h.value for h in mp.HookName] == rpcs
    assert set(HOOKS) == set(mp.HookName)
    for name, spec in HOOKS.items():
        request = hooks_pb2.DESCRIPTOR.message_types_by_name[f"{name.value}Request"]
        if spec.answer is Answer.HTTP:  # the stream's messages become an HTTPRequest
            assert spec.params == ("context", "request")
        elif spec.answer is Answer.UPLOAD:  # a FileReader in, a FileWriter out
            assert spec.params == ("context", "info", "file", "output")
        else:
            assert spec.params == tuple(f.name for f in request.fields)
        assert spec.request.DESCRIPTOR is request


@pytest.mark.parametrize(
    ("hook", "answer", "field"),
    [
        (mp.HookName.ON_ACTIVATE, Answer.NONE, ""),
        (mp.HookName.MESSAGE_WILL_BE_POSTED, Answer.FILTER, "post"),
        (mp.HookName.MESSAGE_WILL_BE_UPDATED, Answer.FILTER, "post"),
        (mp.HookName.TEAM_MEMBER_WILL_BE_ADDED, Answer.FILTER, "team_member"),
        (mp.HookName.EXECUTE_COMMAND, Answer.VALUE, "response"),
        (mp.HookName.USER_HAS_JOINED_CHANNEL, Answer.NONE, ""),
        (mp.HookName.USER_WILL_LOG_IN, Answer.REJECT, ""),
        (mp.HookName.MESSAGES_WILL_BE_CONSUMED, Answer.VALUE, "posts"),
        (mp.HookName.RUN_DATA_RETENTION, Answer.VALUE, "deleted"),
        (mp.HookName.ON_SHARED_CHANNELS_PING, Answer.VALUE, "healthy"),
        (mp.HookName.SERVE_HTTP, Answer.HTTP, ""),
        (mp.HookName.FILE_WILL_BE_UPLOADED, Answer.UPLOAD, "info"),
    ],
)
def test_answers_follow_the_response_messages(
    hook: mp.HookName, answer: Answer, field: str
) -> None:
    assert HOOKS[hook].answer is answer
    assert HOOKS[hook].result_field == field


def test_hooks_by_name_and_by_decorator() -> None:
    class Both(mp.Plugin):
        def on_activate(self) -> None:
            pass

        @mp.hook(mp.HookName.MESSAGE_WILL_BE_POSTED)
        def filter_posts(self, context: Any, post: Any) -> Any:
            return post

        @mp.hook("ExecuteCommand")
        async def commands(self, context: Any, args: Any) -> None:
            return None

        def helper(self) -> int:  # not a hook, and not like one
            return 1

        def _message_will_be_postd(self) -> None:  # private: never checked
            pass

    assert Both.implemented_hooks() == ["ExecuteCommand", "MessageWillBePosted", "OnActivate"]
    plugin = Both()
    assert plugin.handler("MessageWillBePosted") == plugin.filter_posts
    assert plugin.handler("OnDeactivate") is None


def test_a_subclass_inherits_and_overrides_hooks() -> None:
    class Base(mp.Plugin):
        def on_activate(self) -> None:
            pass

        def message_will_be_posted(self, context: Any, post: Any) -> Any:
            return post

    class Child(Base):
        @mp.hook(mp.HookName.MESSAGE_WILL_BE_POSTED)
        def stricter(self, context: Any, post: Any) -> Any:
            return None, "no"

    assert Child.implemented_hooks() == ["MessageWillBePosted", "OnActivate"]
    child = Child()
    assert child.handler("MessageWillBePosted") == child.stricter


def test_a_misspelled_hook_is_refused_with_the_closest_name() -> None:
    with pytest.raises(
        TypeError, match=r"Typo\.message_will_be_postd is not a hook; did you mean "
    ):

        class Typo(mp.Plugin):
            def message_will_be_postd(self, context: Any, post: Any) -> None:
                pass

    with pytest.raises(TypeError, match="'on_activate' \\(OnActivate\\)"):

        class Typo2(mp.AsyncPlugin):
            async def on_activat(self) -> None:
                pass


def test_an_unknown_decorated_hook_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match="there is no hook 'MessageWillBePostd'; did you mean 'MessageWillBePosted'",
    ):
        mp.hook("MessageWillBePostd")
    with pytest.raises(TypeError, match="HookName"):
        mp.hook(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "method",
    [
        "def message_will_be_posted(self, post): pass",
        "def message_will_be_posted(self, context, post, extra): pass",
        "def on_activate(self, context): pass",
        "def execute_command(self): pass",
    ],
)
def test_a_wrong_signature_is_refused_with_the_hooks_signature(method: str) -> None:
    namespace: dict[str, Any] = {}
    exec(method, namespace)
    function = next(v for k, v in namespace.items() if not k.startswith("__"))
    with pytest.raises(TypeError, match=r"cannot handle \w+: .*; the hook calls \w+\(self"):
        type("Wrong", (mp.Plugin,), {function.__name__: function})


def test_flexible_signatures_are_accepted() -> None:
    class Flexible(mp.Plugin):
        def message_will_be_posted(self, *args: Any) -> None:
            pass

        def message_has_been_posted(self, context: Any, post: Any, extra: int = 0) -> None:
            pass

        @staticmethod
        def on_activate() -> None:
            pass

    assert Flexible.implemented_hooks() == [
        "MessageHasBeenPosted",
        "MessageWillBePosted",
        "OnActivate",
    ]


def test_two_handlers_of_one_hook_are_refused() -> None:
    with pytest.raises(TypeError, match="Twice handles MessageWillBePosted twice"):

        class Twice(mp.Plugin):
            def message_will_be_posted(self, context: Any, post: Any) -> None:
                pass

            @mp.hook(mp.HookName.MESSAGE_WILL_BE_POSTED)
            def again(self, context: Any, post: Any) -> None:
                pass


def test_a_non_function_hook_attribute_is_refused() -> None:
    with pytest.raises(TypeError, match="handles OnActivate but is not a function"):
        type("NotAFunction", (mp.Plugin,), {"on_activate": 42})


def test_public_values_pickle_and_print_on_one_line() -> None:
    assert pickle.loads(pickle.dumps(mp.DISMISS)) is mp.DISMISS
    assert repr(mp.DISMISS) == "mattermost_plugin.DISMISS"
    for name in mp.HookName:
        assert pickle.loads(pickle.dumps(name)) is name
        assert "\n" not in repr(name)
    assert mp.HookName("OnActivate") is mp.HookName.ON_ACTIVATE
    assert mp.HookName.ON_ACTIVATE.value == "OnActivate"
    assert isinstance(mp.HookName.ON_ACTIVATE, str)


def test_the_base_classes_have_no_hooks() -> None:
    assert mp.Plugin.implemented_hooks() == []
    assert mp.AsyncPlugin.implemented_hooks() == []
