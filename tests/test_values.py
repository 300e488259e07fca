"""chatfmt's value classes (`chatfmt._values`) behave as the frozen dataclasses they replace."""

from __future__ import annotations

import pickle

import pytest

from chatfmt import MessageSpan, Origin, RenderedSpans
from chatfmt._values import FrozenInstanceError
from chatfmt.formats.builtin import BUILTINS
from chatfmt.pipeline import RenderOptions


def test_fields_defaults_equality_hash_and_repr():
    span = MessageSpan(1, "user", 3, end=7)
    assert (span.index, span.role, span.start, span.end, span.reason) == (1, "user", 3, 7, None)
    assert span == MessageSpan(1, "user", 3, 7, None) and span != MessageSpan(1, "user", 3, 8)
    assert hash(span) == hash(MessageSpan(1, "user", 3, 7))
    assert repr(span) == "MessageSpan(index=1, role='user', start=3, end=7, reason=None)"
    assert span != (1, "user", 3, 7, None)


def test_instances_are_frozen_and_slotted_where_asked():
    span = MessageSpan(0, None, None, None, "why")
    with pytest.raises(FrozenInstanceError):
        span.start = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del span.reason  # type: ignore[misc]
    assert not hasattr(span, "__dict__")
    assert RenderOptions.of_call(True).add_generation_prompt is True


def test_post_init_runs_and_arguments_are_checked():
    origin = Origin("file", {"path": "/x"})
    assert dict(origin.details) == {"path": "/x"}
    with pytest.raises(TypeError):
        origin.details["path"] = "/y"  # type: ignore[index]
    with pytest.raises(TypeError):
        MessageSpan(0)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        MessageSpan(0, None, None, None, None, "extra")  # type: ignore[call-arg]


def test_values_pickle_and_formats_hash_by_content():
    spans = RenderedSpans("ab", (MessageSpan(0, "user", 0, 2),), ((0, 2),))
    assert pickle.loads(pickle.dumps(spans)) == spans
    fmt = BUILTINS[0].format
    assert pickle.loads(pickle.dumps(fmt)) == fmt
    assert len({builtin.format for builtin in BUILTINS}) == len(BUILTINS)
