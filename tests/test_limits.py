"""Untrusted templates cannot run forever or build unbounded text; limits never change a normal render."""

from __future__ import annotations

import time

import pytest

import chatfmt
from chatfmt.jinja.limits import Limits, TemplateLimitExceeded

CHAT = [{"role": "user", "content": "hi"}]
SMALL = Limits(max_seconds=0.5, max_output_chars=100_000)


@pytest.mark.parametrize(
    "source",
    [
        # Nested range loops: 10^15 iterations, each inner range() call checks the clock.
        "{% for i in range(100000) %}{% for j in range(100000) %}{% for k in range(100000) %}{% endfor %}{% endfor %}{% endfor %}",
        # Loops over literal lists call nothing: the loop guard checks the clock on every iteration.
        "{% for a in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 1000 %}{% for b in [0] * 10000 %}{% for c in [0] * 10000 %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        # Unbounded recursion through a macro is stopped by the clock or by Python's recursion limit.
        "{% macro f(n) %}{% for i in range(100000) %}{{ f(n) if false }}{% endfor %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    ],
)
def test_runaway_loops_are_stopped_in_time(source):
    template = chatfmt.Template.from_jinja(source, limits=SMALL)
    started = time.monotonic()
    with pytest.raises((TemplateLimitExceeded, RecursionError)):
        template.render(CHAT)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}{% endfor %}",
        "{{ 'x' * 10 ** 9 }}",
        "{{ [0] * 10 ** 9 }}",
        "{{ 7 ** 1000000000 }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
    ],
)
def test_oversized_output_is_refused_before_it_is_built(source):
    template = chatfmt.Template.from_jinja(source, limits=SMALL)
    started = time.monotonic()
    with pytest.raises(TemplateLimitExceeded):
        template.render(CHAT)
    assert time.monotonic() - started < 5


def test_loop_iterations_are_counted_across_nested_loops():
    source = (
        "{% for a in messages %}{% for b in [0] * 600 %}{% for c in [0] * 600 %}{% endfor %}{% endfor %}{% endfor %}"
    )
    generous = chatfmt.Template.from_jinja(source, limits=Limits(max_loop_iterations=400_000))
    assert generous.render(CHAT) == ""  # 1 + 600 + 360 000 iterations
    tight = chatfmt.Template.from_jinja(source, limits=Limits(max_loop_iterations=300_000))
    with pytest.raises(TemplateLimitExceeded, match="300000 iterations"):
        tight.render(CHAT)


def test_limits_are_per_template_and_can_be_lifted():
    source = "{{ 'x' * 200000 }}"
    assert len(chatfmt.Template.from_jinja(source).render(CHAT)) == 200000
    with pytest.raises(TemplateLimitExceeded, match="100000 characters"):
        chatfmt.Template.from_jinja(source, limits=SMALL).render(CHAT)


def test_hub_and_builtin_templates_get_the_default_limits():
    assert chatfmt.get_template("chatml").limits == Limits()
