"""The sandboxed Jinja environment, configured exactly as transformers configures it.

transformers builds one `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` per
template, with the `{% generation %}` tag, loop controls, its own `tojson`, and the globals
`raise_exception`, `strftime_now`, `dict` and `namespace`. Everything else is a Jinja default, and every
one of those defaults shows in the output (SPEC §1), so nothing here deviates from them.

Unlike transformers, the generation tag keeps no state on the environment: when spans are wanted, it
wraps the block's output in markers that travel with the text (see `spans.py`), which gives the right
offsets for captured blocks and macros and lets any number of threads render the same template.
"""

from __future__ import annotations

import functools
import json
import re
from contextvars import ContextVar
from typing import Any

import jinja2
import jinja2.ext
import jinja2.meta
import jinja2.nodes
import jinja2.utils
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .. import clock
from . import limits
from .markers import GENERATION_CLOSE, GENERATION_OPEN

COMPILED_CACHE_SIZE = 256
LOOP_GUARD = "chatfmt_loop_guard"  # the filter every {% for %} iterable is wrapped in, see LimitedSandbox

# True while a render wants its generation blocks marked; a ContextVar so each thread has its own.
_mark_generation: ContextVar[bool] = ContextVar("chatfmt_mark_generation", default=False)


def _require_safe_jinja() -> None:
    version = tuple(int(part) for part in re.findall(r"\d+", jinja2.__version__)[:3])
    if version < (3, 1, 6):
        raise ImportError(
            f"chatfmt needs jinja2>=3.1.6 (older versions have known sandbox escapes); found {jinja2.__version__}. "
            "Upgrade it with `pip install -U jinja2`."
        )


class GenerationExtension(jinja2.ext.Extension):
    """`{% generation %}…{% endgeneration %}`: prints its body unchanged, marking it when spans are wanted."""

    tags = {"generation"}

    def parse(self, parser: Any) -> jinja2.nodes.CallBlock:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        block = jinja2.nodes.CallBlock(self.call_method("_generation", []), [], [], body)
        block.set_lineno(lineno)
        return block

    def _generation(self, caller: Any) -> str:
        text = caller()
        if _mark_generation.get():
            return f"{GENERATION_OPEN}{text}{GENERATION_CLOSE}"
        return text


def _raise_exception(message: Any) -> None:
    raise TemplateError(message)


def _tojson(x: Any, ensure_ascii: Any = False, indent: Any = None, separators: Any = None, sort_keys: Any = False) -> str:
    # transformers' override: plain json.dumps, no HTML escaping; the first positional is ensure_ascii.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(format: Any) -> str:
    return clock.now().strftime(format)


class _TemplateDict:
    """The `dict` global: constructs dicts and offers `fromkeys`, and nothing else of the dict type."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict:
        return dict(*args, **kwargs)

    def fromkeys(self, *args: Any, **kwargs: Any) -> dict:
        return dict.fromkeys(*args, **kwargs)


def _check_namespace_name(name: Any) -> None:
    if isinstance(name, str) and name.startswith("_"):
        raise SecurityError(
            f"Chat templates cannot store underscore-prefixed attributes on a namespace, but got {name!r}. "
            "Please rename the attribute."
        )


class _TemplateNamespace(jinja2.utils.Namespace):
    """`namespace(...)`, refusing underscore-prefixed names as transformers does."""

    def __init__(*args: Any, **kwargs: Any) -> None:  # noqa: N805 - same signature trick as Jinja's Namespace
        self, rest = args[0], args[1:]
        attrs = dict(*rest, **kwargs)
        for name in attrs:
            _check_namespace_name(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name: str, value: Any) -> None:
        _check_namespace_name(name)
        limits.tick((value,))  # loops that grow a namespace value are bounded here
        jinja2.utils.Namespace.__setitem__(self, name, value)


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """transformers' immutable sandbox, plus the time and size checks of `limits.py` on calls and operators."""

    # Only the operators that can blow up in one step; intercepting "+" would slow every template.
    intercepted_binops = frozenset(("*", "**"))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        limits.tick(args)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        limits.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def _parse(self, source: str, name: str | None, filename: str | None) -> jinja2.nodes.Template:
        """Parse, then route every loop's iterable through the loop guard (same items, counted)."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(jinja2.nodes.For):
            loop.iter = jinja2.nodes.Filter(loop.iter, LOOP_GUARD, [], [], None, None, lineno=loop.iter.lineno)
        return tree


def new_environment() -> LimitedSandbox:
    """A fresh environment with transformers' options, filters and globals."""
    _require_safe_jinja()
    env = LimitedSandbox(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationExtension, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.filters[LOOP_GUARD] = limits.guard_loop
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["dict"] = _TemplateDict()
    env.globals["namespace"] = _TemplateNamespace
    return env


@functools.lru_cache(maxsize=COMPILED_CACHE_SIZE)
def compile_template(source: str) -> jinja2.Template:
    """Compile `source` in an environment of its own; cached by source text, as transformers caches it.

    Raises `jinja2.TemplateSyntaxError` for a template that does not parse.
    """
    return new_environment().from_string(source)


@functools.lru_cache(maxsize=COMPILED_CACHE_SIZE)
def template_variables(source: str) -> frozenset[str]:
    """The names a template reads from its context (undeclared variables), for routing decisions."""
    env = new_environment()
    return frozenset(jinja2.meta.find_undeclared_variables(env.parse(source)))


class generation_marking:
    """Context manager: mark generation blocks in renders made inside it (this thread/task only)."""

    def __enter__(self) -> None:
        self._token = _mark_generation.set(True)

    def __exit__(self, *exc: object) -> None:
        _mark_generation.reset(self._token)
