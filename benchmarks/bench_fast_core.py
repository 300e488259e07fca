"""Micro-benchmark of the compiled ChatML builder: µs per conversation, one process, same data.

    python benchmarks/bench_fast_core.py [--rounds N]

Rows: the C builder, its pure-Python twin, the `"".join` floor (the same pieces, precomputed, joined:
what any builder must at least do) and transformers' `apply_chat_template(tokenize=False)` on a
locally built tokenizer. Timings interleave the candidates round by round, count thread CPU time
and keep each one's best round: on a shared machine that resists noise from other processes far
better than one long wall-clock run each.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path

from chatfmt._fast import _render_py
from chatfmt.formats.definitions import FORMATS

CHATML_SOURCE = (Path(__file__).parents[1] / "src/chatfmt/formats/templates/chatml.jinja").read_text(encoding="utf-8")
TOKENS = {"bos_token": "<s>", "eos_token": "<|im_end|>"}

_ALPHABETS = ("abcdefghij klmnop", "éàüß ñøå", "你好世界 日本語", "👋🏽🎉🚀 ", "e\u0301a\u0308 ", "\n\t.,;!?")


def mixed_text(rng: random.Random, size: int) -> str:
    """Deterministic text mixing ASCII, Latin-1, CJK, astral emoji and combining marks."""
    out: list[str] = []
    while sum(map(len, out)) < size:
        alphabet = _ALPHABETS[0] if rng.random() < 0.6 else rng.choice(_ALPHABETS)
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(4, 24))))
    return "".join(out)[:size]


def conversations() -> dict[str, list[dict[str, str]]]:
    rng = random.Random(1234)
    roles = ["system", "user", "assistant", "user", "assistant", "user"]
    return {
        "2KB mixed-Unicode": [{"role": r, "content": mixed_text(rng, 340)} for r in roles],
        "short ASCII": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
        ],
    }


def chatml_pieces(messages: list[dict[str, str]]) -> list[str]:
    pieces = []
    for m in messages:
        pieces += [f"<|im_start|>{m['role']}\n", m["content"], "<|im_end|>\n"]
    return pieces + ["<|im_start|>assistant\n"]


def hf_renderer() -> Callable[[list[dict[str, str]]], str] | None:
    try:
        import tokenizers
        from transformers import PreTrainedTokenizerFast
    except ImportError:
        return None
    backend = tokenizers.Tokenizer(tokenizers.models.WordLevel({"<unk>": 0}, unk_token="<unk>"))
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, **TOKENS)
    tok.chat_template = CHATML_SOURCE
    return lambda msgs: tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)


def best_us(candidates: dict[str, Callable[[], object]], rounds: int, budget: float = 0.02) -> dict[str, float]:
    """Best µs per call of each candidate over `rounds` interleaved rounds of about `budget` seconds."""
    loops = {}
    for name, fn in candidates.items():
        n, t0 = 0, time.thread_time()
        while time.thread_time() - t0 < budget:
            fn()
            n += 1
        loops[name] = max(n, 1)
    best = {name: float("inf") for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            n = loops[name]
            t0 = time.thread_time()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.thread_time() - t0) / n * 1e6)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)

    fmt = FORMATS["chatml"]
    try:
        from chatfmt._fast import _render_c

        c_renderer = _render_c.Renderer(fmt, TOKENS)
    except ImportError:
        c_renderer = None
        print("C extension not built: run `python setup.py build_ext --inplace`")
    py_renderer = _render_py.Renderer(fmt, TOKENS)
    hf = hf_renderer()

    for label, msgs in conversations().items():
        pieces = chatml_pieces(msgs)
        expected = "".join(pieces)
        candidates: dict[str, Callable[[], object]] = {"join floor": lambda: "".join(pieces)}
        if c_renderer is not None:
            assert c_renderer.render(msgs, True) == expected
            candidates["c"] = lambda: c_renderer.render(msgs, True)
        assert py_renderer.render(msgs, True) == expected
        candidates["py"] = lambda: py_renderer.render(msgs, True)
        if hf is not None:
            assert hf(msgs) == expected
            candidates["transformers"] = lambda: hf(msgs)
        best = best_us(candidates, args.rounds)
        print(f"\nChatML, {label}: {len(msgs)} messages, {len(expected)} chars")
        floor = best["join floor"]
        c_us = best.get("c")
        for name, us in best.items():
            ratios = f"{us / floor:7.2f}x the floor"
            if c_us is not None and name not in ("c", "join floor"):
                ratios += f"   (c is {us / c_us:.1f}x faster)"
            print(f"  {name:13s} {us:9.3f} µs/conv {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
