"""Jinja's code generator with inline fast paths for what chat templates do most: read a message's fields.

Jinja compiles every `message.role`, `message['content']`, `messages[0]` and `text.strip()` in a
sandboxed environment to a method call on the environment (`getattr`, `getitem`, `call`), which tries
the lookup, catches the failure, tries the other kind of lookup and vets the result. Everything a
template sees is plain JSON-like data (see `inputs.py`), so nearly all of those lookups hit an exact
`dict`, `list` or `str`, where the sandbox's answer is known in advance. This generator emits, for each
such site, a type test on the evaluated object and the answer the sandbox would give for that type,
falling back to the unchanged sandbox call for every other object. Each fast path returns exactly what
the sandbox's method returns for that object:

* `obj.name`, `name` a constant that is no attribute of `dict`: on an exact dict, `getattr` fails, so
  the sandbox returns `obj[name]`, or `undefined(obj=obj, name=name)` when the key is absent.
* `loop.index0`, `loop.first` and the other counters in `LOOP_COUNTERS` on Jinja's own `LoopContext`:
  the sandbox reads the property and finds it safe (see `LOOP_COUNTERS`).
* `obj['key']` on an exact dict that holds the key: the sandbox's first step, `obj['key']`, succeeds.
  When it does not, and `key` is no attribute of `dict`, the sandbox's getattr fallback fails as well,
  so it returns `undefined(obj=obj, name=key)`, as for `obj.key`.
* `obj.name` or `obj['name']` on an exact str, `name` no attribute of `str`: both lookups fail, so the
  sandbox returns `undefined(obj=obj, name=name)` (templates that walk a string content as if it were
  a list of parts do this once per character).
* `obj[n]`, `n` a constant int within bounds, on an exact list or tuple: likewise `obj[n]`; and
  `obj[k]` with a computed key, for an exact list and an int in range or an exact dict and a str it holds.
* `s.strip()` and the other str methods in `PURE_STR_METHODS` on an exact str, with positional
  arguments only: the sandbox would vet the attribute (public, not `format`), find the bound method
  safe to call, pass no context to it and call it with the same arguments. These methods build at
  most a few times their input's length, so they need no output-size check, and they cannot loop, so
  they need no time check: loops and every other call still check both (see `limits.py`).
* `s.replace(old, new)` on an exact str goes to `LimitedSandbox.replace_str`, which refuses a result
  larger than the output limit before building it, then calls `str.replace` as the sandbox would.
* `d.get(...)`, `d.items()`, `d.keys()`, `d.values()` on an exact dict, positional arguments only:
  the same reasoning (the immutable sandbox refuses only dict's mutating methods).

The object expression is evaluated once, into a fresh local, before anything else, so the order in
which a template's expressions run (and which error a broken input raises first) is unchanged.
"""

from __future__ import annotations

from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst

PURE_STR_METHODS = frozenset(
    (
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "rfind",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
    )
)

# Reading a dict: the sandbox allows these (they are not among the mutating methods it refuses).
PURE_DICT_METHODS = frozenset(("get", "items", "keys", "values"))
PURE_METHODS = {**dict.fromkeys(PURE_STR_METHODS, "str"), **dict.fromkeys(PURE_DICT_METHODS, "dict"), "replace": "str"}

# The `loop` properties that are ints or bools: the sandbox allows them (public, not internal, not a
# mutating method) and they can never be a `str.format` it would wrap.
LOOP_COUNTERS = frozenset(("depth", "depth0", "first", "index", "index0", "last", "length", "revindex", "revindex0"))


class FastPathCodeGenerator(CodeGenerator):
    """`CodeGenerator` whose field reads and read-only str and dict method calls skip the sandbox when they provably may."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fast_locals = 0

    def _fresh_local(self) -> str:
        self._fast_locals += 1
        return f"_fp{self._fast_locals}"

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        if hasattr(dict, node.attr):
            super().visit_Getattr(node, frame)
            return
        self._field(node.node, node.attr, "getattr", frame)

    @optimizeconst
    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        key = node.arg.value if isinstance(node.arg, nodes.Const) else None
        if type(key) is str and not hasattr(dict, key):
            # Like `obj.name`: on an exact dict the sandbox's getattr fallback fails too, so a missing key
            # is an undefined.
            self._field(node.node, key, "getitem", frame)
            return
        obj = self._fresh_local()
        missing = ""
        if type(key) is str:
            test = f".__class__ is dict and {key!r} in {obj}"
            missing = self._missing_on_str(obj, key)
        elif type(key) is int:
            bound = f"{key} < len({obj})" if key >= 0 else f"{-key} <= len({obj})"
            test = f".__class__ in (list, tuple) and {bound}"
        elif isinstance(node.arg, nodes.Slice):
            super().visit_Getitem(node, frame)
            return
        else:
            self._computed_item(node, frame)
            return
        self.write(f"({obj}[{key!r}] if ({obj} := ")
        self.visit(node.node, frame)
        self.write(f"){test} else {missing}environment.getitem({obj}, {key!r}))")

    def _computed_item(self, node: nodes.Getitem, frame: Frame) -> None:
        """`obj[key]` with a computed key (`messages[i]`): the object, then the key, are evaluated once each
        (`&` does not short-circuit), then an exact list with an int key in range, or an exact dict holding
        an exact str key, is indexed directly."""
        obj, key = self._fresh_local(), self._fresh_local()
        self.write(f"({obj}[{key}] if ((({obj} := ")
        self.visit(node.node, frame)
        self.write(f").__class__ is list) & (({key} := ")
        self.visit(node.arg, frame)
        self.write(
            f").__class__ is int)) and -len({obj}) <= {key} < len({obj}) or {obj}.__class__ is dict and "
            f"{key}.__class__ is str and {key} in {obj} else environment.getitem({obj}, {key}))"
        )

    @optimizeconst
    def visit_Mod(self, node: nodes.BinExpr, frame: Frame) -> None:
        """`a % b`: Python's `%` unless `a` is a str, whose formatting the sandbox size-checks first (see
        `limits.check_binop`); both operands are evaluated once, left first (`&` does not short-circuit)."""
        left, right = self._fresh_local(), self._fresh_local()
        self.write(f"({left} % {right} if ((not isinstance({left} := ")
        self.visit(node.left, frame)
        self.write(f", str)) & (({right} := ")
        self.visit(node.right, frame)
        self.write(f") is {right})) else environment.call_binop(context, '%', {left}, {right}))")

    def _field(self, target: nodes.Expr, name: str, fallback: str, frame: Frame) -> None:
        """`target.name` or `target['name']` (`fallback` is the sandbox method for it), `name` no attribute
        of `dict`: an exact dict answers with its item or an undefined, a `LoopContext` with a counter, an
        exact str with an undefined, and anything else goes to the sandbox."""
        obj = self._fresh_local()
        loop = f"{obj}.{name} if {obj}.__class__ is LoopContext else " if name in LOOP_COUNTERS else ""
        self.write(
            f"(({obj}[{name!r}] if {name!r} in {obj} else environment.undefined(obj={obj}, name={name!r})) if ({obj} := "
        )
        self.visit(target, frame)
        self.write(
            f").__class__ is dict else {loop}{self._missing_on_str(obj, name)}environment.{fallback}({obj}, {name!r}))"
        )

    @staticmethod
    def _missing_on_str(obj: str, name: str) -> str:
        """The clause giving the sandbox's answer for `name` read from an exact str that has no such attribute
        (`s['type']` and `s.type` both fail both ways, so the sandbox returns an undefined), or ""."""
        if hasattr(str, name):
            return ""
        return f"environment.undefined(obj={obj}, name={name!r}) if {obj}.__class__ is str else "

    @optimizeconst
    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        method = node.node
        if (
            forward_caller
            or not isinstance(method, nodes.Getattr)
            or method.attr not in PURE_METHODS
            or node.kwargs
            or node.dyn_args is not None
            or node.dyn_kwargs is not None
        ):
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        obj = self._fresh_local()
        direct = f"environment.replace_str({obj}, " if method.attr == "replace" else f"{obj}.{method.attr}("
        self.write(f"({direct}")
        for index, arg in enumerate(node.args):
            self.write(", " if index else "")
            self.visit(arg, frame)
        self.write(f") if ({obj} := ")
        self.visit(method.node, frame)
        self.write(
            f").__class__ is {PURE_METHODS[method.attr]} else environment.call(context, environment.getattr({obj}, {method.attr!r})"
        )
        extra = {"_loop_vars": "_loop_vars"} if frame.loop_frame else {}
        if frame.block_frame:
            extra["_block_vars"] = "_block_vars"
        self.signature(node, frame, extra or None)
        self.write("))")
