"""Where each message, and each part the model must generate, sits in a rendered prompt.

Training code needs these to mask the loss to assistant turns. A span is a half-open character range
`[start, end)` into `RenderedSpans.text`, covering a message's content as the template prints it: a
template that trims the content, or prints it through `tojson`, gets the span of the trimmed or
JSON-encoded text. chatfmt never guesses: when a position cannot be determined exactly, `start` and
`end` are None and `reason` says why.
"""

from __future__ import annotations

from ._values import value_class


@value_class(slots=True)
class MessageSpan:
    """The characters of message `index`'s content in the prompt (None when unknown, see `reason`)."""

    index: int
    role: str | None
    start: int | None
    end: int | None
    reason: str | None = None

    @property
    def known(self) -> bool:
        return self.start is not None


@value_class(slots=True)
class RenderedSpans:
    """A rendered prompt with its message spans and generation spans.

    `generation` holds the ranges the model is trained to produce: the output of `{% generation %}`
    blocks for templates that have them, or the assistant turns as the compiled format defines them.
    """

    text: str
    messages: tuple[MessageSpan, ...]
    generation: tuple[tuple[int, int], ...]

    def content(self, index: int) -> str:
        """The text of message `index`'s span; raises LookupError when the span is unknown."""
        span = self.messages[index]
        if span.start is None or span.end is None:
            raise LookupError(f"message {index} has no known span: {span.reason}")
        return self.text[span.start : span.end]
