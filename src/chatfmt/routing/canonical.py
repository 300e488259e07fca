"""A canonical form of a chat template: one text for every source that is the same Jinja program.

Two templates with the same canonical form render the same string (or raise the same error) for every
input, so a template whose canonical form is a built-in's may take that built-in's compiled route
(chatfmt's own time and size limits aside: they stop a render wherever it has got to, and transformers
has none). The
form is a dump of the template's own Jinja AST, parsed exactly as transformers parses it (chatfmt's
environment: trim_blocks, lstrip_blocks, newline normalisation, the `{% generation %}` tag, loop
controls; but without the loop guard chatfmt adds when compiling), after these rewrites. Each one keeps
what the template renders for every input, for the reason given:

1. *Whitespace inside tags, comments, newline style, the trailing newline, `{%-`/`-%}` placement* are
   gone because the AST never had them: the lexer has already applied them to the text nodes.
2. *String constants as values*: a constant is its value, however it was written (a real newline or
   `'\\n'`, single or double quotes).
3. *Constant folding*: `not c`, `c1 == c2` (and `!=`, `<`, `in`, ...) of literal constants, `'a' + 'b'`
   and `'a' ~ 'b'`, `c and x`, `c or x`, `x if c else y` with a constant `c` are replaced by their value.
   Jinja compiles these operators to the same Python operators (the sandbox intercepts none of them on
   constants), so the value is the one the render would compute; `and`/`or` short-circuit, so the
   dropped operand was never evaluated. `x + 'a' + 'b'` becomes `x + 'ab'`: template values are plain
   data (str, numbers, lists, dicts, None), Markup or Undefined, and for each of them adding two strings
   in turn gives the same string, or the same error (its message names the two types, or the undefined
   value), as adding their concatenation.
4. *Dead branches*: an `{% if %}`/`{% elif %}` whose test folded to a constant is dropped (false) or
   becomes the `else` (true), and an `if` left with one live branch is replaced by its body. Python tests
   the truth of the same value; `if` opens no scope in Jinja, so the body's assignments stay in the same
   frame. A `set` in a dropped branch never ran; Jinja only uses it to load the name, at the start of the
   frame, from the outer scope or the context, which is the value every read sees anyway since the
   assignment never happens (and loop bodies start afresh each iteration).
5. *`is defined` on the variables transformers always passes* (`messages`, `tools`, `documents`,
   `add_generation_prompt`; never special tokens, which may be absent): folded to true (`is undefined` to
   false) when the template binds that name nowhere, or only by `{% set name = <constant> %}`: then every
   value the name can hold is either the passed one or a constant, and neither is Undefined.
6. *Adjacent output text merged*: template text and constants printed next to each other become one
   string, and `{{ a ~ b }}` prints `a` then `b`. Jinja prints every output node as `str(value)` in
   order, and `~` joins `str()` of its operands, so the text is the same; a render that raises returns no
   text at all, so where it stops does not matter.
7. *Attribute and item lookups*: `x.k` is written `x['k']` unless `k` starts with `_` or names a dict
   attribute (`items`, `get`, `keys`, ...). The sandbox's `getattr` tries the attribute then the item,
   its `getitem` the item then the attribute, and both give the same Undefined (same message) when
   neither exists; the order matters only for a value with both an attribute and an item `k`. Template
   values are plain data (dicts, lists, strings, numbers, None), Undefined, namespaces, loops, macros
   and the globals, and of these only a dict has string items and attributes at once: its methods.
8. *Local names*: a loop variable or `set` target whose every read is definitely bound in its own frame
   (loop targets within their loop; `set` targets after an assignment on every path of the frame; loop
   bodies restart each iteration, as Jinja does) is renamed to `%0`, `%1`, ... in order of appearance,
   each binding of each frame on its own. Such a name is never read from the context, and the values
   held under it never carry its name (Undefined values name what was looked up, not where they are
   stored), so the name is invisible to the output. Macro parameters are renamed the same way only
   where their names cannot show: the macro is only ever called directly with one positional argument
   per parameter, never printed, passed or looked into, and uses no `caller`, `varargs`, `kwargs`
   (keyword calls, `arguments`, defaults and "parameter 'x' was not provided" would name them). Macro
   names keep theirs (a printed macro and its errors show it).
9. *`{% generation %}` markers* (only with `strip_generation`): a block's body is put in its place.
   The block renders its body through a caller macro and prints that text unchanged (transformers' tag
   and chatfmt's alike); inlining is done only where the body binds no name in its own frame and does not
   read `caller`, `varargs` or `kwargs`, which are the only differences a caller frame makes. Where the
   markers were is kept in `Canonical.marked`.

A source that does not compile has no canonical form (the compile error is raised). A template that uses
a filter or test the environment lacks, or a construct outside chat templates' subset (extends, blocks,
include, import, with, scoped modifiers), is dumped as parsed with no rewrite at all, because Jinja then
reports errors differently inside and outside `if` bodies; equal dumps are still equal programs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard

import jinja2.nodes as nodes
from jinja2.parser import Parser

from ..jinja.environment import GenerationExtension, compile_template, new_environment

__all__ = ["ALWAYS_PASSED", "Canonical", "canonical", "canonical_form", "has_generation_markers", "parse"]

VERSION = "chatfmt-canonical-1"
# Variables transformers passes to every render (SPEC 1.3); special tokens are not among them.
ALWAYS_PASSED = frozenset({"messages", "tools", "documents", "add_generation_prompt"})
_SPECIAL_NAMES = frozenset({"loop", "caller", "varargs", "kwargs", "self", "super"})
_LITERAL_TYPES = (str, int, float, bool, type(None))
# `x.k` and `x['k']` differ only where x has both an attribute and an item named k: dict methods.
_DICT_ATTRIBUTES = frozenset(dir(dict))
_UNSUPPORTED = (
    nodes.Extends,
    nodes.Block,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.With,
    nodes.Scope,
    nodes.OverlayScope,
    nodes.EvalContextModifier,
    nodes.ExprStmt,
)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "gt": operator.gt,
    "lteq": operator.le,
    "gteq": operator.ge,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}


@dataclass(frozen=True)
class Canonical:
    """`text`: the canonical form with generation markers inlined where that is exact (rewrite 9).
    `marked`: the canonical form with every marker kept, which says where they were.
    `generation_blocks`: how many markers `text` inlined."""

    text: str
    marked: str
    generation_blocks: int


def parse(source: str, *, check_compiles: bool = True) -> nodes.Template:
    """The template's own AST, parsed as transformers parses it (no loop guard); compile errors raise.

    `check_compiles=False` skips compiling, for sources known to compile (the built-ins' references).
    """
    if check_compiles:
        compile_template(source)
    return Parser(new_environment(), source).parse()


def canonical(source: str) -> Canonical:
    """The canonical form with generation markers inlined, the one with them kept, and how many there were."""
    stripped, blocks = _canonical_text(source, strip_generation=True)
    marked, _ = _canonical_text(source, strip_generation=False)
    return Canonical(stripped, marked, blocks)


def canonical_form(source: str, *, strip_generation: bool = False, check_compiles: bool = True) -> str:
    """A deterministic text, the same for sources that are the same program (see the module docstring)."""
    return _canonical_text(source, strip_generation=strip_generation, check_compiles=check_compiles)[0]


def has_generation_markers(source: str) -> bool:
    """Whether the template has a `{% generation %}` block (False for a source that does not compile)."""
    try:
        tree = parse(source)
    except Exception:  # no markers can be located in a source that does not compile
        return False
    return any(_is_generation(node) for node in tree.find_all(nodes.CallBlock))


def _canonical_text(source: str, *, strip_generation: bool, check_compiles: bool = True) -> tuple[str, int]:
    tree = parse(source, check_compiles=check_compiles)
    if _literal_only(tree):
        return f"{VERSION} literal\n{_dump(tree)}", 0
    blocks = 0
    if strip_generation:
        tree.body, blocks = _inline_generation(tree.body)
    tree = _Folder(_always_defined(tree)).fold(tree)
    _merge_output(tree)
    _Renamer().rename(tree)
    return f"{VERSION}\n{_dump(tree)}", blocks


def _literal_only(tree: nodes.Template) -> bool:
    env = new_environment()
    for node in tree.find_all(nodes.Node):
        if isinstance(node, _UNSUPPORTED):
            return True
        if isinstance(node, nodes.Filter) and node.name not in env.filters:
            return True
        if isinstance(node, nodes.Test) and node.name not in env.tests:
            return True
    return False


# --- rewrite 9: generation markers -------------------------------------------------------------------


def _is_generation(node: nodes.Node) -> TypeGuard[nodes.CallBlock]:
    return (
        isinstance(node, nodes.CallBlock)
        and isinstance(node.call, nodes.Call)
        and isinstance(node.call.node, nodes.ExtensionAttribute)
        and node.call.node.identifier == GenerationExtension.identifier
    )


def _inlinable(block: nodes.CallBlock) -> bool:
    if _frame_stores(block.body):
        return False
    return not any(
        name.name in ("caller", "varargs", "kwargs") for stmt in block.body for name in stmt.find_all(nodes.Name)
    )


def _inline_generation(body: list[nodes.Node]) -> tuple[list[nodes.Node], int]:
    """`body` with every inlinable generation block replaced by its own body, and how many were."""
    out: list[nodes.Node] = []
    count = 0
    for stmt in body:
        for field, value in stmt.iter_fields():
            if isinstance(value, list) and all(isinstance(item, nodes.Stmt) for item in value):
                new, inner = _inline_generation(value)
                setattr(stmt, field, new)
                count += inner
        if _is_generation(stmt) and _inlinable(stmt):
            out.extend(stmt.body)
            count += 1
        else:
            out.append(stmt)
    return out, count


# --- rewrites 3, 4, 5, 7: folding and lookups ------------------------------------------------------------


def _always_defined(tree: nodes.Template) -> frozenset[str]:
    """The always-passed names whose every binding in the template is `set name = <constant>`."""
    bound_otherwise: set[str] = set()
    constant_targets = {id(node.target) for node in tree.find_all(nodes.Assign) if isinstance(node.node, nodes.Const)}
    for name in tree.find_all(nodes.Name):
        if name.ctx != "load" and id(name) not in constant_targets:
            bound_otherwise.add(name.name)
    for macro in tree.find_all(nodes.Macro):
        bound_otherwise.add(macro.name)
    return ALWAYS_PASSED - bound_otherwise


def _literal(node: nodes.Node) -> TypeGuard[nodes.Const]:
    return isinstance(node, nodes.Const) and isinstance(node.value, _LITERAL_TYPES)


def _text(node: nodes.Node) -> TypeGuard[nodes.Const]:
    return isinstance(node, nodes.Const) and isinstance(node.value, str)


def _joined(parts: list[nodes.Expr]) -> list[nodes.Expr]:
    """Concat operands with adjacent constants joined (`~` joins `str()` of each operand)."""
    out: list[nodes.Expr] = []
    for part in parts:
        if _literal(part) and out and _text(out[-1]):
            out[-1] = nodes.Const(out[-1].value + str(part.value))
        else:
            out.append(nodes.Const(str(part.value)) if _literal(part) else part)
    return out


class _Folder:
    def __init__(self, defined: frozenset[str]) -> None:
        self.defined = defined

    def fold(self, node: Any) -> Any:
        """The node folded; a statement may fold into a list of statements (a live `if` body)."""
        if isinstance(node, nodes.If):
            return self._fold_if(node)
        for field, value in node.iter_fields():
            if isinstance(value, nodes.Node):
                setattr(node, field, self.fold(value))
            elif isinstance(value, list):
                setattr(node, field, self.fold_list(value))
        return self._simplify(node) if isinstance(node, nodes.Expr) else node

    def fold_list(self, items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            folded = self.fold(item) if isinstance(item, nodes.Node) else item
            out.extend(folded) if isinstance(folded, list) else out.append(folded)
        return out

    def _fold_if(self, node: nodes.If) -> nodes.If | list[nodes.Node]:
        live: list[tuple[nodes.Expr, list[nodes.Node]]] = []
        otherwise = node.else_
        for branch in (node, *node.elif_):
            test = self.fold(branch.test)
            if _literal(test):
                if test.value:
                    otherwise = branch.body  # reached only when every earlier test was false
                    break
                continue
            live.append((test, branch.body))
        otherwise = self.fold_list(otherwise)
        if not live:
            return otherwise
        (test, body), rest = live[0], live[1:]
        elifs = [nodes.If(t, self.fold_list(b), [], [], lineno=node.lineno) for t, b in rest]
        return nodes.If(test, self.fold_list(body), elifs, otherwise, lineno=node.lineno)

    def _simplify(self, node: nodes.Expr) -> nodes.Expr:
        if (
            isinstance(node, nodes.Test)
            and node.name in ("defined", "undefined")
            and isinstance(node.node, nodes.Name)
            and node.node.name in self.defined
            and not (node.args or node.kwargs or node.dyn_args or node.dyn_kwargs)
        ):
            return nodes.Const(node.name == "defined")
        if isinstance(node, nodes.Getattr) and not node.attr.startswith("_") and node.attr not in _DICT_ATTRIBUTES:
            return nodes.Getitem(node.node, nodes.Const(node.attr), node.ctx, lineno=node.lineno)
        if isinstance(node, nodes.Not) and _literal(node.node):
            return nodes.Const(not node.node.value)
        if isinstance(node, nodes.And) and _literal(node.left):
            return node.right if node.left.value else node.left
        if isinstance(node, nodes.Or) and _literal(node.left):
            return node.left if node.left.value else node.right
        if isinstance(node, nodes.CondExpr) and _literal(node.test):
            if node.test.value:
                return node.expr1
            if node.expr2 is not None:
                return node.expr2
        if isinstance(node, nodes.Compare) and len(node.ops) == 1:
            return self._compare(node)
        if isinstance(node, nodes.Add) and _text(node.right):
            if _text(node.left):
                return nodes.Const(node.left.value + node.right.value)
            if isinstance(node.left, nodes.Add) and _text(node.left.right):
                return nodes.Add(node.left.left, nodes.Const(node.left.right.value + node.right.value))
        if isinstance(node, nodes.Concat):
            parts = _joined(node.nodes)
            return parts[0] if len(parts) == 1 and _text(parts[0]) else nodes.Concat(parts)
        return node

    @staticmethod
    def _compare(node: nodes.Compare) -> nodes.Expr:
        (op,) = node.ops
        if op.op not in _COMPARE or not _literal(node.expr) or not _literal(op.expr):
            return node
        try:
            return nodes.Const(_COMPARE[op.op](node.expr.value, op.expr.value))
        except Exception:  # the render raises here too: leave it to the render
            return node


# --- rewrite 6: output text ----------------------------------------------------------------------------


def _printed(expr: nodes.Expr) -> Iterator[nodes.Expr]:
    """What one output expression prints, as a sequence of printed expressions."""
    if isinstance(expr, nodes.TemplateData):
        yield nodes.Const(expr.data)
    elif isinstance(expr, nodes.Concat):
        for part in expr.nodes:
            yield from _printed(part)
    elif _literal(expr):
        yield nodes.Const(str(expr.value))
    else:
        yield expr


def _merged(printed: list[nodes.Expr]) -> list[nodes.Expr]:
    out: list[nodes.Expr] = []
    for expr in printed:
        if isinstance(expr, nodes.Const) and isinstance(expr.value, str):
            if not expr.value:
                continue
            if out and isinstance(out[-1], nodes.Const) and isinstance(out[-1].value, str):
                out[-1] = nodes.Const(out[-1].value + expr.value)
                continue
        out.append(expr)
    return out


def _merge_output(node: nodes.Node) -> None:
    for field, value in node.iter_fields():
        if isinstance(value, nodes.Node):
            _merge_output(value)
        elif isinstance(value, list) and value and all(isinstance(item, nodes.Stmt) for item in value):
            setattr(node, field, _merged_statements(value))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, nodes.Node):
                    _merge_output(item)


def _merged_statements(stmts: list[nodes.Stmt]) -> list[nodes.Stmt]:
    out: list[nodes.Stmt] = []
    for stmt in stmts:
        if not isinstance(stmt, nodes.Output):
            _merge_output(stmt)
            out.append(stmt)
            continue
        for expr in stmt.nodes:
            _merge_output(expr)
        printed = [piece for expr in stmt.nodes for piece in _printed(expr)]
        if out and isinstance(out[-1], nodes.Output):
            out[-1].nodes = _merged(out[-1].nodes + printed)
        elif printed:
            stmt.nodes = _merged(printed)
            out.append(stmt)
        if out and isinstance(out[-1], nodes.Output) and not out[-1].nodes:
            out.pop()
    return out


# --- rewrite 8: local names ----------------------------------------------------------------------------


def _target_names(target: nodes.Node) -> list[str]:
    if isinstance(target, nodes.Name):
        return [target.name]
    if isinstance(target, nodes.Tuple):
        return [name for item in target.items for name in _target_names(item)]
    return []  # an NSRef assigns an attribute, not a name


def _frame_stores(stmts: list[nodes.Node]) -> set[str]:
    """Names a statement list binds in its own frame (`if` opens none; loops, macros, calls and blocks do)."""
    stores: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, (nodes.Assign, nodes.AssignBlock)):
            stores.update(_target_names(stmt.target))
        elif isinstance(stmt, nodes.Macro):
            stores.add(stmt.name)
        elif isinstance(stmt, nodes.If):
            stores |= _frame_stores(stmt.body) | _frame_stores(stmt.else_)
            for branch in stmt.elif_:
                stores |= _frame_stores(branch.body)
    return stores


class _Frame:
    """One Jinja frame: the names it binds, and those definitely bound at the point being walked."""

    def __init__(self, parent: _Frame | None, stores: set[str], bound: set[str]) -> None:
        self.parent, self.stores, self.bound = parent, stores, set(bound)

    def binder(self, name: str) -> _Frame | None:
        frame: _Frame | None = self
        while frame is not None and name not in frame.stores:
            frame = frame.parent
        return frame


def _private_macros(tree: nodes.Template) -> set[int]:
    """ids of the macros whose parameter names cannot show: the macro is defined once, never bound
    otherwise, never read but as the callee of a call with exactly one positional argument per parameter
    (so no default, missing-parameter Undefined, keyword or `arguments` lookup names them), and its body
    reads none of the implicit `caller`, `varargs`, `kwargs`."""
    macros: dict[str, list[nodes.Macro]] = {}
    for macro in tree.find_all(nodes.Macro):
        macros.setdefault(macro.name, []).append(macro)
    plain_calls: dict[int, int] = {}  # id(callee Name) -> number of positional arguments
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and not (call.kwargs or call.dyn_args or call.dyn_kwargs):
            plain_calls[id(call.node)] = len(call.args)
    for block in tree.find_all(nodes.CallBlock):
        plain_calls.pop(id(block.call.node), None)  # a call block passes `caller`
    private = set()
    for name, defined in macros.items():
        if len(defined) != 1:
            continue
        (macro,) = defined
        uses = [node for node in tree.find_all(nodes.Name) if node.name == name]
        if any(node.ctx != "load" or plain_calls.get(id(node)) != len(macro.args) for node in uses):
            continue
        if not any(node.name in ("caller", "varargs", "kwargs") for node in macro.find_all(nodes.Name)):
            private.add(id(macro))
    return private


class _Renamer:
    def __init__(self) -> None:
        self.binding: dict[int, _Frame] = {}  # id(Name or NSRef node) -> the frame its name is bound in
        self.unsafe: set[str] = set(_SPECIAL_NAMES)  # names never renamed anywhere
        self.private_macros: set[int] = set()

    def rename(self, tree: nodes.Template) -> None:
        self.private_macros = _private_macros(tree)
        self._statements(tree.body, _Frame(None, _frame_stores(tree.body), set()))
        numbers: dict[tuple[int, str], str] = {}
        for node in tree.find_all((nodes.Name, nodes.NSRef)):
            assert isinstance(node, (nodes.Name, nodes.NSRef))
            frame = self.binding.get(id(node))
            if frame is None or node.name in self.unsafe:
                continue
            key = (id(frame), node.name)
            node.name = numbers.setdefault(key, f"%{len(numbers)}")

    def _read(self, node: nodes.Name | nodes.NSRef, frame: _Frame) -> None:
        binder = frame.binder(node.name)
        if binder is None:
            return  # read from the context: never renamed
        if node.name not in binder.bound:
            self.unsafe.add(node.name)  # may read an outer value or the context
        self.binding[id(node)] = binder

    def _expr(self, expr: nodes.Node, frame: _Frame) -> None:
        for node in (expr, *expr.find_all((nodes.Name, nodes.NSRef))):
            if isinstance(node, nodes.NSRef) or (isinstance(node, nodes.Name) and node.ctx == "load"):
                self._read(node, frame)

    def _bind(self, target: nodes.Node, frame: _Frame) -> None:
        if isinstance(target, nodes.NSRef):
            self._read(target, frame)
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self._bind(item, frame)
        elif isinstance(target, nodes.Name):
            self.binding[id(target)] = frame
            frame.bound.add(target.name)

    def _nested(self, parent: _Frame, params: list[str], body: list[nodes.Node]) -> _Frame:
        self.unsafe.update(params)  # parameters keep their names
        return _Frame(parent, set(params) | _frame_stores(body), set(params))

    def _statements(self, stmts: list[nodes.Node], frame: _Frame) -> None:
        for stmt in stmts:
            self._statement(stmt, frame)

    def _statement(self, stmt: nodes.Node, frame: _Frame) -> None:
        if isinstance(stmt, nodes.Output):
            for expr in stmt.nodes:
                self._expr(expr, frame)
        elif isinstance(stmt, nodes.Assign):
            self._expr(stmt.node, frame)
            self._bind(stmt.target, frame)
        elif isinstance(stmt, nodes.AssignBlock):
            self._statements(stmt.body, _Frame(frame, _frame_stores(stmt.body), set()))
            if stmt.filter is not None:
                self._expr(stmt.filter, frame)
            self._bind(stmt.target, frame)
        elif isinstance(stmt, nodes.If):
            self._if(stmt, frame)
        elif isinstance(stmt, nodes.For):
            self._expr(stmt.iter, frame)
            targets = _target_names(stmt.target)
            loop = _Frame(frame, set(targets) | _frame_stores(stmt.body), set(targets))
            self._bind(stmt.target, loop)
            if stmt.test is not None:
                self._expr(stmt.test, loop)
            self._statements(stmt.body, loop)
            self._statements(stmt.else_, _Frame(frame, _frame_stores(stmt.else_), set()))
        elif isinstance(stmt, nodes.Macro):
            self.unsafe.add(stmt.name)
            params = [arg.name for arg in stmt.args]
            if id(stmt) in self.private_macros:
                inner = _Frame(frame, set(params) | _frame_stores(stmt.body), set(params))
                for arg in stmt.args:
                    self._bind(arg, inner)
            else:
                inner = self._nested(frame, params, stmt.body)
            for default in stmt.defaults:
                self._expr(default, inner)
            self._statements(stmt.body, inner)
            frame.bound.add(stmt.name)
        elif isinstance(stmt, nodes.CallBlock):
            self._expr(stmt.call, frame)
            inner = self._nested(frame, [arg.name for arg in stmt.args], stmt.body)
            for default in stmt.defaults:
                self._expr(default, inner)
            self._statements(stmt.body, inner)
        elif isinstance(stmt, nodes.FilterBlock):
            self._expr(stmt.filter, frame)
            self._statements(stmt.body, _Frame(frame, _frame_stores(stmt.body), set()))
        elif not isinstance(stmt, (nodes.Break, nodes.Continue)):
            raise AssertionError(f"unexpected statement {type(stmt).__name__}")  # _literal_only excludes it

    def _if(self, stmt: nodes.If, frame: _Frame) -> None:
        before = set(frame.bound)
        after: set[str] | None = None
        branches = [stmt.body, *(branch.body for branch in stmt.elif_), stmt.else_]
        for test in (stmt.test, *(branch.test for branch in stmt.elif_)):
            self._expr(test, frame)
        for body in branches:
            frame.bound = set(before)
            self._statements(body, frame)
            after = frame.bound if after is None else after & frame.bound
        frame.bound = after if after is not None else before


# --- the text ------------------------------------------------------------------------------------------


def _dump(value: Any) -> str:
    if isinstance(value, nodes.Node):
        if isinstance(value, (nodes.Const, nodes.TemplateData)):
            inner = value.value if isinstance(value, nodes.Const) else value.data
            return f"{type(value).__name__}({type(inner).__name__}:{inner!r})"
        fields = ",".join(f"{field}={_dump(item)}" for field, item in value.iter_fields())
        return f"{type(value).__name__}({fields})"
    if isinstance(value, list):
        return "[" + ",".join(_dump(item) for item in value) + "]"
    return repr(value)
