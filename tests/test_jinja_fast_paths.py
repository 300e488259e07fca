"""The Jinja path's shortcuts (codegen.py, select.py, the sandbox overrides) and its size checks (bounds.py)
answer exactly as Jinja does.

Each template below exercises one family of shortcuts on every shape of value a message field can hold
(strings, numbers, None, lists, dicts, missing keys), so that both the direct path and the fallback to
the sandbox run; chatfmt must give transformers' string, or raise the same error.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import hf_render

import chatfmt

SNIPPETS = {
    "attribute and key reads": (
        "{% for m in messages %}{{ m.role }}|{{ m['content'] }}|{{ m.items is defined }}|{{ m['items'] is defined }}|"
        "{{ m.missing is defined }}|{{ m['missing'] }}|{{ m.content.type }}|{{ m.content['type'] }}|"
        "{{ m.content.upper is defined }}|{{ m['content']['index'] is defined }};{% endfor %}"
    ),
    "str methods": (
        "{% for m in messages %}{{ m.content.upper() }}|{{ m.content.strip('x ') }}|{{ m.content.split() }}|"
        "{{ m.content.startswith('a') }}|{{ m.content.rsplit('a', 1) }}|{{ m.content.replace('a', 'bb') }}|"
        "{{ m.content.replace('', '-', 2) }};{% endfor %}"
    ),
    "indexes": (
        "{% for m in messages %}{{ m.content[0] }}|{{ m.content[-1] }}|{{ m.content[5] }}|{{ messages[loop.index0].role }}|"
        "{{ messages[loop.index0 - 10] }}|{{ m.content[m.role] }}|{{ m[m.role] }}|{{ m.content[1:3] }}|{{ m[true] }};"
        "{% endfor %}"
    ),
    "dict methods": (
        "{% for m in messages %}{{ m.get('content') }}|{{ m.get('x', 'd') }}|{{ m.items() | list }}|{{ m.keys() | list }}|"
        "{{ m.content.get('a') }}|{{ m.content.values() | list if m.content is mapping }};{% endfor %}"
    ),
    "loops and namespaces": (
        "{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set ns.s = ns.s ~ m.role %}"
        "{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex0 }}{{ loop.previtem is defined }}"
        "{% for c in m.content %}{{ c }}{% endfor %}{% endfor %}{{ ns.n }}{{ ns.s }}{{ ns.missing is defined }}"
        "{% for i in range(messages | length) %}{{ messages[i].content | length }}{% endfor %}"
    ),
    "macros and globals": (
        "{% macro show(m, sep='-') %}{{ m.role }}{{ sep }}{{ caller() if caller }}{{ varargs }}{% endmacro %}"
        "{% for m in messages %}{{ show(m) }}{% call show(m, '+') %}body{% endcall %}{{ show(m, ':', 1, 2) }}"
        "{{ dict(a=m.role) }}{{ namespace(x=m.role).x }}{% endfor %}{{ show() }}"
    ),
    "selectattr and rejectattr": (
        "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}|"
        "{{ messages | rejectattr('content', 'string') | list | length }}|{{ messages | selectattr('name', 'defined') | list }}|"
        "{{ messages | selectattr('role', 'ne', 'user') | list | length }}|{{ messages | selectattr('role') | list | length }}|"
        "{{ messages | rejectattr('content', 'none') | list | length }}|{{ messages | selectattr('content.0', 'defined') | list | length }}"
    ),
    "size-checked builders": (
        "{% for m in messages %}{{ '{:>6}|{}'.format(m.role, m.content) }}|{{ '{0[a]}'.format(m.content) }}|"
        "{{ '%5s|%s' % (m.role, m.content) }}|{{ '%*d' % (3, loop.index) }}|{{ loop.index % 2 }}|{{ m.role.center(12, '*') }}|"
        "{{ m.role.zfill(9) }}|{{ m.content | string | indent(2, true) }}|{{ m.content | join(', ') }}|"
        "{{ m | tojson(indent=2) }}|{{ m | tojson(separators=(',', ':')) }}|{{ m.content | tojson(indent='  ') }};{% endfor %}"
    ),
}

value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.floats(allow_nan=False),
        st.sampled_from(["", "a", "xa b", "index", "type"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["type", "a", "text", "0"]), inner, max_size=3)
    ),
    max_leaves=6,
)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "content"])},
    optional={"content": value, "name": value, "items": value, "x": value},
)


def outcome(render):  # noqa: ANN001, ANN201
    try:
        return render()
    except Exception as exc:  # the outcome to compare is the exception itself
        return exc


@pytest.mark.parametrize("label", list(SNIPPETS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(message, min_size=1, max_size=4))
def test_shortcuts_render_as_jinja(label: str, messages: list[dict]) -> None:
    source = SNIPPETS[label]
    ours = outcome(lambda: chatfmt.Template.from_jinja(source).render(messages))
    theirs = hf_render(source, messages)
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"transformers raised {theirs!r}; chatfmt returned {ours!r}"
        assert (type(ours), str(ours)) == (type(theirs), str(theirs))
    else:
        assert not isinstance(ours, Exception), f"chatfmt raised {ours!r}; transformers returned {theirs!r}"
        assert ours == theirs


def test_a_variable_named_messages_fails_as_in_transformers() -> None:
    from transformers.utils.chat_template_utils import render_jinja_template

    chat = [{"role": "user", "content": "x"}]
    template = chatfmt.Template.from_jinja("{{ messages }}", special_tokens={"bos_token": "<s>", "messages": "X"})
    theirs = outcome(
        lambda: render_jinja_template([chat], chat_template="{{ messages }}", bos_token="<s>", messages="X")
    )
    ours = outcome(lambda: template.render(chat))
    assert isinstance(theirs, TypeError)
    assert (type(ours), str(ours)) == (type(theirs), str(theirs))


@pytest.mark.parametrize("name", ["tools", "documents", "add_generation_prompt"])
def test_a_variable_named_like_a_call_option_is_refused(name: str) -> None:
    template = chatfmt.Template.from_jinja("{{ messages }}", special_tokens={name: "X"})
    with pytest.raises(TypeError, match=f"multiple values for keyword argument '{name}'"):
        template.render([{"role": "user", "content": "x"}])
