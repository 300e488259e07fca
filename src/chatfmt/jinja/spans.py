"""Message and generation spans from one extra, instrumented Jinja render (see `markers.py`).

The instrumented render wraps every non-empty string content in markers, first around the whole string.
When the template changes the whitespace around contents (templates that `trim` do), the markers go
around each content without its surrounding whitespace instead, and then back around the whole content
of each message whose whitespace the template keeps. A render is trusted only when removing its markers
gives back the plain render exactly; a message whose markers are missing, repeated or out of order
gets no span.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..spans import MessageSpan, RenderedSpans
from . import markers
from .environment import generation_marking
from .render import RenderCall

_NOT_STRING = "the content is not a string"
_EMPTY = "the content is empty, so it has no position in the text"


# Where the markers go around a content: around all of it, or inside the leading and/or trailing
# whitespace, for templates that strip one side or both.
WHOLE, KEEP_LEAD, KEEP_TRAIL, CORE = (True, True), (True, False), (False, True), (False, False)


def _marker(placement: Callable[[int], tuple[bool, bool]]) -> Callable[[list[dict[str, Any]]], None]:
    """Wrap each string content in markers, placed for each message by `placement(index)`."""

    def mark(chat: list[dict[str, Any]]) -> None:
        for index, message in enumerate(chat):
            content = message.get("content")
            if not isinstance(content, str) or not content:
                continue
            keep_lead, keep_trail = placement(index)
            core = content.strip()
            lead_end = content.index(core) if core else len(content)
            trail_start = lead_end + len(core)
            start = 0 if keep_lead else lead_end
            end = len(content) if keep_trail else trail_start
            if end > start:
                marked = markers.open_content(index) + content[start:end] + markers.close_content(index)
                message["content"] = content[:start] + marked + content[end:]

    return mark


def _placements(chosen: dict[int, tuple[bool, bool]]) -> Callable[[int], tuple[bool, bool]]:
    """The placement of each message's markers: as chosen, else around its core."""
    return lambda index: chosen.get(index, CORE)


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


def _attempt(call: RenderCall, chat: Sequence[Mapping[str, Any]], plain: str, mark: Any) -> markers.Located | None:
    """Locate the markers of one instrumented render, or None when the render is not the plain one."""
    with generation_marking():
        try:
            marked = call.render(chat, mark)
        except Exception:  # the markers changed what the template does
            return None
    if markers.strip_markers(marked) != plain:
        return None
    found = markers.locate(marked)
    return None if found.malformed else found


def render_spans(call: RenderCall, cleaned_chat: Sequence[Mapping[str, Any]]) -> RenderedSpans:
    """Render one conversation and locate its messages and generation blocks exactly, or say why not."""
    plain = call.render(cleaned_chat)
    if markers.ANY_MARKER.search(plain):
        why = "the input contains Unicode noncharacters U+FDD0-U+FDEF, which chatfmt reserves for locating spans"
        return RenderedSpans(plain, tuple(_message_spans(cleaned_chat, None, why)), ())
    found = _attempt(call, cleaned_chat, plain, _marker(lambda index: WHOLE))
    if found is None:
        # The template changes whitespace around contents (it trims): mark cores, then widen each
        # content that has surrounding whitespace to as much of it as the template keeps.
        found = _attempt(call, cleaned_chat, plain, _marker(lambda index: CORE))
        chosen: dict[int, tuple[bool, bool]] = {}
        for index, message in enumerate(cleaned_chat if found is not None else ()):
            content = message.get("content")
            if not isinstance(content, str) or content == content.strip():
                continue
            for wider in (WHOLE, KEEP_LEAD, KEEP_TRAIL):
                trial = {**chosen, index: wider}
                better = _attempt(call, cleaned_chat, plain, _marker(_placements(trial)))
                if better is not None:
                    chosen, found = trial, better
                    break
    if found is not None:
        return RenderedSpans(plain, tuple(_message_spans(cleaned_chat, found, "")), tuple(found.generation))
    why = "the template transforms message contents in a way that hides their position"
    generation_only = _attempt(call, cleaned_chat, plain, None)
    generation = tuple(generation_only.generation) if generation_only is not None else ()
    return RenderedSpans(plain, tuple(_message_spans(cleaned_chat, None, why)), generation)
