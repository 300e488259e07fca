"""Strict input checks (`validate=True`): refuse what a template would render silently wrong.

transformers renders whatever it is given: a role the template never mentions prints nothing (under
Mistral v3 a message with role "hacker" leaves just `<s>`), a missing content prints "", a dict content
prints its Python repr. That is parity, and chatfmt keeps it by default; a server that builds prompts
from requests asks for these checks instead, and gets `InvalidConversation` naming the message and the
field.

What a template handles is read from the template itself (`InputContract`):
- roles: for a compiled format, its role table; for Jinja, the role strings the source compares
  `message.role` with. A template that prints the role itself (a generic turn, `<|im_start|>{{ role }}`),
  compares negatively (`!=`, `not in`) or has an `else` branch after a role test handles every role.
- content parts: whether the source tests content with `is string`/`is iterable`/... or loops over it;
  otherwise a list of parts would print as a Python list.
- tool calls: a message may lack content when it has `tool_calls` and the source reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from ._values import TYPE_CHECKING, value_class
from .errors import InvalidConversation
from .formats.spec import DECLINE, SKIP, Format, Reject, SystemPolicy, Turn

if TYPE_CHECKING:
    from typing import Any

__all__ = ["InputContract", "check_conversation", "check_message_shape", "input_contract"]

_PART_TESTS = frozenset(("string", "iterable", "sequence", "mapping"))
_SELECTS = frozenset(("selectattr", "rejectattr"))
_CASE_FILTERS = frozenset(("lower", "upper", "trim", "string"))


@value_class()
class InputContract:
    """What one template source can render: `roles` (None: any role), list contents, dict contents, and
    whether it reads `tool_calls` (so an assistant message may carry them instead of content).
    `fold_case`: the source compares roles after `|lower` or `|upper`, so "User" is a "user"."""

    roles: frozenset[str] | None
    content_parts: bool
    mapping_content: bool
    tool_calls: bool
    fold_case: bool = False


def input_contract(source: str, fmt: Format | None = None) -> InputContract:
    """The contract of `source`; with the compiled `fmt` that renders it, the roles come from its table."""
    read = _read_source(source)
    from_table = _UNDECIDED if fmt is None else _format_roles(fmt)
    if from_table is _UNDECIDED:
        return read
    return InputContract(from_table, read.content_parts, read.mapping_content, read.tool_calls)


_UNDECIDED: Any = object()


def _format_roles(fmt: Format) -> frozenset[str] | None:
    """The roles a format prints or refuses itself; None when its generic turn takes any role."""
    other = fmt.other
    if isinstance(other, (Turn, Reject)):
        return None  # a generic turn prints every role; a generic Reject makes the template refuse the rest
    pairs: tuple[tuple[str, Any], ...] = fmt.roles  # type: ignore[assignment]  # stored as pairs, see Format
    if other is not SKIP or any(rule is DECLINE for _, rule in pairs):
        return _UNDECIDED  # a role the builder leaves to Jinja: the source says what happens to it
    handled = {role for role, rule in pairs if isinstance(rule, (Turn, Reject))}
    if fmt.system in (SystemPolicy.LEAD, SystemPolicy.FOLD, SystemPolicy.COLLECT, SystemPolicy.REJECT):
        handled.add("system")
    return frozenset(handled)


def check_message_shape(message: Any, index: int, *, mapping_content: bool = False) -> None:
    """Raise InvalidConversation naming message `index` and the field when `message` is not a mapping
    with a string role and a content that is text, a list of content blocks (mappings), or null (or, with
    `mapping_content`, a mapping)."""
    if type(message) is not dict and not isinstance(message, Mapping):  # (the exact type first: it is faster)
        raise InvalidConversation(f"a message must be an object, got {json_type(message)}", message_index=index)
    if "role" not in message:
        raise InvalidConversation("the message has no 'role'", message_index=index, field="role")
    role = message["role"]
    if not isinstance(role, str):
        raise InvalidConversation(f"'role' must be a string, got {json_type(role)}", message_index=index, field="role")
    content = message.get("content")
    if content is None or isinstance(content, str) or (mapping_content and isinstance(content, Mapping)):
        return
    if isinstance(content, list):
        for position, block in enumerate(content):
            if not isinstance(block, Mapping):
                raise InvalidConversation(
                    f'content block {position} must be an object such as {{"type": "text", "text": ...}}, '
                    f"got {json_type(block)}",
                    message_index=index,
                    field="content",
                )
        return
    raise InvalidConversation(
        f"'content' must be a string, a list of content blocks, or null; got {json_type(content)}",
        message_index=index,
        field="content",
    )


def check_conversation(messages: Any, contract: InputContract) -> None:
    """Raise InvalidConversation for the first message the template would render silently wrong."""
    if type(messages) not in (list, tuple) and (
        isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence)
    ):
        raise InvalidConversation(f"a conversation is a list of messages, got {json_type(messages)}")
    for index, message in enumerate(messages):
        check_message_shape(message, index, mapping_content=contract.mapping_content)
        _check_role(message["role"], index, contract)
        _check_content(message, index, contract)


def _check_role(role: str, index: int, contract: InputContract) -> None:
    if contract.roles is None or role in contract.roles:
        return
    if contract.fold_case and role.casefold() in {name.casefold() for name in contract.roles}:
        return
    known = ", ".join(repr(name) for name in sorted(contract.roles)) or "none"
    raise InvalidConversation(
        f"the template does not handle role {role!r} (it would print nothing for it); it handles {known}",
        message_index=index,
        field="role",
    )


def _check_content(message: Mapping[str, Any], index: int, contract: InputContract) -> None:
    content = message.get("content")
    if content is None:
        if contract.tool_calls and message.get("tool_calls") is not None:
            return
        raise InvalidConversation(
            "the message has no content (None or missing): the template would print nothing for it",
            message_index=index,
            field="content",
        )
    if isinstance(content, (str, Mapping)):
        return  # a mapping passed the shape check: the template tests for one
    if not contract.content_parts:
        raise InvalidConversation(
            "the template prints content as text, and a list of content blocks would print as its Python repr; "
            "join the text blocks into one string",
            message_index=index,
            field="content",
        )
    for position, block in enumerate(content):
        if block.get("type") == "text" and not isinstance(block.get("text"), str):
            raise InvalidConversation(
                f"content block {position} is a text block whose 'text' is {json_type(block.get('text'))}, "
                "not a string",
                message_index=index,
                field="content",
            )


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for error messages ("object", "array", "null", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


# ---------------------------------------------------------------------------------------------------
# Reading a Jinja source
# ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _read_source(source: str) -> InputContract:
    import jinja2.nodes as nodes

    from .jinja.environment import new_environment

    tree = new_environment().parse(source)
    reader = _Reader(nodes)
    reader.visit(tree)
    roles = None if reader.generic or not reader.compared else frozenset(reader.compared)
    mapping = "mapping" in reader.content_tests
    parts = reader.loops_over_content or bool(reader.content_tests & _PART_TESTS)
    return InputContract(roles, parts, mapping, "tool_calls" in source, reader.fold_case)


class _Reader:
    """One walk over a parsed template, collecting what `input_contract` needs."""

    def __init__(self, nodes: Any) -> None:
        self.nodes = nodes
        self.role_names: set[str] = set()  # variables holding a message's role (`{% set role = m.role %}`)
        self.content_names: set[str] = set()
        self.compared: set[str] = set()
        self.generic = False  # prints the role, or some branch takes any role
        self.content_tests: set[str] = set()
        self.loops_over_content = False
        self.fold_case = False

    def _key(self, node: Any) -> str | None:
        n = self.nodes
        if isinstance(node, n.Filter) and node.name in _CASE_FILTERS and node.node is not None:
            return self._key(node.node)  # `role|lower` is the role, compared without case
        if isinstance(node, n.Getattr):
            return node.attr
        if isinstance(node, n.Getitem) and isinstance(node.arg, n.Const) and isinstance(node.arg.value, str):
            return node.arg.value
        if isinstance(node, n.Name):
            if node.name in self.role_names:
                return "role"
            if node.name in self.content_names:
                return "content"
        return None

    def _mentions(self, node: Any, key: str, *, outside_tests: bool = False) -> bool:
        """Whether `key` (role/content) is read anywhere in `node`; with `outside_tests`, comparisons and
        conditions do not count (they use the value, they do not print it)."""
        n = self.nodes
        if self._key(node) == key:
            return True
        if outside_tests and isinstance(node, (n.Compare, n.Test)):
            return False
        if (
            outside_tests
            and isinstance(node, n.Call)
            and isinstance(node.node, n.Name)
            and node.node.name == "raise_exception"
        ):
            return False  # naming the role in an error message is not printing it
        for child in node.iter_child_nodes():
            if outside_tests and isinstance(node, n.CondExpr) and child is node.test:
                continue
            if self._mentions(child, key, outside_tests=outside_tests):
                return True
        return False

    def visit(self, node: Any, gated: bool = False) -> None:
        """Walk `node`; `gated`: inside the body of an `if` that tests for named roles, where printing
        the role prints one of those names."""
        n = self.nodes
        if isinstance(node, n.If):
            self.visit(node.test, gated)
            tests_role = self._mentions(node.test, "role")
            names_roles = tests_role and self._names_roles(node.test)
            if tests_role and self._prints_content(node.else_ if names_roles else node.body):
                self.generic = True  # a branch reached by roles it does not name prints their messages
            for child in node.body:
                self.visit(child, gated or names_roles)
            for child in [*node.elif_, *node.else_]:
                self.visit(child, gated)
            return
        if isinstance(node, n.Assign) and isinstance(node.target, n.Name):
            key = self._key(node.node)
            if key == "role":
                self.role_names.add(node.target.name)
            elif key == "content":
                self.content_names.add(node.target.name)
            elif not gated and self._mentions(node.node, "role", outside_tests=True):
                self.generic = True  # the role flows into text the template builds
        elif (
            isinstance(node, n.Output)
            and not gated
            and any(self._mentions(item, "role", outside_tests=True) for item in node.nodes)
        ):
            self.generic = True
        elif isinstance(node, n.Compare):
            self._compare(node)
        elif isinstance(node, n.Test) and self._mentions(node.node, "content"):
            self.content_tests.add(node.name)
        elif isinstance(node, n.Filter) and node.name in _SELECTS:
            self._select(node)
        elif isinstance(node, n.For) and self._mentions(node.iter, "content"):
            self.loops_over_content = True
        elif isinstance(node, n.Call) and not gated and self._mentions(node, "role", outside_tests=True):
            self.generic = True  # a macro or method given the role
        for child in node.iter_child_nodes():
            self.visit(child, gated)

    def _names_roles(self, test: Any) -> bool:
        """Whether a condition holds only for roles it names: a positive comparison, not negated."""
        n = self.nodes
        negations = [test] if isinstance(test, n.Not) else list(test.find_all(n.Not))
        if any(self._mentions(negation, "role") for negation in negations):
            return False
        return any(
            self._key(compare.expr) == "role" and all(operand.op in ("eq", "in") for operand in compare.ops)
            for compare in ([test] if isinstance(test, n.Compare) else test.find_all(n.Compare))
        )

    def _prints_content(self, body: list[Any]) -> bool:
        return any(
            self._mentions(output, "content") for statement in body for output in statement.find_all(self.nodes.Output)
        ) or any(
            isinstance(statement, self.nodes.Output) and self._mentions(statement, "content") for statement in body
        )

    def _compare(self, node: Any) -> None:
        n = self.nodes
        operands = [node.expr, *(operand.expr for operand in node.ops)]
        if not any(self._key(operand) == "role" for operand in operands):
            return
        if any(isinstance(operand, n.Filter) and operand.name in _CASE_FILTERS for operand in operands):
            self.fold_case = True
        for operand in operands:
            if isinstance(operand, n.Const) and isinstance(operand.value, str):
                self.compared.add(operand.value)
            elif isinstance(operand, (n.List, n.Tuple)):
                self.compared.update(
                    item.value for item in operand.items if isinstance(item, n.Const) and isinstance(item.value, str)
                )

    def _select(self, node: Any) -> None:
        n = self.nodes
        args = node.args
        if len(args) == 3 and all(isinstance(arg, n.Const) for arg in args) and args[0].value == "role":
            if node.name == "rejectattr" or args[1].value in ("ne", "!="):
                return
            if isinstance(args[2].value, str):
                self.compared.add(args[2].value)
