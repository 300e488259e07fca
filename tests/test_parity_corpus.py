"""Every corpus template × every corpus context: chatfmt gives transformers' string, or raises where it raises.

The oracle is the installed transformers package, run live; the stored goldens (rendered by the corpus
authors with transformers 5.23.0) are checked too, so a change in the oracle itself would show.
"""

from __future__ import annotations

import json

import pytest
from conftest import CONTEXT_FILES, CORPUS, TEMPLATE_FILES, load_context
from oracle import hf_render

import chatfmt

pytestmark = pytest.mark.usefixtures("builder")  # every test here runs on both builders

CALL_KEYS = ("messages", "tools", "documents", "add_generation_prompt")
CASES = [(t.stem, c.stem) for t in TEMPLATE_FILES for c in CONTEXT_FILES]


def chatfmt_render(source: str, context: dict):
    extras = {key: value for key, value in context.items() if key not in CALL_KEYS}
    try:
        return chatfmt.Template.from_jinja(source).render(
            context["messages"],
            tools=context.get("tools"),
            documents=context.get("documents"),
            add_generation_prompt=context.get("add_generation_prompt", False),
            **extras,
        )
    except Exception as exc:
        return exc


def reference_render(source: str, context: dict):
    extras = {key: value for key, value in context.items() if key not in CALL_KEYS}
    return hf_render(
        source,
        context["messages"],
        tools=context.get("tools"),
        documents=context.get("documents"),
        add_generation_prompt=context.get("add_generation_prompt", False),
        **extras,
    )


def assert_same_outcome(ours, theirs) -> None:
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"transformers raised {theirs!r}, chatfmt returned {ours!r}"
        assert type(ours) is type(theirs), (ours, theirs)
        assert str(ours) == str(theirs)
    else:
        assert not isinstance(ours, Exception), f"chatfmt raised {ours!r}, transformers returned {theirs!r}"
        assert ours == theirs


@pytest.mark.parametrize(("template", "context"), CASES, ids=[f"{t}-{c}" for t, c in CASES])
def test_corpus_parity(template: str, context: str, fixed_clocks) -> None:
    source = (CORPUS / "templates" / f"{template}.jinja").read_text(encoding="utf-8")
    ctx = load_context(context)
    ours = chatfmt_render(source, ctx)
    assert_same_outcome(ours, reference_render(source, ctx))
    golden = json.loads((CORPUS / "goldens" / f"{template}.json").read_text(encoding="utf-8"))[context]
    if golden["status"] == "ok":
        assert ours == golden["output"]
    else:
        assert isinstance(ours, Exception) and type(ours).__name__ == golden["error_type"]


def test_corpus_is_complete() -> None:
    assert len(TEMPLATE_FILES) == 99 and len(CONTEXT_FILES) == 18
