"""Invalid call options raise exactly where transformers raises, whichever engine would render the call.

transformers checks tools, documents and the flags before any template runs (SPEC §2.2), so a compiled
route must run the same checks: `chatfmt.pipeline` is the one place both engines go through. Hypothesis
sends wrong types, wrong shapes, empty values and None for every option through `render`,
`render_batch`, `render_spans` and `apply_chat_template` of compiled templates, on both builders, and
each outcome must be transformers' outcome: the same string, or the same exception type.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import hf_render
from transformers.utils import chat_template_utils as ctu

import chatfmt
from chatfmt.formats.builtin import FORMATS
from chatfmt.jinja.tools import DocstringParsingError, TypeHintParsingError

pytestmark = pytest.mark.usefixtures("builder")  # every test here runs on both builders

# Compiled built-ins that read neither tools nor documents (the options cannot change their text, so
# only transformers' checks decide), and one that reads tools (Qwen2.5).
NAMES = ["chatml", "llama-3", "gemma", "mistral-v1", "phi-3.5", "qwen2.5"]
CHAT = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]


def no_docstring(x: int) -> int:
    return x


def documented(city: str) -> str:
    """Look up the weather.

    Args:
        city: The city.
    """
    return city


junk = st.one_of(
    st.none(), st.integers(-2, 2), st.text(max_size=3), st.booleans(), st.floats(allow_nan=False, width=16),
    st.just({"x": 1}), st.just(["x"]), st.just(("a",)),
)
tool_values = st.one_of(
    st.none(), st.just([]), junk,
    st.lists(st.one_of(junk, st.just({"type": "function", "function": {"name": "f"}}), st.just(documented),
                       st.just(no_docstring)), max_size=3),
)
document_values = st.one_of(
    st.none(), st.just([]), junk,
    st.lists(st.one_of(junk, st.just({"title": "T", "text": "body"}), st.just({})), max_size=3),
)
conversations = st.one_of(
    st.just(CHAT),
    st.just([]),
    st.just([{"role": "user", "content": "Hi"}, "not a message"]),
    st.just([{"role": "user", "content": None}]),
)
options = st.fixed_dictionaries(
    {"tools": tool_values, "documents": document_values},
    optional={
        "add_generation_prompt": st.one_of(st.booleans(), st.none(), st.integers(0, 1)),
        "continue_final_message": st.one_of(st.booleans(), st.just("content")),
    },
)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(render):
    try:
        return render()
    except Exception as exc:  # the outcome to compare is the exception
        return exc


# transformers' schema errors are classes of its own; chatfmt raises its equivalents.
EQUIVALENT = {ctu.DocstringParsingException: DocstringParsingError, ctu.TypeHintParsingException: TypeHintParsingError}


def assert_same(ours, theirs) -> None:
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"transformers raised {theirs!r}; chatfmt returned {ours!r}"
        expected = EQUIVALENT.get(type(theirs), type(theirs))
        assert isinstance(ours, expected), f"transformers raised {theirs!r}; chatfmt raised {ours!r}"
    else:
        assert not isinstance(ours, Exception), f"chatfmt raised {ours!r}; transformers returned {theirs!r}"
        assert ours == theirs


def _reference(template: chatfmt.Template, conversation, opts):
    return hf_render(template.source, conversation, dict(template.special_tokens), **opts)


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(conversation=conversations, opts=options)
def test_render(name, conversation, opts):
    template = chatfmt.get_template(name)
    assert template.is_compiled
    assert_same(outcome(lambda: template.render(conversation, **opts)), _reference(template, conversation, opts))


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(conversation=conversations, opts=options)
def test_render_spans(name, conversation, opts):
    template = chatfmt.get_template(name)
    ours = outcome(lambda: template.render_spans(conversation, **opts))
    assert_same(ours if isinstance(ours, Exception) else ours.text, _reference(template, conversation, opts))


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(conversation=conversations, opts=options)
def test_render_batch(name, conversation, opts):
    template = chatfmt.get_template(name)
    batch = [CHAT, conversation]
    assert_same(outcome(lambda: template.render_batch(batch, **opts)), _reference(template, batch, opts))


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(conversation=conversations, opts=options)
def test_apply_chat_template(name, conversation, opts):
    template = chatfmt.get_template(name)
    ours = outcome(lambda: chatfmt.apply_chat_template(conversation, chat_template=template, **opts))
    assert_same(ours, _reference(template, conversation, opts))


def test_the_bug_report():
    """Issue #12: each of these rendered on the compiled path where transformers raises."""
    source = (  # the report's template, as written there (real newlines inside the Jinja strings)
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    template = chatfmt.Template.from_jinja(source, format=FORMATS["chatml"])
    assert template.is_compiled and template.path_for(CHAT) == "compiled"
    for opts, error in [({"tools": ["not a schema"]}, ValueError), ({"tools": 5}, TypeError),
                        ({"documents": ["x"]}, TypeError), ({"documents": 5}, TypeError)]:
        assert isinstance(hf_render(source, CHAT, **opts), error)
        with pytest.raises(error):
            template.render(CHAT, **opts)
        with pytest.raises(error):
            template.render_batch([CHAT], **opts)
        with pytest.raises(error):
            chatfmt.apply_chat_template(CHAT, chat_template=template, **opts)
