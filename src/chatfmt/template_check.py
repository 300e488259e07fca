"""`chatfmt check`: what a template supports, which engine serves it, and what to watch for.

Someone adopting a template from the Hub wants to know, before any request reaches it: what inputs it
understands (system role, tools, tool calls, content parts, generation tags, reasoning, the variables
it reads), whether chatfmt's compiled path serves it and if not why, which of its constructs other
engines render differently or lack (SPEC §6: minijinja, minja as in llama.cpp), and which could run up
the work budget (loops not bounded by the input, recursion, strings grown in loops). Everything is read
from the parsed template; only the one-message smoke render executes it.

A finding is an error (the template cannot be used: it does not parse, or cannot render one user
message) or a warning; `chatfmt check` exits non-zero on errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jinja2
import jinja2.nodes as nodes

from . import routing
from .jinja.environment import LOOP_GUARD, new_environment, template_variables
from .strict import input_contract
from .template import Template

__all__ = ["check_template"]

CONTEXT = frozenset(("messages", "tools", "documents", "add_generation_prompt"))
REASONING = ("reasoning_content", "thinking", "reasoning")
SMOKE = [{"role": "user", "content": "Hello"}]
SMOKE_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "The city."}},
                "required": ["city"],
            },
        },
    }
]
# Python methods that minja (llama.cpp) and minijinja also provide; any other method call is flagged.
COMMON_METHODS = frozenset(
    (
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "startswith",
        "endswith",
        "upper",
        "lower",
        "title",
        "capitalize",
        "replace",
        "items",
        "keys",
        "values",
        "get",
    )
)


def check_template(template: Template) -> dict[str, Any]:
    """The report of every source of `template`: `{"name", "origin", "templates": {label: report}, "errors"}`,
    where `errors` counts the error findings of all sources."""
    sources = {"": template.source} if isinstance(template.source, str) else dict(template.source)
    reports = {label: _check_source(template, label, source) for label, source in sources.items()}
    return {
        "name": template.name,
        "origin": template.origin.kind,
        "templates": reports,
        "errors": sum(len(report["errors"]) for report in reports.values()),
    }


def _check_source(template: Template, label: str, source: str) -> dict[str, Any]:
    try:
        tree = new_environment().parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return {"errors": [f"the template does not parse: {exc.message} (line {exc.lineno})"], "warnings": []}
    contract = input_contract(source, template.format if label in ("", "default") else None)
    reads = sorted(template_variables(source) - CONTEXT)
    report: dict[str, Any] = {
        "supports": {
            "system_role": contract.roles is None or "system" in contract.roles,
            "tools": _mentions_name(tree, "tools"),
            "tool_calls": contract.tool_calls,
            "content_parts": contract.content_parts,
            "generation_tags": _has_generation(tree),
            "reasoning": any(field in source for field in REASONING),
        },
        "roles": None if contract.roles is None else sorted(contract.roles),
        "variables": reads,
        "compiled": _compiled(template, label, source),
        "portability": list(_portability(tree, source)),
        "budget_risks": list(_budget_risks(tree)),
        "errors": [],
        "warnings": [],
    }
    failure = _smoke_failure(template, label or None)
    needs = []
    if isinstance(failure, jinja2.UndefinedError):  # a special token or variable this check does not have
        needs.append(f"renders only with a value the check did not have: {failure}")
    elif failure is not None:
        report["errors"].append(f"cannot render one user message: {type(failure).__name__}: {failure}")
    report["warnings"] = needs + [item["detail"] for item in report["portability"]] + report["budget_risks"]
    return report


def _smoke_failure(template: Template, chat_template: str | None) -> Exception | None:
    """Why the template cannot render one user message, with or without a tool (tool-use templates need one)."""
    jinja = template.jinja_only()
    failure = None
    for tools in (None, SMOKE_TOOLS):
        try:
            jinja.render(SMOKE, add_generation_prompt=True, chat_template=chat_template, tools=tools)
            return None
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            failure = failure or exc
    return failure


def _compiled(template: Template, label: str, source: str) -> dict[str, Any]:
    known = template.format if label in ("", "default") and template.format is not None else routing.recognise(source)
    if template.path_for(SMOKE, chat_template=label or None) == "compiled" and known is not None:
        return {"path": "compiled", "format": known.name, "reason": None}
    if known is None:
        reason = "its source is not a known format (no built-in or plugin format has this exact program)"
    else:
        reason = (
            f"its source is format {known.name!r}, but with these special tokens the compiled builder does not "
            "render like Jinja (probe renders differ)"
        )
    return {"path": "jinja", "format": None, "reason": reason}


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _mentions_name(tree: nodes.Node, name: str) -> bool:
    return any(isinstance(node, nodes.Name) and node.name == name for node in _walk(tree))


def _has_generation(tree: nodes.Node) -> bool:
    return any(
        isinstance(node, nodes.CallBlock)
        and isinstance(node.call, nodes.Call)
        and isinstance(node.call.node, nodes.ExtensionAttribute)
        and node.call.node.name == "_generation"
        for node in _walk(tree)
    )


def _finding(engines: str, construct: str, detail: str) -> dict[str, str]:
    return {"engines": engines, "construct": construct, "detail": f"{construct}: {detail} ({engines})"}


def _portability(tree: nodes.Node, source: str) -> Iterator[dict[str, str]]:
    """Constructs that other engines render differently or lack (SPEC §6), each reported once."""
    seen: set[str] = set()

    def once(finding: dict[str, str]) -> Iterator[dict[str, str]]:
        if finding["construct"] not in seen:
            seen.add(finding["construct"])
            yield finding

    if "\r" in source:
        yield from once(_finding("minijinja", "CRLF newlines", "kept as \\r\\n in the output, where Jinja2 reads \\n"))
    for node in _walk(tree):
        if isinstance(node, nodes.Filter) and node.name == "tojson":
            yield from once(
                _finding("minijinja", "tojson", "escapes < > & ' as \\u003c…, where transformers prints them")
            )
            if node.kwargs or len(node.args) > 0:
                yield from once(
                    _finding(
                        "minijinja",
                        "tojson arguments",
                        "ensure_ascii/separators/sort_keys are unknown keyword arguments there",
                    )
                )
        elif isinstance(node, nodes.Filter) and node.name == "wordcount":
            yield from once(_finding("minijinja", "wordcount", "no such filter"))
        elif isinstance(node, nodes.Const) and isinstance(node.value, float):
            yield from once(_finding("minijinja", "float literals", "printed in another notation (1e-07 vs 0.0000001)"))
        elif isinstance(node, nodes.Mod) and isinstance(node.left, nodes.Const) and isinstance(node.left.value, str):
            yield from once(_finding("minijinja, minja", "'%' string formatting", "an error there"))
        elif (
            isinstance(node, nodes.CallBlock)
            and isinstance(node.call, nodes.Call)
            and isinstance(node.call.node, nodes.ExtensionAttribute)
        ):
            yield from once(_finding("minijinja, minja", "{% generation %}", "a syntax error there"))
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            method = node.node.attr
            if method not in COMMON_METHODS:
                yield from once(
                    _finding(
                        "minijinja, minja",
                        f".{method}()",
                        "a Python method in transformers; other engines implement only a few",
                    )
                )
        elif isinstance(node, nodes.Name) and node.name in ("strftime_now", "raise_exception") and node.ctx == "load":
            yield from once(_finding("minijinja", node.name, "a transformers global that must be registered there"))


def _budget_risks(tree: nodes.Node) -> Iterator[str]:
    """Constructs whose cost is not bounded by the conversation's size (see the work budget)."""
    macros = {node.name: node for node in _walk(tree) if isinstance(node, nodes.Macro)}
    for name, macro in macros.items():
        if any(
            isinstance(call, nodes.Call) and isinstance(call.node, nodes.Name) and call.node.name == name
            for call in _walk(macro)
        ):
            yield f"macro {name!r} calls itself: recursion whose depth the input may not bound"
    for node in _walk(tree):
        if isinstance(node, nodes.For):
            iterable = (
                node.iter.node if isinstance(node.iter, nodes.Filter) and node.iter.name == LOOP_GUARD else node.iter
            )
            if node.recursive:
                yield f"line {node.lineno}: a recursive loop, as deep as the data it walks"
            if (
                isinstance(iterable, nodes.Call)
                and isinstance(iterable.node, nodes.Name)
                and iterable.node.name == "range"
                and not all(isinstance(arg, nodes.Const) for arg in iterable.args)
            ):
                yield f"line {node.lineno}: a loop over range() of a computed length, not bounded by the input"
            depth = _loop_depth(node)
            if depth >= 3:
                yield f"line {node.lineno}: loops nested {depth} deep multiply their iterations"
            for grown in _grown_in_loop(node):
                yield f"line {grown.lineno}: {_grown_text(grown)} grows inside a loop: its cost is quadratic in its length"
        elif (
            isinstance(node, nodes.Mul)
            and any(isinstance(side, nodes.Const) and isinstance(side.value, str) for side in (node.left, node.right))
            and not all(isinstance(side, nodes.Const) for side in (node.left, node.right))
        ):
            yield f"line {node.lineno}: string repetition ('x' * n) by a computed count"
        elif (
            isinstance(node, nodes.Filter)
            and node.name in ("indent", "center")
            and any(not isinstance(arg, nodes.Const) for arg in node.args)
        ):
            yield f"line {node.lineno}: '{node.name}' by a computed width"


def _loop_depth(node: nodes.Node) -> int:
    """How many loops deep the deepest nesting under `node` (itself included) goes."""
    inner = max((_loop_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + 1 if isinstance(node, nodes.For) else inner


def _grown_in_loop(loop: nodes.For) -> Iterator[nodes.Node]:
    """`{% set x = x + … %}` / `{% set ns.x = ns.x ~ … %}` inside the loop: a string or list rebuilt per step."""
    for node in _walk(loop):
        if not isinstance(node, nodes.Assign):
            continue
        target = node.target
        for value in _walk(node.node):
            if isinstance(value, (nodes.Add, nodes.Concat)) and _same_place(target, value):
                yield node
                break


def _same_place(target: nodes.Node, expr: nodes.Node) -> bool:
    operands = expr.nodes if isinstance(expr, nodes.Concat) else [expr.left, expr.right]  # type: ignore[attr-defined]
    for operand in operands:
        if isinstance(target, nodes.Name) and isinstance(operand, nodes.Name) and operand.name == target.name:
            return True
        if (
            isinstance(target, nodes.NSRef)
            and isinstance(operand, nodes.Getattr)
            and isinstance(operand.node, nodes.Name)
            and operand.node.name == target.name
            and operand.attr == target.attr
        ):
            return True
    return False


def _grown_text(node: nodes.Node) -> str:
    target = node.target  # type: ignore[attr-defined]
    return f"{target.name}.{target.attr}" if isinstance(target, nodes.NSRef) else str(target.name)


def format_report(report: dict[str, Any]) -> str:
    """The report as text for a terminal: one section per source, errors and warnings last."""
    lines = [f"{report['name'] or 'template'} ({report['origin']})"]
    for label, part in report["templates"].items():
        if label:
            lines.append(f"\n[{label}]")
        if "supports" in part:
            supported = [name.replace("_", " ") for name, yes in part["supports"].items() if yes]
            missing = [name.replace("_", " ") for name, yes in part["supports"].items() if not yes]
            lines.append(f"  supports: {', '.join(supported) or 'none of the features checked'}")
            lines.append(f"  lacks:    {', '.join(missing) or 'nothing checked'}")
            lines.append(f"  roles:    {'any' if part['roles'] is None else ', '.join(part['roles'])}")
            lines.append(
                f"  reads:    {', '.join(part['variables']) or 'only messages, tools, documents, add_generation_prompt'}"
            )
            compiled = part["compiled"]
            engine = (
                f"compiled (format {compiled['format']})"
                if compiled["path"] == "compiled"
                else f"jinja: {compiled['reason']}"
            )
            lines.append(f"  engine:   {engine}")
        lines += [f"  error:    {error}" for error in part["errors"]]
        lines += [f"  warning:  {warning}" for warning in part["warnings"]]
    verdict = f"{report['errors']} error(s)" if report["errors"] else "no errors"
    return "\n".join(lines) + f"\n{verdict}\n"
