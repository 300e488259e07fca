"""The reference: the real transformers `apply_chat_template(tokenize=False)` on a real tokenizer object.

The tokenizer is built locally with the `tokenizers` library (no Hub, no network); only its chat
template and special tokens matter for `tokenize=False`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import tokenizers
import transformers
from tokenizers import models, pre_tokenizers
from transformers.utils import chat_template_utils

FIXED_NOW = _dt.datetime(2024, 9, 3, 12, 0, 0)  # the clock the corpus goldens were rendered with


@functools.lru_cache(maxsize=1)
def _backend() -> tokenizers.Tokenizer:
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "hello": 3}
    tok = tokenizers.Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return tok


def make_tokenizer(chat_template: str | Mapping[str, str] | None, special_tokens: Mapping[str, str] | None = None):
    """A PreTrainedTokenizerFast holding `chat_template` and `special_tokens` (cached: rendering never mutates it)."""
    named = tuple(chat_template.items()) if isinstance(chat_template, Mapping) else chat_template
    return _tokenizer(named, tuple((special_tokens or {}).items()))


@functools.lru_cache(maxsize=64)
def _tokenizer(chat_template, special_tokens):
    backend = tokenizers.Tokenizer.from_str(_backend().to_str())
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, **dict(special_tokens))
    tok.chat_template = dict(chat_template) if isinstance(chat_template, tuple) else chat_template
    return tok


def hf_render(tokenizer_template, conversation, special_tokens=None, **kwargs: Any):
    """transformers' result for this input: the string(s), or the exception it raised (returned, not raised).

    `tokenizer_template` is what the tokenizer holds; a `chat_template` kwarg is the call's own argument.
    """
    tok = make_tokenizer(tokenizer_template, special_tokens)
    try:
        return tok.apply_chat_template(conversation, tokenize=False, **kwargs)
    except Exception as exc:  # the oracle's exception is the expected outcome
        return exc


@contextlib.contextmanager
def hf_fixed_clock(moment: _dt.datetime = FIXED_NOW) -> Iterator[None]:
    """Fix the clock transformers' `strftime_now` reads (it calls `datetime.now()` of its module)."""

    class _FixedDatetime(_dt.datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ARG003 - the templates read naive local time
            return moment

    original = chat_template_utils.datetime
    chat_template_utils.datetime = _FixedDatetime
    try:
        yield
    finally:
        chat_template_utils.datetime = original
