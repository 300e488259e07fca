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
from collections.abc import Mapping
from contextvars import ContextVar
from types import BuiltinMethodType, FunctionType
from typing import Any

import jinja2
import jinja2.ext
import jinja2.meta
import jinja2.nodes
import jinja2.utils
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.runtime import Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from .. import clock
from . import bounds, limits, select
from .codegen import FastPathCodeGenerator
from .markers import GENERATION_CLOSE, GENERATION_OPEN

COMPILED_CACHE_SIZE = 256
LOOP_GUARD = "chatfmt_loop_guard"  # the filter every {% for %} iterable is wrapped in, see LimitedSandbox
STORED = "chatfmt_stored"  # the filter every {% set %} value is wrapped in

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


def _tojson(
    x: Any, ensure_ascii: Any = False, indent: Any = None, separators: Any = None, sort_keys: Any = False
) -> str:
    # transformers' override: plain json.dumps, no HTML escaping; the first positional is ensure_ascii.
    if indent or separators:
        limits.check_built(bounds.json_layout(x, indent, separators), "'tojson'")
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(format: Any) -> str:
    return clock.now().strftime(format)


def _indent(s: Any, width: Any = 4, first: bool = False, blank: bool = False) -> str:
    """Jinja's `indent`, refusing an indentation that would outgrow the output limit."""
    limits.check_built(bounds.indent(s, width), "'indent'")
    return jinja2.filters.do_indent(s, width, first, blank)


@jinja2.pass_eval_context
def _join(eval_ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> str:
    """Jinja's `join`, refusing separators that would outgrow the output limit."""
    limits.check_built(bounds.join(value, d), "'join'")
    return jinja2.filters.sync_do_join(eval_ctx, value, d, attribute)


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
        limits.stored(value)  # loops that grow a namespace value are bounded here
        jinja2.utils.Namespace.__setitem__(self, name, value)


_PADDING = bounds.PADDING_METHODS | {"expandtabs"}
_OWN_FUNCTIONS = frozenset((_raise_exception, _strftime_now, safe_range))
_PLAIN_VALUES = frozenset((str, int, float, bool, type(None), list, tuple, dict, _TemplateNamespace))


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """transformers' immutable sandbox, plus the time and size checks of `limits.py` on calls and operators."""

    # Only the operators that can blow up in one step; intercepting "+" would slow every template.
    intercepted_binops = frozenset(("*", "**", "%"))
    # The fast paths subclass jinja2 3.1's code generator, an internal API: a later jinja2 gets Jinja's own.
    code_generator_class = FastPathCodeGenerator if jinja2.__version__.startswith("3.1.") else CodeGenerator

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        kind = __obj.__class__
        limits.tick(args, limits.WORK_PER_MACRO if kind is Macro else limits.WORK_PER_CALL)
        # What the sandbox and `Context.call` do for a macro and for the globals defined here, without
        # their generic tests: these are safe to call, and only a macro takes a context (the eval context,
        # first: `Macro.__call__` is pass_eval_context). Anything else goes through the sandbox.
        if kind is Macro:
            args = (__context.eval_ctx, *args)
        elif not (
            kind is FunctionType and __obj in _OWN_FUNCTIONS or kind is _TemplateDict or __obj is _TemplateNamespace
        ):
            if kind is BuiltinMethodType and type(__obj.__self__) is str and __obj.__name__ in _PADDING:
                limits.check_built(bounds.padding(__obj.__name__, __obj.__self__, args), f"'{__obj.__name__}'")
            return super().call(__context, __obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.undefined("value was undefined because a callable raised a StopIteration exception")

    def getitem(self, obj: Any, argument: Any) -> Any:
        """The sandbox's answer, straight from an exact dict and a str key (filters such as `selectattr`
        and `map(attribute=...)` read every item this way); see `codegen.py` for why it is the same."""
        if obj.__class__ is dict and argument.__class__ is str:
            if argument in obj:
                return obj[argument]
            if not hasattr(dict, argument):
                return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """The sandbox's answer, read straight from a template namespace (`ns.count`) when it is plain data.

        For a `namespace()` and a public name, the sandbox returns the stored value (it vets only the name
        and the namespace type, and wraps only bound `format` methods) or, for a name never set, an
        undefined: this gives the same without its generic checks.
        """
        if obj.__class__ is _TemplateNamespace and attribute[:1] != "_":
            attrs = object.__getattribute__(obj, "_Namespace__attrs")
            if attribute not in attrs:
                return self.undefined(obj=obj, name=attribute)
            value = attrs[attribute]
            if value.__class__ in _PLAIN_VALUES:
                return value
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Any:
        """The sandbox's `str.format` / `format_map`, refusing a result over the output limit first."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template, is_map = str(value.__self__), value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            fields = args[0] if is_map and len(args) == 1 and isinstance(args[0], Mapping) else kwargs
            limits.check_built(bounds.format_call(template, () if is_map else args, fields), "'format'")
            return wrapped(*args, **kwargs)

        return checked

    def replace_str(self, text: str, *args: Any) -> Any:
        """`text.replace(*args)` from a template: what the sandbox's call gives, after refusing a result
        over the output limit (a one-character pattern replaced by a long one multiplies the length)."""
        if len(args) >= 2 and type(args[0]) is str and type(args[1]) is str and len(args[1]) > len(args[0]):
            count = text.count(args[0]) if args[0] else len(text) + 1
            if len(args) > 2 and type(args[2]) is int and 0 <= args[2] < count:
                count = args[2]
            limits.check_built(len(text) + count * (len(args[1]) - len(args[0])), "'replace'")
        return text.replace(*args)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        limits.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def _parse(self, source: str, name: str | None, filename: str | None) -> jinja2.nodes.Template:
        """Parse, then route every loop's iterable through the loop guard (same items, counted) and every
        `{% set %}` value through `limits.stored` (the same value, charged and size-checked)."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(jinja2.nodes.For):
            loop.iter = jinja2.nodes.Filter(loop.iter, LOOP_GUARD, [], [], None, None, lineno=loop.iter.lineno)
        for assign in tree.find_all(jinja2.nodes.Assign):
            assign.node = jinja2.nodes.Filter(assign.node, STORED, [], [], None, None, lineno=assign.node.lineno)
        return tree


def new_environment() -> LimitedSandbox:
    """A fresh environment with transformers' options, filters and globals."""
    _require_safe_jinja()
    env = LimitedSandbox(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationExtension, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.filters["indent"] = _indent
    env.filters["join"] = _join
    env.filters["selectattr"] = select.select_attr
    env.filters["rejectattr"] = select.reject_attr
    env.filters[LOOP_GUARD] = limits.guard_loop
    env.filters[STORED] = limits.stored
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
def template_globals(source: str) -> dict[str, Any]:
    """The globals of `compile_template(source)` as one flat dict, for building a render's context without
    Jinja flattening the template's layered globals (a Python-level ChainMap) on every render. Read-only."""
    return dict(compile_template(source).globals)


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
