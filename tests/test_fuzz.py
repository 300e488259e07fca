"""Fuzzing: arbitrary JSON-like inputs, wrong types everywhere, into every built-in format and 20 corpus
templates, on both builders. chatfmt either returns transformers' exact string or raises where
transformers raises: one of its own documented errors (ChatfmtError), or the template's own error (the
same type and message as transformers'). Never a crash, a hang, or a difference between the compiled
path and the Jinja path."""

from __future__ import annotations

import time

import pytest
from conftest import TEMPLATE_FILES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import FIXED_NOW, hf_fixed_clock, hf_render
from strategies import awkward_text

import chatfmt
from chatfmt.formats.builtin import BUILTINS

pytestmark = pytest.mark.usefixtures("builder")

SECONDS_PER_CALL = 5.0  # far above any real render here: a call that takes longer counts as a hang

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 300),
    st.floats(allow_nan=False, width=32),
    st.text(max_size=6),
    awkward_text,
)
json_like = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["type", "text", "x", "role"]), inner, max_size=3)
    ),
    max_leaves=6,
)
role = st.one_of(st.sampled_from(["user", "assistant", "system", "tool", "developer", "hacker"]), json_like)
part = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["text", "image"]), json_like)},
    optional={"text": st.one_of(awkward_text, json_like), "image": json_like},
)
content = st.one_of(awkward_text, json_like, st.lists(st.one_of(part, json_like), max_size=3))
message = st.one_of(
    st.fixed_dictionaries(
        {"role": role, "content": content},
        optional={"tool_calls": json_like, "reasoning_content": st.one_of(awkward_text, json_like), "name": json_like},
    ),
    st.fixed_dictionaries({}, optional={"role": role, "content": content}),
    json_like,
)
conversation = st.one_of(st.lists(message, max_size=4), st.lists(message, min_size=1, max_size=4), json_like)

TEMPLATES = [(builtin.name, builtin.read_source(), dict(builtin.special_tokens)) for builtin in BUILTINS] + [
    (path.stem, path.read_text(encoding="utf-8"), {"bos_token": "<s>", "eos_token": "</s>"})
    for path in TEMPLATE_FILES[::5]
]


def outcome(render, *args, **kwargs):
    start = time.monotonic()
    try:
        result = render(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - an exception is an outcome to compare
        result = exc
    assert time.monotonic() - start < SECONDS_PER_CALL, "the call hung"
    return result


def assert_allowed(ours, theirs, chat):
    """`ours` is transformers' string, or one of chatfmt's documented errors where transformers raises
    (it is also of transformers' exception type, and names the message and field), or the template's own
    error: the exception transformers raises, same type and message. `render` takes one conversation, so
    a list of conversations, which transformers renders as a batch, is refused."""
    if isinstance(ours, chatfmt.ChatfmtError):
        batch = isinstance(chat, (list, tuple)) and len(chat) > 0 and isinstance(chat[0], (list, tuple))
        assert batch or (isinstance(theirs, Exception) and isinstance(ours, type(theirs))), (chat, ours, theirs)
        return
    if isinstance(ours, Exception):
        assert isinstance(theirs, Exception), (chat, ours, theirs)
        assert (type(ours).__name__, str(ours)) == (type(theirs).__name__, str(theirs)), chat
    else:
        assert ours == theirs, chat


@pytest.mark.parametrize(("name", "source", "tokens"), TEMPLATES, ids=[t[0] for t in TEMPLATES])
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(chat=conversation, add_generation_prompt=st.booleans())
def test_arbitrary_inputs_raise_only_allowed_errors_and_match_transformers(
    name, source, tokens, chat, add_generation_prompt
):
    template = chatfmt.Template(source, special_tokens=tokens, name=name)
    with hf_fixed_clock(), chatfmt.fixed_clock(FIXED_NOW):
        ours = outcome(template.render, chat, add_generation_prompt=add_generation_prompt)
        jinja = outcome(template.jinja_only().render, chat, add_generation_prompt=add_generation_prompt)
        theirs = hf_render(source, chat, tokens, add_generation_prompt=add_generation_prompt)
        strict = outcome(template.render, chat, add_generation_prompt=add_generation_prompt, validate=True)
    assert_allowed(ours, theirs, chat)
    if isinstance(ours, Exception):  # compiled and Jinja paths: the same result, or the same error
        assert (type(jinja), str(jinja)) == (type(ours), str(ours))
    else:
        assert jinja == ours
    # validate=True only ever adds InvalidConversation refusals; whatever it lets through renders the same.
    assert isinstance(strict, chatfmt.InvalidConversation) or (type(strict), str(strict)) == (type(ours), str(ours))
