"""Python functions as tool schemas, exactly as transformers' `get_json_schema` builds them.

Templates see the JSON schema, so any difference (a key order, a sorted list, a stripped space) changes
the prompt. Every rule below reproduces transformers 5.23 behaviour, quirks included; comments say which
quirk a line is there for. Nothing heavy is imported: PIL and torch are only consulted if the caller has
already imported them, since a hint naming their classes cannot exist otherwise.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["DocstringParsingError", "TypeHintParsingError", "function_to_schema", "tools_to_schemas"]


class TypeHintParsingError(ValueError):
    """A parameter has no type hint, or one with no JSON schema equivalent."""


class DocstringParsingError(ValueError):
    """The docstring is missing, or does not describe every parameter."""


_NOT_A_TOOL = (
    "Tools should either be a JSON schema, or a callable function with type hints "
    "and a docstring suitable for auto-conversion to a schema."
)

# JSON type names of the hints that map one-to-one; `Any` maps to the empty schema (None here).
_PLAIN_TYPES: dict[Any, str | None] = {
    int: "integer",
    float: "number",
    str: "string",
    bool: "boolean",
    type(None): "null",
    list: "array",
    tuple: "array",
    dict: "object",
    Any: None,
}
# Values that may appear in an "enum": exact types only, so an Enum member or a bytes value is refused.
_ENUM_VALUE_TYPES: dict[type, str] = {
    int: "integer",
    float: "number",
    str: "string",
    bool: "boolean",
    type(None): "null",
}
_UNION_ORIGINS = (typing.Union, types.UnionType)
_MISSING = object()


# ---------------------------------------------------------------------------------------------------
# Type hints
# ---------------------------------------------------------------------------------------------------


def _optional_media_type(hint: Any) -> str | None:
    """PIL images and torch tensors count only when their package is loaded, as in transformers."""
    pil = sys.modules.get("PIL.Image")
    if pil is not None and hint is getattr(pil, "Image", _MISSING):
        return "image"
    torch = sys.modules.get("torch")
    if torch is not None and hint is getattr(torch, "Tensor", _MISSING):
        return "audio"
    return None


def _enum_schema(values: list[Any]) -> dict[str, Any]:
    """ "type" lists each JSON type once, in first-seen order (not sorted, unlike unions)."""
    names = list(dict.fromkeys(_ENUM_VALUE_TYPES[type(value)] for value in values))
    return {"type": names[0] if len(names) == 1 else names, "enum": values}


def _bare_hint_schema(hint: Any) -> dict[str, Any]:
    """A hint with no typing origin: an Enum class, a known builtin, or an unconvertible class."""
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [member.value for member in hint]
        if not values:
            raise TypeHintParsingError(f"The Enum {hint.__name__} has no members, so no value could ever match it.")
        if any(type(value) not in _ENUM_VALUE_TYPES for value in values):
            raise TypeHintParsingError(
                f"The Enum {hint.__name__} has member values {values!r}, but only int, float, str, bool and None "
                "values can be listed in a JSON schema enum."
            )
        return _enum_schema(values)
    # A dict lookup, like transformers', so an unhashable hint fails with the same TypeError.
    name = _PLAIN_TYPES.get(hint, _MISSING)
    if name is _MISSING:
        name = _optional_media_type(hint)
        if name is None:
            raise TypeHintParsingError(
                f"Couldn't convert the type hint {hint!r} to a JSON schema, likely because it is a custom class. "
                "Supported hints are int, float, str, bool, None, Any, Enum classes, typing.Literal, and list, "
                "tuple, dict and unions built from those. For anything else, write the tool's JSON schema by hand "
                "and pass that instead of the function."
            )
    return {} if name is None else {"type": name}


def _union_schema(members: tuple[Any, ...]) -> dict[str, Any]:
    """Plain types merge into one sorted "type" list; anything richer needs "anyOf" to keep its keys."""
    schemas = [_hint_schema(member) for member in members if member is not type(None)]
    if len(schemas) == 1:
        out = schemas[0]
    elif all(list(s) == ["type"] and isinstance(s["type"], str) for s in schemas):
        names = sorted({s["type"] for s in schemas})  # `list | tuple` both give "array": keep one
        out = {"type": names[0] if len(names) == 1 else names}
    else:
        out = {"anyOf": schemas}
    if type(None) in members:
        out["nullable"] = True
    return out


def _tuple_schema(hint: Any, members: tuple[Any, ...]) -> dict[str, Any]:
    """Fixed-length tuples become "prefixItems"; the two shapes transformers refuses are refused too."""
    if not members:
        return {"type": "array"}
    shown = str(hint).replace("typing.", "")
    if len(members) == 1:
        raise TypeHintParsingError(
            f"The type hint {shown} is a tuple with a single element, which is not converted to a JSON schema. "
            "Use list[...] if it can hold several elements, or drop the tuple[...] wrapper if it holds exactly one."
        )
    if ... in members:
        raise TypeHintParsingError(
            f"The type hint {shown} uses '...', which is not supported in tuple hints; use list[...] for "
            "variable-length inputs."
        )
    return {"type": "array", "prefixItems": [_hint_schema(member) for member in members]}


def _hint_schema(hint: Any) -> dict[str, Any]:
    """The JSON schema of one resolved type hint; always a fresh dict, since callers add keys to it."""
    origin = typing.get_origin(hint)
    members = typing.get_args(hint)
    if origin is None:
        return _bare_hint_schema(hint)
    if origin in _UNION_ORIGINS:
        return _union_schema(members)
    if origin is typing.Literal and members:
        if any(type(value) not in _ENUM_VALUE_TYPES for value in members):
            raise TypeHintParsingError(
                f"Only int, float, str, bool and None values can be listed in typing.Literal, not {hint!r}."
            )
        return _enum_schema(list(members))
    if origin is list:
        return {"type": "array", "items": _hint_schema(members[0])} if members else {"type": "array"}
    if origin is tuple:
        return _tuple_schema(hint, members)
    if origin is dict:
        # JSON object keys are always strings, so only the value type can be described.
        if len(members) != 2:
            return {"type": "object"}
        return {"type": "object", "additionalProperties": _hint_schema(members[1])}
    raise TypeHintParsingError(
        f"Couldn't convert the type hint {hint!r} to a JSON schema: {origin!r} generics are not supported. "
        "Use list, tuple, dict, Union or Literal, or write the tool's JSON schema by hand."
    )


def _parameters_schema(func: Callable[..., Any], func_name: str) -> dict[str, Any]:
    """The "parameters" object, plus a "return" property when the return hint converts."""
    hints = typing.get_type_hints(func)  # first, as transformers does, so its NameError wins
    params = inspect.signature(func).parameters
    # An unannotated leading `self`/`cls` is the receiver of an unbound method, not a tool argument.
    receiver = next(iter(params), None)
    if receiver not in ("self", "cls") or not params[receiver].annotation == inspect.Parameter.empty:
        receiver = None
    required = []
    for name, param in params.items():
        if name == receiver:
            continue
        # `==`, not `is`, on purpose: transformers compares that way (a numpy-array default then raises).
        if param.annotation == inspect.Parameter.empty:
            raise TypeHintParsingError(f"Argument {param.name} is missing a type hint in function {func_name}")
        if param.default == inspect.Parameter.empty:
            required.append(name)  # *args and **kwargs have no default, so they count as required
    properties: dict[str, Any] = {}
    for name, hint in hints.items():  # annotation order, not signature order
        if name == receiver:
            continue
        if name != "return":
            properties[name] = _hint_schema(hint)
            continue
        try:  # the model never writes the return value, so an odd return hint is simply left out
            properties[name] = _hint_schema(hint)
        except TypeHintParsingError:
            pass
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


# ---------------------------------------------------------------------------------------------------
# Google-style docstrings
# ---------------------------------------------------------------------------------------------------

# A line that opens an argument: indentation, a bare word, a colon ("x (int):" does not qualify).
_ARG_LINE = re.compile(r"([ \t]*)(\w+):")
_CHOICES = re.compile(r"\(choices:", re.IGNORECASE)


def _first_index(text: str, markers: tuple[str, ...]) -> int:
    """Where the earliest marker starts, anywhere in `text` (mid-word too), else len(text)."""
    found = [i for i in (text.find(marker) for marker in markers) if i >= 0]
    return min(found, default=len(text))


def _section_body(doc: str, header: str) -> str | None:
    """Text after the first `header` line whose preceding whitespace holds a newline; None if absent."""
    start = doc.find(header)
    while start >= 0:
        before = doc[:start]
        if "\n" in before[len(before.rstrip()) :]:
            return doc[start + len(header) :]
        start = doc.find(header, start + 1)
    return None


def _ends_argument(line: str, indent: str) -> bool:
    """True if `line` opens a new argument: an `name:` line not indented deeper than the current one."""
    if _ARG_LINE.match(line) is None:
        return False
    return not (line.startswith(indent) and line[len(indent) : len(indent) + 1] in (" ", "\t"))


def _argument_descriptions(block: str) -> dict[str, str]:
    """Each argument's description, continuation lines joined by single spaces; later duplicates win."""
    lines = [line for line in block.split("\n") if line.strip()]
    out: dict[str, str] = {}
    heads = [_ARG_LINE.match(line) for line in lines]
    i = 0
    while i < len(lines) and heads[i] is None:
        i += 1  # text before the first `name:` line is ignored; after it, every line belongs to an argument
    while i < len(lines) and (head := heads[i]) is not None:
        indent, name = head.group(1), head.group(2)
        rest = lines[i][head.end() :]
        i += 1
        parts = [rest] if rest.strip() else []
        if not parts and i < len(lines):
            # "name:" alone on its line: the next line is its description whatever it looks like
            parts.append(lines[i])
            i += 1
        while i < len(lines) and not _ends_argument(lines[i], indent):
            parts.append(lines[i])
            i += 1
        out[name] = " ".join(part.strip() for part in parts)
    return out


def _parse_docstring(doc: str) -> tuple[str, dict[str, str], str | None]:
    """(summary, argument descriptions, Returns text or None) of a cleaned Google-style docstring."""
    summary = doc[: _first_index(doc, ("Args:", "Returns:", "Raises:"))].strip()
    args_body = _section_body(doc, "Args:\n")
    args = {}
    if args_body is not None:
        args = _argument_descriptions(args_body[: _first_index(args_body, ("Returns:", "Raises:"))].rstrip())
    returns_body = _section_body(doc, "Returns:\n")
    returns = None
    if returns_body is not None:
        returns_body = returns_body.lstrip()
        returns = returns_body[: _first_index(returns_body, ("Raises:",))].strip()
    return summary, args, returns


def _apply_description(schema: dict[str, Any], text: str) -> None:
    """Set "description", turning a trailing `(choices: <JSON list>)` into "enum"."""
    found = _CHOICES.search(text)
    tail = text.rstrip()
    if found is not None and tail.endswith(")") and len(tail) > found.end():
        # Only leading whitespace goes: json.loads itself decides what trailing whitespace it accepts.
        choices = json.loads(tail[found.end() : -1].lstrip())  # malformed JSON raises, as in transformers
        schema["enum"] = [c.strip() if isinstance(c, str) else c for c in choices]
        text = text[: found.start()].strip()
    schema["description"] = text


# ---------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------


def function_to_schema(func: Callable[..., Any]) -> dict[str, Any]:
    """The `{"type": "function", "function": {...}}` schema transformers' `get_json_schema` returns.

    Raises DocstringParsingError / TypeHintParsingError where transformers raises its
    DocstringParsingException / TypeHintParsingException; other errors (NameError from an unresolvable
    hint, JSONDecodeError from bad `(choices: ...)`) pass through unchanged, as they do there.
    """
    doc = inspect.getdoc(func)
    func_name = getattr(func, "__name__", "operation")
    if not doc:
        raise DocstringParsingError(f"Cannot generate JSON schema for {func_name} because it has no docstring!")
    summary, descriptions, returns = _parse_docstring(doc.strip())
    parameters = _parameters_schema(func, func_name)
    return_schema = parameters["properties"].pop("return", None)
    if return_schema is not None and returns is not None:
        return_schema["description"] = returns
    for name, schema in parameters["properties"].items():
        if name not in descriptions:
            raise DocstringParsingError(
                f"Cannot generate JSON schema for {func_name} because the docstring has no description for the "
                f"argument '{name}'"
            )
        _apply_description(schema, descriptions[name])
    function: dict[str, Any] = {"name": func_name, "description": summary, "parameters": parameters}
    if return_schema is not None:
        function["return"] = return_schema
    return {"type": "function", "function": function}


def tools_to_schemas(tools: Iterable[Any] | None) -> list[Any] | None:
    """The `tools` list a template sees: dicts as given, functions and methods converted, in order."""
    if tools is None:
        return None
    schemas: list[Any] = []
    for tool in tools:
        if isinstance(tool, dict):
            schemas.append(tool)
        elif inspect.isfunction(tool) or inspect.ismethod(tool):
            schemas.append(function_to_schema(tool))
        else:
            raise ValueError(_NOT_A_TOOL)
    return schemas
