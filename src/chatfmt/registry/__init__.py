"""Name → Template: built-in formats, templates registered at run time, plugins, `.jinja` files.

How a name is read, first match wins:
1. a built-in or registered name or alias (case-insensitive, `_` and `-` alike);
2. an installed plugin's entry-point name;
3. a path to an existing file or folder (a `.jinja` template, a pattern `.toml`, a GGUF file, a model folder);
4. a Hugging Face Hub repo id (`org/name`), when Hub support is installed.
So a registered name always wins over a file or a Hub repo of the same spelling; write `./name` to mean
the file. A Hub repo is fetched once per registry: later lookups of the same id return the same
Template without asking the Hub again (servers look templates up per request); `load_from_hub` always
asks the Hub for the repo's current revision.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping

from .._values import TYPE_CHECKING, value_class
from ..errors import PluginError, TemplateNotFound
from ..formats.builtin import BUILTINS, Builtin
from ..template import Origin, Template

if TYPE_CHECKING:
    from typing import Any, Literal

    from . import plugins as _plugins
    from .local import load_file, load_local  # noqa: F401 - module attributes, see __getattr__

    EntryKind = Literal["builtin", "registered", "plugin"]

OVERRIDES_ENV = "CHATFMT_PLUGIN_OVERRIDES"


class PluginWarning(UserWarning):
    """A plugin could not be loaded while listing templates; it is skipped."""


@value_class()
class Entry:
    """What `available_templates()` reports for one name."""

    name: str
    aliases: tuple[str, ...]
    kind: EntryKind
    description: str
    error: str | None = None  # why a plugin failed to load
    inactive: str | None = None  # why a working plugin is not what its name resolves to


def normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-")


class Registry:
    """A thread-safe table of templates; the module-level functions use one shared instance."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._loaders: dict[str, Callable[[], Template]] = {}
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        self._cache: dict[str, Template] = {}
        self._hub_templates: dict[str, Template] = {}
        self._plugins: dict[str, list[_plugins.Plugin]] | None = None
        for builtin in BUILTINS:
            self._add(builtin.name, builtin.aliases, "builtin", builtin.model, _builtin_loader(builtin))

    def _add(
        self, name: str, aliases: tuple[str, ...], kind: EntryKind, description: str, loader: Callable[[], Template]
    ) -> None:
        key = normalize(name)
        self._loaders[key] = loader
        self._entries[key] = Entry(name, aliases, kind, description)
        self._cache.pop(key, None)
        for alias in aliases:
            self._aliases[normalize(alias)] = key

    def _owner(self, name: str) -> str | None:
        key = normalize(name)
        if key in self._loaders:
            return key
        return self._aliases.get(key)

    def register(
        self, name: str, template: Template | str, *, clobber: bool = False, aliases: tuple[str, ...] = ()
    ) -> None:
        """Add `template` under `name`; refuse to replace an existing name or alias unless `clobber`."""
        if isinstance(template, str):
            template = Template.from_jinja(template, name=name)
        if not isinstance(template, Template):
            raise TypeError(
                f"register_template takes a chatfmt.Template or Jinja source, got {type(template).__name__}"
            )
        with self._lock:
            for candidate in (name, *aliases):
                owner = self._owner(candidate)
                if owner is not None and not clobber:
                    raise ValueError(
                        f"{candidate!r} is already registered ({self._entries[owner].kind} {self._entries[owner].name!r}); "
                        "pass clobber=True to replace it"
                    )
            self._add(name, aliases, "registered", template.origin.kind, lambda: template)

    def _plugin_table(self) -> dict[str, list[_plugins.Plugin]]:
        """Every declared plugin by normalized name (several when distributions clash); discovered once."""
        with self._lock:
            if self._plugins is None:
                from .plugins import discover  # the entry-point scan: only once a name may be a plugin's

                self._plugins = {}
                for plugin in discover():
                    self._plugins.setdefault(normalize(plugin.name), []).append(plugin)
            return self._plugins

    def _shadowing_builtin(self, key: str) -> str | None:
        """Why the plugin named `key` is inactive: a built-in owns the name and the user did not allow an override."""
        owner = self._owner(key)
        if owner is None or key in _allowed_overrides():
            return None
        kind = "built-in" if self._entries[owner].kind == "builtin" else "registered"
        return (
            f"the name belongs to the {kind} template {self._entries[owner].name!r}; "
            f"set {OVERRIDES_ENV}={key} to let the plugin replace it"
        )

    def get(self, name: str, *, special_tokens: Mapping[str, Any] | None = None) -> Template:
        """The template called `name` (see the module docstring for how names are read).

        `special_tokens` are added to the template's own (a `.jinja` file has none of its own).
        """
        if not isinstance(name, str) or not name.strip():
            raise TemplateNotFound(f"a template name must be a non-empty string, got {name!r}")
        with self._lock:
            key = normalize(name)
            owner = self._owner(name)
            # A plugin can only take a name that is already owned when the user allows it, so only then
            # do owned names pay for the entry-point scan (importlib.metadata and every distribution's metadata).
            may_be_plugin = owner is None or key in _allowed_overrides()
            candidates = self._plugin_table().get(key, []) if may_be_plugin else []
            if owner is not None and (not candidates or self._shadowing_builtin(key) is not None):
                if owner not in self._cache:
                    self._cache[owner] = self._loaders[owner]()
                return _with_tokens(self._cache[owner], special_tokens)
            if len(candidates) > 1:
                labels = "; ".join(plugin.label for plugin in candidates)
                raise PluginError(f"{name!r} is declared by several plugins ({labels}); uninstall all but one")
            if candidates:
                return _with_tokens(candidates[0].load(), special_tokens)
        path = os.path.expanduser(name)  # os.path, not pathlib: built-in lookups never import it
        if os.path.isfile(path) or os.path.isdir(path):
            from .local import load_local  # reading files needs json and pathlib: only for paths

            return load_local(path, special_tokens=special_tokens)
        if _looks_like_hub_id(name):
            return _with_tokens(self._from_hub(name), special_tokens)
        raise TemplateNotFound(self._not_found_message(name))

    def _from_hub(self, repo_id: str) -> Template:
        with self._lock:
            cached = self._hub_templates.get(repo_id)
        if cached is not None:
            return cached
        from .hub import load_from_hub  # imported only for Hub ids: huggingface_hub is heavy and optional

        template = load_from_hub(repo_id)  # outside the lock: a slow download must not block other lookups
        with self._lock:
            return self._hub_templates.setdefault(repo_id, template)

    def _not_found_message(self, name: str) -> str:
        import difflib

        known = [*self._entries, *self._aliases, *self._plugin_table()]
        close = difflib.get_close_matches(normalize(name), known, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return (
            f"no chat template called {name!r}: not a built-in or registered name, not an installed plugin, "
            f"not a file, and not a Hub repo id (org/name).{hint} `chatfmt list` shows what is available."
        )

    def entries(self, *, load_plugins: bool = True) -> list[Entry]:
        """Every name with its origin. With `load_plugins`, plugins are imported so that broken ones show
        their error, and each broken one is reported with a PluginWarning."""
        with self._lock:
            listed = list(self._entries.values())
            for key, candidates in self._plugin_table().items():
                for plugin in candidates:
                    if load_plugins:
                        try:
                            plugin.load()
                        except PluginError as exc:
                            warnings.warn(str(exc), PluginWarning, stacklevel=3)
                    others = [other.label for other in candidates if other is not plugin]
                    note = self._shadowing_builtin(key) or (f"also declared by {'; '.join(others)}" if others else None)
                    description = f"{plugin.distribution} {plugin.version}"
                    listed.append(Entry(plugin.name, (), "plugin", description, error=plugin.error, inactive=note))
        return sorted(listed, key=lambda entry: normalize(entry.name))

    def names(self) -> Iterator[str]:
        return (entry.name for entry in self.entries(load_plugins=False))


def _with_tokens(template: Template, special_tokens: Mapping[str, Any] | None) -> Template:
    if not special_tokens:
        return template
    return template.replace(special_tokens={**template.special_tokens, **special_tokens})


def _allowed_overrides() -> set[str]:
    """Names whose plugin may replace a built-in, as the user listed them in CHATFMT_PLUGIN_OVERRIDES."""
    return {normalize(name) for name in os.environ.get(OVERRIDES_ENV, "").split(",") if name.strip()}


def _builtin_loader(builtin: Builtin) -> Callable[[], Template]:
    def load() -> Template:
        origin = Origin("builtin", {"model": builtin.model, "corpus_file": builtin.corpus_file})
        return Template(
            builtin.read_source(),
            special_tokens=builtin.special_tokens,
            name=builtin.name,
            origin=origin,
            format=builtin.format,
        )

    return load


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "/", "~")) and not name.endswith(".jinja")


def __getattr__(name: str) -> Any:
    # `load_file` and `load_local` read files with json and pathlib: imported when first asked for.
    if name in ("load_file", "load_local"):
        from . import local

        return getattr(local, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


REGISTRY = Registry()


def get_template(name: str, *, special_tokens: Mapping[str, Any] | None = None) -> Template:
    """The template called `name`: a built-in format, a registered or plugin name, a file or model folder, or a
    Hub repo; `special_tokens` add to (and override) its own, e.g. for a `.jinja` file."""
    return REGISTRY.get(name, special_tokens=special_tokens)


def register_template(
    name: str, template: Template | str, *, clobber: bool = False, aliases: tuple[str, ...] = ()
) -> None:
    """Register `template` (or Jinja source) under `name`; existing names are kept unless `clobber=True`."""
    REGISTRY.register(name, template, clobber=clobber, aliases=aliases)


def available_templates() -> list[str]:
    """Every name `get_template` knows without touching the filesystem or the Hub, sorted."""
    return list(REGISTRY.names())


__all__ = [
    "Entry",
    "PluginWarning",
    "Registry",
    "REGISTRY",
    "available_templates",
    "get_template",
    "load_file",
    "register_template",
]
