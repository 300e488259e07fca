"""Invisible markers that locate text in a rendered prompt.

An instrumented render wraps each message's content, and each `{% generation %}` block, in characters
from the Unicode noncharacter block U+FDD0–U+FDEF. They pass unchanged through everything a template
does to whole strings (concatenation, capture, macros, `upper`, `trim` of the surrounding whitespace), so
after rendering their positions are the positions of the text they enclose. Removing them must give back
the plain render exactly; where it does not, the template did something to the text that markers cannot
survive, and no span is reported.
"""

from __future__ import annotations

import re

CONTENT_OPEN = "\ufdd0"
CONTENT_CLOSE = "\ufdd1"
INDEX_END = "\ufdd2"
GENERATION_OPEN = "\ufdd3"
GENERATION_CLOSE = "\ufdd4"
_DIGIT_BASE = 0xFDE0  # U+FDE0..U+FDE9 stand for the decimal digits of a message index

ANY_MARKER = re.compile("[\ufdd0-\ufdef]")
_TOKEN = re.compile("([\ufdd0\ufdd1])([\ufde0-\ufde9]+)\ufdd2|([\ufdd3\ufdd4])|[\ufdd0-\ufdef]")


def _encode_index(index: int) -> str:
    return "".join(chr(_DIGIT_BASE + int(digit)) for digit in str(index)) + INDEX_END


def open_content(index: int) -> str:
    return CONTENT_OPEN + _encode_index(index)


def close_content(index: int) -> str:
    return CONTENT_CLOSE + _encode_index(index)


def strip_markers(text: str) -> str:
    return ANY_MARKER.sub("", text)


class Located:
    """Where the markers of an instrumented render stand in the plain text."""

    def __init__(self) -> None:
        self.opens: dict[int, list[int]] = {}
        self.closes: dict[int, list[int]] = {}
        self.generation: list[tuple[int, int]] = []
        self.malformed = False


def locate(marked: str) -> Located:
    """Positions (in the text with markers removed) of every content marker and generation block."""
    found = Located()
    removed = 0
    open_generations: list[int] = []
    for match in _TOKEN.finditer(marked):
        position = match.start() - removed
        removed += match.end() - match.start()
        kind, digits, generation = match.group(1), match.group(2), match.group(3)
        if kind is not None:
            index = int("".join(str(ord(ch) - _DIGIT_BASE) for ch in digits))
            target = found.opens if kind == CONTENT_OPEN else found.closes
            target.setdefault(index, []).append(position)
        elif generation == GENERATION_OPEN:
            open_generations.append(position)
        elif generation == GENERATION_CLOSE and open_generations:
            found.generation.append((open_generations.pop(), position))
        else:
            found.malformed = True
    if open_generations:
        found.malformed = True
    found.generation.sort()
    return found
