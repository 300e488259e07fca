"""chatfmt: chat conversations to the exact prompt text a model expects.

    >>> import chatfmt
    >>> chatfmt.get_template("chatml").render([{"role": "user", "content": "Hi"}], add_generation_prompt=True)
    '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'

Servers import chatfmt on every start, so the public names load on first use (PEP 562): `import chatfmt`
costs next to nothing, and a name costs only the modules it needs (a built-in render never loads jinja2).
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing itself costs an import; mypy reads this name as typing's
if TYPE_CHECKING:
    from typing import Any

    from .clock import fixed_clock
    from .compat import apply_chat_template
    from .errors import ChatfmtError, HubError, InvalidConversation, PluginError, TemplateNotFound
    from .formats.spec import Format
    from .jinja.limits import Limits, TemplateLimitExceeded, set_default_limits
    from .registry import available_templates, get_template, register_template
    from .registry.hub import load_from_hub
    from .spans import MessageSpan, RenderedSpans
    from .template import Origin, Template

# public name -> the module that defines it
_HOMES = {
    "apply_chat_template": ".compat",
    "ChatfmtError": ".errors",
    "HubError": ".errors",
    "InvalidConversation": ".errors",
    "PluginError": ".errors",
    "TemplateNotFound": ".errors",
    "fixed_clock": ".clock",
    "Format": ".formats.spec",
    "Limits": ".jinja.limits",
    "TemplateLimitExceeded": ".jinja.limits",
    "set_default_limits": ".jinja.limits",
    "available_templates": ".registry",
    "get_template": ".registry",
    "register_template": ".registry",
    "load_from_hub": ".registry.hub",
    "MessageSpan": ".spans",
    "RenderedSpans": ".spans",
    "Origin": ".template",
    "Template": ".template",
}

__all__ = [
    "ChatfmtError",
    "Format",
    "HubError",
    "InvalidConversation",
    "Limits",
    "MessageSpan",
    "Origin",
    "PluginError",
    "RenderedSpans",
    "Template",
    "TemplateLimitExceeded",
    "TemplateNotFound",
    "apply_chat_template",
    "available_templates",
    "fixed_clock",
    "get_template",
    "load_from_hub",
    "register_template",
    "set_default_limits",
]  # each defined where _HOMES says


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(import_module(home, __name__), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    # The version comes from the installed metadata; reading it costs an import, so only when asked.
    if name == "__version__":
        from importlib.metadata import version

        return version("chatfmt")
    if not name.startswith("__"):  # a submodule, as `chatfmt.registry` was once `import chatfmt` loaded it
        from importlib.util import find_spec

        if find_spec(f"{__name__}.{name}") is not None:
            return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'chatfmt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
