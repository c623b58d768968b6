"""The Plugin base classes: hooks declared by name or decorator, checked at definition."""

from __future__ import annotations

import pickle
import pydoc
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin._plugin.hookspec import HOOKS
from mattermost_plugin._plugin.spec import Answer
from mattermost_plugin.grpc import hooks_pb2

#: pydoc's plain-text renderer (typeshed does not declare it).
PLAIN = pydoc.plaintext  # type: ignore[attr-defined]


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


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("MessageWillBePosted", "message_will_be_posted"),
        ("OnActivate", "on_activate"),
        ("messageWillBePosted", "message_will_be_posted"),
        ("ServeHTTP", "serve_http"),
        ("Serve_Http", "serve_http"),
    ],
)
def test_a_method_named_like_the_go_hook_is_refused_with_the_name_to_use(
    name: str, method: str
) -> None:
    def handler(self: Any, *args: Any) -> None:
        pass

    with pytest.raises(TypeError) as info:
        type("GoNames", (mp.AsyncPlugin,), {name: handler})
    assert f"GoNames.{name} is named like the Go hook " in str(info.value)
    assert f"rename {name} to {method}" in str(info.value)


def test_a_go_named_helper_is_allowed_when_marked_or_private() -> None:
    class Marked(mp.Plugin):
        @mp.hook(mp.HookName.ON_ACTIVATE)
        def OnActivate(self) -> None:  # marked: the name is the author's
            pass

        def _MessageWillBePosted(self) -> None:  # a private helper
            pass

        OnDeactivate = "not a method"

    assert Marked.implemented_hooks() == ["OnActivate"]


def test_help_of_the_plugin_classes_lists_every_hook_with_its_signature() -> None:
    for base in (mp.Plugin, mp.AsyncPlugin):
        text = pydoc.render_doc(base, renderer=PLAIN)
        for spec in HOOKS.values():
            assert spec.signature in text, spec.name
            assert spec.summary.split()[1] in text  # its meaning's first words
        assert (
            "message_will_be_posted(self, context: Context, post: Post) -> Post | "
            "tuple[Post | None, str] | None\n |          MessageWillBePosted runs before a post "
            "is stored." in text
        )
    # Only the documentation: the base classes handle no hook.
    assert mp.Plugin.implemented_hooks() == []
    assert not hasattr(mp.Plugin, "message_will_be_posted")


def test_help_of_a_hook_name_shows_its_signature_and_meaning() -> None:
    text = pydoc.render_doc(mp.HookName.MESSAGE_WILL_BE_POSTED, renderer=PLAIN)
    assert "<HookName.MESSAGE_WILL_BE_POSTED: 'MessageWillBePosted'>" in text
    lines = [line.strip() for line in text.splitlines()]
    assert (
        "message_will_be_posted(self, context: Context, post: Post) -> Post | "
        "tuple[Post | None, str] | None"
    ) in lines
    assert "MessageWillBePosted runs before a post is stored. It may keep, replace or" in lines
    assert "Mattermost server 5.2 and later." in lines
    for name, spec in HOOKS.items():
        doc = pydoc.getdoc(name)
        assert doc.startswith(spec.signature + "\n"), name
        assert f"mattermost_plugin.hook(HookName.{name.name})" in " ".join(doc.split())


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
    # Not a str (pydoc would look a str up as a name: help() of a member
    # could not show its signature), but equal to and hashed as its Go name.
    assert mp.HookName.ON_ACTIVATE == "OnActivate"
    assert "OnActivate" == mp.HookName.ON_ACTIVATE  # noqa: SIM300 - the reflected comparison
    assert mp.HookName.ON_ACTIVATE != "OnDeactivate"
    by_name: dict[Any, int] = {"OnActivate": 1}
    assert by_name[mp.HookName.ON_ACTIVATE] == 1
    assert mp.HookName.ON_ACTIVATE in ["OnActivate"]
    assert str(mp.HookName.ON_ACTIVATE) == f"{mp.HookName.ON_ACTIVATE}" == "OnActivate"


def test_the_base_classes_have_no_hooks() -> None:
    assert mp.Plugin.implemented_hooks() == []
    assert mp.AsyncPlugin.implemented_hooks() == []
