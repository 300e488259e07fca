"""Type stub for the compiled builder; `_render_py` has the same names and behaviour."""

from collections.abc import Mapping, Sequence
from typing import Any, Optional, final

from ..formats.spec import Format

Span = tuple[int, int]
Spans = tuple[str, list[Optional[Span]], list[Span]]

@final
class Renderer:
    @property
    def format(self) -> Format: ...
    @property
    def usable(self) -> bool: ...
    def __init__(self, fmt: Format, special_tokens: Mapping[str, Any] | None = None) -> None: ...
    @property
    def handled(self) -> frozenset[str]: ...
    def covers(self, messages: object, variables: Mapping[str, Any] | None = None) -> bool: ...
    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        add_generation_prompt: bool = False,
        variables: Mapping[str, Any] | None = None,
    ) -> str | None: ...
    def render_batch(
        self,
        conversations: Sequence[Sequence[Mapping[str, Any]]],
        add_generation_prompt: bool = False,
        variables: Mapping[str, Any] | None = None,
    ) -> list[str | None]: ...
    def render_spans(
        self,
        messages: Sequence[Mapping[str, Any]],
        add_generation_prompt: bool = False,
        variables: Mapping[str, Any] | None = None,
    ) -> Spans | None: ...
