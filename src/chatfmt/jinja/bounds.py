"""How long a string a template operation is about to build, worked out before it is built.

One call can ask Python for a gigabyte: `'{:>1000000000}'.format(x)`, `'%1000000000s' % x`,
`x.center(10**9)`, `text|indent(100000)` over many lines, `tojson(indent=10**9)`, `items|join(long)`.
Counting the output afterwards is too late (the memory is already taken, or exhausted), so the sandbox
asks these functions first (see `LimitedSandbox`) and refuses the operation when the bound is over the
output limit. Each returns a cheap upper bound of the result's length (or of what the operation adds
to text that already exists); bounds are loose, but they are compared with the output limit, far above
any real prompt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Formatter
from typing import Any

_SPEC_NUMBERS = re.compile(r"\d+")
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d+|\*)?(?:\.(\d+|\*))?[a-zA-Z%]")
PADDING_METHODS = frozenset(("center", "ljust", "rjust", "zfill"))


def _ints(values: Any) -> list[int]:
    return [value for value in values if type(value) is int]


def format_call(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """`template.format(*args, **kwargs)`: the text, plus for each field the largest number in its spec
    (its width or precision), plus, where a spec takes a nested field, the largest int argument."""
    values = [*args, *kwargs.values()]
    longest = max((len(v) for v in values if isinstance(v, str)), default=0)
    bound = len(template)
    for _, field, spec, _ in Formatter().parse(template):
        if field is None:
            continue
        numbers = [int(n) for n in _SPEC_NUMBERS.findall(spec or "")]
        if spec and "{" in spec:
            numbers += _ints(values)
        bound += max(numbers, default=0) + longest + 32
    return bound


def percent_format(template: str, arguments: Any) -> int:
    """`template % arguments`: as `format_call`, for printf-style fields (a `*` takes an int argument)."""
    values = list(arguments) if type(arguments) is tuple else [arguments]
    longest = max((len(v) for v in values if isinstance(v, str)), default=0)
    bound = len(template)
    for width, precision in _PERCENT_FIELD.findall(template):
        numbers = [int(n) for n in (width, precision) if n.isdigit()]
        if "*" in (width, precision):
            numbers += _ints(values)
        bound += max(numbers, default=0) + longest + 32
    return bound


def padding(method: str, text: str, args: tuple[Any, ...]) -> int:
    """`text.center(n)` and its kin build `max(len(text), n)` characters; `expandtabs(n)` up to `n` per tab."""
    size = args[0] if args and type(args[0]) is int else 0
    if method == "expandtabs":
        return len(text) + text.count("\t") * max(size, 8)
    return max(len(text), size)


def indent(text: Any, width: Any) -> int:
    """`text|indent(width)`: every line may gain the indentation."""
    text = str(text)
    step = len(width) if isinstance(width, str) else width if type(width) is int else 0
    return len(text) + (text.count("\n") + 1) * max(step, 0)


def join(items: Any, separator: Any) -> int:
    """`items|join(separator)` on a sized sequence: the separators alone (the items exist already)."""
    if not isinstance(separator, str) or type(items) not in (list, tuple, range):
        return 0
    return len(separator) * max(len(items) - 1, 0)


def json_layout(value: Any, indent: Any, separators: Any) -> int:
    """What `json.dumps(value, indent=..., separators=...)` adds to the values themselves: the newlines,
    the indentation of every line and the separators (the values' own text is bounded by the input)."""
    step = len(indent) if isinstance(indent, str) else indent if type(indent) is int and indent > 0 else 0
    item_sep, key_sep = (len(separators[0]), len(separators[1])) if _pair_of_str(separators) else (2, 2)
    return _layout(value, 0, step, item_sep, key_sep)


def _pair_of_str(separators: Any) -> bool:
    return (
        isinstance(separators, (tuple, list)) and len(separators) == 2 and all(isinstance(s, str) for s in separators)
    )


def _layout(value: Any, depth: int, step: int, item_sep: int, key_sep: int) -> int:
    if isinstance(value, Mapping):
        children = [(key_sep, item) for item in value.values()]
    elif isinstance(value, (list, tuple)):
        children = [(0, item) for item in value]
    else:
        return 0
    if not children:
        return 0
    line = 1 + step * (depth + 1) if step else 0
    total = (1 + step * depth if step else 0) + (len(children) - 1) * item_sep
    for extra, child in children:
        total += line + extra + _layout(child, depth + 1, step, item_sep, key_sep)
    return total
