"""The conversations every chatfmt benchmark renders, and tests/test_perf_guard.py too: deterministic.

Two data sets, each a few hundred distinct conversations built from a fixed seed:

* "2KB mixed-Unicode": a system prompt then alternating user/assistant turns (4 to 8 messages), about
  2,000 characters (2.7 KB of UTF-8) of content per conversation mixing ASCII, Latin-1, CJK, astral
  emoji, combining marks and whitespace (contents may start or end with spaces or newlines, so
  trimming formats trim);
* "short ASCII": 1 to 4 short plain-English messages, about 80 characters of content, the shape of a
  typical chat request.

Every string is a plain `str` (no lone surrogates), every message a plain `{"role", "content"}` dict:
what all the engines benchmarked accept and what chatfmt's compiled path covers.
"""

from __future__ import annotations

import random

__all__ = ["DATASETS", "MIXED", "SHORT", "datasets", "mixed_text", "mixed_unicode", "short_ascii"]

Conversation = list[dict[str, str]]

SEED = 1234
MIXED = "2KB mixed-Unicode"
SHORT = "short ASCII"

_ALPHABETS = ("abcdefghij klmnop", "éàüß ñøå", "你好世界 日本語", "👋🏽🎉🚀 ", "e\u0301a\u0308 ", "\n\t.,;!?")


def mixed_text(rng: random.Random, size: int) -> str:
    """`size` characters mixing ASCII (mostly), Latin-1, CJK, astral emoji, combining marks and whitespace."""
    out: list[str] = []
    length = 0
    while length < size:
        alphabet = _ALPHABETS[0] if rng.random() < 0.6 else rng.choice(_ALPHABETS)
        run = "".join(rng.choices(alphabet, k=rng.randint(4, 24)))
        out.append(run)
        length += len(run)
    return "".join(out)[:size]


def mixed_unicode(n: int = 300, seed: int = SEED) -> list[Conversation]:
    """`n` conversations of about 2,000 characters of mixed-Unicode content each."""
    rng = random.Random(seed)
    conversations = []
    for _ in range(n):
        count = rng.randint(4, 8)
        roles = ["system"] + ["user" if i % 2 == 0 else "assistant" for i in range(count - 1)]
        total = rng.randint(1800, 2200)
        # Split `total` characters between the messages, each getting at least a few.
        cuts = sorted(rng.sample(range(1, total), count - 1))
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
        conversations.append([{"role": r, "content": mixed_text(rng, s)} for r, s in zip(roles, sizes)])
    return conversations


_SYSTEM = (
    "You are a helpful assistant.",
    "You are a concise assistant. Answer in one sentence.",
    "You are a friendly tutor who explains things simply.",
)
_QUESTIONS = (
    "What is the capital of France?",
    "How many legs does a spider have?",
    "Give me a synonym for happy.",
    "What is 12 times 7?",
    "Translate 'good morning' into Spanish.",
    "Who wrote Pride and Prejudice?",
    "What colour is the sky on a clear day?",
    "Name a prime number greater than 50.",
)
_ANSWERS = (
    "Paris.",
    "Eight.",
    "Joyful.",
    "84.",
    "Buenos dias.",
    "Jane Austen wrote it in 1813.",
    "Blue, because of Rayleigh scattering.",
    "53 is one.",
)


def short_ascii(n: int = 300, seed: int = SEED) -> list[Conversation]:
    """`n` short plain-ASCII conversations: an optional system prompt, then user/assistant turns ending on user."""
    rng = random.Random(seed + 1)
    conversations = []
    for _ in range(n):
        messages = [{"role": "system", "content": rng.choice(_SYSTEM)}] if rng.random() < 0.6 else []
        if rng.random() < 0.5:
            messages += [
                {"role": "user", "content": rng.choice(_QUESTIONS)},
                {"role": "assistant", "content": rng.choice(_ANSWERS)},
            ]
        messages.append({"role": "user", "content": rng.choice(_QUESTIONS)})
        conversations.append(messages)
    return conversations


DATASETS = {MIXED: mixed_unicode, SHORT: short_ascii}


def datasets(n: int = 300) -> dict[str, list[Conversation]]:
    """Both data sets, `n` conversations each; a smaller `n` gives a prefix of a larger one."""
    return {label: make(n) for label, make in DATASETS.items()}
