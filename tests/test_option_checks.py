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
    st.none(),
    st.integers(-2, 2),
    st.text(max_size=3),
    st.booleans(),
    st.floats(allow_nan=False, width=16),
    st.just({"x": 1}),
    st.just(["x"]),
    st.just(("a",)),
)
tool_values = st.one_of(
    st.none(),
    st.just([]),
    junk,
    st.lists(
        st.one_of(
            junk, st.just({"type": "function", "function": {"name": "f"}}), st.just(documented), st.just(no_docstring)
        ),
        max_size=3,
    ),
)
document_values = st.one_of(
    st.none(),
    st.just([]),
    junk,
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


# Each entry point: how chatfmt renders a conversation, and which conversations transformers gets.
ENTRY_POINTS = {
    "render": (lambda t, c, o: t.render(c, **o), lambda c: c),
    "render_spans": (lambda t, c, o: t.render_spans(c, **o).text, lambda c: c),
    "render_batch": (lambda t, c, o: t.render_batch([CHAT, c], **o), lambda c: [CHAT, c]),
    "apply_chat_template": (lambda t, c, o: chatfmt.apply_chat_template(c, chat_template=t, **o), lambda c: c),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(conversation=conversations, opts=options)
def test_options_are_checked_as_transformers_checks_them(name, entry, conversation, opts):
    template = chatfmt.get_template(name)
    assert template.is_compiled
    ours, reference_input = ENTRY_POINTS[entry]
    theirs = hf_render(template.source, reference_input(conversation), dict(template.special_tokens), **opts)
    assert_same(outcome(lambda: ours(template, conversation, opts)), theirs)


def test_the_bug_report():
    """Issue #12: each of these rendered on the compiled path where transformers raises."""
    source = (  # the report's template, as written there (real newlines inside the Jinja strings)
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    template = chatfmt.Template.from_jinja(source, format=FORMATS["chatml"])
    assert template.is_compiled and template.path_for(CHAT) == "compiled"
    for opts, error in [
        ({"tools": ["not a schema"]}, ValueError),
        ({"tools": 5}, TypeError),
        ({"documents": ["x"]}, TypeError),
        ({"documents": 5}, TypeError),
    ]:
        assert isinstance(hf_render(source, CHAT, **opts), error)
        with pytest.raises(error):
            template.render(CHAT, **opts)
        with pytest.raises(error):
            template.render_batch([CHAT], **opts)
        with pytest.raises(error):
            chatfmt.apply_chat_template(CHAT, chat_template=template, **opts)
