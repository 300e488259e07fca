"""The registry against a real, pip-installed plugin distribution (tests/plugin_dist), plus packaging checks.

Nothing here patches entry points: the plugin is built and installed with pip into a temporary
directory, that directory is put on sys.path, and chatfmt finds it through importlib.metadata. Every test
uses a fresh `Registry()`, because the module-level one may already have listed plugins earlier in the
session.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import io
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

import chatfmt
import chatfmt.cli
import chatfmt.registry
from chatfmt import PluginError, Template, TemplateNotFound
from chatfmt.formats.builtin import BUILTINS
from chatfmt.registry import OVERRIDES_ENV, PluginWarning, Registry
from chatfmt.registry.plugins import DISABLE_ENV, GROUP

TESTS = Path(__file__).parent
PLUGIN_DIST = TESTS / "plugin_dist"
CORPUS_TEMPLATES = TESTS / "data" / "corpus" / "templates"
REPO = TESTS.parent

DIST_NAME = "chatfmt-test-plugin"
DIST_VERSION = "1.2.3"
PLUGIN_MODULE = "chatfmt_test_plugin"
PLUGIN_NAMES = {
    "test-source",
    "Test_Tokens",
    "test-factory",
    "test-broken-import",
    "test-wrong-type",
    "chatml",
    "test-course",
    "test-format",
}
BROKEN = {
    "test-broken-import": ("RuntimeError", "exploded on purpose"),
    "test-wrong-type": ("TypeError", "int"),
}

HI = [{"role": "user", "content": "hi"}]


def _pip(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra_env}
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def _forget_plugin_modules() -> None:
    for module in [m for m in sys.modules if m == PLUGIN_MODULE or m.startswith(PLUGIN_MODULE + ".")]:
        del sys.modules[module]


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/plugin_dist installed with pip (offline) into a temporary directory that is on sys.path."""
    work = tmp_path_factory.mktemp("chatfmt-plugin")
    # Build from a copy so that setuptools' build/ and *.egg-info never land in the source tree.
    source = work / "plugin_dist"
    shutil.copytree(PLUGIN_DIST, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = work / "site"
    result = _pip("install", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target), str(source))
    if result.returncode != 0:
        pytest.fail(f"pip could not install the test plugin:\n{result.stdout}\n{result.stderr}")
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    _forget_plugin_modules()
    importlib.invalidate_caches()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(OVERRIDES_ENV, raising=False)
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    return monkeypatch


@pytest.fixture
def registry(plugin_site: Path, clean_env: pytest.MonkeyPatch) -> Registry:
    return Registry()


def _plugin_module():
    return importlib.import_module(PLUGIN_MODULE)


def _builtin_source(name: str) -> str:
    return next(b for b in BUILTINS if b.name == name).read_source()


# --- the installation itself ---------------------------------------------------------------------------


def test_plugin_is_a_real_installed_distribution(plugin_site: Path) -> None:
    dist = importlib.metadata.distribution(DIST_NAME)
    assert dist.version == DIST_VERSION
    assert Path(dist.locate_file("")).resolve() == plugin_site.resolve()
    ours = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=GROUP) if ep.dist.name == DIST_NAME}
    assert set(ours) == PLUGIN_NAMES
    assert ours["test-source"] == "chatfmt_test_plugin:SOURCE"


# --- working plugins -----------------------------------------------------------------------------------


def test_source_string_plugin_renders_with_plugin_origin(registry: Registry) -> None:
    template = registry.get("test-source")
    assert isinstance(template, Template)
    assert template.render([*HI, {"role": "assistant", "content": "yo"}]) == "[user] hi\n[assistant] yo\n"
    assert template.name == "test-source"
    assert template.origin.kind == "plugin"
    assert template.origin.details["distribution"] == DIST_NAME
    assert template.origin.details["version"] == DIST_VERSION
    assert template.origin.details["object"] == "chatfmt_test_plugin:SOURCE"


def test_template_plugin_keeps_its_special_tokens(registry: Registry) -> None:
    template = registry.get("test-tokens")  # declared as "Test_Tokens"
    assert dict(template.special_tokens) == {"bos_token": "<plugin-bos>", "eos_token": "<plugin-eos>"}
    assert template.render(HI) == "<plugin-bos>user: hi<plugin-eos>"
    assert template.render(HI, eos_token="|") == "<plugin-bos>user: hi|"
    assert template.origin.kind == "plugin"
    assert template.origin.details["distribution"] == DIST_NAME


def test_callable_plugin_is_called_once_and_renders(registry: Registry) -> None:
    module = _plugin_module()
    calls = module.FACTORY_CALLS
    template = registry.get("test-factory")
    assert template.render(HI, add_generation_prompt=True) == "factory:1:go"
    assert template.origin.kind == "plugin"
    assert template.origin.details["object"] == "chatfmt_test_plugin:make_template"
    assert registry.get("TEST_FACTORY") is template
    assert module.FACTORY_CALLS == calls + 1


# --- broken plugins ------------------------------------------------------------------------------------


def test_broken_plugin_is_not_imported_until_asked_for(registry: Registry) -> None:
    module = _plugin_module()
    before = module.BROKEN_IMPORTS
    assert registry.get("test-source").render(HI) == "[user] hi\n"
    assert registry.get("chatml").origin.kind == "builtin"
    assert module.BROKEN_IMPORTS == before, "looking up other names imported the broken plugin"
    with pytest.raises(PluginError):
        registry.get("test-broken-import")
    assert module.BROKEN_IMPORTS == before + 1


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_plugin_raises_plugin_error_naming_plugin_and_distribution(registry: Registry, name: str) -> None:
    error_type, detail = BROKEN[name]
    with pytest.raises(PluginError) as info:
        registry.get(name)
    message = str(info.value)
    for part in (repr(name), DIST_NAME, DIST_VERSION, error_type, detail):
        assert part in message
    assert isinstance(info.value, chatfmt.ChatfmtError)
    # The failure is remembered (no second import) and raised again the same way.
    module = _plugin_module()
    imports = module.BROKEN_IMPORTS
    with pytest.raises(PluginError, match=error_type):
        registry.get(name.upper())
    assert module.BROKEN_IMPORTS == imports
    # Everything else still works.
    assert registry.get("test-source").render(HI) == "[user] hi\n"
    assert registry.get("test-tokens").render(HI) == "<plugin-bos>user: hi<plugin-eos>"
    assert registry.get("llama-3").origin.kind == "builtin"


def test_listing_warns_about_broken_plugins_and_reports_their_errors(registry: Registry) -> None:
    with pytest.warns(PluginWarning) as record:
        entries = registry.entries()
    assert all(issubclass(w.category, PluginWarning) for w in record)
    warned = [str(w.message) for w in record]
    for name, (error_type, _) in BROKEN.items():
        assert any(repr(name) in m and DIST_NAME in m and error_type in m for m in warned), warned
    assert not any("test-source" in m for m in warned)

    ours = f"{DIST_NAME} {DIST_VERSION}"
    plugins = {e.name: e for e in entries if e.kind == "plugin" and e.description == ours}
    assert set(plugins) == PLUGIN_NAMES
    for name, (error_type, detail) in BROKEN.items():
        assert plugins[name].error is not None
        assert error_type in plugins[name].error and detail in plugins[name].error
    for name in ("test-source", "Test_Tokens", "test-factory"):
        assert plugins[name].error is None
    # The impostor is listed with the reason it is not used.
    assert plugins["chatml"].error is None
    assert "built-in" in plugins["chatml"].inactive and OVERRIDES_ENV in plugins["chatml"].inactive
    builtins = {e.name for e in entries if e.kind == "builtin"}
    assert builtins == {b.name for b in BUILTINS}
    # Sorted by normalized name.
    keys = [chatfmt.registry.normalize(e.name) for e in entries]
    assert keys == sorted(keys)


def test_names_lists_plugins_without_importing_them(registry: Registry) -> None:
    module = _plugin_module()
    before = module.BROKEN_IMPORTS
    names = set(registry.names())  # no PluginWarning: filterwarnings=error would turn it into a failure
    assert PLUGIN_NAMES <= names
    assert module.BROKEN_IMPORTS == before


def test_cli_list_shows_plugins_and_broken_ones_without_warning(plugin_site: Path, clean_env) -> None:
    fresh = Registry()
    clean_env.setattr(chatfmt.registry, "REGISTRY", fresh)
    clean_env.setattr(chatfmt.cli, "REGISTRY", fresh)
    out, err = io.StringIO(), io.StringIO()
    assert chatfmt.cli.main(["list"], stdout=out, stderr=err) == 0
    assert err.getvalue() == ""
    rows = {line.split()[0]: line for line in out.getvalue().splitlines()[1:]}
    assert f"plugin {DIST_NAME} {DIST_VERSION}" in rows["test-source"]
    assert rows["test-source"].endswith("jinja")
    assert "BROKEN: RuntimeError" in rows["test-broken-import"]
    assert "BROKEN: TypeError" in rows["test-wrong-type"]


# --- plugins versus built-ins --------------------------------------------------------------------------


def test_plugin_cannot_replace_a_builtin(registry: Registry) -> None:
    template = registry.get("chatml")
    assert template.origin.kind == "builtin"
    assert template.source == _builtin_source("chatml")
    assert template.render(HI) == "<|im_start|>user\nhi<|im_end|>\n"
    assert registry.get("ChatML") is template


@pytest.mark.parametrize("value", ["chatml", " ChatML ", "zephyr,chatml"])
def test_override_env_lets_the_plugin_replace_the_builtin(registry: Registry, clean_env, value: str) -> None:
    clean_env.setenv(OVERRIDES_ENV, value)
    template = registry.get("chatml")
    assert template.origin.kind == "plugin"
    assert template.origin.details["distribution"] == DIST_NAME
    assert template.render(HI) == "IMPOSTOR CHATML 1"
    # Only the named built-in is affected.
    assert registry.get("zephyr").origin.kind == "builtin"


def test_override_is_read_at_lookup_time(registry: Registry, clean_env) -> None:
    assert registry.get("chatml").origin.kind == "builtin"  # plugins are discovered by this first lookup
    clean_env.setenv(OVERRIDES_ENV, "chatml")
    assert registry.get("chatml").origin.kind == "plugin"
    clean_env.delenv(OVERRIDES_ENV)
    assert registry.get("chatml").origin.kind == "builtin"


def test_override_entry_is_listed_without_error(registry: Registry, clean_env) -> None:
    clean_env.setenv(OVERRIDES_ENV, "chatml")
    with pytest.warns(PluginWarning):  # the two broken plugins
        entries = registry.entries()
    impostor = next(e for e in entries if e.kind == "plugin" and e.name == "chatml")
    assert impostor.error is None and impostor.inactive is None


def test_override_for_another_name_does_not_unlock_chatml(registry: Registry, clean_env) -> None:
    clean_env.setenv(OVERRIDES_ENV, "zephyr")
    assert registry.get("chatml").origin.kind == "builtin"


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_disabling_autoload_hides_every_plugin(registry: Registry, clean_env, value: str) -> None:
    clean_env.setenv(DISABLE_ENV, value)
    for name in ("test-source", "test-factory", "test-broken-import"):
        with pytest.raises(TemplateNotFound):
            registry.get(name)
    entries = registry.entries()  # no PluginWarning either
    assert [e for e in entries if e.kind == "plugin"] == []
    assert registry.get("chatml").origin.kind == "builtin"


def test_autoload_env_set_to_zero_keeps_plugins(registry: Registry, clean_env) -> None:
    clean_env.setenv(DISABLE_ENV, "0")
    assert registry.get("test-source").origin.kind == "plugin"


# --- registering ---------------------------------------------------------------------------------------


def test_register_refuses_to_clobber_without_clobber_true(registry: Registry) -> None:
    builtin = registry.get("chatml")
    for taken in ("chatml", "ChatML", "openhermes", "Hermes_2"):
        with pytest.raises(ValueError, match="clobber=True"):
            registry.register(taken, "X")
    with pytest.raises(ValueError, match="clobber=True"):
        registry.register("brand-new", "X", aliases=("hermes-2",))
    with pytest.raises(TemplateNotFound):
        registry.get("brand-new")  # a refused registration leaves nothing behind
    assert registry.get("chatml") is builtin

    registry.register("mine", "MINE {{ messages | length }}", aliases=("my-alias",))
    with pytest.raises(ValueError, match="clobber=True"):
        registry.register("MINE", "other")
    assert registry.get("my_alias").render(HI) == "MINE 1"

    registry.register("chatml", "NEW {{ messages | length }}", clobber=True)
    assert registry.get("chatml").render(HI) == "NEW 1"
    assert (
        next(e for e in registry.entries(load_plugins=False) if e.name == "chatml" and e.kind != "plugin").kind
        == "registered"
    )


def test_register_rejects_non_templates(registry: Registry) -> None:
    with pytest.raises(TypeError):
        registry.register("bad", 42)  # type: ignore[arg-type]


def test_registered_name_wins_over_a_plugin(registry: Registry) -> None:
    registry.register("test-source", "REGISTERED")
    assert registry.get("test-source").render(HI) == "REGISTERED"


def test_module_level_register_template(plugin_site: Path, clean_env) -> None:
    fresh = Registry()
    clean_env.setattr(chatfmt.registry, "REGISTRY", fresh)
    with pytest.raises(ValueError, match="clobber=True"):
        chatfmt.register_template("llama-3", "X")
    assert chatfmt.get_template("llama-3").origin.kind == "builtin"
    chatfmt.register_template("llama-3", Template("Y"), clobber=True)
    assert chatfmt.get_template("llama-3").render(HI) == "Y"


# --- names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("CHATML", "chatml"),
        ("Llama_3", "llama-3"),
        ("LLAMA_3.1", "llama-3.1"),
        ("  qwen2.5  ", "qwen2.5"),
        ("Command_R", "command-r"),
        ("TEST_SOURCE", "test-source"),
        ("test-tokens", "Test_Tokens"),
        ("tEsT_tOkEnS", "Test_Tokens"),
    ],
)
def test_names_are_case_insensitive_and_underscores_are_dashes(
    registry: Registry, spelling: str, canonical: str
) -> None:
    assert registry.get(spelling) is registry.get(canonical)
    assert registry.get(spelling).name == canonical


@pytest.mark.parametrize(("alias", "name"), [(alias, b.name) for b in BUILTINS for alias in b.aliases])
def test_aliases_resolve_to_their_builtin(registry: Registry, alias: str, name: str) -> None:
    template = registry.get(alias)
    assert template is registry.get(name)
    assert template.name == name
    assert registry.get(alias.upper().replace("-", "_")) is template


def test_jinja_file_path_resolves(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "my_format.jinja"
    path.write_text("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}\n", encoding="utf-8")
    template = registry.get(str(path))
    assert template.origin.kind == "file"
    assert template.origin.details["path"] == str(path.resolve())
    assert template.name == "my_format"
    assert template.render(HI) == "<user>hi"  # Jinja drops one final newline, as transformers does


def test_relative_path_reaches_a_file_shadowed_by_a_builtin_name(
    registry: Registry, tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "chatml").write_text("FILE", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert registry.get("chatml").origin.kind == "builtin"
    assert registry.get("./chatml").origin.kind == "file"
    assert registry.get("./chatml").render(HI) == "FILE"


def test_missing_jinja_file_is_not_found(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(TemplateNotFound):
        registry.get(str(tmp_path / "nope.jinja"))


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("chatmll", "chatml"), ("lama-3", "llama-3"), ("test-sourse", "test-source"), ("Zephir", "zephyr")],
)
def test_unknown_name_raises_with_did_you_mean(registry: Registry, typo: str, suggestion: str) -> None:
    with pytest.raises(TemplateNotFound, match="Did you mean") as info:
        registry.get(typo)
    assert repr(suggestion) in str(info.value)
    assert repr(typo) in str(info.value)
    assert isinstance(info.value, LookupError)


@pytest.mark.parametrize("name", ["zzqqxxvv", "", "   ", None, 3])
def test_hopeless_names_raise_template_not_found(registry: Registry, name) -> None:
    with pytest.raises(TemplateNotFound) as info:
        registry.get(name)
    assert "Did you mean" not in str(info.value)


# --- packaging (in the spirit of keyring's tests/test_packaging.py) ------------------------------------


# command-r ships the model's own template, which the corpus lacks (see test_fast_formats).
@pytest.mark.parametrize("builtin", [b for b in BUILTINS if b.name != "command-r"], ids=lambda b: b.name)
def test_builtin_template_is_shipped_byte_identical_to_the_corpus(builtin) -> None:
    shipped = resources.files("chatfmt.formats").joinpath("templates", f"{builtin.name}.jinja")
    assert shipped.is_file(), f"{builtin.name}.jinja is not in the installed package"
    corpus = CORPUS_TEMPLATES / builtin.corpus_file
    assert corpus.is_file(), f"corpus file {builtin.corpus_file} is missing"
    assert shipped.read_bytes() == corpus.read_bytes()
    assert builtin.read_source() == corpus.read_text(encoding="utf-8")


def test_no_stray_template_files_are_shipped() -> None:
    shipped = {
        p.name for p in resources.files("chatfmt.formats").joinpath("templates").iterdir() if p.name.endswith(".jinja")
    }
    assert shipped == {f"{b.name}.jinja" for b in BUILTINS}


def test_builtin_names_and_aliases_are_unique() -> None:
    keys = [chatfmt.registry.normalize(n) for b in BUILTINS for n in (b.name, *b.aliases)]
    assert len(keys) == len(set(keys))


def test_console_script_is_declared() -> None:
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="chatfmt")
    assert script.value == "chatfmt.cli:main"
    assert script.load() is chatfmt.cli.main


def test_wheel_ships_every_builtin_template(tmp_path: Path) -> None:
    """A wheel built from the sources (offline) carries each built-in's .jinja, byte for byte."""
    source = tmp_path / "chatfmt-src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in"):
        shutil.copy2(REPO / name, source / name)
    for name in ("README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
    wheels = tmp_path / "wheels"
    result = _pip(
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--wheel-dir",
        str(wheels),
        str(source),
        CHATFMT_NO_EXTENSIONS="1",  # only the data files matter here; skip compiling the extension
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    (wheel,) = wheels.glob("chatfmt-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for builtin in BUILTINS:
            member = f"chatfmt/formats/templates/{builtin.name}.jinja"
            assert member in names, f"{member} missing from {wheel.name}"
            assert (
                archive.read(member)
                == resources.files("chatfmt.formats").joinpath("templates", f"{builtin.name}.jinja").read_bytes()
            )
        assert "chatfmt/py.typed" in names


# --- the plugin author's kit (README "Writing a plugin") -----------------------------------------------


def test_pattern_plugins_are_compiled_and_pass_the_parity_kit(registry: Registry, clean_env) -> None:
    from chatfmt.testing import assert_parity

    course = registry.get("test-course")
    assert course.is_compiled and course.origin.kind == "plugin"
    assert course.render(HI, add_generation_prompt=True) == "<s><|user|>hi\n<|assistant|>"
    assert registry.get("test-format").render(HI, add_generation_prompt=True) == "Q: hi\nA: "
    clean_env.setattr(chatfmt.registry, "REGISTRY", registry)
    report = assert_parity("test-course")
    assert report.compiled and report.transformers_checked and report.probes > 100


def test_plugin_check_command(registry: Registry, clean_env) -> None:
    clean_env.setattr(chatfmt.registry, "REGISTRY", registry)
    out, err = io.StringIO(), io.StringIO()
    assert chatfmt.cli.main(["plugin", "check", "test-format"], stdout=out, stderr=err) == 0, err.getvalue()
    assert "format vs Jinja: identical" in out.getvalue() and "chatfmt vs transformers: identical" in out.getvalue()
    out = io.StringIO()
    assert chatfmt.cli.main(["plugin", "check", "test-source"], stdout=out, stderr=err) == 0
    assert "not compared (the template has no compiled format)" in out.getvalue()


def test_the_parity_kit_checks_a_switch_both_ways() -> None:
    from chatfmt.testing import check_parity

    report = check_parity(chatfmt.get_template("qwen3"))
    assert report.ok and report.compiled, report.describe()
    assert report.probes % 3 == 0  # enable_thinking absent, True and False
