"""`render_batch(on_error=...)`: a bad row is named, kept track of, never dropped silently."""

from __future__ import annotations

import sys

import jinja2
import pytest

import chatfmt
from chatfmt.batch_errors import RenderedBatch

GOOD = [{"role": "user", "content": "Hi"}]
NOT_ALTERNATING = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
NO_ROLE = [{"content": "x"}]


def test_raise_keeps_transformers_exception_and_names_the_row() -> None:
    template = chatfmt.get_template("gemma")
    with pytest.raises(jinja2.TemplateError) as raised:
        template.render_batch([GOOD, GOOD, NOT_ALTERNATING, GOOD])
    assert raised.value.row_index == 2
    assert str(raised.value) == "Conversation roles must alternate user/assistant/user/assistant/..."
    if sys.version_info >= (3, 11):
        assert "row 2" in "".join(raised.value.__notes__)


def test_raise_on_the_jinja_path_names_the_row() -> None:
    template = chatfmt.Template("{% for m in messages %}{{ m.role.upper() }}{% endfor %}")
    with pytest.raises(Exception) as raised:
        template.render_batch([GOOD, NO_ROLE])
    assert raised.value.row_index == 1


def test_skip_and_null_return_every_failure() -> None:
    template = chatfmt.get_template("gemma")
    batch = [GOOD, NOT_ALTERNATING, GOOD, "not a conversation"]
    skipped = template.render_batch(batch, on_error="skip")
    assert isinstance(skipped, RenderedBatch)
    assert list(skipped) == [template.render(GOOD)] * 2 and skipped.rows == (0, 2)
    assert [(f.row, f.error) for f in skipped.failures] == [(1, "TemplateError"), (3, "InvalidConversation")]
    nulled = template.render_batch(batch, on_error="null")
    assert list(nulled) == [template.render(GOOD), None, template.render(GOOD), None]
    assert str(nulled.failures[0]).startswith("row 1: TemplateError: Conversation roles must alternate")


def test_a_good_batch_is_unchanged_and_empty_conversations_follow_batch_rules() -> None:
    template = chatfmt.get_template("chatml")
    batch = [GOOD, [], GOOD]  # transformers renders an empty conversation inside a batch
    assert template.render_batch(batch) == template.render_batch(batch, on_error="null")
    assert template.render_batch(batch, on_error="skip").failures == ()


def test_unknown_on_error_is_refused() -> None:
    with pytest.raises(ValueError, match="on_error"):
        chatfmt.get_template("chatml").render_batch([GOOD], on_error="ignore")
