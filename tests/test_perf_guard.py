"""A CI guard on the hot paths: built-in ChatML's compiled route far faster than the Jinja path, and
chatfmt faster than transformers on modern corpus templates (`VS_TRANSFORMERS`).

Relative timing only, never an absolute time: in this process, on the benchmark suite's conversations
(benchmarks/data.py), the candidates run interleaved round by round and each keeps its best round of
thread CPU time (benchmarks/timing.py, as benchmarks/run.py times them), so a slow or loaded machine
slows both sides alike. The measured ratio is 25-40x with the C builder and 3-7x with the
pure-Python twin (the range spans the Jinja path's own speed-ups); the thresholds (4x and 1.5x) leave a
wide margin, so the guard trips on a real regression (the compiled route silently lost, a per-call
cost added to it) and not on noise.

Without the extension (and without CHATFMT_REQUIRE_EXTENSIONS) Template uses the pure-Python twin, which
must still beat the Jinja path by 1.5x; with CHATFMT_REQUIRE_EXTENSIONS set, a missing extension fails.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import extensions_required

import chatfmt
from chatfmt import _fast
from chatfmt.formats.builtin import FORMATS

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

CONVERSATIONS = 40  # per data set: the first 40 of benchmarks/run.py's
ROUNDS = 15
BUDGET = 0.01  # CPU seconds per candidate per round: about 0.4 s per test in all
COMPILED_VS_JINJA = 4.0  # measured 25-40x with the C builder
PURE_VS_JINJA = 1.5  # measured 3-7x (pure-Python twin, through Template.render or called directly)


def _bench_module(name: str) -> ModuleType:
    """benchmarks/<name>.py, imported from its file (benchmarks/ is not a package)."""
    qualified = f"chatfmt_benchmarks_{name}"
    if qualified not in sys.modules:
        spec = importlib.util.spec_from_file_location(qualified, BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module
        spec.loader.exec_module(module)
    return sys.modules[qualified]


data = _bench_module("data")
timing = _bench_module("timing")
corpus = _bench_module("corpus")

DATASETS = data.datasets(CONVERSATIONS)


@pytest.fixture(scope="module")
def chatml() -> chatfmt.Template:
    return chatfmt.get_template("chatml")


@pytest.fixture(scope="module")
def chatml_jinja(chatml: chatfmt.Template) -> chatfmt.Template:
    return chatml.jinja_only()


def _speedup(fast, slow, conversations) -> tuple[float, float, float]:  # noqa: ANN001 - render callables
    """(slow / fast, fast µs, slow µs) per conversation, from interleaved best-of-N rounds."""

    def run_fast() -> None:
        for messages in conversations:
            fast(messages)

    def run_slow() -> None:
        for messages in conversations:
            slow(messages)

    best = timing.best_seconds({"fast": run_fast, "slow": run_slow}, ROUNDS, BUDGET)
    fast_us, slow_us = (best[key] / len(conversations) * 1e6 for key in ("fast", "slow"))
    return slow_us / fast_us, fast_us, slow_us


@pytest.mark.parametrize("label", list(DATASETS))
def test_compiled_chatml_beats_jinja_path(label: str, chatml: chatfmt.Template, chatml_jinja: chatfmt.Template) -> None:
    if not _fast.USING_C and extensions_required():
        pytest.fail("CHATFMT_REQUIRE_EXTENSIONS is set but the compiled builder is not in use")
    conversations = DATASETS[label]
    assert chatml.is_compiled
    assert all(chatml.path_for(m, add_generation_prompt=True) == "compiled" for m in conversations)
    assert all(chatml_jinja.path_for(m, add_generation_prompt=True) == "jinja" for m in conversations)

    def compiled(messages):  # noqa: ANN001, ANN202
        return chatml.render(messages, add_generation_prompt=True)

    def jinja(messages):  # noqa: ANN001, ANN202
        return chatml_jinja.render(messages, add_generation_prompt=True)

    for index, messages in enumerate(conversations):
        assert compiled(messages) == jinja(messages), f"{label}: conversation {index} renders differently"

    required = COMPILED_VS_JINJA if _fast.USING_C else PURE_VS_JINJA
    ratio, fast_us, slow_us = _speedup(compiled, jinja, conversations)
    assert ratio >= required, (
        f"{label}: Template.render on the compiled route ({_fast.IMPLEMENTATION}) is only {ratio:.1f}x the "
        f"Jinja path ({fast_us:.2f} vs {slow_us:.2f} µs per conversation); required {required:g}x"
    )


@pytest.mark.parametrize("label", list(DATASETS))
def test_pure_python_twin_beats_jinja_path(
    label: str, chatml: chatfmt.Template, chatml_jinja: chatfmt.Template
) -> None:
    """The fallback stays worth having even where the extension is built (where Template does not use it)."""
    conversations = DATASETS[label]
    twin = _fast.PyRenderer(FORMATS["chatml"], chatml.special_tokens)

    def pure(messages):  # noqa: ANN001, ANN202
        return twin.render(messages, True)

    def jinja(messages):  # noqa: ANN001, ANN202
        return chatml_jinja.render(messages, add_generation_prompt=True)

    for index, messages in enumerate(conversations):
        assert pure(messages) == jinja(messages), f"{label}: conversation {index} renders differently"

    ratio, fast_us, slow_us = _speedup(pure, jinja, conversations)
    assert ratio >= PURE_VS_JINJA, (
        f"{label}: the pure-Python twin is only {ratio:.1f}x the Jinja path "
        f"({fast_us:.2f} vs {slow_us:.2f} µs per conversation); required {PURE_VS_JINJA:g}x"
    )


# chatfmt against transformers' `render_jinja_template` on a corpus template, as benchmarks/corpus.py
# measures it (same input, same output, interleaved best rounds): (template, path, required ratio).
# "jinja" rows force the Jinja path (`Template.jinja_only`), so they keep guarding it when the template
# gains a compiled format; a "compiled" row asserts the default route is compiled. Add a row per format.
VS_TRANSFORMERS = [
    ("Qwen--Qwen3-0.6B", "jinja", 1.5),  # measured 2.4-3.0x
    ("openai--gpt-oss-120b", "jinja", 1.15),  # measured 1.5-1.7x
    ("meta-llama--Llama-3.2-3B-Instruct", "compiled", 4.0),  # measured 14-15x with the C builder
]


@pytest.mark.parametrize(("name", "path", "required"), VS_TRANSFORMERS, ids=[f"{n}-{p}" for n, p, _ in VS_TRANSFORMERS])
def test_chatfmt_beats_transformers(name: str, path: str, required: float, fixed_clocks) -> None:  # noqa: ANN001
    source = (corpus.CORPUS / "templates" / f"{name}.jinja").read_text(encoding="utf-8")
    case = corpus.prepare(name, source, corpus.special_tokens()[name], compiled=path == "compiled")
    assert not isinstance(case, str), f"{name}: transformers refuses every benchmark input: {case}"
    assert case.path == path, f"{name}: chatfmt takes the {case.path} path, not {path}"
    best = timing.best_seconds({"chatfmt": case.chatfmt, "transformers": case.transformers}, ROUNDS, BUDGET)
    ratio = best["transformers"] / best["chatfmt"]
    if path == "compiled" and not _fast.USING_C:
        required = PURE_VS_JINJA  # the pure-Python twin: measured 4x transformers on Llama-3.2
    assert ratio >= required, (
        f"{name} ({path} path): chatfmt is only {ratio:.2f}x transformers "
        f"({best['chatfmt'] * 1e6:.1f} vs {best['transformers'] * 1e6:.1f} µs per render); required {required:g}x"
    )
