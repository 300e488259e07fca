"""Message and generation spans from one extra, instrumented Jinja render (see `markers.py`).

The instrumented render wraps every non-empty string content in markers, first around the whole string,
and, when the template changed the text around them (templates that `trim` do), around the string
without its surrounding whitespace. A render is trusted only when removing its markers gives back the
plain render exactly; a message whose markers are missing, repeated or out of order gets no span.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..spans import MessageSpan, RenderedSpans
from . import markers
from .environment import generation_marking
from .render import RenderCall

_NOT_STRING = "the content is not a string"
_EMPTY = "the content is empty, so it has no position in the text"


def _wrapper(*, stripped: bool):
    def mark(chat: list[dict[str, Any]]) -> None:
        for index, message in enumerate(chat):
            content = message.get("content")
            if not isinstance(content, str) or not (content.strip() if stripped else content):
                continue
            if stripped:
                core = content.strip()
                start = content.index(core)
                lead, trail = content[:start], content[start + len(core) :]
            else:
                core, lead, trail = content, "", ""
            message["content"] = f"{lead}{markers.open_content(index)}{core}{markers.close_content(index)}{trail}"

    return mark


def _message_spans(chat: Sequence[Mapping[str, Any]], found: markers.Located | None, why: str) -> list[MessageSpan]:
    spans = []
    for index, message in enumerate(chat):
        role = message.get("role")
        role = role if isinstance(role, str) else None
        content = message.get("content")
        if found is None:
            spans.append(MessageSpan(index, role, None, None, why))
        elif not isinstance(content, str):
            spans.append(MessageSpan(index, role, None, None, _NOT_STRING))
        else:
            opens, closes = found.opens.get(index, []), found.closes.get(index, [])
            if len(opens) == 1 and len(closes) == 1 and opens[0] <= closes[0]:
                spans.append(MessageSpan(index, role, opens[0], closes[0]))
            elif not opens and not closes:
                reason = _EMPTY if not content.strip() else "the template does not print this content"
                spans.append(MessageSpan(index, role, None, None, reason))
            else:
                spans.append(
                    MessageSpan(index, role, None, None, "the template prints this content more than once or in pieces")
                )
    return spans


def render_spans(call: RenderCall, cleaned_chat: Sequence[Mapping[str, Any]]) -> RenderedSpans:
    """Render one conversation and locate its messages and generation blocks exactly, or say why not."""
    plain = call.render(cleaned_chat)
    if markers.ANY_MARKER.search(plain):
        why = "the input contains Unicode noncharacters U+FDD0-U+FDEF, which chatfmt reserves for locating spans"
        return RenderedSpans(plain, tuple(_message_spans(cleaned_chat, None, why)), ())
    why = "the template transforms message contents in a way that hides their position"
    # Contents marked whole, then marked inside their surrounding whitespace, then not at all (which can
    # still locate the generation blocks).
    for mark_contents in (_wrapper(stripped=False), _wrapper(stripped=True), None):
        with generation_marking():
            try:
                marked = call.render(cleaned_chat, mark_contents)
            except Exception:  # the markers changed what the template does; try the next placement
                continue
        if markers.strip_markers(marked) != plain:
            continue
        found = markers.locate(marked)
        if found.malformed:
            break
        generation = tuple(found.generation)
        if mark_contents is None:
            return RenderedSpans(plain, tuple(_message_spans(cleaned_chat, None, why)), generation)
        return RenderedSpans(plain, tuple(_message_spans(cleaned_chat, found, why)), generation)
    why = "the template transforms message contents or generation blocks in a way that hides their position"
    return RenderedSpans(plain, tuple(_message_spans(cleaned_chat, None, why)), ())
