"""Whether a template's `{% generation %}` markers cover exactly what its compiled format calls generated.

The canonical form proves the marked template renders the same text as the format's reference; this
module checks the other half, where the markers stand, by comparing the generation spans of the Jinja
render (from the markers) with the compiled renderer's (each generated turn's content and end marker)
on conversations chosen to put assistant turns everywhere a format treats them differently: first, last
(with and without the generation prompt), repeated, empty, padded, with reasoning, after a system
message, a tool result or a role the format only knows generically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..jinja.limits import DEFAULT_LIMITS
from ..jinja.spans import render_spans
from ..pipeline import RenderOptions, jinja_call

_U, _A, _S = "user", "assistant", "system"
_PROBES: tuple[tuple[tuple[str, str], ...], ...] = (
    ((_U, "Hi"), (_A, "Hello there.")),
    ((_S, "Be brief."), (_U, "Hi"), (_A, "Hello."), (_U, "And?"), (_A, " padded \n")),
    ((_U, "Hi"), (_A, "")),
    ((_A, "I start."), (_U, "Hi")),
    ((_U, "Hi"), (_A, "one"), (_A, "two")),
    ((_S, "Be brief."), (_U, "Hi"), (_A, "héllo 日本語"), (_U, "<|im_end|> </s>")),
    ((_U, "Weather?"), ("tool", "22"), (_A, "<think>hm</think>It is 22.")),
    ((_S, "s"), ("developer", "d"), (_U, "Hi"), ("function", "f"), (_A, "\tok\n")),
)


def _generation(render: Any, *args: Any) -> Any:
    """(text, generation spans) of a render, None when the renderer declines, or the error it raised."""
    try:
        result = render(*args)
    except Exception as exc:  # an exception is an outcome to compare
        return (type(exc), str(exc))
    if result is None:
        return None
    if isinstance(result, tuple):  # the compiled renderer's (text, content spans, generation spans)
        return result[0], tuple(result[2])
    return result.text, tuple(result.generation)


def spans_agree(source: str, renderer: Any, special_tokens: Mapping[str, str]) -> bool:
    """True when, on every probe the renderer covers, Jinja's marker spans are the renderer's generation
    spans, and at least one probe has a generated turn (a check that compares nothing proves nothing)."""
    seen_generation = False
    for probe in _PROBES:
        conversation = [{"role": role, "content": content} for role, content in probe]
        for add_generation_prompt in (False, True):
            compiled = _generation(renderer.render_spans, conversation, add_generation_prompt)
            if compiled is None:
                continue
            options = RenderOptions.of_call(add_generation_prompt)
            call, (cleaned,) = jinja_call(source, [conversation], options, special_tokens, DEFAULT_LIMITS, batch=False)
            if compiled != _generation(render_spans, call, cleaned):
                return False
            seen_generation = seen_generation or (isinstance(compiled[1], tuple) and bool(compiled[1]))
    return seen_generation
