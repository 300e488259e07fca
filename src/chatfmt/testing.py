"""A parity test kit for plugin and format authors: three lines in their own test suite.

    from chatfmt.testing import assert_parity

    def test_my_format():
        assert_parity("my-format")        # a registered or plugin name, a file, or a chatfmt.Template

It renders the template on probe conversations derived from its own Jinja source (every role and
content it tests, lengths around every number it compares, empty and whitespace contents, every role
position, then a seeded random sweep; see `chatfmt.routing.claims`) and checks, for each one, that
1. the compiled format (when the template has one) gives what chatfmt's Jinja engine gives, and
2. chatfmt gives what transformers' own renderer gives, when transformers is installed.
`chatfmt plugin check NAME` runs the same from the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .clock import fixed_clock, now
from .registry import get_template
from .routing.claims import Conversation, Difference, first_difference, probe_conversations, with_variables
from .template import Template

__all__ = ["ParityReport", "assert_parity", "check_parity"]


@dataclass(frozen=True)
class ParityReport:
    """What `check_parity` found; `ok` when nothing differed."""

    name: str
    compiled: bool
    probes: int  # conversations (times switch settings), each rendered with and without the generation prompt
    format_difference: Difference | None  # compiled format vs chatfmt's Jinja engine
    transformers_checked: bool
    transformers_difference: Difference | None  # chatfmt vs transformers' renderer

    @property
    def ok(self) -> bool:
        return self.format_difference is None and self.transformers_difference is None

    def describe(self) -> str:
        lines = [f"{self.name}: {self.probes} probe conversations, with and without the generation prompt"]
        if not self.compiled:
            lines.append("  format vs Jinja: not compared (the template has no compiled format)")
        elif self.format_difference is None:
            lines.append("  format vs Jinja: identical")
        else:
            lines.append(
                "  format vs Jinja: DIFFERENT at " + self.format_difference.describe("the compiled format", "Jinja")
            )
        if not self.transformers_checked:
            lines.append("  chatfmt vs transformers: not compared (transformers is not installed)")
        elif self.transformers_difference is None:
            lines.append("  chatfmt vs transformers: identical")
        else:
            lines.append(
                "  chatfmt vs transformers: DIFFERENT at "
                + self.transformers_difference.describe("chatfmt", "transformers")
            )
        return "\n".join(lines)


def _transformers_render(source: str, special_tokens: Mapping[str, str]) -> Callable[..., str] | None:
    """transformers' renderer for a call, as `apply_chat_template(tokenize=False)` makes it; None without it."""
    try:
        from transformers.utils.chat_template_utils import render_jinja_template
    except ImportError:
        return None

    def render(conversation: Conversation, add_generation_prompt: bool, variables: Mapping[str, Any]) -> str:
        context: dict[str, Any] = {**special_tokens, **variables}  # a call's variable overrides a token, as there
        result: Any = render_jinja_template(
            conversations=[conversation], chat_template=source, add_generation_prompt=add_generation_prompt, **context
        )
        return result[0][0]

    return render


def _first_difference(
    fast: Callable[..., Any], reference: Callable[..., Any], source: str, settings: list[dict[str, Any]]
) -> Difference | None:
    """The first probe, under any of the variable settings, on which the two renders differ."""
    for variables in settings:
        difference = first_difference(with_variables(fast, variables), with_variables(reference, variables), source)
        if difference is not None:
            return replace(difference, variables=variables)
    return None


def check_parity(template: Template | str, *, transformers: bool | None = None) -> ParityReport:
    """Compare the template's compiled format with its Jinja, and chatfmt with transformers (see the module).

    A format's switch (`enable_thinking`) is checked absent, True and False. `transformers`: True requires
    it (ImportError when missing), False skips it, None uses it when installed.
    """
    if isinstance(template, str):
        template = get_template(template)
    source = template.select()
    jinja = template.jinja_only()
    handled = template.format.handled if template.format is not None else frozenset()
    settings: list[dict[str, Any]] = [{}, *({name: value} for name in sorted(handled) for value in (True, False))]

    def ours(conversation: Conversation, add_generation_prompt: bool, variables: Mapping[str, Any]) -> str:
        return template.render(conversation, add_generation_prompt=add_generation_prompt, **variables)

    def by_jinja(conversation: Conversation, add_generation_prompt: bool, variables: Mapping[str, Any]) -> str:
        return jinja.render(conversation, add_generation_prompt=add_generation_prompt, **variables)

    format_difference = None
    if template.is_compiled:
        with fixed_clock(now()):  # both engines print the same date
            format_difference = _first_difference(ours, by_jinja, source, settings)
    reference = None if transformers is False else _transformers_render(source, template.special_tokens)
    if reference is None and transformers:
        raise ImportError("check_parity(transformers=True) needs transformers installed")
    transformers_difference = _first_difference(ours, reference, source, settings) if reference is not None else None
    return ParityReport(
        name=template.name or "<template>",
        compiled=template.is_compiled,
        probes=sum(1 for _ in probe_conversations(source)) * len(settings),
        format_difference=format_difference,
        transformers_checked=reference is not None,
        transformers_difference=transformers_difference,
    )


def assert_parity(template: Template | str, *, transformers: bool | None = None) -> ParityReport:
    """`check_parity`, raising AssertionError with the first differing input and both outputs."""
    report = check_parity(template, transformers=transformers)
    if not report.ok:
        raise AssertionError(report.describe())
    return report
