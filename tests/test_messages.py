"""chatfmt.messages: JSON conversations are rejected with the message and field named, or passed on untouched."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatfmt
from chatfmt import InvalidConversation
from chatfmt.messages import decode_conversation, validate_conversation


def assert_identical(actual: Any, expected: Any, path: str = "$") -> None:
    """Equal, with the same types all the way down and the same key order in every object."""
    assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: key order {list(actual)} != {list(expected)}"
        for key in expected:
            assert_identical(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{path}: length"
        for index, (a, e) in enumerate(zip(actual, expected)):
            assert_identical(a, e, f"{path}[{index}]")
    elif isinstance(expected, float):
        assert math.copysign(1, actual) == math.copysign(1, expected) and actual == expected, f"{path}: {actual!r}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


# --- rejections ----------------------------------------------------------------------------------------

# (JSON text, message_index, field, words the message must contain)
REJECTED = [
    pytest.param(
        '{"role": "user", "content": "hi"}', None, None, ["must be a list", "got object"], id="object-not-list"
    ),
    pytest.param('"hello"', None, None, ["must be a list", "got string"], id="string-not-list"),
    pytest.param("42", None, None, ["must be a list", "got number"], id="number-not-list"),
    pytest.param("null", None, None, ["must be a list", "got null"], id="null-not-list"),
    pytest.param('{"messages": {"role": "user"}}', None, None, ["must be a list", "got object"], id="wrapped-object"),
    pytest.param('{"messages": null}', None, None, ["must be a list", "got null"], id="wrapped-null"),
    pytest.param("[1]", 0, None, ["must be an object", "got number"], id="message-number"),
    pytest.param(
        '[{"role": "user", "content": "a"}, "b"]', 1, None, ["must be an object", "got string"], id="message-string"
    ),
    pytest.param(
        '[{"role": "user", "content": "a"}, null]', 1, None, ["must be an object", "got null"], id="message-null"
    ),
    pytest.param('[[{"role": "user"}]]', 0, None, ["must be an object", "got array"], id="message-array"),
    pytest.param('[{"content": "hi"}]', 0, "role", ["no 'role'"], id="no-role"),
    pytest.param(
        '[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"content": "c"}]',
        2,
        "role",
        ["no 'role'"],
        id="no-role-third",
    ),
    pytest.param(
        '[{"role": 1, "content": "hi"}]', 0, "role", ["'role' must be a string", "got number"], id="role-number"
    ),
    pytest.param(
        '[{"role": null, "content": "hi"}]', 0, "role", ["'role' must be a string", "got null"], id="role-null"
    ),
    pytest.param('[{"role": true}]', 0, "role", ["'role' must be a string", "got boolean"], id="role-bool"),
    pytest.param('[{"role": ["user"]}]', 0, "role", ["'role' must be a string", "got array"], id="role-array"),
    pytest.param(
        '[{"role": {"name": "user"}}]', 0, "role", ["'role' must be a string", "got object"], id="role-object"
    ),
    pytest.param(
        '[{"role": "user", "content": 3}]', 0, "content", ["'content' must be", "got number"], id="content-int"
    ),
    pytest.param(
        '[{"role": "user", "content": 2.5}]', 0, "content", ["'content' must be", "got number"], id="content-float"
    ),
    pytest.param(
        '[{"role": "user", "content": true}]', 0, "content", ["'content' must be", "got boolean"], id="content-true"
    ),
    pytest.param(
        '[{"role": "user", "content": false}]', 0, "content", ["'content' must be", "got boolean"], id="content-false"
    ),
    pytest.param(
        '[{"role": "user", "content": "a"}, {"role": "user", "content": {"type": "text", "text": "b"}}]',
        1,
        "content",
        ["'content' must be", "got object"],
        id="content-object",
    ),
    pytest.param(
        '[{"role": "user", "content": [{"type": "text", "text": "a"}, "b"]}]',
        0,
        "content",
        ["content block 1", "must be an object", "got string"],
        id="block-string",
    ),
    pytest.param(
        '[{"role": "system", "content": "s"}, {"role": "user", "content": [null]}]',
        1,
        "content",
        ["content block 0", "got null"],
        id="block-null",
    ),
    pytest.param(
        '[{"role": "user", "content": [[{"type": "text"}]]}]',
        0,
        "content",
        ["content block 0", "got array"],
        id="block-array",
    ),
    pytest.param(
        '[{"role": "user", "content": [7]}]', 0, "content", ["content block 0", "got number"], id="block-number"
    ),
]

INVALID_JSON = [
    "",
    "   ",
    "[",
    "[{]",
    "[1,]",
    "{'role': 'user'}",
    '[{"role": "user"}] trailing',
    "NaN",
    "[True]",
    b"\xff\xfe[]",
]


def _check_error(error: InvalidConversation, index: int | None, field: str | None, words: list[str]) -> None:
    assert error.message_index == index
    assert error.field == field
    message = str(error)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    prefix = ", ".join(
        part for part in (f"message {index}" if index is not None else "", f"field {field!r}" if field else "") if part
    )
    if prefix:
        assert message.startswith(prefix + ": "), message
    assert isinstance(error, chatfmt.ChatfmtError) and isinstance(error, TypeError) and isinstance(error, ValueError)


@pytest.mark.parametrize(("text", "index", "field", "words"), REJECTED)
def test_decode_rejects(text: str, index: int | None, field: str | None, words: list[str]) -> None:
    with pytest.raises(InvalidConversation) as info:
        decode_conversation(text)
    _check_error(info.value, index, field, words)
    with pytest.raises(InvalidConversation) as info:
        decode_conversation(text.encode("utf-8"))
    _check_error(info.value, index, field, words)


@pytest.mark.parametrize(("text", "index", "field", "words"), REJECTED)
def test_validate_rejects_the_same_python_objects(
    text: str, index: int | None, field: str | None, words: list[str]
) -> None:
    value = json.loads(text)
    if isinstance(value, dict) and "messages" in value:
        value = value["messages"]  # the wrapper is a decode_conversation feature
    with pytest.raises(InvalidConversation) as info:
        validate_conversation(value)
    _check_error(info.value, index, field, words)


@pytest.mark.parametrize("text", INVALID_JSON)
def test_invalid_json_is_an_invalid_conversation(text: str | bytes) -> None:
    with pytest.raises(InvalidConversation, match="not valid JSON") as info:
        decode_conversation(text)
    assert info.value.message_index is None and info.value.field is None


def test_rejection_messages_read_clearly() -> None:
    with pytest.raises(InvalidConversation) as info:
        decode_conversation('[{"role": "user", "content": "a"}, {"content": "b"}]')
    assert str(info.value) == "message 1, field 'role': the message has no 'role'"
    assert info.value.reason == "the message has no 'role'"
    with pytest.raises(InvalidConversation) as info:
        decode_conversation('[{"role": "user", "content": 5}]')
    assert (
        str(info.value)
        == "message 0, field 'content': 'content' must be a string, a list of content blocks, or null; got number"
    )


def test_python_tuples_and_other_sequences_are_not_conversations() -> None:
    with pytest.raises(InvalidConversation, match="got array"):
        validate_conversation(({"role": "user", "content": "x"},))
    with pytest.raises(InvalidConversation, match="got string"):
        validate_conversation("[]")


# --- valid input passes through untouched --------------------------------------------------------------

VALID = [
    pytest.param([], id="empty"),
    pytest.param([{"role": "user", "content": "hi"}], id="minimal"),
    pytest.param([{"content": "reversed key order", "role": "user"}], id="key-order"),
    pytest.param([{"role": "user"}], id="no-content"),
    pytest.param([{"role": "assistant", "content": None}], id="null-content"),
    pytest.param(
        [{"role": "", "content": ""}, {"role": "developer", "content": "日本語 \u0000 \U0001f600"}], id="odd-strings"
    ),
    pytest.param(
        [
            {
                "role": "user",
                "content": "x",
                "name": "bob",
                "zeta": {"z": 1, "a": [1, 2.5, None, True, -0.0]},
                "alpha": [],
            }
        ],
        id="extra-keys",
    ),
    pytest.param(
        [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}},
                    },
                    {"type": "function", "function": {"arguments": '{"x": 1}', "name": "raw"}},
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "sunny"},
        ],
        id="tool-calls",
    ),
    pytest.param(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image", "url": "https://example.com/a.png"},
                    {},
                ],
            }
        ],
        id="list-content",
    ),
    pytest.param([{"role": "user", "content": []}], id="empty-list-content"),
    pytest.param(
        [{"role": "user", "content": "a", "role_extra": 1, "content_extra": {"role": 5}}], id="lookalike-keys"
    ),
]


@pytest.mark.parametrize("conversation", VALID)
def test_validate_returns_the_same_objects_unchanged(conversation: list) -> None:
    before = copy.deepcopy(conversation)
    result = validate_conversation(conversation)
    assert result is conversation
    assert all(a is b for a, b in zip(result, conversation))
    assert_identical(conversation, before)


@pytest.mark.parametrize("conversation", VALID)
def test_decode_gives_back_what_was_encoded(conversation: list) -> None:
    text = json.dumps(conversation)
    assert_identical(decode_conversation(text), conversation)
    assert_identical(decode_conversation(text.encode("utf-8")), conversation)
    assert_identical(
        decode_conversation(json.dumps(conversation, ensure_ascii=False, indent=2).encode("utf-8")), conversation
    )


@pytest.mark.parametrize("conversation", VALID)
def test_messages_wrapper_is_unwrapped(conversation: list) -> None:
    wrapped = {"tools": [{"type": "function"}], "messages": conversation, "extra": 1}
    assert_identical(decode_conversation(json.dumps(wrapped)), conversation)


def test_decode_matches_the_standard_library() -> None:
    text = (
        '{"messages": [{"role": "user", "content": "a\\u00e9\\n", "n": 1e300, "m": -12345678901234567890123, '
        '"f": 0.1, "g": 1.0, "dup": 1, "dup": 2}]}'
    )
    assert_identical(decode_conversation(text), json.loads(text)["messages"])


# --- property: decoding and rendering a conversation don't depend on the JSON round trip ---------------

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
content_blocks = st.lists(
    st.dictionaries(st.sampled_from(["type", "text", "url", "image"]) | st.text(max_size=6), json_values, max_size=3)
    | st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=20)}),
    max_size=3,
)
tool_calls = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.just("function"),
            "function": st.fixed_dictionaries(
                {
                    "name": st.text(min_size=1, max_size=10),
                    "arguments": st.dictionaries(st.text(max_size=6), json_values, max_size=3),
                }
            ),
        }
    ),
    min_size=1,
    max_size=2,
)


_ABSENT = object()


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    items: dict[str, Any] = {
        "role": draw(st.sampled_from(["system", "user", "assistant", "tool"]) | st.text(max_size=10))
    }
    content = draw(st.one_of(st.text(max_size=40), st.text(max_size=40), st.none(), content_blocks, st.just(_ABSENT)))
    if content is not _ABSENT:
        items["content"] = content
    if draw(st.booleans()):
        items["tool_calls"] = draw(tool_calls)
    extras = draw(st.dictionaries(st.text(max_size=8).filter(lambda k: k not in items), json_values, max_size=3))
    items.update(extras)
    order = draw(st.permutations(list(items)))
    return {key: items[key] for key in order}


conversations = st.lists(messages(), max_size=5)
RENDERERS = ("chatml", "llama-3", "qwen2.5", "mistral-v1", "gemma")


def _outcome(template: chatfmt.Template, conversation: list) -> tuple[str, str]:
    try:
        return "ok", template.render(conversation, add_generation_prompt=True)
    except Exception as exc:  # noqa: BLE001 - both sides must fail the same way
        return type(exc).__name__, str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations)
def test_json_round_trip_preserves_conversation_and_render(conversation: list) -> None:
    assert validate_conversation(conversation) is conversation
    decoded = decode_conversation(json.dumps(conversation))
    assert_identical(decoded, conversation)
    assert_identical(
        decode_conversation(json.dumps({"messages": conversation}, ensure_ascii=False).encode()), conversation
    )
    before = copy.deepcopy(conversation)
    for name in RENDERERS:
        template = chatfmt.get_template(name)
        assert _outcome(template, decoded) == _outcome(template, conversation), name
    assert_identical(conversation, before)  # rendering does not mutate the caller's conversation


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": st.text(max_size=30)}),
        min_size=1,
        max_size=4,
    )
)
def test_round_trip_of_plain_chats_renders_successfully(conversation: list) -> None:
    """The same property where every render succeeds, so the comparison is of real prompt text."""
    decoded = decode_conversation(json.dumps(conversation))
    for name in ("chatml", "llama-3", "qwen2.5"):
        template = chatfmt.get_template(name)
        rendered = template.render(decoded)
        assert rendered == template.render(conversation)
        if name == "chatml":
            assert all(f"{m['role']}\n{m['content']}<|im_end|>" in rendered for m in conversation)
