"""chatfmt: chat conversations to the exact prompt text a model expects.

    >>> import chatfmt
    >>> chatfmt.get_template("chatml").render([{"role": "user", "content": "Hi"}], add_generation_prompt=True)
    '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'
"""

from .clock import fixed_clock
from .compat import apply_chat_template
from .errors import ChatfmtError, HubError, InvalidConversation, PluginError, TemplateNotFound
from .formats.spec import Format
from .jinja.limits import Limits, TemplateLimitExceeded
from .registry import available_templates, get_template, register_template
from .registry.hub import load_from_hub
from .spans import MessageSpan, RenderedSpans
from .template import Origin, Template

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
]


def __getattr__(name: str) -> str:
    # The version comes from the installed metadata; reading it costs an import, so only when asked.
    if name == "__version__":
        from importlib.metadata import version

        return version("chatfmt")
    raise AttributeError(f"module 'chatfmt' has no attribute {name!r}")
