"""The engines the benchmark compares, each prepared once per (format, data set) outside the timing.

An engine's `prepare(case, conversations)` does all the one-off work (build the tokenizer, compile the
template, precompute pieces) and returns a `Prepared`: `outputs()` renders every conversation of the
data set with `add_generation_prompt=True` and returns the strings (run.py checks them against
transformers'); `run()` does the same rendering for the timing. For a per-conversation engine, `run`
renders one conversation at a time and drops each result, as a server does; for a batch engine
(one call for the whole data set) it is the call itself. Both loops call the engine's own entry point
directly, so every engine pays the same tiny per-conversation loop cost and none pays a wrapper.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import chatfmt
from chatfmt import _fast
from chatfmt.formats.builtin import FORMATS

__all__ = ["CASES", "ENGINES", "Engine", "FormatCase", "Prepared", "Unavailable"]

Conversation = list[dict[str, str]]

REPO = Path(__file__).resolve().parents[1]


class Unavailable(Exception):
    """An optional engine cannot run here (not installed, extension not built); the row is skipped."""


# --- formats --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormatCase:
    """A built-in format, with hand-written Python for it: the f-string baseline and the join floor's pieces."""

    name: str  # chatfmt.get_template(name)
    title: str
    fstring: Callable[[Mapping[str, str]], Callable[[Conversation], str]]
    pieces: Callable[[Mapping[str, str], Conversation], list[str]]

    @property
    def template(self) -> chatfmt.Template:
        return chatfmt.get_template(self.name)


def _chatml_fstring(tokens: Mapping[str, str]) -> Callable[[Conversation], str]:
    def render(messages: Conversation) -> str:
        turns = "".join([f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages])
        return turns + "<|im_start|>assistant\n"

    return render


def _chatml_pieces(tokens: Mapping[str, str], messages: Conversation) -> list[str]:
    pieces = []
    for m in messages:
        pieces += [f"<|im_start|>{m['role']}\n", m["content"], "<|im_end|>\n"]
    return [*pieces, "<|im_start|>assistant\n"]


def _llama3_fstring(tokens: Mapping[str, str]) -> Callable[[Conversation], str]:
    bos = tokens["bos_token"]

    def render(messages: Conversation) -> str:
        turns = "".join(
            [f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content'].strip()}<|eot_id|>" for m in messages]
        )
        return bos + turns + "<|start_header_id|>assistant<|end_header_id|>\n\n"

    return render


def _llama3_pieces(tokens: Mapping[str, str], messages: Conversation) -> list[str]:
    pieces = [tokens["bos_token"]]
    for m in messages:
        pieces += [f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n", m["content"].strip(), "<|eot_id|>"]
    return [*pieces, "<|start_header_id|>assistant<|end_header_id|>\n\n"]


CASES: dict[str, FormatCase] = {
    case.name: case
    for case in (
        FormatCase("chatml", "ChatML", _chatml_fstring, _chatml_pieces),
        FormatCase("llama-3", "Llama-3 (trims content)", _llama3_fstring, _llama3_pieces),
    )
}


# --- engines --------------------------------------------------------------------------------------


class Prepared(NamedTuple):
    outputs: Callable[[], list[str]]  # every conversation's prompt, for the byte-equality check
    run: Callable[[], object]  # the same rendering, as timed


def _positional(render: Callable[[Conversation, bool], str | None], conversations: list[Conversation]) -> Prepared:
    """A builder's `render(messages, add_generation_prompt)` over the data set."""

    def run() -> None:
        for messages in conversations:
            render(messages, True)

    return Prepared(lambda: [render(messages, True) for messages in conversations], run)


@dataclass(frozen=True)
class Engine:
    key: str  # stable id, used in the JSON results
    label: str  # what the table and the chart show
    prepare: Callable[[FormatCase, list[Conversation]], Prepared]
    chatfmt: bool = False  # one of chatfmt's own paths (highlighted in the chart)
    batch: bool = False  # one call for the whole data set


def _compiled(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    template = case.template
    render = template.render
    if not template.is_compiled:
        raise RuntimeError(f"{case.name}: the built-in template is not compiled; the benchmark would time Jinja")
    for index, messages in enumerate(conversations):
        if template.path_for(messages, add_generation_prompt=True) != "compiled":
            raise RuntimeError(f"{case.name}: conversation {index} is not served by the compiled path")

    def run() -> None:
        for messages in conversations:
            render(messages, add_generation_prompt=True)

    return Prepared(lambda: [render(messages, add_generation_prompt=True) for messages in conversations], run)


def _render_batch(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    render_batch = case.template.render_batch
    run = lambda: render_batch(conversations, add_generation_prompt=True)  # noqa: E731
    return Prepared(run, run)


def _c_builder(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    try:
        from chatfmt._fast import _render_c
    except ImportError as exc:
        raise Unavailable("the C extension is not built (python setup.py build_ext --inplace)") from exc
    render = _render_c.Renderer(FORMATS[case.name], case.template.special_tokens).render
    return _positional(render, conversations)


def _pure_python(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    render = _fast.PyRenderer(FORMATS[case.name], case.template.special_tokens).render
    return _positional(render, conversations)


def _jinja_path(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    template = case.template
    render = template.jinja_only().render

    def run() -> None:
        for messages in conversations:
            render(messages, add_generation_prompt=True)

    return Prepared(lambda: [render(messages, add_generation_prompt=True) for messages in conversations], run)


def _load_oracle() -> ModuleType:
    """tests/oracle.py, the test suite's transformers reference: a real tokenizer built locally, no Hub."""
    name = "chatfmt_tests_oracle"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "oracle.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _tokenizer(case: FormatCase):  # noqa: ANN202 - a transformers PreTrainedTokenizerFast
    template = case.template
    return _load_oracle().make_tokenizer(template.source, dict(template.special_tokens))


def _transformers(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    apply = _tokenizer(case).apply_chat_template

    def run() -> None:
        for messages in conversations:
            apply(messages, tokenize=False, add_generation_prompt=True)

    return Prepared(
        lambda: [apply(messages, tokenize=False, add_generation_prompt=True) for messages in conversations], run
    )


def _transformers_batched(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    apply = _tokenizer(case).apply_chat_template
    run = lambda: apply(conversations, tokenize=False, add_generation_prompt=True)  # noqa: E731
    return Prepared(run, run)


def _jinja2(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    # What transformers does underneath, without its per-call checks and input copying.
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    template = case.template
    render = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(template.source).render
    tokens = dict(template.special_tokens)

    def run() -> None:
        for messages in conversations:
            render(messages=messages, add_generation_prompt=True, **tokens)

    return Prepared(
        lambda: [render(messages=messages, add_generation_prompt=True, **tokens) for messages in conversations], run
    )


def _minijinja(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    try:
        import minijinja
    except ImportError as exc:
        raise Unavailable("minijinja is not installed (pip install minijinja)") from exc
    template = case.template
    env = minijinja.Environment(trim_blocks=True, lstrip_blocks=True)
    env.add_template(case.name, template.source)
    render, name, tokens = env.render_template, case.name, dict(template.special_tokens)

    def run() -> None:
        for messages in conversations:
            render(name, messages=messages, add_generation_prompt=True, **tokens)

    return Prepared(
        lambda: [render(name, messages=messages, add_generation_prompt=True, **tokens) for messages in conversations],
        run,
    )


def _fstring(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    render = case.fstring(case.template.special_tokens)

    def run() -> None:
        for messages in conversations:
            render(messages)

    return Prepared(lambda: [render(messages) for messages in conversations], run)


def _join_floor(case: FormatCase, conversations: list[Conversation]) -> Prepared:
    # The output's pieces, computed in advance: joining them is what any string builder must at least do.
    pieces = [case.pieces(case.template.special_tokens, messages) for messages in conversations]
    join = "".join

    def run() -> None:
        for p in pieces:
            join(p)

    return Prepared(lambda: [join(p) for p in pieces], run)


ENGINES: tuple[Engine, ...] = (
    Engine("compiled", "chatfmt Template.render (compiled)", _compiled, chatfmt=True),
    Engine("render_batch", "chatfmt Template.render_batch", _render_batch, chatfmt=True, batch=True),
    Engine("c_builder", "chatfmt C builder, called directly", _c_builder, chatfmt=True),
    Engine("pure_python", "chatfmt pure-Python twin", _pure_python, chatfmt=True),
    Engine("jinja_path", "chatfmt Jinja path", _jinja_path, chatfmt=True),
    Engine("transformers", "transformers apply_chat_template", _transformers),
    Engine("transformers_batched", "transformers, batched call", _transformers_batched, batch=True),
    Engine("jinja2", "jinja2 sandbox, compiled once", _jinja2),
    Engine("minijinja", "minijinja", _minijinja),
    Engine("fstring", "Python f-string + join", _fstring),
    Engine("join_floor", '"".join of precomputed pieces', _join_floor),
)
