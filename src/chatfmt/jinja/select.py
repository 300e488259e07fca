"""`selectattr` and `rejectattr` with a direct path for the form chat templates use.

`message.content | selectattr('type', 'equalto', 'text')` is how many templates pick text parts. Jinja
runs every item through an attribute getter built for dotted paths, then `Environment.call_test`, which
looks the test up and inspects it on each call. For a plain attribute name (no dot, not a number), a
test of `TESTS` and no keyword arguments, `select_attr` does what those steps amount to: read the item
with the environment's `getitem` and call the environment's own test function with the same arguments.
Every other form goes to Jinja's filter. The result is a generator either way, doing its work as it
is consumed, so laziness and the point where an error surfaces are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from jinja2 import filters
from jinja2.utils import pass_context

# Tests taking only the value and positional arguments, with no context or environment argument.
TESTS = frozenset(("==", "!=", "defined", "eq", "equalto", "ne", "none", "string", "undefined"))


def _direct_form(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    if kwargs or len(args) < 2:
        return False
    attribute, test = args[0], args[1]
    return type(attribute) is str and "." not in attribute and not attribute.isdigit() and test in TESTS


def _select(
    environment: Any, value: Any, attribute: str, test: Callable[..., Any], rest: tuple[Any, ...], keep: bool
) -> Iterator[Any]:
    if value:
        getitem = environment.getitem
        for item in value:
            if bool(test(getitem(item, attribute), *rest)) is keep:
                yield item


@pass_context
def select_attr(context: Any, value: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
    """Jinja's `selectattr`."""
    if not _direct_form(args, kwargs):
        return filters.sync_do_selectattr(context, value, *args, **kwargs)
    environment = context.environment
    return _select(environment, value, args[0], environment.tests[args[1]], args[2:], True)


@pass_context
def reject_attr(context: Any, value: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
    """Jinja's `rejectattr`."""
    if not _direct_form(args, kwargs):
        return filters.sync_do_rejectattr(context, value, *args, **kwargs)
    environment = context.environment
    return _select(environment, value, args[0], environment.tests[args[1]], args[2:], False)
