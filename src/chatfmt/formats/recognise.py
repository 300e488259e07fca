"""Which Jinja templates are a known format, so that they get the compiled path.

A template is recognised by a fingerprint of its source, normalised only in ways Jinja itself ignores
(newline style, and the one trailing newline Jinja drops), so two sources with the same fingerprint
render identically by construction; failing that, by its canonical form (`chatfmt.routing.canonical`),
the same for every source that is the same Jinja program. A recognised format is then confirmed by
probe renders against the Jinja engine, chosen where near-miss templates differ (empty and whitespace content, system first,
absent or late, assistant first, repeated roles, unknown roles, generation prompt on and off,
non-ASCII and special-token-looking text). Any difference, in text or in what raises, and the
template stays on the Jinja path. A template with `{% generation %}` markers must also put them on
exactly the format's generated spans (`chatfmt.routing.generation`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from .builtin import BUILTINS
from .spec import Format

_NEWLINES = re.compile(r"\r\n|\r|\n")


def normalise(source: str) -> str:
    """The source as Jinja's lexer reads it: every newline as "\\n", without the final one."""
    lines = _NEWLINES.split(source)
    if lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines)


def fingerprint(source: str) -> str:
    return hashlib.sha256(normalise(source).encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=1)
def _known() -> dict[str, Format]:
    """Fingerprint → format for every built-in, read from the shipped sources on first use."""
    from .definitions import FORMATS

    return {fingerprint(b.read_source()): FORMATS[b.name] for b in BUILTINS if b.name in FORMATS}


def recognise(source: str) -> Format | None:
    """The known format whose reference source this is: the same bytes up to Jinja-invisible differences,
    or else the same program (the same canonical form, `chatfmt.routing.canonical`)."""
    from ..routing.by_meaning import recognise_by_meaning

    return _known().get(fingerprint(source)) or recognise_by_meaning(source)


_PROBE_TEXTS = ("Hi", "", "  padded \n", "héllo 👋🏽 e\u0301 日本語", "<|im_end|> [INST] </s> {{ x }}", "\ttab\n\nline")


def _probe_conversations() -> list[list[dict[str, str]]]:
    u, a, s = "user", "assistant", "system"
    t = _PROBE_TEXTS

    def chat(*pairs: tuple[str, str]) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in pairs]

    return [
        chat((u, t[0])),
        chat((s, t[3]), (u, t[0]), (a, t[2]), (u, t[4])),
        chat((u, t[1]), (a, t[1])),
        chat((u, t[2]), (a, t[5]), (u, t[3]), (a, t[4])),
        chat((a, t[0]), (u, t[0])),
        chat((u, t[0]), (u, t[3])),
        chat((u, t[0]), (s, t[2]), (a, t[0])),
        chat((s, t[0])),
        chat((s, t[1]), (u, t[5])),
        chat((u, t[0]), ("tool", t[4]), (a, t[3])),
        chat((s, t[0]), ("developer", t[0]), (u, t[2])),
        chat((u, t[0]), (a, t[0]), (a, t[3])),
    ]


def _outcome(render: Callable[[], Any]) -> Any:
    try:
        return render()
    except Exception as exc:  # an exception is an outcome to compare
        return (type(exc), str(exc))


def confirmed_by_probes(renderer: Any, jinja_render: Callable[[list[dict[str, str]], bool], str]) -> bool:
    """True when the renderer agrees with Jinja exactly (text or error) on every probe it does not decline,
    and declines at most half of them (a renderer that declines everything proves nothing)."""
    compared = declined = 0
    for conversation in _probe_conversations():
        for add_generation_prompt in (False, True):
            fast = _outcome(lambda: renderer.render(conversation, add_generation_prompt))
            if fast is None:
                declined += 1
                continue
            if fast != _outcome(lambda: jinja_render(conversation, add_generation_prompt)):
                return False
            compared += 1
    return compared >= declined


@lru_cache(maxsize=256)
def _confirmed_renderer(source: str, tokens: tuple[tuple[str, str], ...], fmt: Format) -> Any | None:
    from .._fast import compile_format
    from ..routing.canonical import has_generation_markers
    from ..routing.generation import spans_agree
    from ..template import Template

    reference = Template(source, special_tokens=dict(tokens), compiled=False)
    renderer = compile_format(fmt, dict(tokens))
    agrees = confirmed_by_probes(
        renderer, lambda conversation, agp: reference.render(conversation, add_generation_prompt=agp)
    )
    if agrees and has_generation_markers(source):  # the markers must stand where the format's spans do
        agrees = spans_agree(source, renderer, dict(tokens))
    return renderer if agrees else None


def compiled_renderer(source: str, special_tokens: Mapping[str, str], fmt: Format | None = None) -> Any | None:
    """A compiled renderer for `source` when it is a known format (or `fmt` is given) and the probes agree.

    Renderers hold no mutable state, so one serves every Template and thread with the same source and tokens.
    """
    fmt = fmt or recognise(source)
    if fmt is None:
        return None
    return _confirmed_renderer(source, tuple(sorted(special_tokens.items())), fmt)
