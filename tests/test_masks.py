"""Token masks from spans, against transformers' return_assistant_tokens_mask where transformers is right,
and on the cases it gets wrong (#34494 truncation, #47325 span ending on token 0)."""

from __future__ import annotations

import pytest
import tokenizers
import transformers
from oracle import make_tokenizer
from tokenizers import models, pre_tokenizers

import chatfmt
from chatfmt.masks import mask_from_offsets, tokenize_with_mask

GEN_TEMPLATE = (
    "{% for m in messages %}<|{{ m.role }}|>\n{% if m.role == 'assistant' %}{% generation %}{{ m.content }}<|end|>"
    "{% endgeneration %}{% else %}{{ m.content }}<|end|>{% endif %}\n{% endfor %}"
)
CHAT = [
    {"role": "user", "content": "hello there"},
    {"role": "assistant", "content": "hi friend"},
    {"role": "user", "content": "bye"},
    {"role": "assistant", "content": "see you"},
]


def bpe_free_tokenizer() -> tokenizers.Tokenizer:
    words = ["<|user|>", "<|assistant|>", "<|end|>", "hello", "there", "hi", "friend", "bye", "see", "you", "\n"]
    tok = tokenizers.Tokenizer(models.WordLevel({w: i for i, w in enumerate(["[UNK]", *words])}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(["<|user|>", "<|assistant|>", "<|end|>", "<|im_start|>", "<|im_end|>"])
    return tok


def test_mask_matches_transformers_where_transformers_is_right():
    tok = bpe_free_tokenizer()
    hf = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizers.Tokenizer.from_str(tok.to_str()))
    hf.chat_template = GEN_TEMPLATE
    expected = hf.apply_chat_template(CHAT, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ours = tokenize_with_mask(chatfmt.Template.from_jinja(GEN_TEMPLATE).render_spans(CHAT), tok)
    assert ours.input_ids == expected["input_ids"]
    assert ours.assistant_mask == expected["assistant_masks"]
    assert sum(ours.assistant_mask) == 6  # "hi friend<|end|>" and "see you<|end|>"


def test_truncated_span_keeps_its_remaining_tokens():
    tok = bpe_free_tokenizer()
    rendered = chatfmt.Template.from_jinja(GEN_TEMPLATE).render_spans(CHAT)
    full = tokenize_with_mask(rendered, tok)
    cut = tokenize_with_mask(rendered, tok, max_length=len(full.input_ids) - 2)
    assert cut.assistant_mask == full.assistant_mask[:-2]
    assert cut.assistant_mask[-1] == 1  # "see" survives the cut and stays trained on


def test_span_ending_on_the_first_token_marks_only_that_token():
    assert mask_from_offsets([(0, 2), (2, 4), (4, 6)], [(0, 2)]) == [1, 0, 0]
    assert mask_from_offsets([(0, 2), (2, 4), (4, 6)], [(1, 3)]) == [1, 1, 0]
    assert mask_from_offsets([(0, 0), (0, 2), (2, 2)], [(0, 2)]) == [1, 1, 0]
    assert mask_from_offsets([(0, 2)], []) == [0]


def test_assistant_content_spans_and_refusal_when_unknown():
    tok = bpe_free_tokenizer()
    rendered = chatfmt.get_template("chatml").render_spans(
        [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi friend"}]
    )
    out = tokenize_with_mask(rendered, tok, spans="assistant")
    marked = [rendered.text[s:e] for (s, e), m in zip(out.offsets, out.assistant_mask) if m]
    assert marked == ["hi", "friend"]
    twice = chatfmt.Template.from_jinja("{% for m in messages %}{{ m.content }}{{ m.content }}{% endfor %}")
    with pytest.raises(ValueError, match="no known span"):
        tokenize_with_mask(twice.render_spans([{"role": "assistant", "content": "hi"}]), tok, spans="assistant")


def test_transformers_tokenizers_are_accepted():
    hf = make_tokenizer(GEN_TEMPLATE)
    rendered = chatfmt.Template.from_jinja(GEN_TEMPLATE).render_spans(CHAT)
    out = tokenize_with_mask(rendered, hf)
    assert out.input_ids == hf(rendered.text, add_special_tokens=False)["input_ids"]
    with pytest.raises(TypeError):
        tokenize_with_mask(rendered, object())
