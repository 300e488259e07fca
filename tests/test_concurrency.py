"""Servers call chatfmt from many threads: lookups, compiled and Jinja renders, spans and clocks stay exact."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

import chatfmt

pytestmark = pytest.mark.usefixtures("builder")  # every test here runs on both builders

NAMES = ["chatml", "llama-3", "gemma", "qwen2.5", "mistral-v3", "llama-2"]
DATED = chatfmt.Template.from_jinja("{{ strftime_now('%Y-%m-%d') }}|{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}")


def chat_for(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"question {i} é👋"}, {"role": "assistant", "content": f"answer {i}"},
            {"role": "user", "content": "more" * (i % 7)}]


def work(i: int) -> tuple:
    name = NAMES[i % len(NAMES)]
    template = chatfmt.get_template(name)
    chat = chat_for(i)
    jinja = template.jinja_only()
    with chatfmt.fixed_clock(datetime(2000 + i % 30, 1, 1)):
        dated = DATED.render_spans(chat)
    return (name, i, template.render(chat, add_generation_prompt=True), jinja.render(chat, add_generation_prompt=True),
            template.render_spans(chat).messages, dated.text, dated.generation)


def test_many_threads_get_the_same_results_as_one():
    expected = [work(i) for i in range(120)]
    barrier = threading.Barrier(8)

    def racing(i: int) -> tuple:
        if i < 8:
            barrier.wait()  # start the first calls together, including the first registry lookups
        return work(i)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(racing, range(120)))
    assert results == expected
    for _name, i, compiled, jinja, _, dated, generation in results:
        assert compiled == jinja
        assert dated.startswith(f"{2000 + i % 30}-01-01|")
        assert [dated[s:e] for s, e in generation][:2] == [f"question {i} é👋", f"answer {i}"]
