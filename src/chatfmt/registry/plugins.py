"""Templates from installed distributions, declared under the `chatfmt.templates` entry-point group.

The contract for plugin authors: an entry point `name = "package.module:OBJECT"` where OBJECT is a Jinja
source string, a `chatfmt.Format` (its Jinja is generated), a `chatfmt.Template`, or a callable returning
one of them. Entry points are listed on the first
lookup that needs them and imported only when their name is asked for (or by `chatfmt list`), so a
slow or broken plugin costs nothing until it is used. A broken plugin never breaks the registry: its
error is kept and raised, naming the plugin and its distribution, only when its name is requested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._flags import env_flag
from ..errors import PluginError
from ..formats.spec import Format
from ..template import Origin, Template

GROUP = "chatfmt.templates"
DISABLE_ENV = "CHATFMT_DISABLE_PLUGIN_AUTOLOAD"


@dataclass
class Plugin:
    """One declared entry point; `load()` imports it once and remembers the outcome."""

    name: str
    value: str
    distribution: str
    version: str
    _entry_point: Any = field(repr=False)
    _template: Template | None = field(default=None, repr=False)
    error: str | None = None

    @property
    def label(self) -> str:
        return f"plugin {self.name!r} ({self.value}) from distribution {self.distribution} {self.version}"

    def load(self) -> Template:
        if self._template is not None:
            return self._template
        if self.error is not None:
            raise PluginError(f"{self.label} is broken: {self.error}")
        try:
            obj = self._entry_point.load()
            template = _to_template(obj() if callable(obj) and not isinstance(obj, Template) else obj)
        except Exception as exc:  # any failure of third-party code is reported, never propagated raw
            self.error = f"{type(exc).__name__}: {exc}"
            raise PluginError(f"{self.label} is broken: {self.error}") from exc
        self._template = _with_origin(template, self)
        return self._template


def _to_template(obj: Any) -> Template:
    if isinstance(obj, Template):
        return obj
    if isinstance(obj, str):
        return Template.from_jinja(obj)
    if isinstance(obj, Format):
        return Template(format=obj)  # its Jinja is generated from it
    raise TypeError(
        f"a chatfmt plugin must provide Jinja source (str), a chatfmt.Format or a chatfmt.Template, got {type(obj).__name__}"
    )


def _with_origin(template: Template, plugin: Plugin) -> Template:
    origin = Origin("plugin", {"distribution": plugin.distribution, "version": plugin.version, "object": plugin.value})
    return template.replace(name=plugin.name, origin=origin)


def autoload_disabled() -> bool:
    return env_flag(DISABLE_ENV)


def discover() -> list[Plugin]:
    """Every entry point of the group, without importing any of them (empty when autoload is off)."""
    if autoload_disabled():
        return []
    from importlib import metadata  # costs ~20 ms, so only when plugins are first needed

    plugins = []
    for entry_point in metadata.entry_points(group=GROUP):
        dist = entry_point.dist
        plugins.append(
            Plugin(
                name=entry_point.name,
                value=entry_point.value,
                distribution=dist.metadata["Name"] if dist is not None else "<unknown>",
                version=dist.version if dist is not None else "",
                _entry_point=entry_point,
            )
        )
    return plugins
